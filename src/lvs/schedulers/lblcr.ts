// lblcr: locality-based least connection with replication. A cache maps each destination
// (virtual) address to a *set* of real servers, newest first. On a hit: take the set's
// weighted-least-loaded member (wlc rule, skipping overloaded and removed servers, weight > 0 for
// the first candidate); if the set has more than one member and was not modified for
// `expiration` (default 24 h), drop its weighted-most-loaded member (the set is then modified);
// if the member taken exists and is not overloaded in lblc's sense, use it; else wlc over the
// whole list picks a server, which joins the set. On a miss, wlc picks and a new entry is made.
import type { Dest } from '../dest.js';
import { mulGt } from '../hash.js';
import type { CacheEntry } from './locality.js';
import { LocalityScheduler } from './locality.js';
import type { ConnInfo, SchedulerOptions } from './types.js';

interface LblcrEntry extends CacheEntry {
  /** Newest first, as IPVS inserts at the head. */
  set: Dest[];
  lastMod: number;
}

export class LocalityLeastConnectionReplicated extends LocalityScheduler<LblcrEntry> {
  readonly name = 'lblcr' as const;

  constructor(opts: SchedulerOptions = {}) {
    super(opts, opts.lblcrExpiration);
  }

  /** The cached set for an address, newest first (tests, dumps). */
  cachedSet(addr: string): readonly Dest[] | undefined {
    return this.entries.get(addr)?.set;
  }

  private setMin(set: readonly Dest[]): Dest | undefined {
    let least: Dest | undefined;
    for (const d of set) {
      if (d.overloaded) continue;
      if (!least) {
        if (d.weight > 0 && this.available(d)) least = d;
      } else if (mulGt(least.overhead, d.weight, d.overhead, least.weight) && this.available(d)) least = d;
    }
    return least;
  }

  private setMax(set: readonly Dest[]): Dest | undefined {
    let most: Dest | undefined;
    for (const d of set) {
      if (!most) {
        if (d.weight > 0) most = d;
      } else if (mulGt(d.overhead, most.weight, most.overhead, d.weight) && d.weight > 0) most = d;
    }
    return most;
  }

  protected schedule(conn: ConnInfo, now: number): Dest | undefined {
    this.tick(now);
    const en = this.entries.get(conn.dst);
    if (en) {
      en.lastUse = now;
      const least = this.setMin(en.set);
      if (en.set.length > 1 && now > en.lastMod + this.expiration) {
        const m = this.setMax(en.set);
        if (m) {
          en.set.splice(en.set.indexOf(m), 1);
          en.lastMod = now;
        }
      }
      if (least && !this.isOverloaded(least)) return least;
      const d = this.leastLoaded();
      if (!d) return undefined;
      if (!en.set.includes(d)) {
        en.set.unshift(d);
        en.lastMod = now;
      }
      return d;
    }
    const d = this.leastLoaded();
    if (!d) return undefined;
    this.entries.set(conn.dst, { set: [d], lastMod: now, lastUse: now, bucket: this.bucketOf(conn.dst) });
    return d;
  }
}
