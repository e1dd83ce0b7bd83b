// wrr: interleaved weighted round robin. IPVS state: the current position `cl` (or the list
// head), the current weight `cw`, the gcd `di` of the positive weights and `mw` = max weight −
// (di − 1). A pick continues from (cl, cw) in the order "rest of this pass, then the next pass
// with cw − di, wrapping from cw ≤ 0 back to mw", and takes the first destination that is not
// overloaded and has weight ≥ cw. Any change to a destination (add, delete, edit) resets cl to
// the head and re-clamps cw: cw > mw or cw = 0 → mw, else with di > 1 → (cw / di)·di + 1.
// Weights [4,3,2] give A A B A B C A B C.
//
// IPVS scans the list, pass after pass: O(n) per pick and O(n × max/di) when the heaviest
// destinations are overloaded. Here one max-tree query finds the next qualifying position in this
// pass, and when there is none the passes whose cw exceeds every usable weight are skipped by
// arithmetic: O(log n) per pick, same picks and same (cl, cw) afterwards, failures included.
import type { Dest, DestChange } from '../dest.js';
import { gcd } from '../hash.js';
import { BaseScheduler } from './base.js';
import { MaxTree } from './tree.js';

/** IPVS wrr dest_changed: step `di` (gcd of the weights), `mw` (max weight - (di - 1)), and the
 * current weight `cw` clamped into the new range. Shared with the reference scan. */
export function wrrDestChanged(dests: readonly Dest[], cw: number): { di: number; mw: number; cw: number } {
  let g = 0;
  let max = 0;
  for (const d of dests) {
    if (d.weight > 0) g = g > 0 ? gcd(d.weight, g) : d.weight;
    if (d.weight > max) max = d.weight;
  }
  const di = g || 1;
  const mw = max - (di - 1);
  if (cw > mw || cw === 0) cw = mw;
  else if (di > 1) cw = Math.floor(cw / di) * di + 1;
  return { di, mw, cw };
}

export class WeightedRoundRobin extends BaseScheduler {
  readonly name = 'wrr' as const;
  /** Position of the last pick; -1 = list head. */
  private cl = -1;
  private cw = 0;
  private mw = 0;
  private di = 1;
  private tree = new MaxTree(0, () => 0);

  protected rebuild(): void {
    this.tree = new MaxTree(this.dests.length, (i) => this.value(i));
    this.destChanged();
  }

  protected changed(i: number, c: DestChange): void {
    this.tree.set(i, this.value(i));
    if (c === 'edit') this.destChanged();
  }

  /** State for tests and dumps. */
  get state(): { cl: number; cw: number; mw: number; di: number } {
    return { cl: this.cl, cw: this.cw, mw: this.mw, di: this.di };
  }

  private value(i: number): number {
    const d = this.dests[i];
    return d.overloaded ? 0 : d.weight;
  }

  /** IPVS wrr dest_changed. */
  private destChanged(): void {
    Object.assign(this, wrrDestChanged(this.dests, this.cw));
    this.cl = -1;
  }

  protected schedule(): Dest | undefined {
    const { di, mw } = this;
    if (mw <= 0) return undefined;
    const top = this.tree.max();
    if (top < 1) {
      // Nothing usable. IPVS walks a full cycle and stops either at the head (when it started
      // there, or started above the last pass) with cw = mw, or back at cl on the last pass.
      if (this.cl < 0 || this.cw - di > 0) {
        this.cl = -1;
        this.cw = mw;
      } else this.cw = ((mw - 1) % di) + 1;
      return undefined;
    }
    // Usually one of the next few destinations qualifies: look before asking the tree.
    const ds = this.dests;
    for (let j = this.cl + 1; j < ds.length && j <= this.cl + 4; j++) {
      if (!ds[j].overloaded && ds[j].weight >= this.cw) {
        this.cl = j;
        return ds[j];
      }
    }
    let p = this.tree.firstAtLeast(this.cl + 1, this.cw);
    if (p < 0) {
      let cw = this.cw - di;
      if (cw <= 0) cw = mw;
      // Passes with cw above every usable weight find nothing: skip them.
      if (cw > top) cw -= Math.ceil((cw - top) / di) * di;
      p = this.tree.firstAtLeast(0, cw);
      this.cw = cw;
    }
    this.cl = p;
    return this.dests[p];
  }
}
