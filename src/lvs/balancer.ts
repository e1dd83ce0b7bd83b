// The embedded load balancer: for each TCP virtual_server, a scheduler over the real servers the
// checkers report alive and a forwarder on the virtual address. A dead real server leaves the
// destination list (or stays at weight 0 with inhibit_on_failure); with none alive, clients go to
// the sorry_server. keepalived drives kernel IPVS the same way (ipvsadm.ts is that path).
import type { Clock } from '../core/clock.js';
import type { Config, RealServer, ScriptRef, VirtualServer } from '../config/model/index.js';
import { CheckerPool, type PoolEnv } from '../check/pool.js';
import { Dest } from './dest.js';
import { TcpForwarder, type Backend, type ConnPhase } from './forwarder.js';
import { VirtualService } from './service.js';
import type { ListedService } from './ipvsadm-list.js';

export interface BalancerEnv {
  clock: Clock;
  probe: PoolEnv['probe'];
  random: () => number;
  log?(level: 'info' | 'warn', message: string): void;
  /** Runs notify_up/notify_down and quorum_up/quorum_down (fire and forget, as keepalived). */
  runScript?(script: ScriptRef): void;
}

interface Member {
  rs: RealServer;
  dest: Dest;
  backend: Backend;
  inService: boolean;
}

interface Service {
  vs: VirtualServer;
  svc: VirtualService;
  members: Member[];
  forwarder: TcpForwarder;
  /** keepalived's quorum: while lost, clients go to the sorry_server (or are refused). */
  quorumUp: boolean;
}

const weightOf = (vs: VirtualServer, rs: RealServer): number => rs.weight ?? vs.weight;

export class Balancer {
  readonly services: Service[] = [];
  readonly pool: CheckerPool;

  constructor(cfg: Config, private readonly env: BalancerEnv) {
    for (const vs of cfg.virtualServers) {
      if (vs.kind !== 'address' || (vs.protocol ?? 'TCP') !== 'TCP' || !vs.address || !vs.port) {
        env.log?.('warn', `virtual_server ${vs.kind === 'address' ? `${vs.address}:${vs.port ?? 0} ${vs.protocol ?? ''}` : vs.kind}: only TCP services on an address and port run in the embedded forwarder; skipped`);
        continue;
      }
      const svc = new VirtualService({
        scheduler: vs.lvsSched ?? 'wlc',
        flags: vs.schedulerFlags,
        ...(vs.persistenceTimeout !== undefined ? { persistence: { timeout: vs.persistenceTimeout, granularity: vs.persistenceGranularity } } : {}),
      });
      const members = vs.realServers.map((rs): Member => {
        const port = rs.port ?? vs.port!;
        return {
          rs,
          dest: new Dest({ address: rs.address, port, weight: weightOf(vs, rs), uThreshold: rs.uthreshold ?? 0, lThreshold: rs.lthreshold ?? 0 }),
          backend: { id: `${rs.address}:${port}`, host: rs.address, port, activeConns: 0, inactConns: 0, total: 0 },
          inService: false,
        };
      });
      const byBackend = new Map(members.map((m) => [m.backend, m]));
      const service: Service = {
        vs,
        svc,
        members,
        forwarder: new TcpForwarder({
          host: vs.address,
          port: vs.port,
          connectTimeoutMs: (vs.connectTimeout ?? 5) * 1000,
          sorry: vs.sorryServer ? { host: vs.sorryServer.address, port: vs.sorryServer.port ?? vs.port } : undefined,
          log: env.log,
          pick: (client) => {
            if (!service.quorumUp) return undefined;
            const s = svc.schedule({ src: client.address, srcPort: client.port, dst: vs.address!, dstPort: vs.port }, env.clock.now());
            return s ? members.find((m) => m.dest === s.dest)?.backend : undefined;
          },
          onPhase: (b, from, to) => track(byBackend.get(b)!.dest, from, to),
        }),
        quorumUp: true,
      };
      this.services.push(service);
    }
    this.pool = new CheckerPool(cfg, { clock: env.clock, probe: env.probe, random: env.random }, {
      realServer: (vs, rs, alive) => this.setAlive(vs, rs, alive),
      // MISC_CHECK misc_dynamic: the exit code (minus 2) becomes the server's weight.
      weight: (vs, rs, weight) => {
        const { s, m } = this.member(vs, rs);
        if (s && m?.inService && m.dest.weight !== weight) {
          m.dest.edit({ weight });
          this.updateQuorum(s);
        }
      },
      log: env.log,
    });
    // Servers without alpha are in service from the start (keepalived adds them at once).
    for (const s of this.services) {
      for (const m of s.members) {
        const st = this.pool.status.find((x) => x.rs === m.rs);
        if (st?.alive ?? true) this.setAlive(s.vs, m.rs, true, true);
      }
      s.quorumUp = this.weightSum(s) >= s.vs.quorum;
    }
  }

