// One long-lived `ip -force -batch -` for the address and route changes, instead of a process per
// command: a director bringing up 1,000 VIPs forked 1,000 `ip` processes one after another.
//
// ip reads commands from stdin line by line; -force keeps it going after a failure, and each
// failure ends with "Command failed -:N" on stderr, N the line's number. A batch is followed by a
// sentinel command that always fails (a device name that cannot exist), so its own "Command failed"
// line, on the same pipe after every earlier command's messages, says the batch is done.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { LineReader, spawnLongLived } from './ip-child.js';

/** How one command ended: status (null when it could not run) and what it said on stderr. */
export interface CommandResult {
  code: number | null;
  stderr: string;
}

/** Not a device name the kernel accepts ('/' is forbidden in them). */
const SENTINEL = 'link show dev kt/sync';

interface Pending {
  /** Line numbers of this batch's commands, then the sentinel's. */
  first: number;
  sentinel: number;
  results: CommandResult[];
  done: (results: CommandResult[]) => void;
}

/** A word ip's batch reader takes as it is (it splits on blanks and reads quotes and '#'). */
const plainWord = (w: string): boolean => w.length > 0 && !/[\s"'#\\]/.test(w);

/** The batch line for an `ip` argv, or undefined when batch mode cannot carry it as it is. */
export function batchLine(argv: readonly string[]): string | undefined {
  if (argv[0] !== 'ip') return undefined;
  // Global options are not read per line; -4/-6 are implied by the address of `addr` commands.
  const words = argv.slice(1).filter((w, i) => !(i === 0 && (w === '-4' || w === '-6') && argv[2] === 'addr'));
  if (words[0]?.startsWith('-') || !words.every(plainWord)) return undefined;
  return words.join(' ');
}

export class IpBatch {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private line = 0;
  private readonly pending: Pending[] = [];
  /** Messages of the command being reported, until its "Command failed" line. */
  private messages: string[] = [];

  /** `command`: how to run ip (tests prefix `ip netns exec NS`). */
  constructor(private readonly command: readonly string[] = ['ip']) {}

  /** Runs the commands in order; one result each (code 0, or 1 with ip's message). */
  run(lines: readonly string[]): Promise<CommandResult[]> {
    if (!lines.length) return Promise.resolve([]);
    const p = this.child();
    return new Promise((resolve) => {
      const first = this.line + 1;
      this.line += lines.length + 1;
      this.pending.push({ first, sentinel: this.line, results: lines.map(() => ({ code: 0, stderr: '' })), done: resolve });
      p.stdin.write(`${lines.join('\n')}\n${SENTINEL}\n`);
    });
  }

  close(): void {
    this.proc?.stdin.end();
    this.proc = undefined;
  }

  /**
   * The next batch runs in a new ip: a long-lived one keeps the interface indexes it looked up by
   * name, stale once an interface it did not delete itself is deleted and made again (a VMAC
   * deleted by hand). Waits for the batches under way.
   */
  async restart(): Promise<void> {
    const last = this.pending.at(-1);
    if (last)
      await new Promise<void>((resolve) => {
        const { done } = last;
        last.done = (r) => {
          done(r);
          resolve();
        };
      });
    if (!this.pending.length) this.close();
  }

  private child(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    this.line = 0;
    this.messages = [];
    const p = spawnLongLived([...this.command, '-force', '-batch', '-'], 'ip -batch', (why) => {
      if (this.proc !== p) return;
      this.proc = undefined;
      // What was not confirmed cannot be known to have run: report it failed.
      for (const b of this.pending.splice(0)) b.done(b.results.map((r) => (r.code === 0 ? { code: null, stderr: why } : r)));
    });
    this.proc = p;
    p.stdout.resume();
    const stderr = new LineReader((l) => this.stderrLine(l));
    p.stderr.on('data', (d: Buffer) => stderr.push(d.toString()));
    return p;
  }

  private stderrLine(l: string): void {
    const m = /^Command failed -:(\d+)$/.exec(l);
    if (!m) {
      if (this.messages.length < 8) this.messages.push(l);
      return;
    }
    const n = Number(m[1]);
    const message = this.messages.join('; ');
    this.messages = [];
    const b = this.pending[0];
    if (!b) return;
    if (n === b.sentinel) {
      this.pending.shift();
      b.done(b.results);
    } else if (n >= b.first && n < b.sentinel) b.results[n - b.first] = { code: 1, stderr: message };
  }
}
