// sed: shortest expected delay. As wlc with overhead = active + 1 (inactive connections ignored):
// the smallest (active + 1) / weight, cross-multiplied, first in the list wins ties.
import type { Dest } from '../dest.js';
import { mulGt } from '../hash.js';
import { usable } from './base.js';
import { BestOfScheduler } from './best.js';

export function sedBeats(r: Dest, l: Dest): boolean {
  return mulGt(l.activeConns + 1, r.weight, r.activeConns + 1, l.weight);
}

export class ShortestExpectedDelay extends BestOfScheduler {
  readonly name = 'sed' as const;
  protected eligible(d: Dest): boolean {
    return usable(d);
  }
  protected beats(r: Dest, l: Dest): boolean {
    return sedBeats(r, l);
  }
}
