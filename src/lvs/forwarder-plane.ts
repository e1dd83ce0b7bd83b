// The embedded forwarders as the service table's data plane: one TCP or UDP forwarder per
// service, listening on the virtual address, asking the table where each new client goes.
import type { LvsTimeouts, ResolvedAddressVirtualServer } from '../config/model/index.js';
import type { Clock } from '../core/clock.js';
import type { FdBudget } from './fd-budget.js';
import { TcpForwarder, type ForwarderIo, type Target } from './forwarder.js';
import { serviceKey as vsKey, type DataPlane, type Listener, type Service } from './table.js';
import { UdpForwarder } from './udp-forwarder.js';

export interface ForwarderPlaneEnv {
  clock: Clock;
  /** Where a new client of the service goes, with the connection to report on; undefined: refused. */
  pick(s: Service, client: { address: string; port: number }): Target | undefined;
  /** UDP flows idle this long expire (ms), read at each sweep. */
  udpTimeoutMs(): number;
  /** The idle timeouts in force (lvs_timeouts, resolved), read at each sweep: a reload applies at once. */
  timeouts(): LvsTimeouts;
  udpMaxFlows?: number;
  io?: ForwarderIo;
  /** The process's descriptors, shared by every forwarder (fd-budget.ts); none: no limit. */
  fds?: FdBudget;
  log?: (level: 'info' | 'warn', message: string) => void;
}

const serviceKey = (s: Service): string => vsKey(s.vs);

/** A listener a reload opened before it committed: the service it serves comes with add(). */
interface Reserved {
  plane: Listener;
  slot: { s?: Service };
  at: { host: string; port: number };
}

export class ForwarderPlane implements DataPlane {
  /** Services being carried: a pending retry of one that left comes to nothing. */
  private readonly live = new Set<Service>();
  /** Listeners of removed services, draining. */
  private readonly retiring = new Set<Listener>();
  /** Listeners reserve() opened, by service key, until add() takes them or unreserve() closes them. */
  private readonly reserved = new Map<string, Reserved>();
  /** Listeners already listening when their service was added (reserved): open() has nothing to do. */
  private readonly listening = new WeakMap<Listener, { host: string; port: number }>();

  constructor(private readonly env: ForwarderPlaneEnv) {}

  /**
   * A reload's new services, before anything of the running table changes: their sockets opened
   * now, so that one that cannot listen (the port taken by another process) refuses the reload as
   * a whole. An address not on this host yet (the BACKUP director's VIP) is no refusal: that
   * service listens once it is there, as at start. Returns the service that cannot and why, with
   * every socket this call opened closed again.
   */
  async reserve(vss: readonly ResolvedAddressVirtualServer[]): Promise<{ vs: ResolvedAddressVirtualServer; why: string } | undefined> {
    const mine: string[] = [];
    for (const vs of vss) {
      const key = vsKey(vs);
      if (this.reserved.has(key)) continue;
      const slot: { s?: Service } = {};
      const plane = this.make(vs, slot, () => slot.s?.vs.connectTimeout ?? vs.connectTimeout);
      try {
        const at = await plane.listen();
        this.reserved.set(key, { plane, slot, at });
        mine.push(key);
      } catch (e) {
        void plane.close(false);
        if ((e as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') continue;
        for (const k of mine) this.dropReserved(k);
        return { vs, why: (e as Error).message };
      }
    }
    return undefined;
  }

  /** Close the listeners reserve() opened that no service took (a reload refused after it). */
  unreserve(): void {
    for (const k of [...this.reserved.keys()]) this.dropReserved(k);
  }

  private dropReserved(key: string): void {
    const r = this.reserved.get(key);
    this.reserved.delete(key);
    if (r) void r.plane.close(false);
  }

  add(s: Service): void {
    const r = this.reserved.get(serviceKey(s));
    if (r) {
      this.reserved.delete(serviceKey(s));
      r.slot.s = s;
      s.plane = r.plane;
      this.listening.set(r.plane, r.at);
      return;
    }
    // The Balancer gives the forwarders address services only (fwmark and group ones need the kernel).
    const vs = s.vs;
    if (vs.kind !== 'address') return;
    // Read at each connection, so a reload's connect_timeout applies at once.
    s.plane = this.make(vs, { s }, () => s.vs.connectTimeout);
  }

  /** The forwarder of a service; until `slot` has its service (a reserved one), clients are refused. */
  private make(vs: ResolvedAddressVirtualServer, slot: { s?: Service }, connectTimeout: () => number): Listener {
    const pick = (client: { address: string; port: number }): Target | undefined => (slot.s ? this.env.pick(slot.s, client) : undefined);
    const { address, port } = vs;
    const { log } = this.env;
    const env = this.env;
    if (vs.protocol === 'UDP') {
      return new UdpForwarder({
        host: address,
        port,
        pick,
        get idleTimeoutMs() {
          return env.udpTimeoutMs();
        },
        maxFlows: env.udpMaxFlows,
        fds: env.fds,
        log,
      });
    }
    return new TcpForwarder({
      host: address,
      port,
      pick,
      io: this.env.io,
      fds: this.env.fds,
      get connectTimeoutMs() {
        return connectTimeout() * 1000;
      },
      get timeouts() {
        return env.timeouts();
      },
      log,
    });
  }

  async open(s: Service, retrying = false): Promise<void> {
    const plane = s.plane;
    if (!plane) return;
    this.live.add(s);
    try {
      const at = this.listening.get(plane) ?? (await plane.listen());
      this.listening.delete(plane);
      this.env.log?.(
        'info',
        `virtual server ${s.protocol} ${at.host}:${at.port} ready (${s.vs.lvsSched}, ${s.members.filter((m) => m.inService).length} real server(s) in service)`,
      );
    } catch (e) {
      // On the BACKUP director the VIP is not here yet: listen once VRRP brings it (checked every
      // second), so the checkers run meanwhile and a failover serves at once. Other errors
      // (the port taken) are the operator's to fix.
      if ((e as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw e;
      if (!retrying)
        this.env.log?.(
          'info',
          `virtual server ${serviceKey(s)}: the address is not on this host yet; listening once it is (or set net.ipv4.ip_nonlocal_bind=1)`,
        );
      this.env.clock.setTimer(this.env.clock.now() + 1_000_000, () => {
        if (this.live.has(s) && s.plane === plane)
          void this.open(s, true).catch((err: Error) => this.env.log?.('warn', `virtual server ${serviceKey(s)}: ${err.message}`));
      });
    }
  }

  /** The forwarders ask the table at each new client: nothing to do. */
  changed(): void {}

  retire(s: Service): void {
    this.live.delete(s);
    const plane = s.plane;
    if (!plane) return;
    this.retiring.add(plane);
    void plane.close(true).then(() => this.retiring.delete(plane));
  }

  flush(s: Service): void {
    s.plane?.flush();
  }

  async stop(services: readonly Service[]): Promise<void> {
    this.live.clear();
    this.unreserve();
    await Promise.all([...services.map((s) => s.plane?.close(false)), ...[...this.retiring].map((p) => p.close(false))]);
  }
}
