// vrrp_track_process as keepalived 2.2.7 counts it (core/track_process.c, vrrp_track.c): which
// processes match, how many run against quorum..quorum_max, and when a change counts
// (fork_delay, terminate_delay). keepalived hears the kernel's process events (the netlink proc
// connector); here the process table comes as snapshots, taken every `pollUs` (the daemon scans
// /proc), and the differences between two snapshots are replayed as keepalived's events: exits
// first, then new processes (a fork when its parent is counted, an exec otherwise), then
// processes whose name changed. A process that starts and ends between two snapshots is never
// seen, and an exec that keeps the process name is not noticed for full_command.
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Config, TrackProcess } from '../config/model/index.js';
import { trackedNames } from '../config/resolve-vrrp.js';
import type { ProcEntry, ProcessTable } from '../proc/process-table.js';
import type { VrrpEngine } from './engine.js';

/** A vrrp_track_process with keepalived's derived settings (vrrp_parser.c). */
export interface ProcessMatcher {
  name: string;
  /** Matched against the name, or with fullCommand against the first word of the command line. */
  path: string;
  /** The parameters, each followed by a NUL, as keepalived stores them. */
  params?: Buffer;
  paramMatch: 'none' | 'exact' | 'initial' | 'partial';
  fullCommand: boolean;
  quorum: number;
  quorumMax: number;
  forkDelayUs: number;
  terminateDelayUs: number;
}

/** keepalived's reading of the block: parameters or param_match imply full_command, parameters
 * alone mean an exact match, quorum_max 0 means quorum 0, and of delay and fork_delay /
 * terminate_delay the later line wins. */
export function processMatcher(tp: TrackProcess): ProcessMatcher | undefined {
  const [path, ...params] = tp.process ?? [];
  if (path === undefined) return undefined;
  const later = (a: string, b: string): boolean => {
    const x = tp.spans[a];
    const y = tp.spans[b];
    return !!x && (!y || x.line > y.line || (x.line === y.line && x.col > y.col));
  };
  const delay = (own: 'forkDelay' | 'terminateDelay'): number => ((later('delay', own) ? tp.delay : tp[own]) ?? tp.delay ?? 0) * 1_000_000;
  const quorumMax = tp.quorumMax ?? Number.MAX_SAFE_INTEGER;
  return {
    name: tp.name,
    path,
    params: params.length ? Buffer.from(params.map((p) => `${p}\0`).join(''), 'latin1') : undefined,
    paramMatch: tp.paramMatch ?? (params.length ? 'exact' : 'none'),
    fullCommand: tp.fullCommand || params.length > 0 || tp.paramMatch !== undefined,
    quorum: quorumMax === 0 ? 0 : tp.quorum,
    quorumMax,
    forkDelayUs: delay('forkDelay'),
    terminateDelayUs: delay('terminateDelay'),
  };
}

/** check_params(): the bytes after the first word against the configured parameters. */
function paramsMatch(m: ProcessMatcher, rest: Buffer | undefined): boolean {
  const want = m.params;
  const len = rest?.length ?? -1;
  if (m.paramMatch === 'exact' && !want && len === 0) return true;
  if (!rest || len < (want?.length ?? 0)) return false;
  if (m.paramMatch === 'exact') return len === (want?.length ?? 0) && (!want || rest.equals(want));
  if (!want) return true;
  if (m.paramMatch === 'partial') return rest.subarray(0, want.length).equals(want);
  return want.length === 1 || rest.subarray(0, want.length - 1).equals(want.subarray(0, want.length - 1));
}

/** Whether a process counts for `m`: its name (or first command-line word) equals the path, then
 * the parameters as param_match says. `cmdline` is read only for full_command matchers. */
export function matchesProcess(m: ProcessMatcher, comm: string, cmdline: () => Buffer | undefined): boolean {
  if (!m.fullCommand) return comm === m.path;
  const cmd = cmdline();
  if (!cmd) return false;
  const nul = cmd.indexOf(0);
  if (cmd.toString('latin1', 0, nul < 0 ? cmd.length : nul) !== m.path) return false;
  if (m.paramMatch === 'none') return true;
  return paramsMatch(m, nul < 0 ? undefined : cmd.subarray(nul + 1));
}

export interface ProcessTrackerEnv {
  clock: Clock;
  table: ProcessTable;
  log(level: 'info' | 'warn', message: string): void;
  /** Microseconds between snapshots (the daemon: 1 s). */
  pollUs: number;
}

interface Counted {
  m: ProcessMatcher;
  pids: Set<number>;
  haveQuorum: boolean;
  /** What the engine was last told. */
  told: boolean;
  forkTimer?: TimerHandle;
  terminateTimer?: TimerHandle;
}

