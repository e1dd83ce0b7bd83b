// HTTP from inside a lab namespace (a daemon's --prometheus endpoint, prometheus' API listen on
// the namespace's loopback, out of the test process's reach), and the value of one sample in
// Prometheus' text format.
import type { Host, Lab } from './netns.js';

/** GET `url` from inside `ns`: the body, or undefined when the request fails or is not 200. */
export async function nsGet(lab: Lab, ns: string | Host, url: string): Promise<string | undefined> {
  const js =
    'fetch(process.argv[1]).then(async (r) => { if (r.ok) process.stdout.write(await r.text()); else process.exitCode = 1; }, () => { process.exitCode = 1; })';
  const r = await lab.exec(ns, [process.execPath, '-e', js, url], { timeoutMs: 10_000 });
  return r.code === 0 ? r.stdout : undefined;
}

/** The value of the sample `series` (name and labels exactly as exposed) in an exposition, or undefined. */
export function sample(text: string, series: string): number | undefined {
  const l = text.split('\n').find((x) => x.startsWith(`${series} `));
  return l === undefined ? undefined : Number(l.slice(series.length + 1));
}

/** Every sample in an exposition: its name, labels and value (comments skipped). */
export function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  return text.split('\n').flatMap((l) => {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(l);
    if (!m) return [];
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    return [{ name: m[1], labels, value: Number(m[3]) }];
  });
}
