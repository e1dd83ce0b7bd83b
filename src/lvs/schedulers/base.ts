// What every scheduler shares: the destination list it last saw, position lookup, and one
// subscription per destination that routes `edit` and `conns` changes to the scheduler's index.
import type { LvsScheduler } from '../../config/model/lvs.js';
import type { Dest, DestChange } from '../dest.js';
import type { ConnInfo, Scheduler } from './types.js';

export abstract class BaseScheduler implements Scheduler {
  abstract readonly name: LvsScheduler;
  protected dests: readonly Dest[] = [];
  protected readonly pos = new Map<Dest, number>();
  private unsubs: Array<() => void> = [];
  private synced = false;

  pick(dests: readonly Dest[], conn: ConnInfo, now: number): Dest | undefined {
    if (dests !== this.dests || !this.synced) this.onDestsChanged(dests);
    return this.schedule(conn, now);
  }

  onDestsChanged(dests: readonly Dest[]): void {
    const prev = this.dests;
    for (const u of this.unsubs) u();
    this.unsubs = [];
    this.pos.clear();
    dests.forEach((d, i) => {
      if (this.pos.has(d)) throw new RangeError(`destination ${d.id} is listed twice`);
      this.pos.set(d, i);
    });
    this.dests = dests;
    this.synced = true;
    this.rebuild(prev);
    dests.forEach((d, i) => this.unsubs.push(d.subscribe((_d: Dest, c: DestChange) => this.changed(i, c))));
  }

  dispose(): void {
    for (const u of this.unsubs) u();
    this.unsubs = [];
    this.synced = false;
  }

  protected abstract schedule(conn: ConnInfo, now: number): Dest | undefined;
  /** The list changed; `prev` is the list before. */
  protected abstract rebuild(prev: readonly Dest[]): void;
  /** Destination at position i changed. */
  protected abstract changed(i: number, change: DestChange): void;
}

/** Usable for a new connection by the least-connection family, rr, wrr, fo, twos. */
export function usable(d: Dest): boolean {
  return d.weight > 0 && !d.overloaded;
}
