// The embedded forwarders as the service table's data plane: one TCP or UDP forwarder per
// service, listening on the virtual address, asking the table where each new client goes.
import type { LvsTimeouts } from '../config/model/index.js';
import type { Clock } from '../core/clock.js';
import type { FdBudget } from './fd-budget.js';
import { TcpForwarder, type ForwarderIo, type Target } from './forwarder.js';
import type { DataPlane, Listener, Service } from './table.js';
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

const serviceKey = (s: Service): string => `${s.vs.protocol} ${s.vs.address}:${s.vs.port}`;

export class ForwarderPlane implements DataPlane {
  /** Services being carried: a pending retry of one that left comes to nothing. */
  private readonly live = new Set<Service>();
  /** Listeners of removed services, draining. */
  private readonly retiring = new Set<Listener>();

  constructor(private readonly env: ForwarderPlaneEnv) {}

  add(s: Service): void {
    const pick = (client: { address: string; port: number }): Target | undefined => this.env.pick(s, client);
    const { address, port } = s.vs;
    const { log } = this.env;
    const env = this.env;
    if (s.protocol === 'UDP') {
      s.plane = new UdpForwarder({
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
      return;
    }
    s.plane = new TcpForwarder({
      host: address,
      port,
      pick,
      io: this.env.io,
      fds: this.env.fds,
      // Read at each connection, so a reload's connect_timeout applies at once.
      get connectTimeoutMs() {
        return s.vs.connectTimeout * 1000;
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
      const at = await plane.listen();
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
    await Promise.all([...services.map((s) => s.plane?.close(false)), ...[...this.retiring].map((p) => p.close(false))]);
  }
}
