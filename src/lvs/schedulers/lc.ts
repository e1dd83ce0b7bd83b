// lc: least connection. The smallest overhead (active × 256 + inactive) among destinations with
// weight ≠ 0 that are not overloaded; the weight plays no other part. First in the list wins ties.
import type { Dest } from '../dest.js';
import { usable } from './base.js';
import { BestOfScheduler } from './best.js';

export class LeastConnection extends BestOfScheduler {
  readonly name = 'lc' as const;
  protected eligible(d: Dest): boolean {
    return usable(d);
  }
  protected beats(r: Dest, l: Dest): boolean {
    return r.overhead < l.overhead;
  }
}
