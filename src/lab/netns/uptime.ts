// The notify script stamps its lines with /proc/uptime (scripts.ts says why); the lab times
// everything else on performance.now(). This maps one clock onto the other, given how the two
// are read, so that fake clocks can stand in for both.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** /proc/uptime's resolution: it prints centiseconds, truncated. */
export const UPTIME_TICK_MS = 10;

export interface Clocks {
  /** performance.now(), ms. */
  now(): number;
  /** /proc/uptime, ms (in whole ticks). */
  uptimeMs(): number;
}

export const hostClocks: Clocks = {
  now: () => performance.now(),
  uptimeMs: () => Number.parseFloat(readFileSync('/proc/uptime', 'utf8')) * 1000,
};

/**
 * /proc/uptime minus performance.now(), in ms. /proc/uptime counts in truncated 10 ms ticks.
 * Read at a random moment, it would set the offset up to a tick late, and a notify run within a
 * tick of its fault could be placed before it. So wait (at most two ticks) for the value to
 * change: at that moment it is exact.
 */
export function uptimeEdgeOffset(clocks: Clocks = hostClocks): number {
  const first = clocks.uptimeMs();
  const give = clocks.now() + 2 * UPTIME_TICK_MS;
  for (;;) {
    const now = clocks.now();
    const up = clocks.uptimeMs();
    if (up !== first || now > give) return up - now;
  }
}

/**
 * The performance.now() of a notify line stamped `uptimeMs`. The script ran within the tick that
 * starts at its reading: place it at the tick's end, so that it is never earlier than the fault
 * that made it run (at most a tick late).
 */
export function notifyMono(uptimeMs: number, offset: number): number {
  return uptimeMs + UPTIME_TICK_MS - offset;
}
