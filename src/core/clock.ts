// The one source of time for everything with timers (design.md seam): the interface, and the
// virtual clock of tests and the lab's sim backend, where minutes pass in milliseconds. The real
// one, on Node's timers, is the daemon's (src/daemon/clock.ts): nothing in the core sets a timer.
import { TimerHeap, type Timer } from './timer-heap.js';

export interface TimerHandle {
  readonly at: number;
}

export interface Clock {
  /** Microseconds on a monotonic scale. */
  now(): number;
  /** Run cb at `at` µs (or as soon as possible if that has passed). */
  setTimer(at: number, cb: () => void): TimerHandle;
  clearTimer(h: TimerHandle): void;
}

/** Deterministic time: timers fire in (time, creation) order only when the test advances. */
export class VirtualClock implements Clock {
  private t = 0;
  private readonly timers = new TimerHeap();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(at: number, cb: () => void): TimerHandle {
    return this.timers.add(Math.max(at, this.t), cb);
  }

  clearTimer(h: TimerHandle): void {
    this.timers.cancel(h as Timer);
  }

  /** When the earliest live timer is due, or undefined when none is left: lets a driver (the lab's
   * sim) run one instant at a time and let promises settle in between. */
  nextDue(): number | undefined {
    return this.timers.peek()?.at;
  }

  /** Fire every timer due up to `until`, in order, moving time to each (timers set meanwhile
   * included); then stop at `until`. */
  runUntil(until: number): void {
    for (let next = this.timers.takeDue(until); next; next = this.timers.takeDue(until)) {
      this.t = next.at;
      next.cb();
    }
    this.t = Math.max(this.t, until);
  }

  advance(us: number): void {
    this.runUntil(this.t + us);
  }

  pending(): number {
    return this.timers.pending;
  }
}
