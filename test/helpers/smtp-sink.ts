// The real SMTP server of the email alert tests (smtp-sink.py: aiosmtpd, Debian's python3-aiosmtpd),
// on 127.0.0.1 at a port the kernel picks, in the test's namespace or, with `spawn`, in another.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { poll } from './netns.js';

export const SINK_PY = join(__dirname, 'smtp-sink.py');
const PYTHON = '/usr/bin/python3';

/** Why the sink cannot run here, or undefined when it can. */
export function smtpSinkMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' });
  return r.status === 0 ? undefined : 'python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)';
}

export interface Received {
  helo: string;
  esmtp: boolean;
  from: string;
  to: string[];
  data: string;
}

export interface SmtpSink {
  port: number;
  /** The messages received so far. */
  mail(): Received[];
  stop(): void;
}

/** Starts the sink writing into `dir`; `run` spawns the argv (default here, else e.g. in a namespace). */
export async function startSmtpSink(
  dir: string,
  name: string,
  run: (argv: string[]) => ChildProcess | { kill(sig?: string): unknown } = (argv) => spawn(argv[0], argv.slice(1), { stdio: 'ignore' }),
): Promise<SmtpSink> {
  const portFile = join(dir, `${name}.port`);
  const out = join(dir, `${name}.jsonl`);
  const p = run([PYTHON, SINK_PY, '127.0.0.1', portFile, out]);
  await poll(() => existsSync(portFile), { what: 'the SMTP sink to listen', timeoutMs: 15_000, intervalMs: 50 });
  return {
    port: Number(readFileSync(portFile, 'utf8')),
    mail: () =>
      existsSync(out)
        ? readFileSync(out, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Received)
        : [],
    stop: () => void p.kill('SIGKILL'),
  };
}

/** The headers of a received message, by name, and its body (without the final CRLF). */
export function parseData(data: string): { headers: Record<string, string>; body: string } {
  const [head, ...rest] = data.split('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(': ');
    headers[line.slice(0, i)] = line.slice(i + 2);
  }
  return { headers, body: rest.join('\r\n\r\n').replace(/\r\n$/, '') };
}