/** Scans once now (the start state, as keepalived's read_procs), then every pollUs; returns stop. */
export function startProcessTrackers(cfg: Config, engine: VrrpEngine, env: ProcessTrackerEnv): () => void {
  const used = trackedNames(cfg, 'trackProcess');
  const counted: Counted[] = cfg.trackProcesses.flatMap((tp) => {
    const m = used.has(tp.name) ? processMatcher(tp) : undefined;
    return m ? [{ m, pids: new Set<number>(), haveQuorum: false, told: false }] : [];
  });
  if (!counted.length) return () => {};
  // keepalived reads one byte more than the longest name with parameters it matches.
  const cmdMax = Math.max(...counted.map((c) => Buffer.byteLength(c.m.path, 'latin1') + 1 + (c.m.params?.length ?? 0))) + 1;
  const anyFull = counted.some((c) => c.m.fullCommand);
  const { clock } = env;
  const inRange = (c: Counted): boolean => c.pids.size >= c.m.quorum && c.pids.size <= c.m.quorumMax;

  // Within a scan the replayed events all happen at one instant: only the net change is told,
  // so 4 → 1 processes across quorum_max 3 and quorum 2 is one "lost", not a gained/lost flap.
  let scanning = false;
  const tell = (c: Counted): void => {
    if (c.told === c.haveQuorum) return;
    c.told = c.haveQuorum;
    env.log('info', `Quorum ${c.told ? 'gained' : 'lost'} for tracked process ${c.m.name}`);
    engine.setTracked('process', c.m.name, c.told);
  };
  const update = (c: Counted, up: boolean): void => {
    c.haveQuorum = up;
    if (!scanning) tell(c);
  };
  const cancel = (c: Counted, which: 'forkTimer' | 'terminateTimer'): boolean => {
    const h = c[which];
    if (!h) return false;
    clock.clearTimer(h);
    c[which] = undefined;
    return true;
  };
  const later = (c: Counted, which: 'forkTimer' | 'terminateTimer', us: number): void => {
    c[which] = clock.setTimer(clock.now() + us, () => {
      c[which] = undefined;
      update(c, inRange(c));
    });
  };

  // check_process_termination(): the count crossing quorum or quorum_max + 1 counts at once,
  // after terminate_delay, or not at all when it ends a pending fork_delay.
  const exited = (c: Counted, pid: number): void => {
    if (!c.pids.delete(pid)) return;
    const n = c.pids.size;
    if (n + 1 !== c.m.quorum && n !== c.m.quorumMax) return;
    if (!cancel(c, 'forkTimer') && c.m.terminateDelayUs > 0) return later(c, 'terminateTimer', c.m.terminateDelayUs);
    update(c, n === c.m.quorumMax);
  };
  // check_process_fork() (delay: fork_delay) and check_process() after an exec (no delay).
  const added = (c: Counted, pid: number, fork: boolean): void => {
    c.pids.add(pid);
    const n = c.pids.size;
    if (n !== c.m.quorum && n !== c.m.quorumMax + 1) return;
    if (!cancel(c, 'terminateTimer') && fork && c.m.forkDelayUs > 0) return later(c, 'forkTimer', c.m.forkDelayUs);
    update(c, n === c.m.quorum);
  };
  // remove_process_from_track(): an exec or a new name that no longer matches counts at once.
  const renamed = (c: Counted, pid: number): void => {
    if (!c.pids.delete(pid)) return;
    const n = c.pids.size;
    if (n + 1 !== c.m.quorum && n !== c.m.quorumMax) return;
    cancel(c, 'forkTimer');
    update(c, n === c.m.quorumMax);
  };

  let prev = new Map<number, ProcEntry>();
  const cmdlines = new Map<number, Buffer | undefined>();
  const matching = (c: Counted, pid: number, e: ProcEntry): boolean =>
    matchesProcess(c.m, e.comm, () => {
      if (!cmdlines.has(pid)) cmdlines.set(pid, env.table.cmdline(pid, cmdMax));
      return cmdlines.get(pid);
    });

  /** `quiet`: the first scan only counts. */
  const scan = (now: Map<number, ProcEntry>, quiet = false): void => {
    scanning = true;
    for (const pid of prev.keys()) {
      if (now.has(pid)) continue;
      cmdlines.delete(pid);
      for (const c of counted) exited(c, pid);
    }
    for (const [pid, e] of now) {
      const was = prev.get(pid);
      if (was && was.comm === e.comm) continue;
      // A new process, or a new name (an exec, prctl): its command line is read afresh.
      if (anyFull) cmdlines.delete(pid);
      for (const c of counted) {
        const hit = matching(c, pid, e);
        if (hit && quiet) c.pids.add(pid);
        else if (hit && !c.pids.has(pid)) added(c, pid, !was && c.pids.has(e.ppid));
        else if (!hit && c.pids.has(pid)) renamed(c, pid);
      }
    }
    prev = now;
    scanning = false;
    if (!quiet) counted.forEach(tell);
  };

  // Start: count what runs; the quorum is taken as it is, with no delay and no "Quorum" line.
  scan(env.table.snapshot(), true);
  for (const c of counted) {
    c.haveQuorum = c.told = inRange(c);
    engine.setTracked('process', c.m.name, c.haveQuorum);
    for (const inst of cfg.resolved.vrrpInstances) {
      const faulted = inst.tracks.some((t) => t.kind === 'process' && t.name === c.m.name && t.weight === 0 && c.haveQuorum === t.reverse);
      if (faulted) env.log('info', `(${inst.name}) entering FAULT state (tracked process ${c.m.name} quorum not achieved)`);
    }
  }

  let stopped = false;
  let timer: TimerHandle | undefined;
  // The start scan above is whole (keepalived reads /proc before VRRP starts); later scans are
  // read in turns when the table can, and the next one is timed from the end of the last.
  const tick = (): void => {
    timer = clock.setTimer(clock.now() + env.pollUs, () => {
      if (stopped) return;
      if (!env.table.snapshotInTurns) {
        scan(env.table.snapshot());
        return tick();
      }
      env.table.snapshotInTurns().then(
        (now) => {
          if (stopped) return;
          scan(now);
          tick();
        },
        (err: unknown) => {
          env.log('warn', `Process scan failed: ${String(err)}`);
          if (!stopped) tick();
        },
      );
    });
  };
  tick();
  return () => {
    stopped = true;
    if (timer) clock.clearTimer(timer);
    for (const c of counted) {
      cancel(c, 'forkTimer');
      cancel(c, 'terminateTimer');
    }
  };
}
