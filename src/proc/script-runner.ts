// The process edge: everything keepalived runs as a script (vrrp_script checks, notify_* scripts,
// MISC_CHECK, startup/shutdown scripts) goes through runScript. Semantics follow keepalived
// (lib/notify.c, vrrp_script_child_thread):
// - execve'd directly, no shell; a bare argv[0] is found through PATH (execvp);
// - own process group (we use setsid via `detached`, keepalived setpgid(0, 0));
// - stdin/stdout/stderr are /dev/null: a script that floods its output costs us nothing;
// - on timeout SIGTERM goes to the whole process group, then SIGKILL after a grace (keepalived
//   waits 2 s; ours is an option, 1 s by default), so a script that ignores SIGTERM or leaves
//   hung children behind is still fully killed;
// - a spawn failure (ENOENT, EACCES, EPERM on setuid) resolves with code null and `error`;
//   nothing here rejects or throws.
// keepalived also sets PR_SET_PDEATHSIG=SIGTERM in the child, which Node cannot; instead every
// live process group is SIGKILLed from a process 'exit' hook, and ScriptRunner.shutdown() kills
// what is still running.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface ScriptResult {
  /** Exit status when the script exited by itself (or was killed and exited with a status). */
  code: number | null;
  /** Signal that ended the script (SIGTERM/SIGKILL after a timeout). */
  signal: NodeJS.Signals | null;
  /** The timeout fired and the process group was signalled. */
  timedOut: boolean;
  /** Spawn to exit of the script process itself, in ms. */
  durationMs: number;
  /** Why the script could not be started (spawn failure), e.g. "spawn /x ENOENT". */
  error?: string;
  /** The errno name of a spawn failure: ENOENT, EACCES, EPERM... */
  errno?: string;
  /** Killed because the run was aborted (ScriptRunner.shutdown), not because of its timeout. */
  aborted?: boolean;
  /** Process id the script ran as (also its process group id). */
  pid?: number;
}

export interface RunOptions {
  /** Kill the script after this long. 0 or Infinity: no timeout (keepalived's notify scripts). */
  timeoutMs: number;
  uid?: number;
  gid?: number;
  /** Defaults to our own environment, as keepalived's scripts inherit it. */
  env?: NodeJS.ProcessEnv;
  /** Working directory; keepalived runs in "/" after daemonising. */
  cwd?: string;
  /** Time between SIGTERM and SIGKILL to the process group. Default 1000 ms. */
  killGraceMs?: number;
  /**
   * Aborting kills the script's process group as a timeout does (without timedOut); a reason of
   * type AbortReason may shorten the grace.
   */
  signal?: AbortSignal;
  /** Called once the script process exists. */
  onSpawn?: (pid: number) => void;
}

export const DEFAULT_KILL_GRACE_MS = 1000;

/** An AbortSignal's reason may carry a grace of its own (shutdown wants a short one). */
export interface AbortReason {
  killGraceMs?: number;
}
/** How often a killed script's process group is checked for survivors after its leader exited. */
const GROUP_POLL_MS = 20;
/** How long after SIGKILL we wait for a group to vanish before reporting anyway. */
const KILL_WAIT_MS = 2000;

// ---------------------------------------------------------------------------------------------
// Process groups

/** Live process groups we started; killed with SIGKILL if this process exits with them running. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const g of liveGroups) signalGroup(g, 'SIGKILL');
    });
  }
}

/** Send sig to every process in the group; false when the group no longer exists. */
function signalGroup(pgid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}

/** state and pgrp fields of /proc/PID/stat (the command name may hold spaces and parentheses). */
function procStat(pid: string | number): { state: string; pgrp: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], pgrp: Number(f[2]) };
  } catch {
    return undefined;
  }
}

