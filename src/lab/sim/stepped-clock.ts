// A virtual clock that can say when its next timer is due, so a driver can run one instant at a
// time and let promises settle in between (VirtualClock.runUntil runs everything up to a time).
import { VirtualClock, type TimerHandle } from '../../core/clock.js';
import { MinHeap } from '../../core/heap.js';

export class SteppedClock extends VirtualClock {
  /** Due times of the timers set so far, a min-heap (cancelled ones just cost a step). */
  private readonly due = new MinHeap<number>((a, b) => a < b);

  override setTimer(at: number, cb: () => void): TimerHandle {
    this.due.push(Math.max(at, this.now()));
    return super.setTimer(at, cb);
  }

  /** The earliest due time not yet taken (with every copy of it), or undefined when none is left. */
  takeNext(): number | undefined {
    const t = this.due.pop();
    while (t !== undefined && this.due.peek() === t) this.due.pop();
    return t;
  }
}
