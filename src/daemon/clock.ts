// The daemon's one real clock: every timer of the process on one heap. The Clock interface and
// the virtual clock are the core's (src/core/clock.ts); this is the edge that sets Node timers.
import type { Clock, TimerHandle } from '../core/clock.js';
import { TimerHeap, type Timer } from '../core/timer-heap.js';

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

export const clock = new RealClock();
