// lblc: locality-based least connection (for cache clusters). A cache maps each destination
// (virtual) address to one real server. A cached server is used when it is still in the service,
// has weight > 0 and is not "overloaded" in lblc's sense (more active connections than its weight
// while some server is below half of its own); the u_threshold flag is not consulted for a cached
// server, as in IPVS. Otherwise wlc over the whole list picks one and the entry is (re)written.
// Each lookup refreshes the entry's last use; see locality.ts for expiry.
import type { Dest } from '../dest.js';
import type { CacheEntry } from './locality.js';
import { LocalityScheduler } from './locality.js';
import type { ConnInfo, SchedulerOptions } from './types.js';

interface LblcEntry extends CacheEntry {
  dest: Dest;
}

export class LocalityLeastConnection extends LocalityScheduler<LblcEntry> {
  readonly name = 'lblc' as const;

  constructor(opts: SchedulerOptions = {}) {
    super(opts, opts.lblcExpiration);
  }

  /** The cached server for an address (tests, dumps). */
  cached(addr: string): Dest | undefined {
    return this.entries.get(addr)?.dest;
  }

  protected schedule(conn: ConnInfo, now: number): Dest | undefined {
    this.tick(now);
    const en = this.entries.get(conn.dst);
    if (en) {
      en.lastUse = now;
      const d = en.dest;
      if (this.available(d) && d.weight > 0 && !this.isOverloaded(d)) return d;
    }
    const d = this.leastLoaded();
    if (!d) return undefined;
    if (en && en.dest === d) return d;
    // A replaced entry is a new one (IPVS frees and re-creates it, last use = now).
    this.entries.delete(conn.dst);
    this.entries.set(conn.dst, { dest: d, lastUse: now, bucket: this.bucketOf(conn.dst) });
    return d;
  }
}
