// The embedded load balancer: for each TCP or UDP virtual_server, a scheduler over the real servers
// the checkers report alive, and a data plane on the virtual address. A dead real server leaves the
// destination list (or stays at weight 0 with inhibit_on_failure); its connections in progress
// go on until they close (IPVS with expire_nodest_conn=0, the default). With none alive, clients
// go to the sorry_server. keepalived drives kernel IPVS the same way (ipvsadm.ts is that path).
//
// The data-plane seam: route() is the one routing rule (quorum, scheduler, sorry server) and
// connection() the one way a connection is counted (IPVS's active/inactive counters, which
// lc/wlc read, and the --stats/--rate statistics). The forwarders use both; with
// `dataPlane: 'none'` the Balancer opens no sockets, and a caller that carries the traffic itself
// (the lab's simulator) calls route() for each new client and, when it got a destination,
// reports that connection's life on the handle connection(dest) returns. With `dataPlane:
// 'kernel'` the same table is kept in kernel IPVS through ipvsadm (ipvs-kernel.ts), which then
// carries the traffic and keeps its own counters.
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Config, LvsMethod, RealServer, ScriptRef, VirtualServer } from '../config/model/index.js';
import type { BfdSessions } from '../bfd/sessions.js';
import { CheckerPool, type PoolEnv } from '../check/pool.js';
import { effectiveTiming } from '../config/keywords/checkers.js';
import { Connection } from './connection.js';
import { Dest } from './dest.js';
import { ESTIMATOR_PERIOD_US } from './estimator.js';
import { TcpForwarder, type ForwarderIo, type Target } from './forwarder.js';
import { UDP_TIMEOUT_MS, UdpForwarder } from './udp-forwarder.js';
import { addServerLine, addServiceLine, sorryServerAsReal } from './ipvsadm.js';
import { KernelPlane } from './ipvs-kernel.js';
import { VirtualService } from './service.js';
import type { Template } from './persistence.js';
import type { ListedServer, ListedService } from './ipvsadm-list.js';

export interface BalancerEnv {
  clock: Clock;
  /** Runs one check; dispose(), when there, releases what the probes share (called by stop()). */
  probe: PoolEnv['probe'] & { dispose?(): void };
  random: () => number;
  log?: (level: 'info' | 'warn', message: string) => void;
  /** Runs notify_up/notify_down and quorum_up/quorum_down (fire and forget, as keepalived). */
  runScript?(script: ScriptRef): void;
  /** 'forwarder' (default): the embedded TCP/UDP forwarders. 'none': no sockets (see the seam
   * above). 'kernel': kernel IPVS through ipvsadm, where /proc/net/ip_vs exists. */
  dataPlane?: 'forwarder' | 'none' | 'kernel';
  /** The kernel table's keeper (dataPlane 'kernel'); one running ipvsadm by default. */
  kernel?: KernelPlane;
  /** The BFD sessions BFD_CHECK follows; without them BFD_CHECK is reported and ignored. */
  bfd?: BfdSessions;
  /** UDP flows idle this long expire; IPVS's UDP timeout is 300 s. */
  udpTimeoutMs?: number;
  /** At most this many UDP flows per service; datagrams that would open more are dropped. */
  udpMaxFlows?: number;
  /** How the TCP forwarder moves bytes: libuv handles (default where Node has them) or net.Socket. */
  forwarderIo?: ForwarderIo;
  /** Probes in flight at once, over all real servers (default 256). */
  maxProbesInFlight?: number;
}

export type Route =
  /** `template`: the persistence template that chose the destination (persistence_timeout). */
  | { kind: 'dest'; dest: Dest; rs: RealServer; template?: Template }
  | { kind: 'sorry'; address: string; port: number }
  | { kind: 'refused'; reason: string };

export type Protocol = 'TCP' | 'UDP';

interface DataPlane {
  listen(): Promise<{ host: string; port: number }>;
  close(drain?: boolean): Promise<void>;
  flush(): void;
}

export interface Member {
  rs: RealServer;
  dest: Dest;
  /** The checkers' verdict. */
  inService: boolean;
  /** The configured weight, or the last one MISC_CHECK misc_dynamic asked for. */
  weight: number;
  /** This real server's checkers alone, so a reload can keep them while others change. */
  checks: CheckerPool;
}

