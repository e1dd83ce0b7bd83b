// The one interface every IPVS scheduler implements (src/lvs/schedulers/<name>.ts), and the
// options that carry keepalived's scheduler flags. Time is injected: `now` is on the scale of
// core/clock.ts (microseconds); nothing here reads a clock or a random source of its own.
import type { LvsScheduler } from '../../config/model/lvs.js';
import type { Dest } from '../dest.js';

/** What a scheduler may look at in a new connection's first packet. */
export interface ConnInfo {
  /** Client (source) address: sh and mh hash it, persistence masks it. */
  src: string;
  /** Client port; only sh/mh with the port flag use it (TCP, UDP, SCTP). */
  srcPort?: number;
  /** Destination (virtual) address: dh, lblc and lblcr key on it. */
  dst: string;
  dstPort?: number;
}

export interface Scheduler {
  readonly name: LvsScheduler;
  /**
   * The destination for a new connection, or undefined ("no destination available": IPVS answers
   * ICMP port unreachable). `dests` is the service's list in IPVS order; when it is not the array
   * the scheduler last saw, onDestsChanged() runs first.
   */
  pick(dests: readonly Dest[], conn: ConnInfo, now: number): Dest | undefined;
  /**
   * The list changed (IPVS add_dest/del_dest). Call it after changing an array in place; a new
   * array is noticed by pick(). Weight, threshold and counter changes need no call: schedulers
   * subscribe to their destinations.
   */
  onDestsChanged(dests: readonly Dest[]): void;
  /** Housekeeping due by `now` (lblc/lblcr garbage collection); pick() runs it too. */
  tick?(now: number): void;
  /** When tick() next has work, for the daemon's timer. */
  nextDeadline?(): number | undefined;
  /** Drop subscriptions to the destinations. */
  dispose(): void;
}

/** Scheduler options. keepalived's `flag-1`/`flag-2` are the same IPVS bits as the named flags. */
export interface SchedulerOptions {
  /** virtual_server schedulerFlags as written; sh/mh read port and fallback from them. */
  flags?: readonly string[];
  /** sh: hash table bits (CONFIG_IP_VS_SH_TAB_BITS, 4..20, default 8 = 256 buckets). */
  shTableBits?: number;
  /** mh: CONFIG_IP_VS_MH_TAB_INDEX (8..17, default 12 = 4093 slots). */
  mhTableIndex?: number;
  /** lblc: sysctl lblc_expiration in clock units (default 24 h). */
  lblcExpiration?: number;
  /** lblcr: sysctl lblcr_expiration in clock units (default 24 h). */
  lblcrExpiration?: number;
  /** Microseconds per second of the injected clock (default 1e6); sets the lblc/lblcr periods. */
  unitsPerSecond?: number;
  /** twos: a uniform 32-bit unsigned random source. Default: a PRNG seeded with `seed`. */
  random?: () => number;
  seed?: number;
}

/** IPVS_SVC_F_SCHED1 (fallback) and SCHED2 (port), as keepalived maps its flag keywords. */
export function schedFlags(flags: readonly string[] | undefined): { port: boolean; fallback: boolean } {
  const f = new Set(flags ?? []);
  return {
    fallback: f.has('flag-1') || f.has('sh-fallback') || f.has('mh-fallback'),
    port: f.has('flag-2') || f.has('sh-port') || f.has('mh-port'),
  };
}
