// The embedded load balancer: for each TCP or UDP virtual_server, a scheduler over the real servers
// the checkers report alive, and a data plane on the virtual address. Health checking is not
// here: the checker service reports through the contract of health.ts. A dead real server leaves
// the destination list (or stays at weight 0 with inhibit_on_failure); its connections in
// progress go on until they close (IPVS with expire_nodest_conn=0, the default). With none
// alive, clients go to the sorry_server. keepalived drives kernel IPVS the same way.
//
// The data-plane seam: route() is the one routing rule (quorum, scheduler, sorry server) and
// connection() the one way a connection is counted (IPVS's active/inactive counters, which
// lc/wlc read, and the --stats/--rate statistics). The forwarders use both; with
// `dataPlane: 'none'` the Balancer opens no sockets, and a caller that carries the traffic itself
// (the lab's simulator) calls route() for each new client and, when it got a destination,
// reports that connection's life on the handle connection(dest) returns. With `dataPlane:
// 'kernel'` the same table is kept in kernel IPVS through ipvsadm (ipvs-kernel.ts), which then
// carries the traffic and keeps its own counters. Either is a DataPlane (table.ts), told of
// every change to the table.
import type { Clock, TimerHandle } from '../core/clock.js';
import type {
  Config,
  LvsMethod,
  LvsTimeouts,
  ResolvedAddressVirtualServer,
  ResolvedRealServer as RealServer,
  ResolvedVirtualServer as VirtualServer,
  ScriptRef,
  VirtualServerGroup,
} from '../config/model/index.js';
import { Connection } from './connection.js';
import { Dest } from './dest.js';
import type { HealthChecks, HealthEvents } from './health.js';
import { ESTIMATOR_PERIOD_US } from './estimator.js';
import type { ForwarderIo, Target } from './forwarder.js';
import type { FdBudget } from './fd-budget.js';
import { ForwarderPlane } from './forwarder-plane.js';
import { addServerLine, addServiceLine, servicesOf } from './ipvsadm.js';
import { IpvsPlane, KernelPlane } from './ipvs-kernel.js';
import { VirtualService } from './service.js';
import type { Template } from './persistence.js';
import { serviceKey, type DataPlane, type Member, type Route, type Service } from './table.js';
import type { ListedServer, ListedService } from './ipvsadm-list.js';

/** What a state change came from: the checker verdict (`reason`, led by the checker's type), the
 * quorum weight, or the shutdown (omega). */
export interface StateDetail {
  reason?: string;
  weightSum?: number;
  stopping?: boolean;
  /** rs_init_notifies: a real server in service from the start, told as if it had come up. */
  initial?: boolean;
}

export interface BalancerEnv {
  clock: Clock;
  /** The checker service: the Balancer tells it which real servers it serves, starts and stops
   * it with itself, and follows its verdicts. Without it every real server is in service. */
  health?: HealthChecks;
  log?: (level: 'info' | 'warn', message: string) => void;
  /** Runs notify_up/notify_down and quorum_up/quorum_down (fire and forget, as keepalived). */
  runScript?(script: ScriptRef): void;
  /** A real server went up or down (`rs`), or a virtual server's quorum did (no `rs`): where
   * keepalived writes its notify FIFO lines (ipwrapper.c do_rs_notifies, do_vs_notifies). */
  stateChange?(vs: VirtualServer, rs: RealServer | undefined, up: boolean, detail?: StateDetail): void;
  /** One checker of a real server went up or down and the server stayed as it was (`alive`):
   * keepalived mails these unless no_checker_emails. */
  checkerChange?(vs: VirtualServer, rs: RealServer, up: boolean, alive: boolean, reason: string): void;
  /** 'forwarder' (default): the embedded TCP/UDP forwarders. 'none': no sockets (see the seam
   * above). 'kernel': kernel IPVS through ipvsadm, where /proc/net/ip_vs exists. */
  dataPlane?: 'forwarder' | 'none' | 'kernel';
  /** The kernel table's keeper (dataPlane 'kernel'); one running ipvsadm by default. */
  kernel?: KernelPlane;
  /** UDP flows idle this long expire (tests); otherwise lvs_timeouts udp. */
  udpTimeoutMs?: number;
  /** At most this many UDP flows per service; beyond, the least recently used gives way. */
  udpMaxFlows?: number;
  /** How the TCP forwarder moves bytes: libuv handles (default where Node has them) or net.Socket. */
  forwarderIo?: ForwarderIo;
  /** The process's descriptors (fd-budget.ts): the forwarders keep within them. None: no limit. */
  fds?: FdBudget;
}

