// The lab's sim backend: every node's keepalived.conf runs in the daemon's own engine (and load
// balancer, for virtual_servers) on one virtual clock, with the scenario's segments simulated in
// process. Faults are applied at their times; transitions, notifies, VIPs, checker verdicts and
// client requests are recorded as a LabRun. Same scenario and seed, same run.
import { performance } from 'node:perf_hooks';
import { loadConfig, loadConfigText, type LoadResult } from '../../config/index.js';
import { formatDiagnostic, refusal } from '../../config/diagnostics.js';
import type { Config, ResolvedRealServer as RealServer, ResolvedVrrpInstance as VrrpInstance } from '../../config/model/index.js';
import { VirtualClock, type Clock } from '../../core/clock.js';
import { seededUnit } from '../../core/random.js';
import { CheckerPool, type CheckJob } from '../../check/pool.js';
import type { ProbeResult } from '../../check/probes.js';
import { Balancer } from '../../lvs/balancer.js';
import { emptyRun, type LabRun } from '../model/result.js';
import type { Fault, LabClient, Micros, Scenario } from '../model/scenario.js';
import { buildSimLab, type NodeObserver, type SimLab, type SimNode } from './node.js';
import { faultText } from '../model/fault-text.js';
import { standInsNamed } from '../model/processes.js';
import { needsFirewall } from '../../net/nft-firewall.js';

/** A node's keepalived.conf: inline text (named as the loader names it) or the file. */
export function loadNodeConfig(node: string, ref: { file: string; text?: string }, configId?: string): LoadResult {
  return ref.text === undefined ? loadConfig(ref.file, { configId }) : loadConfigText(ref.text, `${ref.file}#${node}`, { configId });
}

export interface SimOptions {
  /** When each node's daemon starts (default 0, all together): to replay a netns run's measured
   * start offsets, so that the two timelines can be compared to the ms. */
  starts?: ReadonlyMap<string, Micros>;
  /** How late each node's timers fire (default 0): to replay a netns run's measured timer
   * lateness (a MASTER's adverts drift by it, advert after advert, as a busy daemon's do). */
  late?: ReadonlyMap<string, Micros>;
}

export async function runSim(scenario: Scenario, opts: SimOptions = {}): Promise<LabRun> {
  const wall = performance.now();
  const sim = new Sim(scenario, opts);
  await sim.run();
  return { ...sim.record, wallMs: Math.round(performance.now() - wall) };
}

const SEC = 1_000_000;

class Sim {
  readonly clock = new VirtualClock();
  readonly lab: SimLab;
  readonly record: Omit<LabRun, 'wallMs'>;
  private readonly configs = new Map<string, Config[]>();
  /** Segment → its partition (name → group index), as SimSegment applies it. */
  private readonly partitions = new Map<string, Map<string, number>>();
  private readonly serverUp = new Map<string, boolean>();
  /** Per client: its neighbour table, VIP → the MAC the last gratuitous ARP (or unsolicited NA)
   * it heard gave: a node's own MAC, or a VMAC. */
  private readonly arp = new Map<string, Map<string, string>>();
  /** The switch of each segment: `segment/MAC` → the node it last saw that MAC from. A node's own
   * MACs never move; a VMAC goes where its MASTER's adverts and gratuitous ARPs come from. */
  private readonly fdb = new Map<string, string>();
  private readonly lastPriority = new Map<string, number>();
  private readonly inService = new WeakMap<object, boolean>();
  /** Per node and real server: the last probe's words, the reason for a checker verdict. */
  private readonly probeReason = new Map<string, string>();
  private readonly buckets = new Map<string, LabRun['requests'][number]>();
  /** A load balancer ran since the last turn of the event loop: promises may be pending. */
  private unsettled = false;

