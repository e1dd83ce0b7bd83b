// The fair start: every node's daemon is held at a gate, a FIFO in its run directory, and the lab
// opens all the gates at one instant, once every daemon waits at its own. Our daemon waits in
// itself, its configuration loaded (KEEPALIVED_TS_START_GATE, src/daemon/start-gate.ts), since
// Node's start-up is what a head start would be made of; the real keepalived is exec'd by a shell
// that waits on the FIFO first (keepalived starts in a few ms). A gate is waited at when its FIFO
// has a reader: an O_NONBLOCK open for writing succeeds then (ENXIO before), and the opened
// descriptors are what the release writes to, one after the other, with nothing between.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { poll } from './host.js';

export { START_GATE_ENV } from '../../daemon/start-gate.js';

/** Make the FIFO (root's, in the node's private run directory). */
export function makeGate(path: string): void {
  const r = spawnSync('mkfifo', ['-m', '600', path], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`netns backend: cannot make the start gate ${path}: ${r.error?.message ?? r.stderr.trim()}`);
}

/** A command line that waits at the gate, then becomes `argv` (same pid, as `ip netns exec` gives). */
export function gatedArgv(path: string, argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', 'read _ < "$0" && exec "$@"', path, ...argv];
}

export interface Gate {
  node: string;
  path: string;
  /** False once its process has exited (it will never wait at the gate). */
  alive(): boolean;
  /** Its last lines, for a diagnostic. */
  tail(): string;
}

/** Open every gate for writing once its process waits there; throws if one exits first or the
 * wait exceeds `timeoutMs`. */
export async function awaitGates(gates: readonly Gate[], timeoutMs: number): Promise<Map<string, number>> {
  const fds = new Map<string, number>();
  try {
    await poll(
      () => {
        for (const g of gates) {
          if (fds.has(g.node)) continue;
          try {
            fds.set(g.node, openSync(g.path, constants.O_WRONLY | constants.O_NONBLOCK));
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw e;
            if (!g.alive()) throw new Error(`netns backend: ${g.node}'s daemon exited before its start gate\n${g.tail()}`, { cause: e });
          }
        }
        return fds.size === gates.length;
      },
      {
        timeoutMs,
        intervalMs: 10,
        what: 'every daemon to wait at its start gate',
        diagnose: () =>
          `still starting: ${gates
            .filter((g) => !fds.has(g.node))
            .map((g) => `${g.node}\n${g.tail()}`)
            .join('\n')}`,
      },
    );
  } catch (e) {
    for (const fd of fds.values()) closeSync(fd);
    throw e;
  }
  return fds;
}

/** Open the gates: a line to each, back to back (a write releases its reader), then the closes.
 * performance.now() after each write. */
export function releaseGates(fds: ReadonlyMap<string, number>): Map<string, number> {
  const at = new Map<string, number>();
  // Each write wakes a daemon, which may take the core from us on a busy box before the next
  // write: the lab's thread runs at the highest priority meanwhile (root may; else as it is).
  const nice = raise();
  try {
    for (const [node, fd] of fds) {
      writeSync(fd, 'go\n');
      at.set(node, performance.now());
    }
  } finally {
    if (nice !== undefined) setPriority(nice);
  }
  for (const fd of fds.values()) closeSync(fd);
  return at;
}

/** Raise this thread to the highest priority; its priority before, when that worked. */
function raise(): number | undefined {
  try {
    const before = getPriority();
    setPriority(-20);
    return before;
  } catch {
    return undefined;
  }
}
