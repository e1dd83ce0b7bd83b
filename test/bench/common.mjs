// What the namespace and process benchmarks share: number formatting, percentiles, the test
// helpers bundled from TypeScript (namespaces, the VM), and per-process CPU and memory from /proc.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const nowMs = () => performance.timeOrigin + performance.now();

/** The p-th percentile (nearest rank). */
export const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
export const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '-');
export const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
export const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
export const pad = (cells, widths) => cells.map((c, i) => String(c).padEnd(widths[i] ?? 10)).join('');

/** A TypeScript module of the repository (REL from its root), bundled with esbuild so plain Node can run it. */
export async function loadTs(rel) {
  const { build } = await import('esbuild');
  const src = join(ROOT, rel);
  const out = await build({
    entryPoints: [src],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    packages: 'external',
    logLevel: 'error',
    // A data: URL module has no file location: give the module its own (netns.ts's REPO_ROOT, vm.ts's vm-run.sh).
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(src).href) },
  });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
}

/** test/helpers/netns.ts. */
export const loadNetns = () => loadTs('test/helpers/netns.ts');

/** Clock ticks per second of /proc/PID/stat's times. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process in clock ticks (fields 14 and 15 of /proc/PID/stat); NaN once it is gone. */
export function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

/** Resident memory of a process in MiB; NaN once it is gone. */
export function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The pid a daemon wrote to `file`, waiting for it to appear. */
export async function readPid(file, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(file)) {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid > 0) return pid;
    }
    if (Date.now() > deadline) throw new Error(`no pid in ${file}`);
    await sleep(20);
  }
}

/** One VRRP advert as `tcpdump -nn -tt` prints it: time, source, version, VRID, priority. */
export const ADVERT_RE = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+) > \S+: VRRPv(\d), Advertisement, vrid (\d+), prio (\d+)/;