  constructor(
    private readonly sc: Scenario,
    private readonly opts: SimOptions,
  ) {
    for (const n of sc.nodes) {
      const loaded = loadNodeConfig(n.name, n.config, n.configId ?? n.name);
      const refused = refusal(loaded.diagnostics, false);
      // The loader reports these with positions; reaching here is a caller's mistake.
      if (refused) throw new Error(`${n.name}: configuration cannot be run (${refused}):\n${loaded.diagnostics.map(formatDiagnostic).join('\n')}`);
      this.configs.set(n.name, [loaded.config]);
    }
    for (const rs of sc.realServers) this.serverUp.set(rs.name, rs.up);
    this.record = emptyRun(sc, 'sim');
    this.lab = buildSimLab(
      {
        seed: sc.seed,
        segments: sc.segments,
        nodes: sc.nodes.map((n) => ({ name: n.name, config: this.configs.get(n.name)![0], lateUs: opts.late?.get(n.name) })),
        observe: (name) => this.observer(name),
        lvs: (name) => (config, clock) => (config.virtualServers.length ? this.balancer(name, config, clock) : undefined),
      },
      this.clock,
    );
  }

  async run(): Promise<void> {
    const { clock, sc } = this;
    sc.faults.forEach((f, i) => clock.setTimer(f.at, () => this.apply(f, i)));
    for (const n of this.lab.nodes.values()) {
      const at = this.opts.starts?.get(n.name) ?? 0;
      if (at > 0) clock.setTimer(at, () => n.start());
      else n.start();
    }
    this.observe(true);
    // Checker probes answer through promises: a batch of timers that touched a load balancer is
    // followed by a turn of the event loop, so their results land at the virtual time they belong to.
    for (let t = clock.nextDue(); t !== undefined && t <= sc.duration; t = clock.nextDue()) {
      clock.runUntil(t);
      const lvs = this.unsettled;
      if (lvs) {
        this.unsettled = false;
        await new Promise<void>((r) => setImmediate(r));
      }
      this.observe(lvs);
    }
    clock.runUntil(sc.duration);
    this.record.nodes = sc.nodes.map((n) => ({ name: n.name, impl: n.impl, instances: instancesOf(this.configs.get(n.name)!) }));
  }

  private node(name: string): SimNode {
    return this.lab.nodes.get(name)!;
  }

  private observer(node: string): NodeObserver {
    const r = this.record;
    const now = (): Micros => this.clock.now();
    const dead = (): boolean => this.node(node).status === 'killed';
    return {
      transition: (inst, from, to, priority, reason) => {
        r.transitions.push({ at: now(), node, instance: inst.name, from, to, priority, reason });
        this.lastPriority.set(`${node}/${inst.name}`, priority);
        // The daemon's notify (daemon.ts Generation.transition); a killed one runs nothing.
        if (!dead()) r.notifies.push({ at: now(), node, kind: 'INSTANCE', name: inst.name, state: to === 'INIT' || to === 'STOPPED' ? 'STOP' : to, priority });
      },
      groupTransition: (g, _from, to) => {
        r.notifies.push({ at: now(), node, kind: 'GROUP', name: g.name, state: to === 'INIT' ? 'STOP' : to, priority: 0 });
      },
      addresses: (inst) => this.sampleVips(node, inst),
      announce: (inst, mac) => this.announce(node, inst, mac),
      frameFrom: (segment, mac) => this.fdb.set(`${segment}/${mac}`, node),
    };
  }

  /** A VIP sample per address of the instance: who holds it now (called after the change); it
   * answers when a holder accepts traffic to it (no_accept drops it: docs/lab.md). */
  private sampleVips(node: string, inst: VrrpInstance): void {
    const n = this.node(node);
    for (const v of inst.virtualIpaddress) {
      const holding = [...this.lab.nodes.values()].filter((x) => x.running && x.vips.has(v.address));
      const segment = n.link(v.dev)?.segment ?? '';
      const reachable = holding.some((x) => !dropsTrafficTo(x, v.address));
      this.record.vips!.push({ at: this.clock.now(), address: v.address, segment, reachable, holders: holding.map((x) => x.name) });
    }
  }

