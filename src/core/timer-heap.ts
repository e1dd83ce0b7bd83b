// The pending timers of a clock (src/core/clock.ts), shared by the real and the virtual one: a
// min-heap in (deadline, creation) order, so equal deadlines fire first set, first fired, with
// cancellation that leaves the entry in place until it reaches the top or a sweep drops it. The
// clocks differ only in what a firing pass takes: the virtual clock also runs timers set during
// the pass, the real one leaves them to its next turn (takeDue's `before`).
import { MinHeap } from './heap.js';

export interface Timer {
  readonly at: number;
  /** Creation order: breaks ties between equal deadlines. */
  readonly seq: number;
  readonly cb: () => void;
  /** Fired or cancelled: clearing it again changes nothing. */
  done: boolean;
}

const earlier = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class TimerHeap {
  private seq = 0;
  private readonly heap = new MinHeap<Timer>(earlier);
  private live = 0;

  /** Timers still to fire. */
  get pending(): number {
    return this.live;
  }

  /** The creation number of the next timer: takeDue(now, mark) leaves out every timer set after. */
  get mark(): number {
    return this.seq;
  }

  add(at: number, cb: () => void): Timer {
    const t: Timer = { at, seq: this.seq++, cb, done: false };
    this.heap.push(t);
    this.live++;
    return t;
  }

  /** False when `t` had already fired or been cancelled. */
  cancel(t: Timer): boolean {
    if (t.done) return false;
    t.done = true;
    this.live--;
    // A BACKUP's down timer moved at each advert would pile cancelled entries up: past a bound the
    // heap is rebuilt without them (O(n) once per n cancellations; the order is total, so unchanged).
    if (this.heap.size > 2 * this.live + 1024) this.heap.retain((x) => !x.done);
    return true;
  }

  /** The earliest timer still to fire (the cancelled ones above it are dropped). */
  peek(): Timer | undefined {
    let next = this.heap.peek();
    while (next?.done) {
      this.heap.pop();
      next = this.heap.peek();
    }
    return next;
  }

  /** Takes the earliest timer still to fire if it is due at `now` and was set before the mark
   * `before`; it counts as fired from here on, so the caller runs its callback. Timers set or
   * cancelled by that callback are seen by the next call. */
  takeDue(now: number, before = Infinity): Timer | undefined {
    const next = this.peek();
    if (!next || next.at > now || next.seq >= before) return undefined;
    this.heap.pop();
    next.done = true;
    this.live--;
    return next;
  }
}
