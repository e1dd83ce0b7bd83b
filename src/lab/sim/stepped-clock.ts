// A virtual clock that can say when its next timer is due, so a driver can run one instant at a
// time and let promises settle in between (VirtualClock.runUntil runs everything up to a time).
import { VirtualClock, type TimerHandle } from '../../core/clock.js';

export class SteppedClock extends VirtualClock {
  /** Due times of the timers set so far, a binary min-heap (cancelled ones just cost a step). */
  private readonly due: number[] = [];

  override setTimer(at: number, cb: () => void): TimerHandle {
    push(this.due, Math.max(at, this.now()));
    return super.setTimer(at, cb);
  }

  /** The earliest due time not yet taken (with every copy of it), or undefined when none is left. */
  takeNext(): number | undefined {
    if (!this.due.length) return undefined;
    const t = pop(this.due);
    while (this.due.length && this.due[0] === t) pop(this.due);
    return t;
  }
}

function push(h: number[], v: number): void {
  h.push(v);
  for (let i = h.length - 1; i > 0;) {
    const p = (i - 1) >> 1;
    if (h[p] <= h[i]) break;
    [h[p], h[i]] = [h[i], h[p]];
    i = p;
  }
}

function pop(h: number[]): number {
  const top = h[0];
  const last = h.pop()!;
  if (h.length) {
    h[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l] < h[m]) m = l;
      if (r < h.length && h[r] < h[m]) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
  return top;
}