  /** Σ weight of the servers in service (keepalived's quorum weight). */
  private weightSum(s: Service): number {
    return s.members.filter((m) => m.inService).reduce((a, m) => a + Math.max(0, m.dest.weight), 0);
  }

  /** keepalived ipwrapper.c: gained at quorum + hysteresis, lost below quorum − hysteresis or at 0. */
  private updateQuorum(s: Service): void {
    const sum = this.weightSum(s);
    const { quorum, hysteresis } = s.vs;
    const where = `${s.vs.address}:${s.vs.port}`;
    if (!s.quorumUp && sum >= quorum + hysteresis) {
      s.quorumUp = true;
      this.env.log?.('info', `Gained quorum ${quorum}+${hysteresis}=${quorum + hysteresis} <= ${sum} for VS [${where}]`);
      if (s.vs.quorumUp) this.env.runScript?.(s.vs.quorumUp);
    } else if (s.quorumUp && (sum < quorum - hysteresis || sum === 0)) {
      s.quorumUp = false;
      this.env.log?.('warn', `Lost quorum ${quorum}-${hysteresis}=${quorum - hysteresis} > ${sum} for VS [${where}]${s.vs.sorryServer ? '; sending clients to the sorry server' : ''}`);
      if (s.vs.quorumDown) this.env.runScript?.(s.vs.quorumDown);
    }
  }

  async start(): Promise<void> {
    for (const s of this.services) {
      const at = await s.forwarder.listen();
      this.env.log?.('info', `virtual server ${at.host}:${at.port} ready (${s.vs.lvsSched ?? 'wlc'}, ${s.members.filter((m) => m.inService).length} real server(s) in service)`);
    }
    this.pool.start();
  }

  async stop(): Promise<void> {
    this.pool.stop();
    await Promise.all(this.services.map((s) => s.forwarder.close(false)));
    for (const s of this.services) s.svc.dispose();
  }

  /** The table as `ipvsadm -Ln` shows it: services and the destinations in service. */
  listing(): ListedService[] {
    return this.services.map((s) => ({
      protocol: 'TCP' as const,
      address: s.vs.address!,
      port: s.vs.port!,
      family: s.vs.family ?? 4,
      scheduler: s.vs.lvsSched ?? 'wlc',
      ...(s.vs.persistenceTimeout !== undefined ? { persistent: s.vs.persistenceTimeout } : {}),
      servers: s.svc.dests.map((d) => {
        const m = s.members.find((x) => x.dest === d)!;
        return { address: d.address, port: d.port, family: d.family, method: (m.rs.lvsMethod ?? s.vs.lvsMethod)?.method ?? 'NAT', weight: d.weight, activeConns: d.activeConns, inactConns: d.inactConns };
      }),
    }));
  }

  private member(vs: VirtualServer, rs: RealServer): { s?: Service; m?: Member } {
    const s = this.services.find((x) => x.vs === vs);
    return { s, m: s?.members.find((x) => x.rs === rs) };
  }

  private setAlive(vs: VirtualServer, rs: RealServer, alive: boolean, initial = false): void {
    const { s, m } = this.member(vs, rs);
    if (!s || !m || m.inService === alive) return;
    m.inService = alive;
    const script = alive ? rs.notifyUp : rs.notifyDown;
    if (script && !initial) this.env.runScript?.(script);
    const inhibit = rs.inhibitOnFailure ?? vs.inhibitOnFailure;
    if (alive) {
      if (s.svc.dests.includes(m.dest)) m.dest.edit({ weight: weightOf(vs, rs) });
      else s.svc.addDest(m.dest);
    } else if (inhibit) m.dest.edit({ weight: 0 });
    else s.svc.removeDest(m.dest);
    if (!initial) this.updateQuorum(s);
  }
}

/** IPVS counts a TCP connection inactive until established and again while closing. */
function track(d: Dest, from: ConnPhase, to: ConnPhase): void {
  const kind = (p: ConnPhase): 'active' | 'inactive' | undefined => (p === 'active' ? 'active' : p === 'connecting' || p === 'closing' ? 'inactive' : undefined);
  const a = kind(from);
  const b = kind(to);
  if (a === b) return;
  if (a && b) d.moveConn(a, b);
  else if (b) d.bindConn(b);
  else if (a) d.unbindConn(a);
}
