// Schedulers that pick "the best destination by a fixed ordering, first in list order on ties"
// (lc, wlc, sed, nq, fo, ovf). IPVS scans the list on every pick; here a tournament tree keeps
// the answer and each counter or weight change costs O(log n), so a pick is O(1).
import type { Dest, DestChange } from '../dest.js';
import { BaseScheduler } from './base.js';
import { BestTree } from './tree.js';

export abstract class BestOfScheduler extends BaseScheduler {
  private tree = new BestTree(
    0,
    () => false,
    () => false,
  );
  private flagged = new Uint8Array(0);
  /** False when only weight and the overload flag matter (fo): counter changes skip the index. */
  protected readonly readsCounters: boolean = true;

  /** May the destination be picked at all? */
  protected abstract eligible(d: Dest): boolean;
  /** Is r (later in the list) strictly better than l? */
  protected abstract beats(r: Dest, l: Dest): boolean;

  protected rebuild(): void {
    const ds = this.dests;
    this.flagged = Uint8Array.from(ds, (d) => (d.overloaded ? 1 : 0));
    this.tree = new BestTree(
      ds.length,
      (i) => this.eligible(ds[i]),
      (r, l) => this.beats(ds[r], ds[l]),
    );
  }

  protected changed(i: number, c: DestChange): void {
    const f = this.dests[i].overloaded ? 1 : 0;
    if (c === 'conns' && !this.readsCounters && f === this.flagged[i]) return;
    this.flagged[i] = f;
    this.tree.update(i);
  }

  protected schedule(): Dest | undefined {
    const i = this.tree.best();
    return i < 0 ? undefined : this.dests[i];
  }
}
