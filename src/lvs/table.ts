// The service table's shapes, and the contract between the table and its data plane: the
// Balancer (balancer.ts) keeps services and destinations and notifies one DataPlane of every
// change; the embedded forwarders (forwarder-plane.ts) and kernel IPVS (ipvs-kernel.ts) are the
// two that carry traffic. With none (the lab's simulator) the caller carries it itself.
import type { ResolvedAddressVirtualServer, ResolvedRealServer, ResolvedVirtualServer } from '../config/model/index.js';
import type { Dest } from './dest.js';
import type { Template } from './persistence.js';
import type { VirtualService } from './service.js';

export type Route =
  /** `template`: the persistence template that chose the destination (persistence_timeout). */
  | { kind: 'dest'; dest: Dest; rs: ResolvedRealServer; template?: Template }
  | { kind: 'sorry'; address: string; port: number }
  | { kind: 'refused'; reason: string };

export type Protocol = 'TCP' | 'UDP';

/** The embedded forwarder of one service: its socket on the virtual address. */
export interface Listener {
  /** Its own counters (accepted, refused, timeouts...), for SIGUSR2's dump. */
  readonly stats?: object;
  listen(): Promise<{ host: string; port: number }>;
  close(drain?: boolean): Promise<void>;
  flush(): void;
}

export interface Member {
  rs: ResolvedRealServer;
  dest: Dest;
  /** The checkers' verdict. */
  inService: boolean;
  /** The weight the checkers give it: the configured one plus what misc_dynamic or FILE_CHECK add. */
  weight: number;
}

/** A service's identity across reloads: protocol, address and port; or its firewall mark; or its group. */
export function serviceKey(vs: ResolvedVirtualServer): string {
  if (vs.kind === 'fwmark') return `FWM ${vs.fwmark} ${vs.family ?? 4}`;
  if (vs.kind === 'group') return `group ${vs.group} ${vs.protocol}`;
  return `${vs.protocol} ${vs.address}:${vs.port}`;
}

export interface Service {
  /** TCP and UDP services on an address and port; fwmark and group services too with kernel IPVS. */
  vs: ResolvedVirtualServer;
  protocol: Protocol;
  svc: VirtualService;
  members: Member[];
  /** The embedded forwarder's listener, when the forwarders carry the traffic. */
  plane?: Listener;
  /** keepalived's quorum: while lost, clients go to the sorry_server (or are refused). */
  quorumUp: boolean;
  /** The sorry_server as a destination outside the scheduler: its connections are counted on it. */
  sorry?: Dest;
}

/** What carries the traffic of the service table; told of every change to it. */
export interface DataPlane {
  /** A service joined the table (at construction or by a reload); it carries nothing yet. */
  add(s: Service): void;
  /**
   * A reload's new services, before it changes anything: what they need opened now (the
   * forwarders' sockets), so a reload that cannot run here is refused as a whole. Returns the
   * service that cannot and why, having closed what it opened; what it opened goes to the
   * services add() brings.
   */
  reserve?(vss: readonly ResolvedAddressVirtualServer[]): Promise<{ vs: ResolvedAddressVirtualServer; why: string } | undefined>;
  /** Close what reserve() opened for services that never came (the reload was refused). */
  unreserve?(): void;
  /** Carry the service from now on (at start, or when a reload adds it to a running table). */
  open(s: Service): Promise<void>;
  /** Its destinations, their weights or its quorum changed. */
  changed(s: Service): void;
  /** Removed by a reload: no new clients; connections in progress drain. */
  retire(s: Service): void;
  /** Bring the service's connection counters up to date (before a sample or a listing). */
  flush(s: Service): void;
  /** Shutdown: stop carrying these services and whatever still drains. */
  stop(services: readonly Service[]): Promise<void>;
}
