// ovf: overflow connection. The highest weight among destinations that are not overloaded, have
// weight ≠ 0 and have no more active connections than their weight (active ≤ weight: a
// destination with exactly `weight` active connections still qualifies, as in IPVS); first in
// the list wins ties.
import type { Dest } from '../dest.js';
import { usable } from './base.js';
import { BestOfScheduler } from './best.js';

export class Overflow extends BestOfScheduler {
  readonly name = 'ovf' as const;
  protected eligible(d: Dest): boolean {
    return usable(d) && d.activeConns <= d.weight;
  }
  protected beats(r: Dest, l: Dest): boolean {
    return r.weight > l.weight;
  }
}