/**
 * Is any process of the group still running? kill(-pgid, 0) also succeeds for zombies, which pile
 * up where PID 1 does not reap orphans (containers), so on Linux the members are checked in /proc.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return true;
  }
  for (const p of pids) {
    const st = procStat(p);
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') return true;
  }
  return false;
}

/** Is the process running (not gone, not a zombie)? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const st = procStat(pid);
  return st === undefined ? true : st.state !== 'Z' && st.state !== 'X';
}

// ---------------------------------------------------------------------------------------------
// One script

const noTimeout = (ms: number) => !(ms > 0) || ms === Infinity;

/** Run one script to completion. Never rejects. */
export function runScript(argv: string[], opts: RunOptions): Promise<ScriptResult> {
  return new Promise<ScriptResult>((resolve) => {
    const t0 = performance.now();
    let grace = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    let child: ChildProcess;
    let done = false;
    let exited = false;
    let terminating = false;
    let killedHard = false;
    let timedOut = false;
    let aborted = false;
    let code: number | null = null;
    let signal: NodeJS.Signals | null = null;
    let durationMs = 0;
    let pgid = 0;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let pollTimer: NodeJS.Timeout | undefined;

    const finish = (r: ScriptResult) => {
      if (done) return;
      done = true;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      clearInterval(pollTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (pgid) liveGroups.delete(pgid);
      resolve(r);
    };
    const failed = (err: NodeJS.ErrnoException | Error) => {
      const errno = (err as NodeJS.ErrnoException).code;
      finish({ code: null, signal: null, timedOut: false, durationMs: performance.now() - t0, error: err.message, ...(errno ? { errno } : {}) });
    };
    const result = (): ScriptResult => ({
      code,
      signal,
      timedOut,
      durationMs,
      pid: pgid,
      ...(aborted ? { aborted: true } : {}),
    });

    // After a kill, resolve once no process of the group is left running (SIGKILL delivery is
    // not instantaneous), giving up on stragglers (D state) KILL_WAIT_MS after the SIGKILL.
    let killAt = 0;
    const settle = () => {
      if (!groupAlive(pgid) || (killedHard && performance.now() - killAt > KILL_WAIT_MS)) return finish(result());
      pollTimer ??= setInterval(settle, GROUP_POLL_MS);
    };
    const hardKill = () => {
      killedHard = true;
      killAt = performance.now();
      if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
      if (exited) settle();
    };
    const terminate = () => {
      if (terminating || done) return;
      terminating = true;
      signalGroup(pgid, 'SIGTERM');
      graceTimer = setTimeout(hardKill, grace);
    };
    function onAbort() {
      if (done || terminating) return;
      aborted = true;
      const r = opts.signal?.reason as AbortReason | undefined;
      if (typeof r?.killGraceMs === 'number') grace = r.killGraceMs;
      if (pgid) terminate();
    }

    if (argv.length === 0 || !argv[0]) return failed(Object.assign(new Error('empty command'), { code: 'ENOENT' }));
    if (opts.signal?.aborted) {
      return finish({ code: null, signal: null, timedOut: false, durationMs: 0, error: 'aborted before start', aborted: true });
    }

    try {
      child = spawn(argv[0], argv.slice(1), {
        detached: true,
        stdio: 'ignore',
        cwd: opts.cwd ?? '/',
        env: opts.env ?? process.env,
        ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
        ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
      });
    } catch (e) {
      return failed(e as Error);
    }

    child.once('error', (err) => {
      // Only spawn failures arrive here: we never signal through the ChildProcess object.
      if (!exited) failed(err);
    });
    if (child.pid === undefined) return; // spawn failed; 'error' follows

    pgid = child.pid;
    trackGroup(pgid);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (!noTimeout(opts.timeoutMs)) {
      timeoutTimer = setTimeout(() => {
        timedOut = true;
        terminate();
      }, opts.timeoutMs);
    }

    child.once('exit', (c, s) => {
      exited = true;
      code = c;
      signal = s;
      durationMs = performance.now() - t0;
      clearTimeout(timeoutTimer);
      if (!terminating) return finish(result());
      // Killed on timeout/abort: the leader is gone, but children it left in the group may still
      // be there (ignoring SIGTERM); wait for them until the grace ends, then SIGKILL.
      settle();
    });

    try {
      opts.onSpawn?.(pgid);
    } catch {
      // a throwing observer must not break the run
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Bounded runner

export interface ScriptRunnerOptions {
  /** Scripts running at once; the rest wait in FIFO order. Default 64. */
  maxConcurrent?: number;
  /** Default SIGTERM→SIGKILL grace for runs that do not set one. */
  killGraceMs?: number;
  /** Default environment for runs that do not set one. */
  env?: NodeJS.ProcessEnv;
}

interface Pending {
  argv: string[];
  opts: RunOptions;
  resolve: (r: ScriptResult) => void;
}

export class ScriptRunner {
  readonly maxConcurrent: number;
  private readonly killGraceMs: number;
  private readonly env?: NodeJS.ProcessEnv;
  private readonly queue: Pending[] = [];
  private readonly active = new Set<{ abort: AbortController; done: Promise<ScriptResult> }>();
  private closed = false;
  /** Highest number of scripts seen running at once. */
  peak = 0;

  constructor(opts: ScriptRunnerOptions = {}) {
    this.maxConcurrent = Math.max(1, opts.maxConcurrent ?? 64);
    this.killGraceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.env = opts.env;
  }

  get running(): number {
    return this.active.size;
  }

  get queued(): number {
    return this.queue.length;
  }

  get isShutdown(): boolean {
    return this.closed;
  }

  /** Run (or queue) a script. Never rejects; after shutdown() resolves at once with an error. */
  run(argv: string[], opts: RunOptions): Promise<ScriptResult> {
    if (this.closed) return Promise.resolve(shutdownResult());
    return new Promise((resolve) => {
      this.queue.push({ argv, opts, resolve });
      this.pump();
    });
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.maxConcurrent && this.queue.length) {
      const p = this.queue.shift()!;
      const abort = new AbortController();
      const outer = p.opts.signal;
      if (outer) {
        if (outer.aborted) abort.abort(outer.reason);
        else outer.addEventListener('abort', () => abort.abort(outer.reason), { once: true });
      }
      const done = runScript(p.argv, {
        killGraceMs: this.killGraceMs,
        ...(this.env ? { env: this.env } : {}),
        ...p.opts,
        signal: abort.signal,
      });
      const entry = { abort, done };
      this.active.add(entry);
      this.peak = Math.max(this.peak, this.active.size);
      void done.then((r) => {
        this.active.delete(entry);
        p.resolve(r);
        this.pump();
      });
    }
  }

  /**
   * Stop: queued scripts resolve unrun (error "script runner shut down"), running ones get SIGTERM
   * to their process group and SIGKILL after the grace. Resolves when every script has ended.
   */
  async shutdown(opts: { graceMs?: number } = {}): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve(shutdownResult());
    const running = [...this.active];
    const reason: AbortReason = { killGraceMs: opts.graceMs };
    for (const e of running) e.abort.abort(reason);
    await Promise.all(running.map((e) => e.done));
  }
}

function shutdownResult(): ScriptResult {
  return { code: null, signal: null, timedOut: false, durationMs: 0, error: 'script runner shut down', aborted: true };
}
