// twos: power of two choices (IPVS, Linux 6.x). total = Σ weight of usable destinations;
// r1 = rand % (total + 1), r2 = rand % (total + 1); walking usable destinations and subtracting
// each weight from r1 and r2, choice k is the first where r_k ≤ 0; choice 2 wins when
// w2 × overhead1 > w1 × overhead2. The walk is a prefix-sum search on a sum tree: O(log n).
// The random source is injected (SchedulerOptions.random / seed): same seed, same picks.
import { mulberry32 } from '../../core/random.js';
import type { Dest, DestChange } from '../dest.js';
import { mulGt } from '../hash.js';
import { BaseScheduler, usable } from './base.js';
import { SumTree } from './tree.js';
import type { SchedulerOptions } from './types.js';

export class PowerOfTwoChoices extends BaseScheduler {
  readonly name = 'twos' as const;
  private readonly random: () => number;
  private tree = new SumTree(0, () => 0);

  constructor(opts: SchedulerOptions = {}) {
    super();
    this.random = opts.random ?? mulberry32(opts.seed ?? 0x4c56535f);
  }

  protected rebuild(): void {
    this.tree = new SumTree(this.dests.length, (i) => this.value(i));
  }

  protected changed(i: number, _c: DestChange): void {
    this.tree.set(i, this.value(i));
  }

  private value(i: number): number {
    const d = this.dests[i];
    return usable(d) ? d.weight : 0;
  }

  protected schedule(): Dest | undefined {
    const total = this.tree.total();
    if (total <= 0) return undefined;
    const r1 = this.random() % (total + 1);
    const r2 = this.random() % (total + 1);
    const c1 = this.dests[this.tree.lowerBound(Math.max(1, r1))];
    const c2 = this.dests[this.tree.lowerBound(Math.max(1, r2))];
    return mulGt(c2.weight, c1.overhead, c1.weight, c2.overhead) ? c2 : c1;
  }
}
