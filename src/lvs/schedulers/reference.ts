// Straight list scans, the way IPVS itself schedules (one pass over the list per pick, pass after
// pass for wrr). They are the oracle the indexed schedulers are tested against and the baseline
// of the scheduler benchmark. Not used by the daemon.
import type { LvsScheduler } from '../../config/model/lvs.js';
import type { Dest, DestChange } from '../dest.js';
import { mulGt } from '../hash.js';
import { BaseScheduler, usable } from './base.js';
import type { Scheduler } from './types.js';
import { wrrDestChanged } from './wrr.js';

/** Scan picks: first dest passing `ok`, replaced by any later one that `better` says beats it. */
function scan(ds: readonly Dest[], ok: (d: Dest) => boolean, better: (d: Dest, least: Dest) => boolean, first?: (d: Dest) => boolean): Dest | undefined {
  let least: Dest | undefined;
  for (const d of ds) {
    if (!ok(d)) continue;
    if (first?.(d)) return d;
    if (!least || better(d, least)) least = d;
  }
  return least;
}

const RULES: Partial<Record<LvsScheduler, (ds: readonly Dest[]) => Dest | undefined>> = {
  lc: (ds) => scan(ds, usable, (d, l) => d.overhead < l.overhead),
  wlc: (ds) => scan(ds, usable, (d, l) => mulGt(l.overhead, d.weight, d.overhead, l.weight)),
  sed: (ds) => scan(ds, usable, (d, l) => mulGt(l.activeConns + 1, d.weight, d.activeConns + 1, l.weight)),
  nq: (ds) =>
    scan(
      ds,
      usable,
      (d, l) => mulGt(l.activeConns + 1, d.weight, d.activeConns + 1, l.weight),
      (d) => d.activeConns === 0,
    ),
  fo: (ds) => scan(ds, usable, (d, l) => d.weight > l.weight),
  ovf: (ds) =>
    scan(
      ds,
      (d) => usable(d) && d.activeConns <= d.weight,
      (d, l) => d.weight > l.weight,
    ),
};

class ScanScheduler extends BaseScheduler {
  constructor(
    readonly name: LvsScheduler,
    private readonly rule: (ds: readonly Dest[]) => Dest | undefined,
  ) {
    super();
  }
  protected rebuild(): void {}
  protected changed(): void {}
  protected schedule(): Dest | undefined {
    return this.rule(this.dests);
  }
}

/** rr as IPVS walks it: from the last pick, one lap at most. */
class ScanRoundRobin extends BaseScheduler {
  readonly name = 'rr' as const;
  private last: Dest | undefined;
  protected rebuild(prev: readonly Dest[]): void {
    if (this.last && !this.pos.has(this.last)) {
      const i = prev.indexOf(this.last);
      this.last = prev
        .slice(0, i)
        .reverse()
        .find((d) => this.pos.has(d));
    }
  }
  protected changed(): void {}
  protected schedule(): Dest | undefined {
    const ds = this.dests;
    const n = ds.length;
    const start = this.last ? this.pos.get(this.last)! : -1;
    // From the head: one pass. Else the rest of the list, then the head up to and including start.
    for (let k = 1; k <= n; k++) {
      const i = start < 0 ? k - 1 : (start + k) % n;
      if (usable(ds[i])) return (this.last = ds[i]);
    }
    return undefined;
  }
}

/** wrr exactly as the IPVS loop runs it, including where it leaves (cl, cw) after a failure. */
class ScanWeightedRoundRobin extends BaseScheduler {
  readonly name = 'wrr' as const;
  cl = -1;
  cw = 0;
  mw = 0;
  di = 1;
  protected rebuild(): void {
    this.destChanged();
  }
  protected changed(_i: number, c: DestChange): void {
    if (c === 'edit') this.destChanged();
  }
  private destChanged(): void {
    Object.assign(this, wrrDestChanged(this.dests, this.cw));
    this.cl = -1;
  }
  protected schedule(): Dest | undefined {
    const ds = this.dests;
    if (this.mw === 0) return undefined;
    const last = this.cl;
    let p = this.cl;
    let stop = -2;
    let lastPass = false;
    let restarted = false;
    for (;;) {
      for (p = p + 1; p < ds.length; p++) {
        const d = ds[p];
        if (!d.overloaded && d.weight >= this.cw) {
          this.cl = p;
          return d;
        }
        if (p === stop) {
          this.cl = p;
          return undefined;
        }
      }
      p = -1; // back at the head
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        if (lastPass || last < 0) {
          this.cl = -1;
          return undefined;
        }
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && last >= 0) stop = last;
    }
  }
}

/** The IPVS-style scan scheduler for rr, wrr, lc, wlc, sed, nq, fo, ovf. */
export function createReferenceScheduler(name: LvsScheduler): Scheduler {
  if (name === 'rr') return new ScanRoundRobin();
  if (name === 'wrr') return new ScanWeightedRoundRobin();
  const rule = RULES[name];
  if (!rule) throw new RangeError(`no reference scan for "${name}"`);
  return new ScanScheduler(name, rule);
}

export const REFERENCE_NAMES: readonly LvsScheduler[] = ['rr', 'wrr', 'lc', 'wlc', 'sed', 'nq', 'fo', 'ovf'];
