// nq: never queue. The first usable destination with no active connection wins outright;
// otherwise the sed rule. As an ordering: idle destinations before busy ones, idle ones by list
// position, busy ones by (active + 1) / weight, which the tournament tree keeps like the others.
import type { Dest } from '../dest.js';
import { usable } from './base.js';
import { BestOfScheduler } from './best.js';
import { sedBeats } from './sed.js';

export class NeverQueue extends BestOfScheduler {
  readonly name = 'nq' as const;
  protected eligible(d: Dest): boolean {
    return usable(d);
  }
  protected beats(r: Dest, l: Dest): boolean {
    if (l.activeConns === 0) return false;
    if (r.activeConns === 0) return true;
    return sedBeats(r, l);
  }
}
