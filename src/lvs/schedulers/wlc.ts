// wlc: weighted least connection (IPVS's and keepalived's default). The smallest
// overhead / weight, compared by cross-multiplication (r wins when oh_l × w_r > oh_r × w_l),
// among destinations with weight > 0 that are not overloaded. First in the list wins ties.
import type { Dest } from '../dest.js';
import { mulGt } from '../hash.js';
import { usable } from './base.js';
import { BestOfScheduler } from './best.js';

export function wlcBeats(r: Dest, l: Dest): boolean {
  return mulGt(l.overhead, r.weight, r.overhead, l.weight);
}

export class WeightedLeastConnection extends BestOfScheduler {
  readonly name = 'wlc' as const;
  protected eligible(d: Dest): boolean {
    return usable(d);
  }
  protected beats(r: Dest, l: Dest): boolean {
    return wlcBeats(r, l);
  }
}
