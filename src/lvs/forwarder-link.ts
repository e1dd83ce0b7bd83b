// One client and its real server, whichever way the forwarder moves the bytes: net.Socket streams
// (forwarder.ts) or libuv handles (forwarder-uv.ts). Both kinds of link report to their forwarder
// through LinkOwner, so neither file needs the other's.
import type { ConnPhase, ConnReport } from './connection.js';

export interface Target {
  host: string;
  port: number;
  /** The sorry server rather than a real server (only counted apart). */
  sorry?: boolean;
  /** Told this connection's phases and byte totals. */
  conn?: ConnReport;
}

/** Who connected. With io 'handles' it is looked up (a syscall) only when read. */
export interface ClientAddress {
  readonly address: string;
  readonly port: number;
}

/** What a link tells the forwarder that carries it (TcpForwarder). */
export interface LinkOwner {
  /** The real server accepted: both directions flow. */
  connected(l: Link): void;
  /** One direction ended. */
  halfClosed(l: Link): void;
  backendFailed(l: Link, why: string): void;
  /** Called once per link, when it is cut. */
  closed(l: Link): void;
}

/**
 * A coarse clock (ms) for the links' last-activity stamps: a read stamps its link with it rather
 * than asking the time. The forwarders' idle sweeps set it, so it lags by at most a sweep period.
 */
export const coarse = { now: Date.now() };

/** One client and its real server, whichever way the bytes move. */
export abstract class Link {
  phase: ConnPhase = 'connecting';
  /** When the real server must have accepted by (ms, Date.now()). */
  deadline = 0;
  /** Read from the client (sent on to the real server), and read from the real server. */
  inBytes = 0;
  outBytes = 0;
  /** Directions that have ended (FIN read). */
  ended = 0;
  /** Last read from either side (ms, coarse.now): the idle timeouts count from it. */
  seen = 0;

  constructor(
    readonly fw: LinkOwner,
    readonly to: Target,
  ) {}

  /** Close both sides now. */
  abstract cut(): void;

  setPhase(p: ConnPhase): void {
    if (p === this.phase) return;
    this.phase = p;
    this.to.conn?.phase(p);
  }

  report(): void {
    this.to.conn?.traffic({ inBytes: this.inBytes, outBytes: this.outBytes });
  }
}