export interface Service {
  vs: VirtualServer;
  protocol: Protocol;
  svc: VirtualService;
  members: Member[];
  plane?: DataPlane;
  /** keepalived's quorum: while lost, clients go to the sorry_server (or are refused). */
  quorumUp: boolean;
  /** The sorry_server as a destination outside the scheduler: its connections are counted on it. */
  sorry?: Dest;
}

const weightOf = (vs: VirtualServer, rs: RealServer): number => rs.weight ?? vs.weight;
const inhibited = (vs: VirtualServer, rs: RealServer): boolean => rs.inhibitOnFailure ?? vs.inhibitOnFailure;
const serviceKey = (vs: VirtualServer): string => `${vs.protocol ?? 'TCP'} ${vs.address}:${vs.port}`;
const memberKey = (vs: VirtualServer, rs: RealServer): string => `${rs.address}:${rs.port ?? vs.port}`;
/** What the scheduler is built from: a change replaces it. */
const schedulerKey = (vs: VirtualServer): string => JSON.stringify([vs.lvsSched, vs.schedulerFlags, vs.persistenceTimeout, vs.persistenceGranularity]);
/** What a real server's checkers run with: unchanged, a reload keeps their state (keepalived's checker compare). */
const checkersKey = (vs: VirtualServer, rs: RealServer): string =>
  JSON.stringify([rs.checkers, rs.checkers.map((c) => effectiveTiming(vs, rs, c))], (k, v: unknown) => (k === 'span' || k === 'spans' ? undefined : v));

export class Balancer {
  readonly services: Service[] = [];
  private readonly byVs = new Map<VirtualServer, Service>();
  private readonly byDest = new Map<Dest, { s: Service; m: Member }>();
  private readonly probe: PoolEnv['probe'];
  private started = false;
  private sampler?: TimerHandle;
  /** What the checker pools said while being built: said once, not once per real server. */
  private readonly poolNotes = new Set<string>();
  /** Data planes of removed services, draining. */
  private readonly retiring = new Set<DataPlane>();
  private readonly kernel?: KernelPlane;

  constructor(private cfg: Config, private readonly env: BalancerEnv) {
    this.probe = limitInFlight(env.probe, env.maxProbesInFlight ?? 256);
    if (env.dataPlane === 'kernel') this.kernel = env.kernel ?? new KernelPlane({ log: env.log });
    for (const vs of this.eligible(cfg)) this.open(vs);
  }

  /**
   * Where a new client of this virtual server goes: a destination the scheduler picked, else the
   * sorry server, else nowhere. `vs` may be the object from an older config with the same
   * protocol, address and port.
   */
  route(vs: VirtualServer, client: { address: string; port: number }): Route {
    const s = this.serviceOf(vs);
    if (!s) return { kind: 'refused', reason: `no virtual service ${serviceKey(vs)}` };
    if (s.quorumUp) {
      // The client's address is read only by the schedulers that hash it and by persistence: the
      // forwarder asks the kernel for it on demand.
      const conn = { get src() { return client.address; }, get srcPort() { return client.port; }, dst: s.vs.address!, dstPort: s.vs.port! };
      const got = s.svc.schedule(conn, this.env.clock.now());
      const owner = got && this.byDest.get(got.dest);
      if (owner) return got.template ? { kind: 'dest', dest: got.dest, rs: owner.m.rs, template: got.template } : { kind: 'dest', dest: got.dest, rs: owner.m.rs };
    }
    const sorry = s.vs.sorryServer;
    if (sorry) return { kind: 'sorry', address: sorry.address, port: sorry.port ?? s.vs.port! };
    return { kind: 'refused', reason: s.quorumUp ? 'no real server available' : 'quorum lost' };
  }

