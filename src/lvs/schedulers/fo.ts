// fo: weighted failover. The highest weight among destinations that are not overloaded (weight 0
// never); first in the list wins ties. Connection counts play no part.
import type { Dest } from '../dest.js';
import { usable } from './base.js';
import { BestOfScheduler } from './best.js';

export class WeightedFailover extends BestOfScheduler {
  readonly name = 'fo' as const;
  protected override readonly readsCounters = false;
  protected eligible(d: Dest): boolean {
    return usable(d);
  }
  protected beats(r: Dest, l: Dest): boolean {
    return r.weight > l.weight;
  }
}