export type { Member, Protocol, Route, Service } from './table.js';

const memberKey = (rs: RealServer): string => `${rs.address}:${rs.port}`;
/** What the scheduler is built from: a change replaces it. */
const schedulerKey = (vs: VirtualServer): string => JSON.stringify([vs.lvsSched, vs.schedulerFlags, vs.persistenceTimeout, vs.persistenceGranularity]);

export class Balancer {
  readonly services: Service[] = [];
  private readonly byVs = new Map<VirtualServer, Service>();
  private readonly byDest = new Map<Dest, { s: Service; m: Member }>();
  private started = false;
  private sampler?: TimerHandle;
  /** How the checker service reports to this table. */
  private readonly healthEvents: HealthEvents = {
    realServer: (vs, rs, alive, reason) => this.memberOf(vs, rs, (s, m) => this.setAlive(s, m, alive, reason)),
    weight: (vs, rs, weight) => this.memberOf(vs, rs, (s, m) => this.setWeight(s, m, weight)),
    checker: (vs, rs, up, reason) => this.memberOf(vs, rs, (s, m) => this.env.checkerChange?.(s.vs, m.rs, up, m.inService, reason)),
  };
  /** What carries the traffic: the forwarders, kernel IPVS, or nothing (dataPlane 'none'). */
  private readonly plane?: DataPlane;
  /** The idle timeouts of the configuration in force (lvs_timeouts). */
  private timeouts: LvsTimeouts;
  /** Kernel IPVS's keeper (dataPlane 'kernel'), and whether lvs_timeouts is written (keepalived sets IPVS's only then). */
  private readonly kernel?: KernelPlane;
  private timeoutsWritten: boolean;
  /** lvs_flush: empty the kernel's table before the first start (keepalived's start_check), never on a reload. */
  private readonly flushAtStart: boolean;
  /** lvs_flush_on_stop (of the configuration in force at the stop). */
  private flushOnStop: 'full' | 'VS' | undefined;
  /** Whether kernel IPVS carries the table: then fwmark, group and SCTP services run too. */
  private readonly kernelPlane: boolean;
  /** The virtual_server_groups of the configuration in force (kernel IPVS expands group services). */
  private groups: readonly VirtualServerGroup[];
  /** rs_init_notifies: real servers in service from the start (or from the reload that adds them) run notify_up and are told. */
  private rsInitNotifies: boolean;

  constructor(
    cfg: Config,
    private readonly env: BalancerEnv,
  ) {
    this.timeouts = cfg.resolved.lvsTimeouts;
    this.timeoutsWritten = cfg.globalDefs.lvsTimeouts !== undefined;
    this.flushAtStart = cfg.globalDefs.lvsFlush;
    this.groups = cfg.virtualServerGroups;
    this.flushOnStop = flushOnStopOf(cfg);
    this.rsInitNotifies = cfg.globalDefs.rsInitNotifies;
    this.rsInitNotifies = cfg.globalDefs.rsInitNotifies;
    const mode = env.dataPlane ?? 'forwarder';
    this.kernelPlane = mode === 'kernel';
    if (mode === 'kernel') {
      this.kernel = env.kernel ?? new KernelPlane({ log: env.log });
      this.plane = new IpvsPlane(
        () => this.kernelTable(),
        this.kernel,
        () => this.flushOnStop,
      );
    }
    const { clock, udpMaxFlows, forwarderIo: io, fds, log } = env;
    if (mode === 'forwarder')
      this.plane = new ForwarderPlane({
        clock,
        pick: (s, client) => this.pick(s, client),
        udpTimeoutMs: () => this.udpTimeoutMs,
        timeouts: () => this.timeouts,
        udpMaxFlows,
        io,
        fds,
        log,
      });
    const served = this.eligible(cfg);
    env.health?.check(served, this.healthEvents);
    for (const vs of served) this.open(vs);
  }

