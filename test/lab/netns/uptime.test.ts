// /proc/uptime onto performance.now(), with fake clocks.
import { describe, expect, it } from 'vitest';
import { notifyMono, UPTIME_TICK_MS, uptimeEdgeOffset, type Clocks } from '../../../src/lab/netns/uptime.js';

/** performance.now() advancing `step` ms per read; uptime = now + offset, truncated to 10 ms ticks. */
function fakeClocks(start: number, offset: number, step: number): Clocks & { reads: number } {
  let now = start;
  const c = {
    reads: 0,
    now: () => now,
    uptimeMs: () => {
      c.reads++;
      now += step;
      return Math.floor((now + offset) / UPTIME_TICK_MS) * UPTIME_TICK_MS;
    },
  };
  return c;
}

describe('uptimeEdgeOffset', () => {
  it('waits for the tick edge, where the offset is exact to within the read step', () => {
    // Started 3.5 ms into a tick: a plain read would be 3.5 ms off.
    const c = fakeClocks(1003.5, 50_000, 0.1);
    const off = uptimeEdgeOffset(c);
    expect(Math.abs(off - 50_000)).toBeLessThanOrEqual(0.2);
  });

  it('gives up after two ticks if uptime never moves', () => {
    let now = 0;
    const c: Clocks = { now: () => (now += 1), uptimeMs: () => 7000 };
    expect(uptimeEdgeOffset(c)).toBe(7000 - now);
    expect(now).toBeGreaterThan(2 * UPTIME_TICK_MS);
    expect(now).toBeLessThan(2 * UPTIME_TICK_MS + 3);
  });
});

describe('notifyMono', () => {
  it('places a notify at the end of its tick, never before the moment it ran', () => {
    const offset = 50_000;
    // A script that ran at performance.now() 1234.5 read uptime 51230 (the tick 51230..51240).
    const ran = 1234.5;
    const mono = notifyMono(Math.floor((ran + offset) / UPTIME_TICK_MS) * UPTIME_TICK_MS, offset);
    expect(mono).toBeGreaterThanOrEqual(ran);
    expect(mono - ran).toBeLessThanOrEqual(UPTIME_TICK_MS);
    expect(mono).toBe(1240);
  });
});
