// What the service table needs from health checking, and what it gives back: the narrow contract
// between the Balancer and the checker service (src/check/pool.ts implements it; the Balancer
// knows nothing else of the checkers). The Balancer says which real servers it serves, asks a
// server's verdict when it adds or keeps one, and is told of every later change.
import type { ResolvedRealServer, ResolvedVirtualServer } from '../config/model/index.js';

/** A real server's verdict: in service or not, and the weight it should have while in. */
export interface Health {
  alive: boolean;
  /** The configured weight plus what misc_dynamic and FILE_CHECK add, within 0..WEIGHT_MAX. */
  weight: number;
}

/** Changes after the verdict was first read. */
export interface HealthEvents {
  realServer(vs: ResolvedVirtualServer, rs: ResolvedRealServer, alive: boolean, reason: string): void;
  /** The weight of an alive real server: after it changes, and each time the server comes back. */
  weight(vs: ResolvedVirtualServer, rs: ResolvedRealServer, weight: number): void;
  /** One checker went up or down and left the server's verdict as it was. */
  checker?(vs: ResolvedVirtualServer, rs: ResolvedRealServer, up: boolean, reason: string): void;
}

export interface HealthChecks {
  /**
   * Check the real servers of these virtual servers from now on, reporting to
   * `events`. After a reload, a checker whose settings are unchanged keeps its state; a real
   * server no longer given is no longer checked. Says nothing itself: read health() after.
   */
  check(virtualServers: readonly ResolvedVirtualServer[], events: HealthEvents): void;
  /** The verdict now; a server not checked is alive at its configured weight. */
  health(vs: ResolvedVirtualServer, rs: ResolvedRealServer): Health;
  start(): void;
  stop(): void;
}