  /** Gratuitous ARP (IPv6: unsolicited NA): every client on the segment that hears the node learns
   * `mac` for these VIPs, and the segment's switch learns where `mac` is. */
  private announce(node: string, inst: VrrpInstance, mac: string): void {
    for (const v of inst.virtualIpaddress) {
      const segment = this.node(node).link(v.dev)?.segment;
      if (segment !== undefined) this.fdb.set(`${segment}/${mac}`, node);
      for (const c of this.sc.clients) {
        if (c.segment !== segment || c.target.address !== v.address || !this.nodeReaches(node, c.segment, c.name)) continue;
        let table = this.arp.get(c.name);
        if (!table) {
          this.arp.set(c.name, (table = new Map<string, string>()));
          this.startClient(c);
        }
        table.set(v.address, mac);
      }
    }
  }

  /** After every batch: priority changes without a state change, and the checkers' verdicts
   * when a load balancer ran. */
  private observe(lvs: boolean): void {
    const at = this.clock.now();
    for (const n of this.lab.nodes.values()) {
      for (const { inst, priority } of n.priorities()) {
        const key = `${n.name}/${inst.name}`;
        if (this.lastPriority.get(key) === priority) continue;
        this.lastPriority.set(key, priority);
        this.record.priorities!.push({ at, node: n.name, instance: inst.name, priority });
      }
      if (!lvs) continue;
      for (const s of n.balancer?.services ?? []) {
        for (const m of s.members) {
          // Keyed by the balancer's member: a restarted daemon's checkers start afresh.
          if (this.inService.get(m) === m.inService) continue;
          const first = !this.inService.has(m);
          this.inService.set(m, m.inService);
          const reason = first ? 'at start' : (this.probeReason.get(`${n.name}/${rsKey(m.rs)}`) ?? '');
          this.record.servers.push({ at, node: n.name, server: this.serverName(m.rs), inService: m.inService, reason });
        }
      }
    }
  }

  private apply(f: Fault, index: number): void {
    let text = faultText(f);
    if ((f.kind === 'kill' || f.kind === 'stop') && !this.node(f.node).running) text += ` (${f.node} was not running)`;
    if (f.kind === 'start' && this.node(f.node).running) text += ` (${f.node} was already running)`;
    switch (f.kind) {
      case 'kill':
        this.node(f.node).kill();
        break;
      case 'stop':
        this.node(f.node).stop();
        break;
      case 'start':
        this.node(f.node).start();
        break;
      case 'partition':
        this.lab.segments.get(f.segment)!.split(f.groups);
        this.partitions.set(f.segment, new Map(f.groups.flatMap((g, i) => g.map((n) => [n, i] as [string, number]))));
        break;
      case 'heal':
        this.lab.segments.get(f.segment)!.heal();
        this.partitions.delete(f.segment);
        break;
      case 'link':
        this.lab.segments.get(f.segment)!.setFaults(f.node, { loss: f.loss, delayUs: f.delay, duplicate: f.duplicate });
        break;
      case 'script':
        this.node(f.node).setScript(f.script, f.ok);
        break;
      case 'file':
        this.node(f.node).setFile(f.file, f.value);
        break;
      case 'interface':
        this.node(f.node).setInterface(f.interface, f.up);
        break;
      case 'process': {
        const node = this.node(f.node);
        for (const s of standInsNamed(node.config, f.name)) node.setProcesses(s.key, f.count);
        break;
      }
      case 'server':
        this.serverUp.set(f.server, f.up);
        break;
      case 'reload': {
        const node = this.node(f.node);
        const loaded = loadNodeConfig(f.node, f.config, this.sc.nodes.find((n) => n.name === f.node)?.configId ?? f.node);
        const refused = refusal(loaded.diagnostics, true);
        if (refused) text += `: reload refused: ${refused}; the running configuration stays`;
        else {
          const running = node.running;
          const r = node.reload(loaded.config);
          text += running
            ? `: ${r.kept} instance(s) kept as they were, ${r.restarted} (re)started`
            : `: ${f.node} is not running; its next start uses the new configuration`;
          this.configs.get(f.node)!.push(loaded.config);
        }
        break;
      }
    }
    this.record.faults.push({ at: this.clock.now(), index, text });
  }

