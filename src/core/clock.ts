// The one source of time for everything with timers (design.md seam): a real clock for the daemon,
// a virtual one for tests and the lab's sim backend, where minutes pass in milliseconds.
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

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Wall-clock timers, all on one heap with one Node timer for the earliest deadline (keepalived
 * keeps its threads' deadlines in one ordered tree too). A Node timer per deadline cost each of
 * 1,000 instances a Timeout and two closures per advert, objects that live the advert interval,
 * so the young generation's scavenges copied and promoted them: with the heap, 1,000 adverts a
 * second take half as many scavenges. now() is monotonic (hrtime, without BigInts).
 */
export class RealClock implements Clock {
  private readonly timers = new TimerHeap();
  private wake: NodeJS.Timeout | undefined;
  /** The deadline `wake` is armed for. */
  private wakeAt = Infinity;
  private readonly fire = (): void => this.run();

  now(): number {
    const [s, ns] = process.hrtime();
    return s * 1_000_000 + Math.floor(ns / 1000);
  }

  setTimer(at: number, cb: () => void): TimerHandle {
    const h = this.timers.add(at, cb);
    if (at < this.wakeAt) this.arm();
    return h;
  }

  clearTimer(h: TimerHandle): void {
    if (this.timers.cancel(h as Timer) && this.timers.pending === 0) this.arm();
  }

  /** Fires what is due, in (deadline, creation) order: timers set meanwhile wait for the next
   * turn (as a Node timer set from a timer's callback), so a callback cannot keep the loop here. */
  private run(): void {
    this.wake = undefined;
    this.wakeAt = Infinity;
    const now = this.now();
    const setBefore = this.timers.mark;
    try {
      for (let t = this.timers.takeDue(now, setBefore); t; t = this.timers.takeDue(now, setBefore)) t.cb();
    } finally {
      // A callback that throws (the daemon's crash handler takes it) leaves the others armed.
      this.arm();
    }
  }

  /** One Node timer for the earliest live deadline. Node's timers have millisecond resolution
   * against a cached loop time and can fire a little early; VRRP must never advertise early, so
   * an early wake-up finds nothing due and re-arms for the remainder. Beyond 2^31-1 ms Node fires
   * after 1 ms instead (TimeoutOverflowWarning): a far deadline (garp_master_refresh takes up to
   * UINT_MAX seconds) is reached in steps of at most that. */
  private arm(): void {
    const next = this.timers.peek();
    if (next?.at === this.wakeAt && this.wake) return;
    if (this.wake) clearTimeout(this.wake);
    this.wake = undefined;
    this.wakeAt = next?.at ?? Infinity;
    if (next) this.wake = setTimeout(this.fire, Math.min(MAX_TIMEOUT_MS, Math.max(1, Math.ceil((next.at - this.now()) / 1000))));
  }
}