  /**
   * Count a new connection to a destination route() gave (or to a virtual server's sorry server)
   * and return the handle to report its life on: phase('active') once established, 'closing',
   * then 'closed'; traffic() with its byte totals. It keeps counting after the destination leaves
   * the service, as IPVS does for connections in progress.
   */
  connection(to: Dest | VirtualServer, template?: Template): Connection {
    if (to instanceof Dest) {
      const owner = this.byDest.get(to);
      if (!owner) throw new RangeError(`${to.id} is not a destination of this balancer`);
      // IPVS: a template lives on while it controls connections, so a client keeps its real
      // server for as long as any of its connections is open, even past persistence_timeout.
      const table = template && owner.s.svc.persistence;
      table?.hold(template!);
      const release = table ? () => table.release(template, this.env.clock.now()) : undefined;
      return new Connection(to, [to.stats, owner.s.svc.stats], owner.s.protocol, release);
    }
    const s = this.serviceOf(to);
    if (!s) throw new RangeError(`no virtual service ${serviceKey(to)}`);
    return s.sorry ? new Connection(s.sorry, [s.sorry.stats, s.svc.stats], s.protocol) : new Connection(undefined, [s.svc.stats], s.protocol);
  }

  async start(): Promise<void> {
    for (const s of this.services) await this.listen(s);
    this.started = true;
    for (const s of this.services) for (const m of s.members) m.checks.start();
    this.scheduleSample();
    await this.syncKernel();
  }

  async stop(): Promise<void> {
    // omega: shutting down takes every real server out, so say so as a failure would.
    if (this.started) for (const s of this.services) if (s.vs.omega) this.omega(s);
    this.started = false;
    if (this.sampler) this.env.clock.clearTimer(this.sampler);
    for (const s of this.services) for (const m of s.members) m.checks.stop();
    // The pools get the wrapped probe, so what the probes share is released here, once.
    this.env.probe.dispose?.();
    await Promise.all([...this.services.map((s) => s.plane?.close(false)), ...[...this.retiring].map((p) => p.close(false))]);
    for (const s of this.services) s.svc.dispose();
    // keepalived removes its virtual servers from IPVS when it stops.
    await this.kernel?.clear();
  }

  /**
   * Apply a new configuration (SIGHUP). A service with the same protocol, address and port keeps
   * its listener, scheduler state and destinations; a real server with the same address, port
   * and checkers keeps its counters and its checkers' state. Removed services stop accepting and
   * removed real servers take no new clients; their connections in progress drain.
   */
  async reload(cfg: Config): Promise<void> {
    this.cfg = cfg;
    const next = new Map(this.eligible(cfg).map((vs) => [serviceKey(vs), vs]));
    for (const s of [...this.services]) if (!next.has(serviceKey(s.vs))) this.retire(s);
    for (const vs of next.values()) {
      const s = this.serviceOf(vs);
      if (!s) {
        const added = this.open(vs);
        if (this.started) await this.listen(added).catch((e: Error) => this.env.log?.('warn', `virtual server ${serviceKey(vs)}: ${e.message}`));
      } else this.update(s, vs);
    }
    await this.syncKernel();
  }

  /**
   * The table kernel IPVS should hold now, in ipvsadm-restore form: every service, its
   * destinations in the list at their current weights, and the sorry server while quorum is lost.
   */
  kernelTable(): string {
    const lines: string[] = [];
    for (const s of this.services) {
      lines.push(addServiceLine(s.vs));
      // In configuration order, as keepalived adds them.
      for (const m of s.members) if (s.svc.dests.includes(m.dest)) lines.push(addServerLine(s.vs, m.rs, m.dest.weight));
      if (!s.quorumUp && s.vs.sorryServer) lines.push(addServerLine(s.vs, sorryServerAsReal(s.vs), 1));
    }
    return lines.join('\n') + (lines.length ? '\n' : '');
  }

  /** After any change to the table; the kernel plane folds bursts into one ipvsadm run. */
  private syncKernel(): Promise<void> {
    return this.kernel && this.started ? this.kernel.sync(this.kernelTable()) : Promise.resolve();
  }

  /** How long an idle UDP flow lives (ipvsadm -L --timeout's udp value, in ms). */
  get udpTimeoutMs(): number {
    return this.env.udpTimeoutMs ?? UDP_TIMEOUT_MS;
  }

