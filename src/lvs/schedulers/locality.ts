// What lblc and lblcr share: the per-destination-address cache with IPVS's garbage collection,
// the wlc choice over the whole list (kept in a tournament tree: O(1) per pick), and the
// "overloaded" test that needs to know whether any destination is below half its weight (kept
// as a count: O(1) instead of IPVS's O(n) scan).
//
// GC, as ip_vs_lblc.c/ip_vs_lblcr.c run it from a timer every 60 s (first run 60 s after the
// service starts; here, 60 s after the first pick or tick):
// - every 30th run is a full check dropping entries unused for `expiration` (default 24 h);
// - otherwise, when there are more than 16 × 1024 entries, entries unused for 6 minutes are
//   dropped bucket by bucket (1024 buckets by hash_32 of the address, resuming after the bucket
//   where the last pass stopped) until (entries − max) × 4/3 (at most max/2) are gone.
// Runs that were due are replayed at their own times before a pick, so a virtual clock that jumps
// hours ahead sees the same table as a kernel whose timer fired on time.
import type { Dest, DestChange } from '../dest.js';
import { addrFold, hash32 } from '../hash.js';
import { BaseScheduler, usable } from './base.js';
import { BestTree } from './tree.js';
import type { SchedulerOptions } from './types.js';
import { wlcBeats } from './wlc.js';

export const LOCALITY_TAB_BITS = 10;
export const LOCALITY_MAX_ENTRIES = (1 << LOCALITY_TAB_BITS) * 16;
const FULL_EVERY = 30;

export interface CacheEntry {
  lastUse: number;
  bucket: number;
}

export abstract class LocalityScheduler<E extends CacheEntry> extends BaseScheduler {
  protected readonly entries = new Map<string, E>();
  protected readonly expiration: number;
  private readonly period: number;
  private readonly entryTimeout: number;
  private nextCheck: number | undefined;
  private counter = 1;
  private rover = 0;
  private tree = new BestTree(
    0,
    () => false,
    () => false,
  );
  private below: Uint8Array = new Uint8Array(0);
  private belowHalf = 0;

  constructor(opts: SchedulerOptions, expiration: number | undefined) {
    super();
    const s = opts.unitsPerSecond ?? 1e6;
    this.period = 60 * s;
    this.entryTimeout = 6 * 60 * s;
    this.expiration = expiration ?? 24 * 60 * 60 * s;
  }

  /** Cached addresses (for tests and dumps). */
  get size(): number {
    return this.entries.size;
  }

  protected rebuild(): void {
    const ds = this.dests;
    this.tree = new BestTree(
      ds.length,
      (i) => usable(ds[i]),
      (r, l) => wlcBeats(ds[r], ds[l]),
    );
    this.below = new Uint8Array(ds.length);
    this.belowHalf = 0;
    ds.forEach((_d, i) => this.track(i));
  }

  protected changed(i: number, _c: DestChange): void {
    this.tree.update(i);
    this.track(i);
  }

  private track(i: number): void {
    const d = this.dests[i];
    const b = d.activeConns * 2 < d.weight ? 1 : 0;
    this.belowHalf += b - this.below[i];
    this.below[i] = b;
  }

  /** wlc over the whole list. */
  protected leastLoaded(): Dest | undefined {
    const i = this.tree.best();
    return i < 0 ? undefined : this.dests[i];
  }

  /** IPVS lblc/lblcr is_overloaded: more active than its weight while some destination is below half of its own. */
  protected isOverloaded(d: Dest): boolean {
    return d.activeConns > d.weight && this.belowHalf > 0;
  }

  /** Still in the service (IP_VS_DEST_F_AVAILABLE). */
  protected available(d: Dest): boolean {
    return this.pos.has(d);
  }

  protected bucketOf(addr: string): number {
    return hash32(addrFold(addr), LOCALITY_TAB_BITS);
  }

  nextDeadline(): number | undefined {
    return this.nextCheck;
  }

  tick(now: number): void {
    if (this.nextCheck === undefined) {
      this.nextCheck = now + this.period;
      return;
    }
    const P = this.period;
    while (this.nextCheck <= now) {
      if (this.entries.size <= LOCALITY_MAX_ENTRIES) {
        // Replaying only removes entries, so every due run is a count or a full check, and of
        // several full checks the last one decides: do just that one.
        const due = Math.floor((now - this.nextCheck) / P) + 1;
        const first = FULL_EVERY - this.counter; // index of the first due full check (counter is 1..30)
        if (first < due) {
          const last = first + FULL_EVERY * Math.floor((due - 1 - first) / FULL_EVERY);
          this.fullCheck(this.nextCheck + last * P);
          this.counter = 1 + (due - 1 - last);
        } else this.counter += due;
        this.nextCheck += due * P;
      } else if (this.counter % FULL_EVERY === 0) {
        this.fullCheck(this.nextCheck);
        this.counter = 1;
        this.nextCheck += P;
      } else {
        // Over the limit the run does not count towards the next full check (as in IPVS).
        this.partialCheck(this.nextCheck);
        this.nextCheck += P;
      }
    }
  }

  private fullCheck(t: number): void {
    for (const [k, e] of this.entries) if (t >= e.lastUse + this.expiration) this.entries.delete(k);
  }

  private partialCheck(t: number): void {
    let goal = Math.trunc(((this.entries.size - LOCALITY_MAX_ENTRIES) * 4) / 3);
    goal = Math.min(goal, LOCALITY_MAX_ENTRIES >> 1);
    const byBucket = new Map<number, string[]>();
    for (const [k, e] of this.entries) {
      const l = byBucket.get(e.bucket);
      if (l) l.push(k);
      else byBucket.set(e.bucket, [k]);
    }
    const mask = (1 << LOCALITY_TAB_BITS) - 1;
    let j = this.rover;
    for (let i = 0; i <= mask; i++) {
      j = (j + 1) & mask;
      for (const k of byBucket.get(j) ?? []) {
        if (t >= this.entries.get(k)!.lastUse + this.entryTimeout) {
          this.entries.delete(k);
          goal--;
        }
      }
      if (goal <= 0) break;
    }
    this.rover = j;
  }
}