  /**
   * Where a new client of this virtual server goes: a destination the scheduler picked, else the
   * sorry server, else nowhere. `vs` may be the object from an older config with the same
   * protocol, address and port.
   */
  route(vs: VirtualServer, client: { address: string; port: number }): Route {
    const s = this.serviceOf(vs);
    if (!s) return { kind: 'refused', reason: `no virtual service ${serviceKey(vs)}` };
    const address = s.vs.address;
    // fwmark and group services run in kernel IPVS only, which routes their clients itself.
    if (address === undefined) return { kind: 'refused', reason: `${serviceKey(vs)} is carried by kernel IPVS` };
    if (s.quorumUp) {
      // The client's address is read only by the schedulers that hash it and by persistence: the
      // forwarder asks the kernel for it on demand.
      const conn = {
        get src() {
          return client.address;
        },
        get srcPort() {
          return client.port;
        },
        dst: address,
        dstPort: s.vs.port,
      };
      const got = s.svc.schedule(conn, this.env.clock.now());
      const owner = got && this.byDest.get(got.dest);
      if (owner)
        return got.template ? { kind: 'dest', dest: got.dest, rs: owner.m.rs, template: got.template } : { kind: 'dest', dest: got.dest, rs: owner.m.rs };
    }
    const sorry = s.vs.sorryServer;
    if (sorry) return { kind: 'sorry', address: sorry.address, port: sorry.port };
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
      if (table) table.hold(template);
      const release = table ? () => table.release(template, this.env.clock.now()) : undefined;
      return new Connection(to, [to.stats, owner.s.svc.stats], owner.s.protocol, release);
    }
    const s = this.serviceOf(to);
    if (!s) throw new RangeError(`no virtual service ${serviceKey(to)}`);
    return s.sorry ? new Connection(s.sorry, [s.sorry.stats, s.svc.stats], s.protocol) : new Connection(undefined, [s.svc.stats], s.protocol);
  }

  async start(): Promise<void> {
    if (this.timeoutsWritten) await this.kernel?.setTimeouts(this.timeouts);
    if (this.flushAtStart) await this.kernel?.flushAll();
    for (const s of this.services) await this.plane?.open(s);
    this.started = true;
    for (const s of this.services) for (const m of s.members) this.initialNotify(s, m);
    this.env.health?.start();
    this.scheduleSample();
  }

  async stop(): Promise<void> {
    // omega: shutting down takes every real server out, so say so as a failure would.
    if (this.started) for (const s of this.services) if (s.vs.omega) this.omega(s);
    this.started = false;
    if (this.sampler) this.env.clock.clearTimer(this.sampler);
    this.env.health?.stop();
    await this.plane?.stop(this.services);
    await this.kernel?.restoreTimeouts();
    for (const s of this.services) s.svc.dispose();
  }

  /**
   * The first half of a reload: opens what the new configuration needs that is not open yet (the
   * sockets of the new services), changing nothing that runs. Returns why it cannot run here, or
   * the second half: commit() applies it as reload() describes, abandon() closes what prepare
   * opened. A new service on the port of one this reload removes opens at commit instead (the
   * port is still ours until then).
   */
  async prepareReload(cfg: Config): Promise<{ error: string } | { commit(): Promise<void>; abandon(): void }> {
    const served = this.eligible(cfg, false);
    const leaving = this.services.filter((s) => !served.some((vs) => serviceKey(vs) === serviceKey(s.vs)));
    const fresh = served.filter(
      (vs) => !this.serviceOf(vs) && !leaving.some((s) => s.protocol === (vs.protocol === 'UDP' ? 'UDP' : 'TCP') && s.vs.port === vs.port),
    );
    const failed = this.started ? await this.plane?.reserve?.(fresh.filter((vs): vs is ResolvedAddressVirtualServer => vs.kind === 'address')) : undefined;
    if (failed) {
      const { vs, why } = failed;
      return {
        error: `${vs.span.file}:${vs.span.line}:${vs.span.col}: error: virtual_server ${serviceKey(vs)} cannot listen: ${why} (stop what holds it, or choose another address or port)`,
      };
    }
    return { commit: () => this.apply(cfg), abandon: () => this.plane?.unreserve?.() };
  }

  /** prepareReload() then commit(); a reload that cannot run here throws, changing nothing. */
  async reload(cfg: Config): Promise<void> {
    const prepared = await this.prepareReload(cfg);
    if ('error' in prepared) throw new Error(prepared.error);
    await prepared.commit();
  }

  /**
   * Apply a new configuration (SIGHUP). A service with the same protocol, address and port keeps
   * its listener, scheduler state and destinations; a real server with the same address and port
   * keeps its counters (and the checker service keeps the state of its unchanged checkers, with
   * any weight they add on top of the new configured one). Removed services stop accepting and
   * removed real servers take no new clients; their connections in progress drain.
   */
  private async apply(cfg: Config): Promise<void> {
    const before = JSON.stringify(this.timeouts);
    this.timeouts = cfg.resolved.lvsTimeouts;
    const wasWritten = this.timeoutsWritten;
    this.timeoutsWritten = cfg.globalDefs.lvsTimeouts !== undefined;
    if (this.started && this.timeoutsWritten && before !== JSON.stringify(this.timeouts)) await this.kernel?.setTimeouts(this.timeouts);
    else if (this.started && wasWritten && !this.timeoutsWritten) await this.kernel?.restoreTimeouts();
    const served = this.eligible(cfg);
    this.groups = cfg.virtualServerGroups;
    this.flushOnStop = flushOnStopOf(cfg);
    this.rsInitNotifies = cfg.globalDefs.rsInitNotifies;
    this.env.health?.check(served, this.healthEvents);
    const next = new Map(served.map((vs) => [serviceKey(vs), vs]));
    for (const s of [...this.services]) if (!next.has(serviceKey(s.vs))) this.retire(s);
    for (const vs of next.values()) {
      const s = this.serviceOf(vs);
      if (!s) {
        const added = this.open(vs);
        if (this.started) await this.plane?.open(added).catch((e: Error) => this.env.log?.('warn', `virtual server ${serviceKey(vs)}: ${e.message}`));
      } else this.update(s, vs);
    }
  }

  /**
   * The table kernel IPVS should hold now, in ipvsadm-restore form: every service, its
   * destinations in the list at their current weights, and the sorry server while quorum is lost.
   */
  kernelTable(): string {
    const lines: string[] = [];
    for (const s of this.services)
      for (const service of servicesOf(s.vs, this.groups)) {
        lines.push(addServiceLine(s.vs, service));
        // In configuration order, as keepalived adds them.
        for (const m of s.members) if (s.svc.dests.includes(m.dest)) lines.push(addServerLine(s.vs, m.rs, m.dest.weight, service));
        if (!s.quorumUp && s.vs.sorryServer) lines.push(addServerLine(s.vs, s.vs.sorryServer, 1, service));
      }
    return lines.join('\n') + (lines.length ? '\n' : '');
  }

  /** How long an idle UDP flow lives (ipvsadm -L --timeout's udp value, in ms). */
  get udpTimeoutMs(): number {
    return this.env.udpTimeoutMs ?? this.timeouts.udp * 1000;
  }

  /** The table as `ipvsadm -Ln` shows it: services and the destinations in service, with statistics. */
  listing(): ListedService[] {
    return this.services.flatMap((s) => {
      // A group service is many IPVS services: kernel IPVS lists them itself (ipvsadm -Ln).
      if (s.vs.kind === 'group') return [];
      this.plane?.flush(s);
      const fwmark = s.vs.kind === 'fwmark';
      return {
        protocol: fwmark ? ('FWM' as const) : s.protocol,
        address: s.vs.address ?? String(s.vs.fwmark),
        port: s.vs.port,
        family: s.vs.family ?? 4,
        scheduler: s.vs.lvsSched,
        ...(s.vs.persistenceTimeout !== undefined ? { persistent: s.vs.persistenceTimeout } : {}),
        stats: { ...s.svc.stats.totals },
        rate: s.svc.stats.rates,
        servers: [
          ...s.svc.dests.map((d) => {
            const m = this.byDest.get(d)!.m;
            return row(d, m.rs.lvsMethod.method);
          }),
          // keepalived puts the sorry server into IPVS while quorum is lost, so ipvsadm lists it.
          ...(s.sorry && s.vs.sorryServer && !s.quorumUp ? [row(s.sorry, s.vs.sorryServer.lvsMethod.method)] : []),
        ],
      };
    });
  }

  /**
   * Each service's counters for SIGUSR2's dump: its IPVS totals (ipvsadm --stats) and, with the
   * embedded forwarders, the forwarder's own (accepted, refused, timeouts...).
   */
  counters(): { service: string; totals: Record<string, number>; forwarder?: Record<string, number> }[] {
    return this.services.map((s) => {
      this.plane?.flush(s);
      const own = s.plane?.stats;
      const numbers = (o: object): Record<string, number> =>
        Object.fromEntries(Object.entries(o).filter((e): e is [string, number] => typeof e[1] === 'number'));
      return { service: serviceKey(s.vs), totals: numbers(s.svc.stats.totals), ...(own ? { forwarder: numbers(own) } : {}) };
    });
  }

  // ---- services ------------------------------------------------------------------------------

  /** The services this data plane carries: all of them in kernel IPVS; TCP and UDP on an address and port in the forwarders. */
  private eligible(cfg: Config, say = true): VirtualServer[] {
    return cfg.resolved.virtualServers.filter((vs) => {
      if (this.kernelPlane || (vs.kind === 'address' && (vs.protocol === 'TCP' || vs.protocol === 'UDP') && vs.port)) return true;
      if (say)
        this.env.log?.(
          'warn',
          `virtual_server ${vs.kind === 'address' ? `${vs.address}:${vs.port} ${vs.protocol}` : vs.kind === 'fwmark' ? `fwmark ${vs.fwmark}` : `group ${vs.group}`}: only TCP and UDP services on an address and port run in the embedded load balancer (fwmark, group and SCTP services need kernel IPVS); skipped`,
        );
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
    this.plane?.add(s);
    this.services.push(s);
    this.byVs.set(vs, s);
    for (const rs of vs.realServers) this.join(s, rs);
    s.quorumUp = this.weightSum(s) >= vs.quorum;
    return s;
  }

  /** The forwarders' question for each new client: route() and the connection to count. */
  private pick(s: Service, client: { address: string; port: number }): Target | undefined {
    const r = this.route(s.vs, client);
    if (r.kind === 'dest') return { host: r.dest.address, port: r.dest.port, conn: this.connection(r.dest, r.template) };
    if (r.kind === 'sorry') return { host: r.address, port: r.port, sorry: true, conn: this.connection(s.vs) };
    return undefined;
  }

  /** Removed by a reload: no new clients; connections in progress go on until they close. */
  private retire(s: Service): void {
    for (const m of [...s.members]) this.leave(s, m);
    this.services.splice(this.services.indexOf(s), 1);
    this.byVs.delete(s.vs);
    this.plane?.retire(s);
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
    const wanted = new Map(vs.realServers.map((rs) => [memberKey(rs), rs]));
    for (const m of [...s.members]) {
      const key = memberKey(m.rs);
      const rs = wanted.get(key);
      wanted.delete(key);
      if (rs) this.keep(s, m, rs);
      else this.leave(s, m);
    }
    for (const rs of wanted.values()) this.join(s, rs);
    this.updateQuorum(s);
  }

  // ---- real servers ----------------------------------------------------------------------------

  private join(s: Service, rs: RealServer): void {
    const dest = new Dest({ address: rs.address, port: rs.port, weight: rs.weight, uThreshold: rs.uthreshold, lThreshold: rs.lthreshold });
    // Servers without alpha are in service from the start (keepalived adds them at once).
    const h = this.healthOf(s, rs);
    const m: Member = { rs, dest, inService: h.alive, weight: h.weight };
    s.members.push(m);
    this.byDest.set(dest, { s, m });
    this.place(s, m);
    if (this.started) this.initialNotify(s, m);
  }

  /** keepalived's init_service_rs: with rs_init_notifies, a real server added alive gets
   * do_rs_notifies (notify_up, the FIFO line, the trap; no mail: the checkers send those). */
  private initialNotify(s: Service, m: Member): void {
    if (!this.rsInitNotifies || !m.inService) return;
    if (m.rs.notifyUp) this.env.runScript?.(m.rs.notifyUp);
    this.env.stateChange?.(s.vs, m.rs, true, { initial: true });
  }

  /**
   * Still configured after a reload: same destination and counters, and the checkers' verdict
   * as the checker service has it now (their state kept where unchanged; the weight is the new
   * configured one plus what MISC_CHECK or FILE_CHECK add).
   */
  private keep(s: Service, m: Member, rs: RealServer): void {
    m.rs = rs;
    const h = this.healthOf(s, rs);
    m.inService = h.alive;
    m.weight = h.weight;
    const [u, l] = [rs.uthreshold, rs.lthreshold];
    // Only a real change: an edit makes the schedulers start over (wrr's position, for one).
    if (u !== m.dest.uThreshold || l !== m.dest.lThreshold) m.dest.edit({ uThreshold: u, lThreshold: l });
    this.place(s, m);
  }

  private healthOf(s: Service, rs: RealServer): { alive: boolean; weight: number } {
    return this.env.health?.health(s.vs, rs) ?? { alive: true, weight: rs.weight };
  }

  /** The member a checker verdict is about, if it is still one of ours. */
  private memberOf(vs: VirtualServer, rs: RealServer, then: (s: Service, m: Member) => void): void {
    const s = this.serviceOf(vs);
    const key = memberKey(rs);
    const m = s?.members.find((x) => memberKey(x.rs) === key);
    if (s && m) then(s, m);
  }

  /** A real server gone from the configuration: out of the table, its connections drain. */
  private leave(s: Service, m: Member): void {
    if (s.svc.dests.includes(m.dest)) s.svc.removeDest(m.dest);
    s.members.splice(s.members.indexOf(m), 1);
    this.byDest.delete(m.dest);
  }

  /** The weight the checkers give it (MISC_CHECK misc_dynamic, FILE_CHECK weight). */
  private setWeight(s: Service, m: Member, weight: number): void {
    m.weight = weight;
    if (m.inService && m.dest.weight !== weight) {
      this.place(s, m);
      this.updateQuorum(s);
    }
  }

  private setAlive(s: Service, m: Member, alive: boolean, reason: string): void {
    if (m.inService === alive) return;
    m.inService = alive;
    const script = alive ? m.rs.notifyUp : m.rs.notifyDown;
    if (script) this.env.runScript?.(script);
    this.env.stateChange?.(s.vs, m.rs, alive, { reason });
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
    const keep = m.inService || m.rs.inhibitOnFailure;
    const weight = m.inService ? m.weight : 0;
    if (keep && m.dest.weight !== weight) m.dest.edit({ weight });
    if (keep && !inList) s.svc.addDest(m.dest);
    else if (!keep && inList) s.svc.removeDest(m.dest);
    this.plane?.changed(s);
  }

  /** keepalived's omega at shutdown: notify_down of each server in service, then quorum_down;
   * the FIFO gets each server's DOWN and the service's DOWN (ipwrapper.c clear_service_vs). */
  private omega(s: Service): void {
    for (const m of s.members) {
      if (!m.inService) continue;
      if (m.rs.notifyDown) this.env.runScript?.(m.rs.notifyDown);
      this.env.stateChange?.(s.vs, m.rs, false, { stopping: true });
    }
    if (s.quorumUp && s.vs.quorumDown) this.env.runScript?.(s.vs.quorumDown);
    this.env.stateChange?.(s.vs, undefined, false, { stopping: true });
  }

  /** Σ weight of the servers in service (keepalived's quorum weight). */
  private weightSum(s: Service): number {
    return s.members.filter((m) => m.inService).reduce((a, m) => a + Math.max(0, m.dest.weight), 0);
  }

  /** keepalived ipwrapper.c: gained at quorum + hysteresis, lost below quorum − hysteresis or at 0. */
  private updateQuorum(s: Service): void {
    const sum = this.weightSum(s);
    const { quorum, hysteresis } = s.vs;
    const where = s.vs.kind === 'address' ? `${s.vs.address}:${s.vs.port}` : s.vs.kind === 'fwmark' ? `FWM ${s.vs.fwmark}` : s.vs.group;
    if (!s.quorumUp && sum >= quorum + hysteresis) {
      s.quorumUp = true;
      this.env.log?.('info', `Gained quorum ${quorum}+${hysteresis}=${quorum + hysteresis} <= ${sum} for VS [${where}]`);
      if (s.vs.quorumUp) this.env.runScript?.(s.vs.quorumUp);
      this.env.stateChange?.(s.vs, undefined, true, { weightSum: sum });
    } else if (s.quorumUp && (sum < quorum - hysteresis || sum === 0)) {
      s.quorumUp = false;
      this.env.log?.(
        'warn',
        `Lost quorum ${quorum}-${hysteresis}=${quorum - hysteresis} > ${sum} for VS [${where}]${s.vs.sorryServer ? '; sending clients to the sorry server' : ''}`,
      );
      if (s.vs.quorumDown) this.env.runScript?.(s.vs.quorumDown);
      this.env.stateChange?.(s.vs, undefined, false, { weightSum: sum });
    }
    this.plane?.changed(s);
  }

  // ---- statistics ------------------------------------------------------------------------------

  /** ip_vs_est.c: sample every service's and destination's totals every 2 seconds. */
  private scheduleSample(): void {
    this.sampler = this.env.clock.setTimer(this.env.clock.now() + ESTIMATOR_PERIOD_US, () => {
      if (!this.started) return;
      const now = this.env.clock.now();
      for (const s of this.services) {
        this.plane?.flush(s);
        s.svc.stats.sample(now);
        s.svc.tick(now);
        for (const m of s.members) m.dest.stats.sample(now);
        s.sorry?.stats.sample(now);
      }
      this.scheduleSample();
    });
  }
}

const row = (d: Dest, method: LvsMethod['method']): ListedServer => ({
  address: d.address,
  port: d.port,
  family: d.family,
  method,
  weight: d.weight,
  activeConns: d.activeConns,
  inactConns: d.inactConns,
  stats: { ...d.stats.totals },
  rate: d.stats.rates,
});

/** global_defs lvs_flush_on_stop: alone, the whole table; `VS`, our services (global_parser.c). */
function flushOnStopOf(cfg: Config): 'full' | 'VS' | undefined {
  const v = cfg.globalDefs.lvsFlushOnStop;
  return v === undefined ? undefined : v.length === 0 ? 'full' : v[0] === 'VS' ? 'VS' : undefined;
}

function sorryDest(vs: VirtualServer): Dest | undefined {
  const sorry = vs.sorryServer;
  return sorry && new Dest({ address: sorry.address, port: sorry.port, weight: 1 });
}

function newVirtualService(vs: VirtualServer, carry?: VirtualService): VirtualService {
  return new VirtualService({
    scheduler: vs.lvsSched,
    flags: vs.schedulerFlags,
    ...(vs.persistenceTimeout !== undefined ? { persistence: { timeout: vs.persistenceTimeout, granularity: vs.persistenceGranularity } } : {}),
    ...(carry ? { stats: carry.stats } : {}),
  });
}