  /** The table as `ipvsadm -Ln` shows it: services and the destinations in service, with statistics. */
  listing(): ListedService[] {
    return this.services.map((s) => {
      s.plane?.flush();
      return {
        protocol: s.protocol,
        address: s.vs.address!,
        port: s.vs.port!,
        family: s.vs.family ?? 4,
        scheduler: s.vs.lvsSched ?? 'wlc',
        ...(s.vs.persistenceTimeout !== undefined ? { persistent: s.vs.persistenceTimeout } : {}),
        stats: { ...s.svc.stats.totals },
        rate: s.svc.stats.rates,
        servers: [
          ...s.svc.dests.map((d) => {
            const m = this.byDest.get(d)!.m;
            return row(d, (m.rs.lvsMethod ?? s.vs.lvsMethod)?.method ?? 'NAT');
          }),
          // keepalived puts the sorry server into IPVS while quorum is lost, so ipvsadm lists it.
          ...(s.sorry && !s.quorumUp ? [row(s.sorry, (s.vs.sorryServerLvsMethod ?? s.vs.lvsMethod)?.method ?? 'NAT')] : []),
        ],
      };
    });
  }

  // ---- services ------------------------------------------------------------------------------

  private eligible(cfg: Config): VirtualServer[] {
    return cfg.virtualServers.filter((vs) => {
      const protocol = vs.protocol ?? 'TCP';
      if (vs.kind === 'address' && (protocol === 'TCP' || protocol === 'UDP') && vs.address && vs.port) return true;
      this.env.log?.('warn', `virtual_server ${vs.kind === 'address' ? `${vs.address}:${vs.port ?? 0} ${protocol}` : vs.kind}: only TCP and UDP services on an address and port run in the embedded load balancer; skipped`);
      return false;
    });
  }

  private serviceOf(vs: VirtualServer): Service | undefined {
    const s = this.byVs.get(vs);
    if (s) return s;
    const key = serviceKey(vs);
    return this.services.find((x) => serviceKey(x.vs) === key);
  }

  private open(vs: VirtualServer): Service {
    const s: Service = { vs, protocol: vs.protocol === 'UDP' ? 'UDP' : 'TCP', svc: newVirtualService(vs), members: [], quorumUp: true, sorry: sorryDest(vs) };
    if ((this.env.dataPlane ?? 'forwarder') === 'forwarder') s.plane = this.dataPlane(s);
    this.services.push(s);
    this.byVs.set(vs, s);
    for (const rs of vs.realServers) this.join(s, rs);
    s.quorumUp = this.weightSum(s) >= vs.quorum;
    return s;
  }

  private dataPlane(s: Service): DataPlane {
    const pick = (client: { address: string; port: number }): Target | undefined => {
      const r = this.route(s.vs, client);
      if (r.kind === 'dest') return { host: r.dest.address, port: r.dest.port, conn: this.connection(r.dest, r.template) };
      if (r.kind === 'sorry') return { host: r.address, port: r.port, sorry: true, conn: this.connection(s.vs) };
      return undefined;
    };
    const { address, port } = s.vs as { address: string; port: number };
    if (s.protocol === 'UDP') return new UdpForwarder({ host: address, port, pick, idleTimeoutMs: this.udpTimeoutMs, maxFlows: this.env.udpMaxFlows, log: this.env.log });
    return new TcpForwarder({
      host: address,
      port,
      pick,
      io: this.env.forwarderIo,
      // Read at each connection, so a reload's connect_timeout applies at once.
      get connectTimeoutMs() {
        return (s.vs.connectTimeout ?? 5) * 1000;
      },
      log: this.env.log,
    });
  }

