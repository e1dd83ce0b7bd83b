// One virtual service's scheduling state: its destination list in IPVS order, its scheduler and,
// when persistent, its template table. IPVS links a new destination at the *head* of the list, so
// list order (which every scheduler's tie-break follows) is newest first; setDests() takes an
// explicit order instead (e.g. when mirroring `ipvsadm -Ln`).
import type { LvsScheduler } from '../config/model/lvs.js';
import type { Dest } from './dest.js';
import { Stats } from './estimator.js';
import { PersistenceTable } from './persistence.js';
import type { PersistenceOptions, Template } from './persistence.js';
import { createScheduler } from './schedulers/index.js';
import type { ConnInfo, Scheduler, SchedulerOptions } from './schedulers/types.js';

export interface VirtualServiceOptions extends SchedulerOptions {
  /** lvs_sched; keepalived's default is wlc. */
  scheduler?: LvsScheduler;
  /** Set for a persistent service. */
  persistence?: PersistenceOptions;
  /** Statistics carried over from the service this one replaces (a reload changing the scheduler). */
  stats?: Stats;
}

export interface Scheduled {
  dest: Dest;
  /** The template used or created (persistent services). */
  template?: Template;
}

export class VirtualService {
  readonly scheduler: Scheduler;
  readonly persistence: PersistenceTable | undefined;
  /** The service's totals and rates (ipvsadm --stats/--rate), sorry-server connections included. */
  readonly stats: Stats;
  private list: Dest[] = [];
  private snapshot: readonly Dest[] | undefined;

  constructor(opts: VirtualServiceOptions = {}) {
    this.scheduler = createScheduler(opts.scheduler ?? 'wlc', opts);
    this.persistence = opts.persistence ? new PersistenceTable(opts.persistence) : undefined;
    this.stats = opts.stats ?? new Stats();
  }

  /** The list in IPVS order (a new array after every change). */
  get dests(): readonly Dest[] {
    return (this.snapshot ??= Object.freeze([...this.list]));
  }

  /** Add a destination: IPVS puts it at the head of the list. */
  addDest(d: Dest): void {
    if (this.list.includes(d)) throw new RangeError(`destination ${d.id} is already in the service`);
    this.list.unshift(d);
    this.snapshot = undefined;
  }

  removeDest(d: Dest): void {
    const i = this.list.indexOf(d);
    if (i < 0) throw new RangeError(`destination ${d.id} is not in the service`);
    this.list.splice(i, 1);
    this.snapshot = undefined;
  }

  /** Replace the whole list, in the order given. */
  setDests(ds: readonly Dest[]): void {
    this.list = [...ds];
    this.snapshot = undefined;
  }

  /** The destination for a new connection: the client's template if persistent, else the scheduler's pick. */
  schedule(conn: ConnInfo, now: number): Scheduled | undefined {
    const ds = this.dests;
    if (this.persistence) {
      const template = this.persistence.resolve(ds, conn, now, () => this.scheduler.pick(ds, conn, now));
      return template && { dest: template.dest, template };
    }
    const dest = this.scheduler.pick(ds, conn, now);
    return dest && { dest };
  }

  /** Periodic housekeeping: lblc/lblcr GC and template expiry. */
  tick(now: number): void {
    this.scheduler.tick?.(now);
    this.persistence?.expire(now);
  }

  dispose(): void {
    this.scheduler.dispose();
  }
}
