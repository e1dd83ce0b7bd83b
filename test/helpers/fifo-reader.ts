// A reader on a notify FIFO, as an operator's would be: a `cat` copying what the daemon writes to
// a file the test reads. The FIFO is made first (mkfifo), so the daemon finds it there and leaves
// it; the cat ends when the daemon closes its write end.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FifoReader {
  /** The FIFO, for notify_fifo / vrrp_notify_fifo. */
  path: string;
  /** What the reader has received so far. */
  text(): string;
  /** Resolves when the reader has ended (the daemon closed the FIFO). */
  ended: Promise<unknown>;
  kill(): void;
}

/** `dir/NAME.fifo`, read into `dir/NAME.out`. */
export function fifoReader(dir: string, name: string): FifoReader {
  const path = join(dir, `${name}.fifo`);
  const out = join(dir, `${name}.out`);
  const made = spawnSync('mkfifo', [path], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`mkfifo ${path}: ${made.stderr || made.error?.message}`);
  const cat = spawn('/bin/sh', ['-c', 'exec cat "$1" > "$2"', 'sh', path, out], { stdio: 'ignore' });
  const ended = new Promise((r) => cat.once('exit', r));
  return {
    path,
    text: () => (existsSync(out) ? readFileSync(out, 'utf8') : ''),
    ended,
    kill: () => void cat.kill('SIGKILL'),
  };
}
