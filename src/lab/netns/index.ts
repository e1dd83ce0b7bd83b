// The lab's netns backend: the scenario's directors run as real daemons (our keepalived-ts or the
// real keepalived) in network namespaces, with real raw sockets, VIPs, ARP and TCP, and the
// scenario's faults are applied to them for real (signals, bridge ports, netem, files, SIGHUP).
//
// Topology: a switch namespace holds one bridge per segment; every node, real server, client and
// VIP probe has its own namespace with one veth per segment it joins, the inside end named as the
// configuration expects (eth0...). A partition moves the groups' bridge ports onto per-group
// bridges, which reach the rest of the segment but not each other.
//
// What is recorded, on performance.now() from the moment every daemon was started (the zero of
// the scenario's fault times): state transitions from the daemons' logs, notify scripts from a
// lab-owned notify script, client requests, the real servers' in-service changes from the
// checkers' logs, and once a second whether each VIP answers ping and which nodes hold it.
//
// Our daemons start first and the real keepalived once they have loaded their configurations,
// so that every VRRP timer starts at about the same moment (as on sim): a head start of a few
// 100 ms of Node start-up would otherwise decide the first election.
//
// Where a node namespace differs from a bare host: net.ipv4.ip_nonlocal_bind=1, so that our load
// balancer can listen on the VIP while BACKUP; and without kernel IPVS (no ip_vs module) the
// real keepalived runs VRRP only (-P), since its checker process would exit and take VRRP along.
//
// Every namespace, process and file belongs to a NetnsHost (host.ts), which removes them
// on every exit path.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import type { Fault, LabNode, Micros, Scenario, Segment } from '../model/scenario.js';
import { emptyRun, type LabFaultRecord, type LabRun, type LabState, type LabTransition } from '../model/result.js';
import { NetnsHost, keepalivedCapability, netemCapability, netnsCapability, poll, run, runOk, type OutputLine, type Proc } from './host.js';
import { labConfig, type LabConfig } from './config.js';
import { CLIENT_MJS, NOTIFY_SH, SERVER_MJS } from './scripts.js';
import { faultText } from '../model/fault-text.js';

export interface NetnsOptions {
  /** Progress and diagnostics, one line at a time. */
  log?: (line: string) => void;
  /** The real keepalived (default: `keepalived` on PATH). */
  keepalivedBin?: string;
  /** Our daemon's bundle (default: dist/keepalived-ts.mjs of this package). */
  daemonBin?: string;
}

/** What the netns backend records: LabRun with its optional parts always there. */
export type NetnsRun = LabRun & Required<Pick<LabRun, 'vips' | 'priorities'>>;

/** Client request timeout: short, so that a request to a dead director fails within its second. */
const REQUEST_TIMEOUT_MS = 800;
/** /proc/uptime's resolution: it prints centiseconds, truncated. */
const UPTIME_TICK_MS = 10;

