// The clocks' contract: timers fire in (time, creation) order, cancelled ones never; the virtual
// clock runs timers set while firing in the same run, the real one on its next turn; pending()
// counts what is still to fire. The heap under both: timer-heap.test.ts.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { RealClock } from '../../src/daemon/clock.js';
import { MinHeap } from '../../src/core/heap.js';

describe('VirtualClock', () => {
  it('fires in (time, creation) order, skips cancelled timers and counts the pending ones', () => {
    const c = new VirtualClock(100);
    const fired: string[] = [];
    const at = (t: number, name: string) => c.setTimer(t, () => fired.push(`${name}@${c.now()}`));
    at(300, 'a');
    at(200, 'b');
    const x = at(250, 'x');
    at(300, 'c');
    at(50, 'past'); // already passed: as soon as possible, at the current time
    c.clearTimer(x);
    c.clearTimer(x);
    expect(c.pending()).toBe(4);
    c.runUntil(299);
    expect(fired).toEqual(['past@100', 'b@200']);
    expect(c.now()).toBe(299);
    expect(c.pending()).toBe(2);
    c.advance(1);
    expect(fired).toEqual(['past@100', 'b@200', 'a@300', 'c@300']);
    expect(c.pending()).toBe(0);
  });

  it('runs timers set while firing, in order, within the same run', () => {
    const c = new VirtualClock();
    const fired: number[] = [];
    const arm = (t: number): void => void c.setTimer(t, () => (fired.push(t), t < 500 && arm(t + 100)));
    arm(100);
    c.setTimer(250, () => fired.push(250));
    c.runUntil(1000);
    expect(fired).toEqual([100, 200, 250, 300, 400, 500]);
    // Clearing a timer that already fired changes nothing.
    const h = c.setTimer(1000, () => fired.push(1000));
    c.advance(0);
    c.clearTimer(h);
    expect(c.pending()).toBe(0);
  });

  it('runs a timer set from a callback for the same instant in the same run, after the others due then; never one cancelled meanwhile', () => {
    const c = new VirtualClock();
    const fired: string[] = [];
    c.setTimer(100, () => {
      fired.push(`a@${c.now()}`);
      c.setTimer(c.now(), () => fired.push(`set by a@${c.now()}`));
      c.clearTimer(b);
    });
    const b = c.setTimer(100, () => fired.push('b'));
    c.setTimer(100, () => fired.push(`c@${c.now()}`));
    c.runUntil(100);
    expect(fired).toEqual(['a@100', 'c@100', 'set by a@100']);
    expect(c.pending()).toBe(0);
  });

  it('orders thousands of timers as a sort would', () => {
    const c = new VirtualClock();
    const fired: number[] = [];
    const times = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 10007);
    times.forEach((t) => c.setTimer(t, () => fired.push(t)));
    c.runUntil(20000);
    expect(fired).toEqual([...times].sort((a, b) => a - b));
  });
});

describe('VirtualClock.nextDue', () => {
  it('gives the earliest live due time, skipping cancelled timers, and undefined once all have run', () => {
    const c = new VirtualClock();
    const h = [30, 10, 20, 10, 30].map((t) => c.setTimer(t, () => undefined));
    c.clearTimer(h[1]);
    expect(c.nextDue()).toBe(10);
    c.clearTimer(h[3]);
    expect(c.nextDue()).toBe(20);
    const seen: number[] = [];
    for (let t = c.nextDue(); t !== undefined; t = c.nextDue()) {
      seen.push(t);
      c.runUntil(t);
    }
    expect(seen).toEqual([20, 30]);
    expect(c.nextDue()).toBeUndefined();
  });
});

describe('MinHeap', () => {
  it('pops in order with a custom comparison', () => {
    const h = new MinHeap<{ k: number }>((a, b) => a.k > b.k);
    for (const k of [3, 9, 1, 7]) h.push({ k });
    expect([h.pop(), h.pop(), h.pop(), h.pop(), h.pop()].map((x) => x?.k)).toEqual([9, 7, 3, 1, undefined]);
    expect(h.size).toBe(0);
  });
});

describe('RealClock', () => {
  it('waits for a deadline beyond 2^31-1 ms instead of firing at once (Node would after 1 ms)', async () => {
    const clock = new RealClock();
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    let fired = false;
    const h = clock.setTimer(clock.now() + 4294967295 * 1e6, () => (fired = true)); // garp_master_refresh's maximum
    await new Promise((r) => setTimeout(r, 50));
    clock.clearTimer(h);
    process.off('warning', onWarning);
    expect(fired).toBe(false);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('fires each timer at or after its deadline, in deadline order, never a cleared one', async () => {
    const clock = new RealClock();
    const t0 = clock.now();
    const fired: { at: number; late: number }[] = [];
    const handles = [25, 5, 15, 10, 20, 5].map((ms) => {
      const at = t0 + ms * 1000;
      return clock.setTimer(at, () => fired.push({ at, late: clock.now() - at }));
    });
    clock.clearTimer(handles[4]);
    clock.clearTimer(handles[4]);
    await new Promise((r) => setTimeout(r, 80));
    expect(fired.map((f) => (f.at - t0) / 1000)).toEqual([5, 5, 10, 15, 25]);
    for (const f of fired) expect(f.late).toBeGreaterThanOrEqual(0);
  });

  it('never fires a due timer cancelled by a callback of the same turn', async () => {
    const clock = new RealClock();
    const fired: string[] = [];
    const at = clock.now() + 2000;
    clock.setTimer(at, () => (fired.push('a'), clock.clearTimer(b)));
    const b = clock.setTimer(at, () => fired.push('b'));
    clock.setTimer(at, () => fired.push('c'));
    await new Promise((r) => setTimeout(r, 40));
    expect(fired).toEqual(['a', 'c']);
  });

  it('keeps the other timers armed when a callback throws, and runs a timer set while firing', async () => {
    const clock = new RealClock();
    const seen: string[] = [];
    const onUncaught = (e: Error): void => void seen.push(`threw ${e.message}`);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      const t0 = clock.now();
      clock.setTimer(t0 + 2000, () => {
        seen.push('a');
        clock.setTimer(clock.now(), () => seen.push('set while firing'));
        throw new Error('boom');
      });
      clock.setTimer(t0 + 2000, () => seen.push('b'));
      clock.setTimer(t0 + 30_000, () => seen.push('c'));
      await new Promise((r) => setTimeout(r, 80));
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const l of listeners) process.on('uncaughtException', l);
    }
    expect(seen).toEqual(['a', 'threw boom', 'b', 'set while firing', 'c']);
  });
});