  private async listen(s: Service, retrying = false): Promise<void> {
    const plane = s.plane;
    if (!plane) return;
    try {
      const at = await plane.listen();
      this.env.log?.('info', `virtual server ${s.protocol} ${at.host}:${at.port} ready (${s.vs.lvsSched ?? 'wlc'}, ${s.members.filter((m) => m.inService).length} real server(s) in service)`);
    } catch (e) {
      // On the BACKUP director the VIP is not here yet: listen once VRRP brings it (checked every
      // second), so the checkers run meanwhile and a failover serves at once. Other errors
      // (the port taken) are the operator's to fix.
      if ((e as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw e;
      if (!retrying) this.env.log?.('info', `virtual server ${serviceKey(s.vs)}: the address is not on this host yet; listening once it is (or set net.ipv4.ip_nonlocal_bind=1)`);
      this.env.clock.setTimer(this.env.clock.now() + 1_000_000, () => {
        if (this.started && s.plane === plane && this.services.includes(s)) void this.listen(s, true).catch((err: Error) => this.env.log?.('warn', `virtual server ${serviceKey(s.vs)}: ${err.message}`));
      });
    }
  }

  /** Removed by a reload: no new clients; connections in progress go on until they close. */
  private retire(s: Service): void {
    for (const m of [...s.members]) this.leave(s, m);
    this.services.splice(this.services.indexOf(s), 1);
    this.byVs.delete(s.vs);
    const plane = s.plane;
    if (plane) {
      this.retiring.add(plane);
      void plane.close(true).then(() => this.retiring.delete(plane));
    }
    s.svc.dispose();
    this.env.log?.('info', `virtual server ${serviceKey(s.vs)} removed; its connections in progress drain`);
  }

  private update(s: Service, vs: VirtualServer): void {
    this.byVs.delete(s.vs);
    this.byVs.set(vs, s);
    const old = s.vs;
    s.vs = vs;
    const sorry = sorryDest(vs);
    if (sorry?.id !== s.sorry?.id) s.sorry = sorry;
    if (schedulerKey(old) !== schedulerKey(vs)) {
      const svc = newVirtualService(vs, s.svc);
      svc.setDests(s.svc.dests);
      s.svc.dispose();
      s.svc = svc;
    }
    const wanted = new Map(vs.realServers.map((rs) => [memberKey(vs, rs), rs]));
    for (const m of [...s.members]) {
      const key = memberKey(old, m.rs);
      const rs = wanted.get(key);
      wanted.delete(key);
      if (rs) this.keep(s, m, old, rs);
      else this.leave(s, m);
    }
    for (const rs of wanted.values()) this.join(s, rs);
    this.updateQuorum(s);
  }

  // ---- real servers ----------------------------------------------------------------------------

  private join(s: Service, rs: RealServer): void {
    const vs = s.vs;
    const dest = new Dest({ address: rs.address, port: rs.port ?? vs.port!, weight: weightOf(vs, rs), uThreshold: rs.uthreshold ?? 0, lThreshold: rs.lthreshold ?? 0 });
    const m = { rs, dest, weight: weightOf(vs, rs) } as Member;
    s.members.push(m);
    this.byDest.set(dest, { s, m });
    this.check(s, m);
  }

  /**
   * Still configured after a reload: same destination and counters; same checkers (and their
   * state) unless they changed. A weight MISC_CHECK or FILE_CHECK set stays until the configured
   * weight changes.
   */
  private keep(s: Service, m: Member, oldVs: VirtualServer, rs: RealServer): void {
    const oldRs = m.rs;
    m.rs = rs;
    if (weightOf(oldVs, oldRs) !== weightOf(s.vs, rs)) m.weight = weightOf(s.vs, rs);
    const [u, l] = [rs.uthreshold ?? 0, rs.lthreshold ?? 0];
    // Only a real change: an edit makes the schedulers start over (wrr's position, for one).
    if (u !== m.dest.uThreshold || l !== m.dest.lThreshold) m.dest.edit({ uThreshold: u, lThreshold: l });
    if (checkersKey(oldVs, oldRs) === checkersKey(s.vs, rs)) this.place(s, m);
    else {
      m.checks.stop();
      this.check(s, m);
    }
  }

  /** Start (or restart) the member's checkers; its state is theirs from now on. */
  private check(s: Service, m: Member): void {
    const slice: Config = { ...this.cfg, virtualServers: [{ ...s.vs, realServers: [m.rs] }] };
    let building = true;
    m.checks = new CheckerPool(slice, { clock: this.env.clock, probe: this.probe, random: this.env.random, maxInFlight: Infinity, bfd: this.env.bfd }, {
      realServer: (_vs, _rs, alive) => this.setAlive(s, m, alive),
      // The weight the checkers give it (MISC_CHECK misc_dynamic, FILE_CHECK weight).
      weight: (_vs, _rs, weight) => {
        m.weight = weight;
        if (m.inService && m.dest.weight !== weight) {
          this.place(s, m);
          this.updateQuorum(s);
        }
      },
      log: (level, message) => {
        if (building && this.poolNotes.has(message)) return;
        if (building) this.poolNotes.add(message);
        this.env.log?.(level, message);
      },
    });
    building = false;
    // Servers without alpha are in service from the start (keepalived adds them at once).
    m.inService = m.checks.status[0]?.alive ?? true;
    this.place(s, m);
    if (this.started) m.checks.start();
  }

  /** A real server gone from the configuration: out of the table, its connections drain. */
  private leave(s: Service, m: Member): void {
    m.checks.stop();
    if (s.svc.dests.includes(m.dest)) s.svc.removeDest(m.dest);
    s.members.splice(s.members.indexOf(m), 1);
    this.byDest.delete(m.dest);
  }

  private setAlive(s: Service, m: Member, alive: boolean): void {
    if (m.inService === alive) return;
    m.inService = alive;
    const script = alive ? m.rs.notifyUp : m.rs.notifyDown;
    if (script) this.env.runScript?.(script);
    this.place(s, m);
    this.updateQuorum(s);
  }

  /**
   * Put the destination where the member's state says: in the list at its weight when in service,
   * at weight 0 when down with inhibit_on_failure, out of the list otherwise. Either way of
   * leaving, its connections in progress carry on; only new clients are kept away.
   */
  private place(s: Service, m: Member): void {
    const inList = s.svc.dests.includes(m.dest);
    const keep = m.inService || inhibited(s.vs, m.rs);
    const weight = m.inService ? m.weight : 0;
    if (keep && m.dest.weight !== weight) m.dest.edit({ weight });
    if (keep && !inList) s.svc.addDest(m.dest);
    else if (!keep && inList) s.svc.removeDest(m.dest);
    void this.syncKernel();
  }

  /** keepalived's omega at shutdown: notify_down of each server in service, then quorum_down. */
  private omega(s: Service): void {
    for (const m of s.members) if (m.inService && m.rs.notifyDown) this.env.runScript?.(m.rs.notifyDown);
    if (s.quorumUp && s.vs.quorumDown) this.env.runScript?.(s.vs.quorumDown);
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
    void this.syncKernel();
  }

  // ---- statistics ------------------------------------------------------------------------------

  /** ip_vs_est.c: sample every service's and destination's totals every 2 seconds. */
  private scheduleSample(): void {
    this.sampler = this.env.clock.setTimer(this.env.clock.now() + ESTIMATOR_PERIOD_US, () => {
      if (!this.started) return;
      const now = this.env.clock.now();
      for (const s of this.services) {
        s.plane?.flush();
        s.svc.stats.sample(now);
        s.svc.tick(now);
        for (const m of s.members) m.dest.stats.sample(now);
        s.sorry?.stats.sample(now);
      }
      this.scheduleSample();
    });
  }
}

const row = (d: Dest, method: LvsMethod['method']): ListedServer => ({ address: d.address, port: d.port, family: d.family, method, weight: d.weight, activeConns: d.activeConns, inactConns: d.inactConns, stats: { ...d.stats.totals }, rate: d.stats.rates });

function sorryDest(vs: VirtualServer): Dest | undefined {
  const sorry = vs.sorryServer;
  return sorry && new Dest({ address: sorry.address, port: sorry.port ?? vs.port ?? 0, weight: 1 });
}

function newVirtualService(vs: VirtualServer, carry?: VirtualService): VirtualService {
  return new VirtualService({
    scheduler: vs.lvsSched ?? 'wlc',
    flags: vs.schedulerFlags,
    ...(vs.persistenceTimeout !== undefined ? { persistence: { timeout: vs.persistenceTimeout, granularity: vs.persistenceGranularity } } : {}),
    ...(carry ? { stats: carry.stats } : {}),
  });
}

/**
 * One bound on probes in flight over all real servers: each real server has its own checker
 * pool (so a reload can keep some and replace others), and a pool only bounds its own probes.
 * The wrapper has no dispose(): a pool stopped by a reload must not release what the others use.
 */
function limitInFlight(probe: PoolEnv['probe'], max: number): PoolEnv['probe'] {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (job) => {
    if (running < max) running++;
    else await new Promise<void>((r) => queue.push(r));
    try {
      return await probe(job);
    } finally {
      const next = queue.shift();
      if (next) next();
      else running--;
    }
  };
}