/** dist/keepalived-ts.mjs from wherever this module runs: the bundle itself, dist/lab/netns/, src/lab/netns/. */
function findDaemonBin(): string | undefined {
  for (const rel of ['./keepalived-ts.mjs', '../../keepalived-ts.mjs', '../../../dist/keepalived-ts.mjs']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Names usable as file names (node names come from the scenario). */
const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

const ipToInt = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** Everything the lab can check before creating anything: what is missing, exactly. */
function checkCapabilities(scenario: Scenario, opts: NetnsOptions): { daemonBin?: string } {
  const ns = netnsCapability();
  if (!ns.ok) throw new Error(`netns backend: ${ns.reason}`);
  const out: { daemonBin?: string } = {};
  if (scenario.nodes.some((n) => n.impl === 'keepalived')) {
    const ka = keepalivedCapability(opts.keepalivedBin);
    if (!ka.ok) throw new Error(`netns backend: node(s) ${scenario.nodes.filter((n) => n.impl === 'keepalived').map((n) => n.name).join(', ')} run the real keepalived, but ${ka.reason}`);
  }
  if (scenario.nodes.some((n) => n.impl === 'keepalived-ts')) {
    out.daemonBin = opts.daemonBin ?? findDaemonBin();
    if (!out.daemonBin || !existsSync(out.daemonBin)) throw new Error(`netns backend: our daemon's bundle ${opts.daemonBin ?? 'dist/keepalived-ts.mjs'} does not exist; run npm run build`);
  }
  const link = scenario.faults.find((f) => f.kind === 'link');
  if (link) {
    const cap = netemCapability();
    if (!cap.ok) throw new Error(`netns backend: the link fault at ${link.span.file}:${link.span.line} needs tc netem, but ${cap.reason}`);
  }
  if (scenario.expectations.some((e) => e.kind === 'vip') && spawnSync('ping', ['-V']).error) throw new Error('netns backend: vip expectations need ping (apt-get install iputils-ping)');
  return out;
}

interface NodeRt {
  node: LabNode;
  ns: string;
  dir: string;
  conf: LabConfig;
  confFile: string;
  proc?: Proc;
  /** Why the current process is going away (set by kill/stop faults), for the STOPPED transition;
   * `mono` when that moment is the signal rather than the exit (SIGKILL: no last words). */
  ending?: { why: string; mono?: number };
  states: Map<string, LabState>;
  /** Effective priority per instance: our daemon logs it; keepalived's starts at the config
   * priority and follows its "Changing effective priority" lines. */
  prio: Map<string, number>;
  /** keepalived: the last log line about each instance since its last transition ('' for any
   * other line, used when recent), as the reason of the next one. */
  lastLine: Map<string, { text: string; mono: number }>;
  /** Inside interface name per segment. */
  ifaces: Map<string, string>;
}

interface SegRt {
  seg: Segment;
  bridge: string;
  /** Endpoint (node, real server, client, probe) name -> its port on the bridge. */
  ports: Map<string, string>;
  /** While partitioned: a bridge per group, and its uplink (an isolated port on `bridge`). */
  groupBridges: string[];
  uplinks: string[];
}

interface EndpointRt {
  name: string;
  ns: string;
  proc?: Proc;
}

export async function runNetns(scenario: Scenario, opts: NetnsOptions = {}): Promise<NetnsRun> {
  const { daemonBin } = checkCapabilities(scenario, opts);
  const host = NetnsHost.create();
  const lab = new NetnsLab(scenario, host, opts, daemonBin);
  try {
    return await lab.run();
  } finally {
    await lab.stopRecording();
    await host.teardown(2000);
    opts.log?.(`netns: ${host.id} removed`);
  }
}

class NetnsLab {
  private readonly log: (line: string) => void;
  private readonly wallStart = performance.now();
  /** performance.now() of the scenario's zero; until then everything is stamped 0. */
  private t0 = Number.NaN;
  private recording = true;
  /** /proc/uptime ms minus performance.now() ms, taken at a tick edge, to place notify lines on
   * our clock. */
  private uptimeOffset = 0;
  private switchNs = '';
  private readonly nodes = new Map<string, NodeRt>();
  private readonly segments = new Map<string, SegRt>();
  private readonly servers = new Map<string, EndpointRt>();
  private readonly clients: EndpointRt[] = [];
  /** Segment name -> namespace of its VIP probe. */
  private readonly probes = new Map<string, string>();
  private portCount = 0;
  private readonly out: NetnsRun;
  private readonly buckets = new Map<string, NetnsRun['requests'][number]>();
  private vipLoop?: Promise<void>;

  constructor(
    private readonly scenario: Scenario,
    private readonly host: NetnsHost,
    private readonly opts: NetnsOptions,
    private readonly daemonBin: string | undefined,
  ) {
    this.log = opts.log ?? (() => undefined);
    this.out = emptyRun(scenario, 'netns');
  }

  /** µs from the scenario's zero. */
  private at(mono: number): Micros {
    return Number.isNaN(this.t0) ? 0 : Math.max(0, Math.round((mono - this.t0) * 1000));
  }

  /** Stop recording and sampling (the sampler finishes its current round first). */
  async stopRecording(): Promise<void> {
    this.recording = false;
    await this.vipLoop?.catch(() => undefined);
  }

  async run(): Promise<NetnsRun> {
    this.log(`netns: lab ${this.host.id} in ${this.host.dir}`);
    await this.buildTopology();
    this.writeFiles();
    for (const s of this.scenario.realServers) if (s.up) await this.startServer(s.name);
    await this.startDaemons();
    this.t0 = performance.now();
    this.uptimeOffset = this.uptimeEdgeOffset();
    // As on sim, a client starts once its VIP has been announced (a node became MASTER of an
    // instance with that address on the client's segment); one aiming elsewhere starts now.
    for (const c of this.scenario.clients) if (!this.announcing(c).length) this.startClient(c);
    this.vipLoop = this.sampleVips();

    for (const [index, fault] of this.scenario.faults.entries()) {
      await this.sleepUntil(fault.at);
      const record: LabFaultRecord = { at: this.at(performance.now()), index, text: faultText(fault) };
      this.log(`netns: ${(record.at / 1e6).toFixed(3)}s ${record.text}`);
      await this.apply(fault);
      this.out.faults.push(record);
    }
    await this.sleepUntil(this.scenario.duration);
    await this.stopRecording();
    this.collectNotifies();
    this.out.requests = [...this.buckets.values()].sort((a, b) => a.second - b.second || a.client.localeCompare(b.client));
    this.out.transitions.sort((a, b) => a.at - b.at);
    this.out.wallMs = Math.round(performance.now() - this.wallStart);
    return this.out;
  }

  private sleepUntil(at: Micros): Promise<void> {
    const ms = this.t0 + at / 1000 - performance.now();
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
  }

  // ---------------------------------------------------------------------------------------------
  // Topology

  private async buildTopology(): Promise<void> {
    const ip = (args: string[]) => runOk('ip', args);
    this.switchNs = await this.host.addNamespace('sw');
    for (const [i, seg] of this.scenario.segments.entries()) {
      const bridge = `b${i}`;
      await this.addBridge(bridge);
      this.segments.set(seg.name, { seg, bridge, ports: new Map(), groupBridges: [], uplinks: [] });
    }
    const inside: { ns: string; ifname: string }[] = [];
    const attach = async (segName: string, endpoint: string, ns: string, ifname: string, address: string, prefix: number): Promise<void> => {
      const seg = this.segments.get(segName);
      if (!seg) throw new Error(`netns backend: ${endpoint} is on segment ${segName}, which the scenario does not define`);
      const port = `p${++this.portCount}`;
      await ip(['-n', this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
      await ip(['-n', this.switchNs, 'link', 'set', port, 'master', seg.bridge, 'up']);
      await ip(['-n', ns, 'addr', 'add', `${address}/${prefix}`, 'dev', ifname]);
      await ip(['-n', ns, 'link', 'set', ifname, 'up']);
      seg.ports.set(endpoint, port);
      inside.push({ ns, ifname });
    };

    for (const [i, node] of this.scenario.nodes.entries()) {
      const ns = await this.host.addNamespace(`n${i + 1}`);
      this.log(`netns: node ${node.name} (${node.impl}) in ${ns}`);
      // Our load balancer listens on the VIP while BACKUP too (as haproxy setups do).
      await this.host.exec(ns, ['sysctl', '-qw', 'net.ipv4.ip_nonlocal_bind=1']);
      const dir = join(this.host.dir, safe(node.name));
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o755);
      const rt: NodeRt = { node, ns, dir, conf: this.rewrite(node.config, dir, node), confFile: join(dir, 'keepalived.conf'), states: new Map(), prio: new Map(), lastLine: new Map(), ifaces: new Map() };
      for (const inst of rt.conf.instances) rt.prio.set(inst.name, inst.priority);
      this.nodes.set(node.name, rt);
      this.out.nodes.push({ name: node.name, impl: node.impl, instances: rt.conf.instances.map(({ name, vrid, interface: ifname }) => ({ name, vrid, interface: ifname })) });
    }
    for (const seg of this.scenario.segments) {
      for (const m of seg.members) {
        const rt = this.nodes.get(m.node);
        if (!rt) throw new Error(`netns backend: segment ${seg.name} names node ${m.node}, which the scenario does not define`);
        await attach(seg.name, m.node, rt.ns, m.interface, m.address, seg.prefix);
        rt.ifaces.set(seg.name, m.interface);
      }
    }
    for (const rt of this.nodes.values()) {
      for (const inst of rt.conf.instances) {
        if (![...rt.ifaces.values()].includes(inst.interface)) this.log(`netns: warning: ${rt.node.name}'s ${inst.name} uses interface ${inst.interface}, which no segment gives it`);
      }
    }
    for (const [i, rs] of this.scenario.realServers.entries()) {
      const ns = await this.host.addNamespace(`r${i + 1}`);
      await attach(rs.segment, rs.name, ns, 'eth0', rs.address, this.segments.get(rs.segment)?.seg.prefix ?? 24);
      this.servers.set(rs.name, { name: rs.name, ns });
    }
    for (const [i, c] of this.scenario.clients.entries()) {
      const ns = await this.host.addNamespace(`c${i + 1}`);
      await attach(c.segment, c.name, ns, 'eth0', this.freeAddress(c.segment), this.segments.get(c.segment)?.seg.prefix ?? 24);
      // The target may be outside the segment's subnet: reach it on the link (ARP finds the master).
      await ip(['-n', ns, 'route', 'replace', `${c.target.address}/32`, 'dev', 'eth0']);
      this.clients.push({ name: c.name, ns });
    }
    for (const [segName, vips] of this.vipsBySegment()) {
      const ns = await this.host.addNamespace(`v${this.probes.size + 1}`);
      await attach(segName, `probe:${segName}`, ns, 'eth0', this.freeAddress(segName), this.segments.get(segName)!.seg.prefix);
      for (const vip of vips) await ip(['-n', ns, 'route', 'replace', `${vip}/32`, 'dev', 'eth0']);
      this.probes.set(segName, ns);
    }
    // veth carrier comes up asynchronously; keepalived starts in FAULT without it.
    for (const x of inside) await this.host.waitUp(x.ns, x.ifname);
  }

  private async addBridge(name: string): Promise<void> {
    const ip = (args: string[]) => runOk('ip', args);
    await ip(['-n', this.switchNs, 'link', 'add', name, 'type', 'bridge']);
    // VRRP's 224.0.0.18 is flooded anyway; no snooping keeps every other group simple too.
    await ip(['-n', this.switchNs, 'link', 'set', name, 'type', 'bridge', 'mcast_snooping', '0']);
    await ip(['-n', this.switchNs, 'link', 'set', name, 'up']);
  }

  /** IPv4 VIPs per segment: an instance's VIPs live on the segment of its interface. */
  private vipsBySegment(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const rt of this.nodes.values()) {
      for (const inst of rt.conf.instances) {
        const seg = [...rt.ifaces].find(([, ifname]) => ifname === inst.interface)?.[0];
        if (!seg) continue;
        const list = out.get(seg) ?? [];
        for (const v of inst.vips) if (!list.includes(v)) list.push(v);
        out.set(seg, list);
      }
    }
    for (const [k, v] of out) if (!v.length) out.delete(k);
    return out;
  }

  /** The highest host address of the segment's subnet that nobody uses (clients and probes). */
  private usedAddresses = new Set<string>();
  private freeAddress(segName: string): string {
    const seg = this.segments.get(segName)?.seg;
    if (!seg || !seg.members.length) throw new Error(`netns backend: segment ${segName} has no members to take a subnet from`);
    if (!this.usedAddresses.size) {
      for (const s of this.scenario.segments) for (const m of s.members) this.usedAddresses.add(m.address);
      for (const r of this.scenario.realServers) this.usedAddresses.add(r.address);
      for (const rt of this.nodes.values()) for (const i of rt.conf.instances) for (const v of i.vips) this.usedAddresses.add(v);
      for (const c of this.scenario.clients) this.usedAddresses.add(c.target.address);
    }
    const size = 2 ** (32 - seg.prefix);
    const net = ipToInt(seg.members[0].address) - (ipToInt(seg.members[0].address) % size);
    for (let a = net + size - 2; a > net; a--) {
      const ip = intToIp(a);
      if (!this.usedAddresses.has(ip)) {
        this.usedAddresses.add(ip);
        return ip;
      }
    }
    throw new Error(`netns backend: no free address left in ${intToIp(net)}/${seg.prefix} for the lab's clients and probes`);
  }

  // ---------------------------------------------------------------------------------------------
  // Files and processes

  private rewrite(config: { file: string; text?: string }, dir: string, node: LabNode): LabConfig {
    const text = config.text ?? readFileSync(config.file, 'utf8');
    return labConfig(text, config.file, { dir, notify: `/bin/sh ${join(this.host.dir, 'notify.sh')} ${join(dir, 'notify.log')}`, configId: node.configId });
  }

  private writeFiles(): void {
    writeFileSync(join(this.host.dir, 'notify.sh'), NOTIFY_SH, { mode: 0o755 });
    writeFileSync(join(this.host.dir, 'server.mjs'), SERVER_MJS, { mode: 0o644 });
    writeFileSync(join(this.host.dir, 'client.mjs'), CLIENT_MJS, { mode: 0o644 });
    for (const rt of this.nodes.values()) {
      // Scripts may run as script_user: everything they touch is readable, the log writable.
      writeFileSync(join(rt.dir, 'notify.log'), '');
      chmodSync(join(rt.dir, 'notify.log'), 0o666);
      this.writeConfig(rt);
      for (const t of rt.conf.trackFiles.values()) if (!t.init && !existsSync(t.path)) writeFileSync(t.path, '0\n', { mode: 0o644 });
    }
  }

  private writeConfig(rt: NodeRt): void {
    writeFileSync(rt.confFile, rt.conf.text, { mode: 0o644 });
  }

  /**
   * Start every daemon so that their VRRP timers start together, as on sim: our daemon needs
   * about half a second of Node start-up (more with several on 2 cores), keepalived a few ms,
   * and a head start decides who wins the first master election. So ours first, in parallel,
   * until each has loaded its configuration; then keepalived.
   */
  private async startDaemons(): Promise<void> {
    const ours = [...this.nodes.values()].filter((rt) => rt.node.impl === 'keepalived-ts');
    for (const rt of ours) this.startDaemon(rt);
    for (const rt of ours) {
      const proc = rt.proc!;
      const started = await poll(() => (proc.lines.some((l) => l.text.includes('Starting keepalived-ts')) ? 'ready' : !proc.running && 'exited'), {
        timeoutMs: 20_000,
        what: `${rt.node.name}'s daemon to start`,
        diagnose: () => proc.tail(15),
      });
      if (started === 'exited') throw new Error(`netns backend: ${rt.node.name}'s daemon exited at start (${proc.signalCode ?? `code ${proc.exitCode}`})\n${proc.tail(15)}`);
    }
    for (const rt of this.nodes.values()) if (rt.node.impl === 'keepalived') this.startDaemon(rt);
  }

  private startDaemon(rt: NodeRt): void {
    const id = rt.node.configId ? ['-i', rt.node.configId] : [];
    const pid = (n: string) => join(rt.dir, n);
    let argv: string[];
    if (rt.node.impl === 'keepalived') {
      argv = [this.opts.keepalivedBin ?? 'keepalived', '-n', '-l', '-D', '-f', rt.confFile, '-p', pid('keepalived.pid'), '-r', pid('vrrp.pid'), '-c', pid('checkers.pid'), ...id];
      // Without kernel IPVS in the namespace keepalived's checker process exits fatally and
      // takes VRRP down with it: run VRRP only then, and say so.
      if (rt.conf.config.virtualServers.length && !this.ipvsAvailable(rt.ns)) {
        argv.push('-P');
        this.log(`netns: ${rt.node.name}: no kernel IPVS here (ip_vs), so keepalived runs VRRP only (-P): its virtual servers are not set up`);
      }
    } else {
      argv = [process.execPath, this.daemonBin!, '-f', rt.confFile, '-n', '-l', '-D', '-p', pid('keepalived.pid'), '-r', pid('vrrp.pid'), ...id];
    }
    rt.ending = undefined;
    const proc = this.host.spawn(rt.ns, argv, {
      name: `${rt.node.name} (${rt.node.impl})`,
      group: true,
      cwd: rt.dir,
      // One filesystem for all namespaces: each daemon gets its own control socket.
      env: { ...process.env, KEEPALIVED_TS_CONTROL: join(rt.dir, 'control.sock') },
      onLine: (line) => (rt.node.impl === 'keepalived' ? this.keepalivedLine(rt, line) : this.ourLine(rt, line)),
    });
    rt.proc = proc;
    void proc.exited.then(({ code, signal }) => {
      if (rt.proc !== proc) return;
      const mono = rt.ending?.mono ?? performance.now();
      const why = rt.ending?.why ?? `daemon exited (${signal ?? `code ${code}`})`;
      if (!rt.ending && this.recording) this.log(`netns: ${rt.node.name} exited unexpectedly (${signal ?? `code ${code}`})\n${proc.tail(15)}`);
      for (const inst of rt.conf.instances) this.transition(rt, inst.name, 'STOPPED', undefined, why, mono);
    });
  }

  private ipvsAvailable(ns: string): boolean {
    return spawnSync('ip', ['netns', 'exec', ns, 'test', '-e', '/proc/net/ip_vs']).status === 0;
  }

  private transition(rt: NodeRt, instance: string, to: LabState, priority: number | undefined, reason: string, mono: number): void {
    if (!this.recording) return;
    const from = rt.states.get(instance) ?? 'INIT';
    if (from === to) return;
    rt.states.set(instance, to);
    if (priority !== undefined) rt.prio.set(instance, priority);
    const t: LabTransition = { at: this.at(mono), node: rt.node.name, instance, from, to, priority: priority ?? rt.prio.get(instance) ?? 0, reason };
    this.out.transitions.push(t);
    if (to === 'MASTER') {
      for (const c of this.scenario.clients) {
        if (!this.clients.find((e) => e.name === c.name)?.proc && this.announcing(c).some((x) => x.node === rt && x.instance === instance)) this.startClient(c);
      }
    }
  }

  /** The (node, instance) pairs whose MASTER announces a client's target on its segment. */
  private announcing(c: Scenario['clients'][number]): { node: NodeRt; instance: string }[] {
    const out: { node: NodeRt; instance: string }[] = [];
    for (const rt of this.nodes.values()) {
      for (const inst of rt.conf.instances) if (inst.vips.includes(c.target.address) && rt.ifaces.get(c.segment) === inst.interface) out.push({ node: rt, instance: inst.name });
    }
    return out;
  }

  /** Both daemons log "(VI_1) Changing effective priority from 150 to 90" (tracker weights). */
  private priorityLine(rt: NodeRt, text: string, mono: number): void {
    const m = /\(([^)\s]+)\) Changing effective priority from \d+ to (\d+)/.exec(text);
    if (!m) return;
    rt.prio.set(m[1], Number(m[2]));
    if (this.recording) this.out.priorities.push({ at: this.at(mono), node: rt.node.name, instance: m[1], priority: Number(m[2]) });
  }

  /** Our daemon: pino JSON lines; transitions carry vrrp, state, priority and reason. */
  private ourLine(rt: NodeRt, line: OutputLine): void {
    let j: { vrrp?: string; state?: string; priority?: number; reason?: string; msg?: string };
    try {
      j = JSON.parse(line.text) as typeof j;
    } catch {
      return;
    }
    if (j.vrrp && j.state && isState(j.state)) this.transition(rt, j.vrrp, j.state, j.priority, j.reason ?? j.msg ?? '', line.mono);
    if (j.msg) {
      this.priorityLine(rt, j.msg, line.mono);
      this.serverLine(rt, j.msg, line.mono);
    }
  }

  /** keepalived: "(VI_1) Entering MASTER STATE" and friends on its console log. */
  private keepalivedLine(rt: NodeRt, line: OutputLine): void {
    const text = line.text.replace(/^\w{3} \w{3} [ \d]\d [\d:]{8} \d{4}: /, '');
    const entering = /^\(([^)\s]+)\) Entering (\w+) STATE/.exec(text);
    if (entering) {
      const inst = entering[1];
      // keepalived gives no reason; its last line about the instance, or a more recent one about
      // anything ("Netlink reports eth0 down"), usually is one.
      const own = rt.lastLine.get(inst);
      const general = rt.lastLine.get('');
      const recent = general && line.mono - general.mono < 1000 && (!own || general.mono > own.mono) ? general : own;
      const reason = (rt.states.get(inst) ?? 'INIT') === 'INIT' ? 'start-up' : (recent?.text ?? '');
      if (isState(entering[2])) this.transition(rt, inst, entering[2], undefined, reason, line.mono);
      rt.lastLine.delete(inst);
      return;
    }
    // keepalived logs priorities only when they change; until then the config priority.
    this.priorityLine(rt, text, line.mono);
    const about = /^\(([^)\s]+)\) (.*)$/.exec(text);
    rt.lastLine.set(about?.[1] ?? '', { text: about?.[2] ?? text, mono: line.mono });
    this.serverLine(rt, text, line.mono);
  }

  /** Both checkers: "Adding service [ADDR]:(tcp:)PORT to VS", "Removing service ... from VS". */
  private serverLine(rt: NodeRt, text: string, mono: number): void {
    const m = /(Adding|Removing) service \[([^\]]+)\]:(?:tcp:|udp:)?(\d+) (?:to|from) VS(?:.*\((.*)\))?/.exec(text);
    if (!m || !this.recording) return;
    const rs = this.scenario.realServers.find((s) => s.address === m[2] && s.port === Number(m[3]));
    this.out.servers.push({ at: this.at(mono), node: rt.node.name, server: rs?.name ?? `${m[2]}:${m[3]}`, inService: m[1] === 'Adding', reason: m[4] ?? text.trim() });
  }

  private async startServer(name: string): Promise<void> {
    const s = this.servers.get(name)!;
    if (s.proc?.running) return;
    const rs = this.scenario.realServers.find((r) => r.name === name)!;
    s.proc = this.host.spawn(s.ns, [process.execPath, join(this.host.dir, 'server.mjs'), rs.address, String(rs.port), rs.body], { name: `real server ${name}` });
    await s.proc.waitForLine(/^listening$/, { timeoutMs: 5000 });
  }

  private startClient(c: Scenario['clients'][number]): void {
    const e = this.clients.find((x) => x.name === c.name)!;
    const bodies = new Map(this.scenario.realServers.map((r) => [r.body, r.name]));
    e.proc = this.host.spawn(e.ns, [process.execPath, join(this.host.dir, 'client.mjs'), c.target.address, String(c.target.port), String(c.rate), String(REQUEST_TIMEOUT_MS)], {
      name: `client ${c.name}`,
      onLine: (line) => {
        if (!this.recording) return;
        let r: { ms: number; ok: boolean; body?: string; error?: string };
        try {
          r = JSON.parse(line.text) as typeof r;
        } catch {
          return;
        }
        // Bucketed by when the request started.
        const start = this.at(line.mono - r.ms);
        if (start >= this.scenario.duration) return;
        const second = Math.floor(start / 1e6);
        const key = `${c.name}\0${second}`;
        let b = this.buckets.get(key);
        if (!b) this.buckets.set(key, (b = { client: c.name, second, ok: 0, failed: 0, byServer: {}, failures: {} }));
        if (r.ok) {
          b.ok++;
          const server = bodies.get(r.body ?? '') ?? r.body ?? '?';
          b.byServer[server] = (b.byServer[server] ?? 0) + 1;
        } else {
          b.failed++;
          const why = r.error ?? 'failed';
          b.failures![why] = (b.failures![why] ?? 0) + 1;
        }
      },
    });
  }

  /** Once a second per VIP: ping from its segment's probe, and which nodes have it configured. */
  private async sampleVips(): Promise<void> {
    const vips = [...this.vipsBySegment()].flatMap(([segment, list]) => list.map((address) => ({ segment, address })));
    if (!vips.length) return;
    if (spawnSync('ping', ['-V']).error) {
      this.log('netns: ping is not installed: VIP reachability is not sampled');
      return;
    }
    for (let tick = 0; this.recording; tick++) {
      const mono = performance.now();
      const held = new Map<string, string[]>();
      await Promise.all(
        [...this.nodes.values()].map(async (rt) => {
          const r = await run('ip', ['-n', rt.ns, '-4', '-o', 'addr', 'show']);
          for (const m of r.stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)) held.set(m[1], [...(held.get(m[1]) ?? []), rt.node.name]);
        }),
      );
      // A short wait, so that a reply means "answering now", not "within the next second".
      const pings = await Promise.all(vips.map((v) => this.host.exec(this.probes.get(v.segment)!, ['ping', '-c', '1', '-W', '0.5', '-n', '-q', v.address], { timeoutMs: 3000 })));
      if (!this.recording) break;
      vips.forEach((v, i) => this.out.vips.push({ at: this.at(mono), address: v.address, segment: v.segment, reachable: pings[i].code === 0, holders: [...(held.get(v.address) ?? [])].sort() }));
      const next = this.t0 + (tick + 1) * 1000 - performance.now();
      if (next > 0) await new Promise((r) => setTimeout(r, next));
    }
  }

  private readUptimeMs(): number {
    return Number.parseFloat(readFileSync('/proc/uptime', 'utf8')) * 1000;
  }

  /**
   * /proc/uptime counts in truncated 10 ms ticks. Read at a random moment, it would set the
   * offset up to a tick late, and a notify run within a tick of its fault could be placed before
   * it. So wait (at most two ticks) for the value to change: at that moment it is exact.
   */
  private uptimeEdgeOffset(): number {
    const first = this.readUptimeMs();
    const give = performance.now() + 2 * UPTIME_TICK_MS;
    for (;;) {
      const now = performance.now();
      const up = this.readUptimeMs();
      if (up !== first || now > give) return up - now;
    }
  }

  /** notify.log lines: "UPTIME TYPE NAME STATE PRIORITY". */
  private collectNotifies(): void {
    for (const rt of this.nodes.values()) {
      const file = join(rt.dir, 'notify.log');
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      for (const line of text.split('\n')) {
        const m = /^(\d+(?:\.\d+)?) (INSTANCE|GROUP) (\S+) (\S+) (\d+)$/.exec(line.trim());
        if (!m) continue;
        // The script ran within the tick that starts at its reading: place it at the tick's end,
        // so that it is never earlier than the fault that made it run (at most a tick late).
        const at = this.at(Number(m[1]) * 1000 + UPTIME_TICK_MS - this.uptimeOffset);
        if (at > this.scenario.duration) continue;
        this.out.notifies.push({ at, node: rt.node.name, kind: m[2] as 'INSTANCE' | 'GROUP', name: m[3], state: m[4], priority: Number(m[5]) });
      }
    }
    this.out.notifies.sort((a, b) => a.at - b.at);
  }

  // ---------------------------------------------------------------------------------------------
  // Faults

  private node(name: string): NodeRt {
    const rt = this.nodes.get(name);
    if (!rt) throw new Error(`netns backend: no node ${name}`);
    return rt;
  }

  private async apply(f: Fault): Promise<void> {
    const ip = (args: string[]) => runOk('ip', args);
    switch (f.kind) {
      case 'kill': {
        const rt = this.node(f.node);
        rt.ending = { why: 'killed (SIGKILL)', mono: performance.now() };
        rt.proc?.signal('SIGKILL');
        await rt.proc?.exited;
        return;
      }
      case 'stop': {
        const rt = this.node(f.node);
        rt.ending = { why: 'stopped (SIGTERM)' };
        await rt.proc?.kill('SIGTERM', 5000);
        return;
      }
      case 'start': {
        const rt = this.node(f.node);
        if (rt.proc?.running) throw new Error(`netns backend: start ${f.node} at ${f.span.file}:${f.span.line}: it is running`);
        // A SIGKILLed daemon left its VIPs behind (as on a real host); the new one starts clean.
        this.startDaemon(rt);
        return;
      }
      case 'partition': {
        // Each group gets its own bridge, joined to the segment's by an uplink that is an
        // isolated port there: isolated ports do not forward to each other, so the groups are
        // cut off from one another while everyone left on the segment's bridge (clients, real
        // servers, the VIP probe) still reaches every group, as on sim.
        const seg = this.segment(f.segment);
        await this.heal(seg);
        for (const [gi, group] of f.groups.entries()) {
          const bridge = `${seg.bridge}g${gi}`;
          const up = `${seg.bridge}u${gi}`;
          const down = `${seg.bridge}d${gi}`;
          await this.addBridge(bridge);
          seg.groupBridges.push(bridge);
          await ip(['-n', this.switchNs, 'link', 'add', up, 'type', 'veth', 'peer', 'name', down]);
          seg.uplinks.push(up);
          await ip(['-n', this.switchNs, 'link', 'set', down, 'master', bridge, 'up']);
          await ip(['-n', this.switchNs, 'link', 'set', up, 'master', seg.bridge, 'up']);
          await runOk('ip', ['netns', 'exec', this.switchNs, 'bridge', 'link', 'set', 'dev', up, 'isolated', 'on']);
          for (const name of group) {
            const port = seg.ports.get(name);
            if (!port) throw new Error(`netns backend: partition of ${f.segment}: ${name} is not on that segment`);
            await ip(['-n', this.switchNs, 'link', 'set', port, 'master', bridge]);
          }
        }
        return;
      }
      case 'heal':
        return this.heal(this.segment(f.segment));
      case 'link': {
        const rt = this.node(f.node);
        const ifname = rt.ifaces.get(f.segment);
        const port = this.segment(f.segment).ports.get(f.node);
        if (!ifname || !port) throw new Error(`netns backend: ${f.node} is not on segment ${f.segment}`);
        // loss and duplicate are fractions (0..1), delay µs; nothing set clears the link.
        const netem = [
          ...(f.loss ? ['loss', `${f.loss * 100}%`] : []),
          ...(f.delay ? ['delay', `${f.delay / 1000}ms`] : []),
          ...(f.duplicate ? ['duplicate', `${f.duplicate * 100}%`] : []),
        ];
        for (const [ns, dev] of [[rt.ns, ifname], [this.switchNs, port]]) {
          if (netem.length) await runOk('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'netem', ...netem]);
          else await run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', dev, 'root']);
        }
        return;
      }
      case 'script': {
        const rt = this.node(f.node);
        const fail = rt.conf.scripts.get(f.script);
        if (!fail) throw new Error(`netns backend: ${f.node} has no vrrp_script ${f.script} (it has: ${[...rt.conf.scripts.keys()].join(', ') || 'none'})`);
        if (f.ok) rmSync(fail, { force: true });
        else writeFileSync(fail, '', { mode: 0o644 });
        return;
      }
      case 'file': {
        const rt = this.node(f.node);
        const t = rt.conf.trackFiles.get(f.file) ?? [...rt.conf.trackFiles.values()].find((x) => x.original === f.file);
        if (!t) throw new Error(`netns backend: ${f.node} has no track_file ${f.file}`);
        writeFileSync(t.path, `${f.value}\n`, { mode: 0o644 });
        return;
      }
      case 'interface': {
        const rt = this.node(f.node);
        await ip(['-n', rt.ns, 'link', 'set', f.interface, f.up ? 'up' : 'down']);
        return;
      }
      case 'server': {
        const s = this.servers.get(f.server);
        if (!s) throw new Error(`netns backend: no real server ${f.server}`);
        if (f.up) await this.startServer(f.server);
        else await s.proc?.kill('SIGTERM', 2000);
        return;
      }
      case 'reload': {
        const rt = this.node(f.node);
        const next = this.rewrite(f.config, rt.dir, rt.node);
        rt.conf = { ...next, scripts: new Map([...rt.conf.scripts, ...next.scripts]), trackFiles: new Map([...rt.conf.trackFiles, ...next.trackFiles]) };
        // keepalived reports no priority: assume the reloaded configuration's (ours logs its own).
        for (const inst of next.instances) if (rt.node.impl === 'keepalived' || !rt.prio.has(inst.name)) rt.prio.set(inst.name, inst.priority);
        for (const t of next.trackFiles.values()) if (!t.init && !existsSync(t.path)) writeFileSync(t.path, '0\n', { mode: 0o644 });
        this.writeConfig(rt);
        // The parent only: keepalived's parent tells its children to reload.
        if (rt.proc?.running && rt.proc.pid !== undefined) process.kill(rt.proc.pid, 'SIGHUP');
        return;
      }
    }
  }

  private segment(name: string): SegRt {
    const seg = this.segments.get(name);
    if (!seg) throw new Error(`netns backend: no segment ${name}`);
    return seg;
  }

  private async heal(seg: SegRt): Promise<void> {
    if (!seg.groupBridges.length) return;
    for (const port of seg.ports.values()) await runOk('ip', ['-n', this.switchNs, 'link', 'set', port, 'master', seg.bridge]);
    // Deleting one end of a veth deletes the pair.
    for (const l of [...seg.uplinks, ...seg.groupBridges]) await runOk('ip', ['-n', this.switchNs, 'link', 'del', l]);
    seg.groupBridges.length = 0;
    seg.uplinks.length = 0;
  }
}

function isState(s: string): s is LabState {
  return s === 'INIT' || s === 'BACKUP' || s === 'MASTER' || s === 'FAULT' || s === 'STOPPED';
}
