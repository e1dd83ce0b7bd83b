// The process table for vrrp_track_process, read from /proc as keepalived's read_procs() reads
// it: one /proc/PID/stat per process (name, state, parent), zombies left out, and
// /proc/PID/cmdline only when asked (it maps the process's memory, so it is read sparingly).
// keepalived reads /proc once and then follows the kernel's process events; Node has no proc
// connector here, so the tracker calls snapshot() on an interval instead. Measured on the 2-core
// build box: about 3 ms of CPU for 85 processes, 31 ms for 1000 (stat only). The periodic scans
// use snapshotInTurns(), which reads SCAN_TURN processes per event-loop turn, so adverts and other
// timers are never held up for more than a couple of milliseconds however many processes run.
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Processes read per event-loop turn by snapshotInTurns(): about 2 ms of CPU here. */
export const SCAN_TURN = 64;

/** One running (not zombie) process of a snapshot. */
export interface ProcEntry {
  ppid: number;
  /** /proc/PID/comm: at most 15 bytes. */
  comm: string;
}

/** Where snapshots come from (the daemon: /proc; tests: a table they write). */
export interface ProcessTable {
  /** Every process by pid, zombies left out (keepalived does not count them). */
  snapshot(): Map<number, ProcEntry>;
  /** The same, read a few processes per event-loop turn (the daemon's periodic scans). */
  snapshotInTurns?(): Promise<Map<number, ProcEntry>>;
  /** /proc/PID/cmdline, at most `max` bytes; undefined once the process is gone. */
  cmdline(pid: number, max: number): Buffer | undefined;
}

/** `pid (comm) S ppid ...`: the name is between the first '(' and the last ')' (it may hold both). */
export function parseStat(stat: string): (ProcEntry & { zombie: boolean }) | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const [state, ppid] = stat.slice(close + 2).split(' ', 2);
  return { comm: stat.slice(open + 1, close), ppid: Number(ppid), zombie: state === 'Z' };
}

export function procTable(root = '/proc'): ProcessTable {
  const pids = (): string[] => {
    try {
      return readdirSync(root).filter((d) => d.charCodeAt(0) >= 49 && d.charCodeAt(0) <= 57);
    } catch {
      return [];
    }
  };
  const readOne = (out: Map<number, ProcEntry>, d: string): void => {
    let stat: string;
    try {
      stat = readFileSync(`${root}/${d}/stat`, 'latin1');
    } catch {
      return; // gone since readdir
    }
    const e = parseStat(stat);
    if (e && !e.zombie) out.set(Number(d), { comm: e.comm, ppid: e.ppid });
  };
  return {
    snapshot() {
      const out = new Map<number, ProcEntry>();
      for (const d of pids()) readOne(out, d);
      return out;
    },
    async snapshotInTurns() {
      const out = new Map<number, ProcEntry>();
      const names = pids();
      for (let i = 0; i < names.length; i++) {
        if (i > 0 && i % SCAN_TURN === 0) await nextTurn();
        readOne(out, names[i]);
      }
      return out;
    },
    cmdline(pid, max) {
      let fd: number | undefined;
      try {
        fd = openSync(`${root}/${pid}/cmdline`, 'r');
        const buf = Buffer.alloc(max);
        return buf.subarray(0, readSync(fd, buf, 0, max, null));
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
  };
}
