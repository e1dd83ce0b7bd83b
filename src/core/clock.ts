// The one source of time for everything with timers (design.md seam): a real clock for the daemon,
// a virtual one for tests and the lab's sim backend, where minutes pass in milliseconds.
import { MinHeap } from './heap.js';

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

interface VirtualTimer extends TimerHandle {
  seq: number;
  cb: () => void;
  cancelled: boolean;
}

/** Deterministic time: timers fire in (time, creation) order only when the test advances. */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  /** Ordered by (at, seq); cancelled timers stay until they reach the top. */
  private readonly timers = new MinHeap<VirtualTimer>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  private live = 0;

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(at: number, cb: () => void): TimerHandle {
    const h: VirtualTimer = { at: Math.max(at, this.t), seq: this.seq++, cb, cancelled: false };
    this.timers.push(h);
    this.live++;
    return h;
  }

  clearTimer(h: TimerHandle): void {
    const v = h as VirtualTimer;
    if (v.cancelled) return;
    v.cancelled = true;
    this.live--;
  }

  /** When the earliest live timer is due, or undefined when none is left: lets a driver (the lab's
   * sim) run one instant at a time and let promises settle in between. */
  nextDue(): number | undefined {
    return this.peekLive()?.at;
  }

  private peekLive(): VirtualTimer | undefined {
    let next = this.timers.peek();
    while (next?.cancelled) {
      this.timers.pop();
      next = this.timers.peek();
    }
    return next;
  }

  /** Fire every timer due up to `until`, in order, moving time to each; then stop at `until`. */
  runUntil(until: number): void {
    for (;;) {
      const next = this.peekLive();
      if (!next || next.at > until) break;
      this.timers.pop();
      this.t = next.at;
      next.cancelled = true;
      this.live--;
      next.cb();
    }
    this.t = Math.max(this.t, until);
  }

  advance(us: number): void {
    this.runUntil(this.t + us);
  }

  pending(): number {
    return this.live;
  }
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A RealClock timer: the deadline and Node's timeout for it, on one object (a WeakMap from
 * handle to timeout cost an ephemeron entry per advert for the GC to trace). */
interface RealTimer extends TimerHandle {
  timeout?: NodeJS.Timeout;
}

/** Wall-clock timers on Node's event loop; now() is monotonic (hrtime). */
export class RealClock implements Clock {
  now(): number {
    return Number(process.hrtime.bigint() / 1000n);
  }

  setTimer(at: number, cb: () => void): TimerHandle {
    const h: RealTimer = { at };
    // Node's timers have millisecond resolution against a cached loop time and can fire a little
    // early; VRRP must never advertise early, so an early wake-up re-arms for the remainder.
    // Beyond 2^31-1 ms Node fires after 1 ms instead (TimeoutOverflowWarning): a far deadline
    // (garp_master_refresh takes up to UINT_MAX seconds) is reached in steps of at most that.
    const wait = (us: number): number => Math.min(MAX_TIMEOUT_MS, Math.max(0, Math.ceil(us / 1000)));
    const arm = (): void => {
      const left = at - this.now();
      if (left <= 0) cb();
      else h.timeout = setTimeout(arm, wait(left));
    };
    h.timeout = setTimeout(arm, wait(at - this.now()));
    return h;
  }

  clearTimer(h: TimerHandle): void {
    const t = (h as RealTimer).timeout;
    if (t) clearTimeout(t);
  }
}
