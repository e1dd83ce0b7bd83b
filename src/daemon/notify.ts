// Notify scripts and notify FIFO lines, as keepalived builds them (vrrp_notify.c):
// - per transition: the state's own script (notify_master / notify_backup / notify_fault /
//   notify_stop, args exactly as configured), then the generic `notify` with four args appended:
//   INSTANCE|GROUP, NAME, MASTER|BACKUP|FAULT|STOP|DELETED, PRIORITY (effective priority, 0 for
//   groups) — observed: `extra1 INSTANCE VI_1 MASTER 150`;
// - fire-and-forget: nothing waits for them and they may overlap or finish out of order. The
//   STOP scripts are the exception: keepalived runs them with a 1 s timeout (TIMER_HZ) so that
//   stopping cannot hang; other notify scripts have no timeout at all.
// - FIFO lines: `INSTANCE "VI_1" MASTER 100`, `GROUP "G1" BACKUP 0` (a newline ends each).
import type { ScriptRef } from '../config/values.js';
import type { Notifies } from '../config/model/vrrp.js';
import type { RunOptions, ScriptResult, ScriptRunner } from '../proc/script-runner.js';

export type NotifyKind = 'INSTANCE' | 'GROUP';
export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED';
/** Extra VRRP pseudo-states that only go to FIFOs. */
export type FifoEvent = 'MASTER_RX_LOWER_PRI' | 'MASTER_PRIORITY' | 'BACKUP_PRIORITY';

/** The notify keywords of an instance or sync group (model/vrrp.ts Notifies). */
/** The notify keywords of an instance or sync group, as the config model holds them. */
export type NotifyScripts = Pick<Notifies, 'notifyMaster' | 'notifyBackup' | 'notifyFault' | 'notifyStop' | 'notifyDeleted' | 'notify'>;

export type NotifyKeyword = 'notify_master' | 'notify_backup' | 'notify_fault' | 'notify_stop' | 'notify_deleted' | 'notify';

export interface NotifyCommand {
  keyword: NotifyKeyword;
  argv: string[];
  script: ScriptRef;
}

const SPECIFIC: Record<NotifyState, [NotifyKeyword, keyof NotifyScripts]> = {
  MASTER: ['notify_master', 'notifyMaster'],
  BACKUP: ['notify_backup', 'notifyBackup'],
  FAULT: ['notify_fault', 'notifyFault'],
  STOP: ['notify_stop', 'notifyStop'],
  DELETED: ['notify_deleted', 'notifyDeleted'],
};

/**
 * The scripts to run for one transition, in keepalived's order (specific, then generic), with
 * their argv. DELETED (an instance removed by a reload) is reported only when `notify_deleted`
 * is configured; without it keepalived reports FAULT, so notify_fault runs and the generic
 * script gets FAULT.
 */
export function notifyPlan(kind: NotifyKind, name: string, state: NotifyState, priority: number, scripts: NotifyScripts): NotifyCommand[] {
  const effective: NotifyState = state === 'DELETED' && scripts.notifyDeleted === undefined ? 'FAULT' : state;
  const out: NotifyCommand[] = [];
  const [keyword, key] = SPECIFIC[effective];
  const specific = scripts[key];
  if (specific && specific !== true) out.push({ keyword, argv: [...specific.argv], script: specific });
  if (scripts.notify) {
    const prio = kind === 'GROUP' ? 0 : priority;
    out.push({ keyword: 'notify', argv: [...scripts.notify.argv, kind, name, effective, String(prio)], script: scripts.notify });
  }
  return out;
}

/** Just the argv arrays of notifyPlan(), in order. */
export function notifyCommands(kind: NotifyKind, name: string, state: NotifyState, priority: number, scripts: NotifyScripts): string[][] {
  return notifyPlan(kind, name, state, priority, scripts).map((c) => c.argv);
}

/**
 * One notify FIFO line, without its trailing newline: `INSTANCE "VI_1" MASTER 100`,
 * `GROUP "G1" BACKUP 0` (groups always report priority 0).
 */