  // ---- reachability ----------------------------------------------------------------------------

  /** Partition groups name directors; clients and real servers stay reachable from every group. */
  private sameSide(segment: string, a: string, b: string): boolean {
    const p = this.partitions.get(segment);
    if (!p || !p.has(a) || !p.has(b)) return true;
    return p.get(a) === p.get(b);
  }

  /** The node is up on `segment` (daemon running, link up) and not cut off from `other`. */
  private nodeReaches(node: string, segment: string, other: string): boolean {
    const n = this.node(node);
    const m = this.sc.segments.find((s) => s.name === segment)?.members.find((x) => x.node === node);
    return !!m && n.running && !!n.link(m.interface)?.up && this.sameSide(segment, node, other);
  }

  // ---- real servers ----------------------------------------------------------------------------

  private labServer(address: string, port: number) {
    return this.sc.realServers.find((s) => s.address === address && s.port === port);
  }

  private serverName(rs: RealServer): string {
    return this.labServer(rs.address, rs.port)?.name ?? rsKey(rs);
  }

  /** How a real server answers a node: refused when down, a connect timeout when unreachable. */
  private answer(node: string, address: string, port: number): { ok: boolean; reason: string; timeout?: boolean } {
    const s = this.labServer(address, port);
    if (!s) return { ok: false, reason: `${address}:${port} is not a real server of the scenario`, timeout: true };
    if (!this.nodeReaches(node, s.segment, s.name)) return { ok: false, reason: `${s.name} unreachable from ${node}`, timeout: true };
    if (!this.serverUp.get(s.name)) return { ok: false, reason: `${s.name} refused the connection`, timeout: false };
    return { ok: true, reason: `${s.name} answered` };
  }

  private balancer(node: string, config: Config, daemonClock: Clock): Balancer {
    this.unsettled = true;
    const clock: Clock = {
      ...daemonClock,
      setTimer: (at, cb) =>
        daemonClock.setTimer(at, () => {
          this.unsettled = true;
          cb();
        }),
    };
    const probe = (job: CheckJob): Promise<ProbeResult> => {
      const a = this.answer(node, job.rs.address, job.rs.port);
      const key = `${node}/${rsKey(job.rs)}`;
      const result: ProbeResult = { ok: a.ok, reason: a.reason };
      if (!a.timeout) {
        this.probeReason.set(key, a.reason);
        return Promise.resolve(result);
      }
      return new Promise((resolve) =>
        clock.setTimer(clock.now() + job.connectTimeout * SEC, () => {
          this.probeReason.set(key, `${a.reason} (connect timeout)`);
          resolve(result);
        }),
      );
    };
    const health = new CheckerPool(undefined, { clock, probe, random: seededUnit(this.sc.seed ^ hash(node)) });
    return new Balancer(config, { clock, health, dataPlane: 'none' });
  }

  // ---- clients ---------------------------------------------------------------------------------

  /** A client starts once its VIP has been announced, then sends `rate` requests a second. */
  private startClient(c: LabClient): void {
    const gap = SEC / c.rate;
    let seq = 0;
    const address = `198.18.${(this.sc.clients.indexOf(c) >> 8) & 255}.${(this.sc.clients.indexOf(c) & 255) + 1}`;
    const next = (): void => {
      this.request(c, address, 32768 + (seq++ % 28232));
      this.clock.setTimer(this.clock.now() + gap, next);
    };
    this.clock.setTimer(this.clock.now() + gap, next);
  }

