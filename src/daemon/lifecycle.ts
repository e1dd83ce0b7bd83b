// The daemon's life as one serialized state machine: start, reload and stop never overlap.
// transition() is pure (state, event) -> [state, actions]; the Lifecycle runner carries out the
// actions (one job at a time) and feeds their ends back as events.
//
//   starting --started--> running --reload--> reloading --done--> running
//       |                    |                    |
//       +-------stop---------+-------stop---------+--> stopping --done--> stopped (exit)
//
// Requests that arrive while a job runs wait for it: reloads coalesce into one that runs after
// it, a stop runs after it (and cancels a waiting reload). Once stopping, reloads and further
// stops are dropped with a log line. A crash (an uncaught exception) is a stop with a non-zero
// code; a crash while stopping makes the exit status a failure; a start that fails exits at once.

export type Phase = 'starting' | 'running' | 'reloading' | 'stopping' | 'stopped';

export interface LifeState {
  phase: Phase;
  /** A reload asked for while another job ran: it runs next (several coalesce into one). */
  reloadQueued: boolean;
  /** A stop asked for while another job ran: it runs next. */
  stopQueued?: StopRequest;
  /** The exit code of the stop under way or done. */
  exitCode?: number;
}

export interface StopRequest {
  why: string;
  code: number;
}

export type LifeEvent =
  | { type: 'reload' }
  | { type: 'stop'; why: string; code: number }
  /** An uncaught exception or unhandled rejection. */
  | { type: 'crash'; why: string; code: number }
  /** The running job (start, reload or stop) ended; `failed` for a start that could not finish. */
  | { type: 'done'; failed?: number };

export type LifeAction =
  | { type: 'runReload' }
  | { type: 'runStop'; why: string; code: number }
  | { type: 'exit'; code: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export const initialLife: LifeState = { phase: 'starting', reloadQueued: false };

const log = (level: 'info' | 'warn' | 'error', message: string): LifeAction => ({ type: 'log', level, message });

/** The next job once the running one ended: a queued stop first, then a queued reload. */
function next(s: LifeState): [LifeState, LifeAction[]] {
  if (s.stopQueued) {
    const { why, code } = s.stopQueued;
    return [{ phase: 'stopping', reloadQueued: false, exitCode: code }, [{ type: 'runStop', why, code }]];
  }
  if (s.reloadQueued) return [{ phase: 'reloading', reloadQueued: false }, [{ type: 'runReload' }]];
  return [{ phase: 'running', reloadQueued: false }, []];
}

export function transition(s: LifeState, ev: LifeEvent): [LifeState, LifeAction[]] {
  switch (s.phase) {
    case 'starting':
    case 'reloading': {
      const job = s.phase === 'starting' ? 'start' : 'reload';
      switch (ev.type) {
        case 'reload':
          if (s.stopQueued) return [s, [log('info', `Reload request ignored: a stop is queued`)]];
          if (s.reloadQueued) return [s, [log('info', `Reload request merged with the one already queued`)]];
          return [{ ...s, reloadQueued: true }, [log('info', `Reload request queued until the ${job} in progress ends`)]];
        case 'stop':
          if (s.stopQueued) return [s, [log('info', `${ev.why}: a stop is already queued`)]];
          return [
            { ...s, reloadQueued: false, stopQueued: { why: ev.why, code: ev.code } },
            [log('info', `${ev.why}: stopping once the ${job} in progress ends`)],
          ];
        case 'crash':
          // The job in progress may never end: stop now, with what exists.
          return [{ phase: 'stopping', reloadQueued: false, exitCode: ev.code }, [{ type: 'runStop', why: ev.why, code: ev.code }]];
        case 'done':
          if (ev.failed !== undefined) return [{ phase: 'stopped', reloadQueued: false, exitCode: ev.failed }, [{ type: 'exit', code: ev.failed }]];
          return next(s);
      }
      break;
    }
    case 'running':
      switch (ev.type) {
        case 'reload':
          return [{ phase: 'reloading', reloadQueued: false }, [{ type: 'runReload' }]];
        case 'stop':
        case 'crash':
          return [{ phase: 'stopping', reloadQueued: false, exitCode: ev.code }, [{ type: 'runStop', why: ev.why, code: ev.code }]];
        case 'done':
          return [s, [log('warn', 'lifecycle: a job ended while none ran (this is a bug)')]];
      }
      break;
    case 'stopping':
      switch (ev.type) {
        case 'reload':
          return [s, [log('info', 'Reload request ignored: stopping')]];
        case 'stop':
          return [s, [log('info', `${ev.why}: already stopping`)]];
        case 'crash':
          // The stop goes on (priority 0 and the VIPs first); the exit status becomes a failure.
          // The daemon bounds how long a stop after a crash may take.
          return [
            { ...s, exitCode: s.exitCode || ev.code },
            [log('error', `${ev.why} while stopping: the stop goes on, exit status ${s.exitCode || ev.code}`)],
          ];
        case 'done':
          return [{ ...s, phase: 'stopped' }, [{ type: 'exit', code: s.exitCode ?? 0 }]];
      }
      break;
    case 'stopped':
      return [s, []];
  }
  return [s, []];
}

export interface LifecycleEnv {
  reload(): Promise<void>;
  stop(why: string, code: number): Promise<void>;
  exit(code: number): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** The phase changed (systemd's notifications follow it). */
  phase?(to: Phase, from: Phase): void;
}

/** Runs the jobs transition() asks for, one at a time. */
export class Lifecycle {
  private s: LifeState = initialLife;

  constructor(private readonly env: LifecycleEnv) {}

  get state(): LifeState {
    return this.s;
  }

  dispatch(ev: LifeEvent): void {
    const [s, actions] = transition(this.s, ev);
    const from = this.s.phase;
    this.s = s;
    if (s.phase !== from) this.env.phase?.(s.phase, from);
    for (const a of actions) this.perform(a);
  }

  private perform(a: LifeAction): void {
    switch (a.type) {
      case 'log':
        this.env.log(a.level, a.message);
        break;
      case 'exit':
        this.env.exit(a.code);
        break;
      case 'runReload':
        void this.job(() => this.env.reload(), 'reload');
        break;
      case 'runStop':
        void this.job(() => this.env.stop(a.why, a.code), 'stop');
        break;
    }
  }

  private async job(run: () => Promise<void>, what: string): Promise<void> {
    try {
      await run();
    } catch (e) {
      const err = e as Error;
      this.env.log('error', `${what} failed: ${err.stack ?? err.message}`);
      // A failed stop cannot be retried safely: end now, with a failure status.
      if (what === 'stop') this.dispatch({ type: 'crash', why: `${what} failed`, code: 1 });
    }
    this.dispatch({ type: 'done' });
  }
}