export function fifoLine(kind: NotifyKind, name: string, state: NotifyState | FifoEvent, priority: number): string {
  return `${kind} "${name}" ${state} ${kind === 'GROUP' ? 0 : priority}`;
}

// ---------------------------------------------------------------------------------------------
// Running them

export interface NotifyRecord {
  kind: NotifyKind;
  name: string;
  state: NotifyState;
  keyword: NotifyKeyword | 'notify_master_rx_lower_pri';
  argv: string[];
  uid?: number;
  gid?: number;
  /** Date.now() when queued. */
  at: number;
  /** Filled in when the script has ended (or could not be started). */
  result?: ScriptResult;
  /** Settles with `result`. */
  done: Promise<ScriptResult>;
}

export type IdentityFor = (script: ScriptRef) => { uid?: number; gid?: number } | { error: string };

export interface NotifierOptions {
  /** uid/gid for a script (see users.ts scriptIdentity); default: run as ourselves. */
  identity?: IdentityFor;
  /** Timeout for notify scripts; keepalived has none (0). */
  timeoutMs?: number;
  /** Timeout for STOP notifies; keepalived: 1 s. */
  stopTimeoutMs?: number;
  /** Called with each finished record (for logging). */
  onResult?: (rec: NotifyRecord) => void;
  /** Records kept in `history` (oldest dropped). Default 256. */
  historySize?: number;
}

/** Runs notify scripts through a ScriptRunner, fire-and-forget, recording every result. */
export class Notifier {
  readonly history: NotifyRecord[] = [];
  private readonly inflight = new Set<Promise<ScriptResult>>();

  constructor(
    private readonly runner: ScriptRunner,
    private readonly opts: NotifierOptions = {},
  ) {}

  /** Start the scripts for one transition; returns their records at once (does not wait). */
  notify(kind: NotifyKind, name: string, state: NotifyState, priority: number, scripts: NotifyScripts): NotifyRecord[] {
    return notifyPlan(kind, name, state, priority, scripts).map((c) => this.start(kind, name, state, c.keyword, c.argv, c.script));
  }

  /** `notify_master_rx_lower_pri`: configured args only. */
  notifyMasterRxLowerPri(name: string, script: ScriptRef): NotifyRecord {
    return this.start('INSTANCE', name, 'MASTER', 'notify_master_rx_lower_pri', [...script.argv], script);
  }

  /** Resolves when every script started so far has ended. */
  async settled(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  private start(kind: NotifyKind, name: string, state: NotifyState, keyword: NotifyRecord['keyword'], argv: string[], script: ScriptRef): NotifyRecord {
    const id = this.opts.identity?.(script) ?? {};
    const rec = { kind, name, state, keyword, argv, at: Date.now() } as NotifyRecord;
    let done: Promise<ScriptResult>;
    if ('error' in id) {
      done = Promise.resolve({ code: null, signal: null, timedOut: false, durationMs: 0, error: id.error });
    } else {
      if (id.uid !== undefined) rec.uid = id.uid;
      if (id.gid !== undefined) rec.gid = id.gid;
      const run: RunOptions = {
        timeoutMs: state === 'STOP' ? (this.opts.stopTimeoutMs ?? 1000) : (this.opts.timeoutMs ?? 0),
        ...(id.uid !== undefined ? { uid: id.uid } : {}),
        ...(id.gid !== undefined ? { gid: id.gid } : {}),
      };
      done = this.runner.run(argv, run);
    }
    rec.done = done.then((r) => {
      rec.result = r;
      this.inflight.delete(rec.done);
      try {
        this.opts.onResult?.(rec);
      } catch {
        // a logging hook must not break notification
      }
      return r;
    });
    this.inflight.add(rec.done);
    this.history.push(rec);
    const max = this.opts.historySize ?? 256;
    if (this.history.length > max) this.history.splice(0, this.history.length - max);
    return rec;
  }
}