  private request(c: LabClient, address: string, port: number): void {
    const out = this.route(c, address, port);
    const second = Math.floor(this.clock.now() / SEC);
    const key = `${c.name}/${second}`;
    let b = this.buckets.get(key);
    if (!b) {
      this.buckets.set(key, (b = { client: c.name, second, ok: 0, failed: 0, byServer: {}, failures: {} }));
      this.record.requests.push(b);
    }
    if (out.ok) {
      b.ok++;
      b.byServer[out.server] = (b.byServer[out.server] ?? 0) + 1;
    } else {
      b.failed++;
      b.failures![out.reason] = (b.failures![out.reason] ?? 0) + 1;
    }
  }

  /** One request: to the MAC the client's neighbour entry names, the node the switch has that MAC
   * at, then as that node's balancer routes it. */
  private route(c: LabClient, address: string, port: number): { ok: true; server: string } | { ok: false; reason: string } {
    const vip = c.target.address;
    const mac = this.arp.get(c.name)?.get(vip);
    const name = mac && this.fdb.get(`${c.segment}/${mac}`);
    if (!name) return { ok: false, reason: `nobody announced ${vip}` };
    const n = this.node(name);
    if (!n.running) return { ok: false, reason: `${name} is down (its ARP entry for ${vip} is stale)` };
    if (!this.nodeReaches(name, c.segment, c.name)) return { ok: false, reason: `${name} unreachable from ${c.name}` };
    if (!n.vips.has(vip)) return { ok: false, reason: `${name} no longer holds ${vip}` };
    if (dropsTrafficTo(n, vip)) return { ok: false, reason: `${name} drops traffic to ${vip} (no_accept)` };
    const vs = n.config.resolved.virtualServers.find((v) => v.address === vip && v.port === c.target.port);
    if (!vs || !n.balancer) return { ok: false, reason: `${name} has no virtual_server ${vip}:${c.target.port}` };
    const r = n.balancer.route(vs, { address, port });
    if (r.kind === 'refused') return { ok: false, reason: `${name}: ${r.reason}` };
    const [to, toPort] = r.kind === 'dest' ? [r.dest.address, r.dest.port] : [r.address, r.port];
    const conn = r.kind === 'dest' ? n.balancer.connection(r.dest, r.template) : n.balancer.connection(vs);
    const a = this.answer(name, to, toPort);
    // Requests are instant: the connection opens and closes at once (counted as IPVS would).
    if (a.ok) conn.phase('active');
    conn.phase('closed');
    if (!a.ok) return { ok: false, reason: a.reason };
    return { ok: true, server: this.labServer(to, toPort)?.name ?? `${to}:${toPort}` };
  }
}

/**
 * Whether the node's firewall drops what is addressed to `vip`: the daemon's no_accept rules
 * (explicit, or vrrp_strict on a non-owner) while the instance holding it is MASTER. They sit in
 * front of IPVS, so a virtual server on the VIP does not answer either. IPv4 and IPv6, as the
 * daemon's ip and ip6 tables (src/net/nft-firewall.ts); neighbour discovery still gets through
 * there, and the sim's neighbour tables do not go through the firewall.
 */
function dropsTrafficTo(n: SimNode, vip: string): boolean {
  return (n.engine?.instances ?? []).some(
    (m) => m.runner.state.state === 'MASTER' && needsFirewall(m.inst) && m.inst.virtualIpaddress.some((v) => v.address === vip),
  );
}

function rsKey(rs: RealServer): string {
  return `${rs.address}:${rs.port}`;
}

/** Every instance a node ran, over its configurations (a reload may add some). */
function instancesOf(configs: Config[]): { name: string; vrid: number; interface: string }[] {
  const out = new Map<string, { name: string; vrid: number; interface: string }>();
  for (const c of configs) {
    for (const i of c.resolved.vrrpInstances) if (!out.has(i.name)) out.set(i.name, { name: i.name, vrid: i.virtualRouterId, interface: i.interface });
  }
  return [...out.values()];
}

function hash(s: string): number {
  let h = 2166136261;
  for (const ch of s) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}
