// What the daemon's long-lived iproute2 children share (`ip -batch` for addresses, `ip monitor`
// for link events): spawned with pipes, never keeping the daemon's event loop alive, gone exactly
// once whether it could not start or exited; and their output read as bounded lines.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * Spawns `argv` with all three streams piped. `gone` runs once, with why (naming it `label`), when
 * it could not start or has exited. Neither the child nor its pipes hold the event loop open: the owner ends it.
 */
export function spawnLongLived(argv: readonly string[], label: string, gone: (why: string) => void): ChildProcessWithoutNullStreams {
  const p = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let ended = false;
  const end = (why: string): void => {
    if (ended) return;
    ended = true;
    gone(why);
  };
  p.on('error', (e) => end(`${label}: ${e.message}`));
  // 'close', not 'exit': what it wrote before it went has been read by then.
  p.on('close', (code, signal) => end(`${label} exited (${signal ?? `status ${code}`})`));
  p.stdin.on('error', () => undefined); // EPIPE after an exit: 'close' reports it
  p.unref();
  for (const s of [p.stdin, p.stdout, p.stderr]) (s as unknown as { unref?: () => void }).unref?.();
  return p;
}

/**
 * Splits a stream's chunks into lines. A line longer than `maxLength` is not kept whole: its
 * characters up to the next newline are dropped, and it is reported once as `overlong` (so a
 * child that never writes a newline cannot grow our memory).
 */
export class LineReader {
  private tail = '';
  private dropping = false;

  constructor(
    private readonly line: (text: string) => void,
    private readonly overlong: () => void = () => undefined,
    private readonly maxLength = 64 * 1024,
  ) {}

  push(chunk: string): void {
    let text = chunk;
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl < 0) break;
      const head = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (this.dropping) this.dropping = false;
      else if (this.tail.length + head.length > this.maxLength) this.overlong();
      else this.line(this.tail + head);
      this.tail = '';
    }
    if (this.dropping) return;
    this.tail += text;
    if (this.tail.length > this.maxLength) {
      this.tail = '';
      this.dropping = true;
      this.overlong();
    }
  }
}
