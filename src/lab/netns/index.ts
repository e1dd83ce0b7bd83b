// The lab's netns backend: the scenario's directors run as real daemons (our keepalived-ts or the
// real keepalived) in network namespaces, with real raw sockets, VIPs, ARP and TCP, and the
// scenario's faults are applied to them for real (signals, bridge ports, netem, files, SIGHUP).
//
// The parts: topology.ts wires the namespaces, processes.ts starts the daemons, real servers and
// clients, faults.ts applies the timeline, logs.ts reads what the processes print, uptime.ts and
// vip-sampler.ts are the clocks and samplers; this file runs them in order and records.
//
// What is recorded, on performance.now() from the moment every daemon was started (the zero of
// the scenario's fault times): state transitions from the daemons' logs, then timed from the
// wire where it shows them (wire-timeline.ts; the log's time kept beside), notify scripts from a
// lab-owned notify script, client requests, the real servers' in-service changes from the
// checkers' logs, once a second whether each VIP answers ping and which nodes hold it, and every
// VRRP advert each node sends, captured on its own interfaces (wire.ts); a graceful stop is
// timed from the wire, at the node's priority-0 advert, not at its process's exit. Our daemon's
// lines carry its own ms stamp; keepalived's console stamps whole seconds, so its lines are timed
// when the lab reads them.
//
// A fair start (start-gate.ts): every daemon, ours or keepalived, waits at a start gate, and the
// lab opens all the gates at one instant, the scenario's zero, so that every VRRP timer starts at
// about the same moment (as on sim): a head start of a few 100 ms of Node start-up would
// otherwise decide the first election. What is recorded before zero keeps its negative time.
//
// Where a node namespace differs from a bare host: net.ipv4.ip_nonlocal_bind=1, so that our load
// balancer can listen on the VIP while BACKUP; and without kernel IPVS (no ip_vs module) the
// real keepalived runs VRRP only (-P), since its checker process would exit and take VRRP along.
//
// Every namespace, process and file belongs to a NetnsHost (host.ts), which removes them
// on every exit path.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import type { LabNode, Micros, Scenario } from '../model/scenario.js';
import { emptyRun, type LabFaultRecord, type LabRun, type LabState, type LabTransition } from '../model/result.js';
import { NetnsHost, keepalivedCapability, netemCapability, netnsCapability, run, runOk, type OutputLine } from './host.js';
import { labConfig, type LabConfig } from './config.js';
import { CLIENT_MJS, NOTIFY_SH, SERVER_MJS } from './scripts.js';
import { faultText } from '../model/fault-text.js';
import { applyFault, type FaultTarget } from './faults.js';
import { KeepalivedLog, ourLineEpochMs, parseNotifyLog, parseRequestLine, readOurLine, type LogEvent } from './logs.js';
import { daemonArgv, ipvsAvailable, spawnDaemon, startClient, startServer, type EndpointRt, type NodeRt } from './processes.js';
import { awaitGates, makeGate, releaseGates } from './start-gate.js';
import { Topology, vipsBySegment } from './topology.js';
import { notifyMono, uptimeEdgeOffset } from './uptime.js';
import { sampleVips } from './vip-sampler.js';
import { captureArgv, epochEdgeOffset, parseAdvert, stopsFromWire, type StopWindow, type WireAdvert } from './wire.js';
import { timeFromWire, timingLine } from './wire-timeline.js';

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

/** dist/keepalived-ts.mjs from wherever this module runs: the bundle or one of its chunks (dist/chunks/), dist/lab/netns/, src/lab/netns/. */
function findDaemonBin(): string | undefined {
  for (const rel of ['./keepalived-ts.mjs', '../keepalived-ts.mjs', '../../keepalived-ts.mjs', '../../../dist/keepalived-ts.mjs']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Names usable as file names (node names come from the scenario). */
const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/** Everything the lab can check before creating anything: what is missing, exactly. */
function checkCapabilities(scenario: Scenario, opts: NetnsOptions): { daemonBin?: string } {
  const ns = netnsCapability();
  if (!ns.ok) throw new Error(`netns backend: ${ns.reason}`);
  const out: { daemonBin?: string } = {};
  if (scenario.nodes.some((n) => n.impl === 'keepalived')) {
    const ka = keepalivedCapability(opts.keepalivedBin);
    if (!ka.ok)
      throw new Error(
        `netns backend: node(s) ${scenario.nodes
          .filter((n) => n.impl === 'keepalived')
          .map((n) => n.name)
          .join(', ')} run the real keepalived, but ${ka.reason}`,
      );
  }
  if (scenario.nodes.some((n) => n.impl === 'keepalived-ts')) {
    out.daemonBin = opts.daemonBin ?? findDaemonBin();
    if (!out.daemonBin || !existsSync(out.daemonBin))
      throw new Error(`netns backend: our daemon's bundle ${opts.daemonBin ?? 'dist/keepalived-ts.mjs'} does not exist; run npm run build`);
  }
  // Not built on netns yet: say so rather than run something else than the scenario says.
  const proc = scenario.faults.find((f) => f.kind === 'process');
  if (proc)
    throw new Error(
      `netns backend: the process fault at ${proc.span.file}:${proc.span.line} has no stand-in processes on netns yet (network namespaces share the host's processes); run it on sim`,
    );
  const v6 = scenario.segments.find((s) => s.members.some((m) => m.address.includes(':')));
  if (v6) throw new Error(`netns backend: segment ${v6.name} is IPv6, which the netns lab does not wire yet; run it on sim`);
  const link = scenario.faults.find((f) => f.kind === 'link');
  if (link) {
    const cap = netemCapability();
    if (!cap.ok) throw new Error(`netns backend: the link fault at ${link.span.file}:${link.span.line} needs tc netem, but ${cap.reason}`);
  }
  if (scenario.expectations.some((e) => e.kind === 'vip') && spawnSync('ping', ['-V']).error)
    throw new Error('netns backend: vip expectations need ping (apt-get install iputils-ping)');
  return out;
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

class NetnsLab implements FaultTarget {
  private readonly log: (line: string) => void;
  private readonly wallStart = performance.now();
  /** performance.now() of the scenario's zero, the start gates' release; what is recorded before
   * it is stamped once it is known (stamp()). */
  private t0 = Number.NaN;
  private readonly early: { mono: number; rec: { at: Micros } }[] = [];
  private recording = true;
  /** /proc/uptime ms minus performance.now() ms, taken at a tick edge, to place notify lines on
   * our clock. */
  private uptimeOffset = 0;
  readonly topology: Topology;
  private readonly nodes = new Map<string, NodeRt>();
  readonly servers = new Map<string, EndpointRt>();
  private readonly clients: EndpointRt[] = [];
  /** Segment name -> namespace of its VIP probe. */
  private readonly probes = new Map<string, string>();
  private readonly out: NetnsRun;
  private readonly buckets = new Map<string, NetnsRun['requests'][number]>();
  private vipLoop?: Promise<void>;
  /** Whether ping is there to sample VIPs with (looked up before zero: spawnSync would stall the
   * lab's clock just when the daemons start). */
  private canPing = false;
  /** Adverts as captured (epoch stamps), whose and on which segment. */
  private readonly captured: (WireAdvert & { node: string; segment: string })[] = [];
  /** Date.now() minus performance.now(), at the scenario's zero and at its end (the two clocks
   * may drift apart by a few ppm under NTP): maps the capture's and our daemon's epoch stamps. */
  private readonly epochOffsets: { mono: number; offset: number }[] = [];
  /** Each node's first state after INIT, performance.now() ms (the start spread). */
  private readonly started = new Map<string, number>();
  /** Each node's first line after its gate opened (ours says so; keepalived's first line), ms. */
  private readonly opened = new Map<string, number>();
  /** When the lab's write to each gate returned, performance.now() ms. */
  private released = new Map<string, number>();
  /** Graceful stops: signalled and exited, performance.now() ms. */
  private readonly stops: { node: string; signalled: number; exited: number }[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly host: NetnsHost,
    private readonly opts: NetnsOptions,
    private readonly daemonBin: string | undefined,
  ) {
    this.log = opts.log ?? (() => undefined);
    this.out = emptyRun(scenario, 'netns');
    this.topology = new Topology(host);
  }

  /** µs from the scenario's zero; negative before it. */
  private at(mono: number): Micros {
    return Math.round((mono - this.t0) * 1000);
  }

  /** Give a record its time: now if the zero is known, else once it is. */
  private stamp<T extends { at: Micros }>(rec: T, mono: number): T {
    if (Number.isNaN(this.t0)) this.early.push({ mono, rec });
    else rec.at = this.at(mono);
    return rec;
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
    await this.startCaptures();
    this.canPing = !spawnSync('ping', ['-V']).error;
    await this.startDaemons();
    // As on sim, a client starts once its VIP has been announced (a node became MASTER of an
    // instance with that address on the client's segment); one aiming elsewhere starts now.
    for (const c of this.scenario.clients) if (!this.announcing(c).length) this.startClient(c);
    this.vipLoop = this.sampleVips();

    for (const [index, fault] of this.scenario.faults.entries()) {
      // A partition's bridges are built beforehand: at its time, only the ports move.
      const prepared = fault.kind === 'partition' ? await this.topology.preparePartition(fault.segment, fault.groups) : undefined;
      await this.sleepUntil(fault.at);
      const requestedAt = this.at(performance.now());
      const text = faultText(fault);
      const record: LabFaultRecord = { at: this.at(await applyFault(this, fault, prepared)), requestedAt, index, text };
      this.log(`netns: ${(requestedAt / 1e6).toFixed(3)}s ${text}, in effect at ${(record.at / 1e6).toFixed(3)}s`);
      this.out.faults.push(record);
    }
    await this.sleepUntil(this.scenario.duration);
    this.readEpochOffset();
    await this.stopRecording();
    this.collectNotifies();
    this.collectWire();
    this.collectStart();
    this.out.requests = [...this.buckets.values()].sort((a, b) => a.second - b.second || a.client.localeCompare(b.client));
    this.out.transitions.sort((a, b) => a.at - b.at);
    this.out.wallMs = Math.round(performance.now() - this.wallStart);
    return this.out;
  }

  private readEpochOffset(): void {
    const mono = performance.now();
    this.epochOffsets.push({
      mono,
      offset: epochEdgeOffset(
        () => performance.now(),
        () => Date.now(),
      ),
    });
  }

  /** performance.now() of an epoch stamp (ms), the offset interpolated between its readings. */
  private epochMono(epochMs: number): number {
    const [a, b] = [this.epochOffsets[0], this.epochOffsets.at(-1)!];
    const guess = epochMs - a.offset;
    const k = b.mono > a.mono ? (guess - a.mono) / (b.mono - a.mono) : 0;
    return epochMs - (a.offset + (b.offset - a.offset) * k);
  }

  /** Node's timers run on a cached, millisecond clock and can wake a fraction early: sleep again
   * for what is left, so a fault is never applied before its time. */
  private async sleepUntil(at: Micros): Promise<void> {
    for (let ms = this.t0 + at / 1000 - performance.now(); ms > 0; ms = this.t0 + at / 1000 - performance.now()) {
      await new Promise((r) => setTimeout(r, Math.ceil(ms)));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Topology (topology.ts)

  private async buildTopology(): Promise<void> {
    const topo = this.topology;
    await topo.createSwitch(this.scenario.segments);
    for (const [i, node] of this.scenario.nodes.entries()) {
      const ns = await this.host.addNamespace(`n${i + 1}`);
      this.log(`netns: node ${node.name} (${node.impl}) in ${ns}`);
      // Our load balancer listens on the VIP while BACKUP too (as haproxy setups do).
      await this.host.exec(ns, ['sysctl', '-qw', 'net.ipv4.ip_nonlocal_bind=1']);
      const dir = join(this.host.dir, safe(node.name));
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o755);
      const rt: NodeRt = {
        node,
        ns,
        dir,
        conf: this.rewrite(node.config, dir, node),
        confFile: join(dir, 'keepalived.conf'),
        states: new Map(),
        prio: new Map(),
        log: new KeepalivedLog(),
        ifaces: new Map(),
      };
      for (const inst of rt.conf.instances) rt.prio.set(inst.name, inst.priority);
      this.nodes.set(node.name, rt);
      this.out.nodes.push({
        name: node.name,
        impl: node.impl,
        instances: rt.conf.instances.map(({ name, vrid, interface: ifname }) => ({ name, vrid, interface: ifname })),
      });
    }
    for (const seg of this.scenario.segments) {
      for (const m of seg.members) {
        const rt = this.nodes.get(m.node);
        if (!rt) throw new Error(`netns backend: segment ${seg.name} names node ${m.node}, which the scenario does not define`);
        await topo.attach(seg.name, m.node, rt.ns, m.interface, m.address, seg.prefix);
        rt.ifaces.set(seg.name, m.interface);
      }
    }
    for (const rt of this.nodes.values()) {
      for (const inst of rt.conf.instances) {
        if (![...rt.ifaces.values()].includes(inst.interface))
          this.log(`netns: warning: ${rt.node.name}'s ${inst.name} uses interface ${inst.interface}, which no segment gives it`);
      }
    }
    for (const [i, rs] of this.scenario.realServers.entries()) {
      const ns = await this.host.addNamespace(`r${i + 1}`);
      await topo.attach(rs.segment, rs.name, ns, 'eth0', rs.address, topo.segments.get(rs.segment)?.seg.prefix ?? 24);
      this.servers.set(rs.name, { name: rs.name, ns });
    }
    // Clients and probes take the highest addresses nobody else uses.
    for (const s of this.scenario.segments) for (const m of s.members) topo.used.add(m.address);
    for (const r of this.scenario.realServers) topo.used.add(r.address);
    for (const rt of this.nodes.values()) for (const i of rt.conf.instances) for (const v of i.vips) topo.used.add(v);
    for (const c of this.scenario.clients) topo.used.add(c.target.address);
    const ip = (args: string[]) => runOk('ip', args);
    for (const [i, c] of this.scenario.clients.entries()) {
      const ns = await this.host.addNamespace(`c${i + 1}`);
      await topo.attach(c.segment, c.name, ns, 'eth0', topo.freeAddress(c.segment), topo.segments.get(c.segment)?.seg.prefix ?? 24);
      // The target may be outside the segment's subnet: reach it on the link (ARP finds the master).
      await ip(['-n', ns, 'route', 'replace', `${c.target.address}/32`, 'dev', 'eth0']);
      this.clients.push({ name: c.name, ns });
    }
    for (const [segName, vips] of vipsBySegment(this.nodes.values())) {
      const ns = await this.host.addNamespace(`v${this.probes.size + 1}`);
      await topo.attach(segName, `probe:${segName}`, ns, 'eth0', topo.freeAddress(segName), topo.segments.get(segName)!.seg.prefix);
      for (const vip of vips) await ip(['-n', ns, 'route', 'replace', `${vip}/32`, 'dev', 'eth0']);
      this.probes.set(segName, ns);
    }
    await topo.waitUp();
  }

  // ---------------------------------------------------------------------------------------------
  // Files and processes (processes.ts)

  rewrite(config: { file: string; text?: string }, dir: string, node: LabNode): LabConfig {
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

  writeConfig(rt: NodeRt): void {
    writeFileSync(rt.confFile, rt.conf.text, { mode: 0o644 });
  }

  /**
   * Start every daemon so that their VRRP timers start together, as on sim: our daemon needs
   * about half a second of Node start-up (more with several on 2 cores), keepalived a few ms,
   * and a head start decides who wins the first master election. So each waits at its start
   * gate, and once all wait the gates open together: that moment is the scenario's zero.
   */
  private async startDaemons(): Promise<void> {
    const gates = [...this.nodes.values()].map((rt) => {
      const path = join(rt.dir, 'start.gate');
      makeGate(path);
      this.startDaemon(rt, path);
      const proc = rt.proc!;
      return { node: rt.node.name, path, alive: () => proc.running, tail: () => proc.tail(15) };
    });
    const fds = await awaitGates(gates, 30_000);
    // The clock offsets first: their few ms of busy reading would delay the lines after zero.
    this.uptimeOffset = uptimeEdgeOffset();
    this.readEpochOffset();
    const t0 = performance.now();
    this.released = releaseGates(fds);
    this.t0 = t0;
    for (const { mono, rec } of this.early.splice(0)) rec.at = this.at(mono);
  }

  /** Start a node's daemon; with `gate`, held there until startDaemons opens it. */
  startDaemon(rt: NodeRt, gate?: string): void {
    // Without kernel IPVS in the namespace keepalived's checker process exits fatally and
    // takes VRRP down with it: run VRRP only then, and say so.
    const vrrpOnly = rt.node.impl === 'keepalived' && rt.conf.config.virtualServers.length > 0 && !ipvsAvailable(rt.ns);
    if (vrrpOnly) {
      const note = `${rt.node.name}: no kernel IPVS here (ip_vs), so keepalived runs VRRP only (-P): its virtual servers are not set up`;
      this.log(`netns: ${note}`);
      if (!this.out.notes.includes(note)) this.out.notes.push(note);
    }
    const argv = daemonArgv(rt, { keepalivedBin: this.opts.keepalivedBin, daemonBin: this.daemonBin }, vrrpOnly);
    rt.ending = undefined;
    const proc = spawnDaemon(this.host, rt, argv, (line) => this.daemonLine(rt, line), gate);
    rt.proc = proc;
    void proc.exited.then(({ code, signal }) => {
      if (rt.proc !== proc) return;
      const mono = rt.ending?.mono ?? performance.now();
      const why = rt.ending?.why ?? `daemon exited (${signal ?? `code ${code}`})`;
      if (rt.ending?.signalled !== undefined) this.stops.push({ node: rt.node.name, signalled: rt.ending.signalled, exited: mono });
      if (!rt.ending && this.recording) this.log(`netns: ${rt.node.name} exited unexpectedly (${signal ?? `code ${code}`})\n${proc.tail(15)}`);
      for (const inst of rt.conf.instances) this.transition(rt, inst.name, 'STOPPED', undefined, why, mono);
    });
  }

  async startServer(name: string): Promise<void> {
    const rs = this.scenario.realServers.find((r) => r.name === name)!;
    await startServer(this.host, this.host.dir, this.servers.get(name)!, rs);
  }

  private startClient(c: Scenario['clients'][number]): void {
    const e = this.clients.find((x) => x.name === c.name)!;
    const bodies = new Map(this.scenario.realServers.map((r) => [r.body, r.name]));
    startClient(this.host, this.host.dir, e, c, (line) => {
      if (!this.recording) return;
      const r = parseRequestLine(line.text);
      if (!r) return;
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
    });
  }

  // ---------------------------------------------------------------------------------------------
  // The wire (wire.ts)

  /** tcpdump on each node's interface of each segment, for what the node sends; ready before
   * any daemon starts. Without tcpdump the run goes on with the logs alone, and says so. */
  private async startCaptures(): Promise<void> {
    if (spawnSync('tcpdump', ['--version']).error) {
      this.out.notes.push("tcpdump is not installed: transitions are timed from the daemons' logs alone (apt-get install tcpdump)");
      return;
    }
    this.out.adverts = [];
    const ready: Promise<unknown>[] = [];
    for (const rt of this.nodes.values()) {
      for (const [segment, ifname] of rt.ifaces) {
        const proc = this.host.spawn(rt.ns, captureArgv(ifname), {
          name: `capture ${rt.node.name} ${ifname}`,
          onLine: (line) => {
            const a = parseAdvert(line.text);
            if (a) this.captured.push({ ...a, node: rt.node.name, segment });
          },
        });
        void proc.exited.then(({ code, signal }) => {
          if (this.recording)
            this.out.notes.push(
              `the capture of ${rt.node.name}'s ${ifname} ended early (${signal ?? `code ${code}`}): its adverts after that are not on the wire record`,
            );
        });
        ready.push(proc.waitForLine(/listening on /, { timeoutMs: 10_000 }));
      }
    }
    await Promise.all(ready);
  }

  /** When each node's VRRP started, unclamped, and the spread (the first election's fairness);
   * when its gate opened and the lab's release of all the gates took. */
  private collectStart(): void {
    const nodes = [...this.started].map(([node, mono]) => {
      const opened = this.opened.get(node);
      return { node, at: this.at(mono), ...(opened === undefined ? {} : { opened: this.at(opened) }) };
    });
    if (!nodes.length) return;
    const ats = nodes.map((n) => n.at);
    const release = this.released.size ? this.at(Math.max(...this.released.values())) : undefined;
    this.out.start = { spread: Math.max(...ats) - Math.min(...ats), nodes, ...(release === undefined ? {} : { release }) };
  }

  /** The captured adverts on the lab's clock, and graceful stops timed from their priority 0. */
  private collectWire(): void {
    if (!this.out.adverts) return;
    for (const a of this.captured) {
      const at = this.at(this.epochMono(a.epochMs));
      if (at <= this.scenario.duration) this.out.adverts.push({ at, node: a.node, segment: a.segment, vrid: a.vrid, priority: a.priority });
    }
    this.out.adverts.sort((a, b) => a.at - b.at);
    const stops: StopWindow[] = this.stops.map((s) => ({ node: s.node, signalled: this.at(s.signalled), exited: this.at(s.exited) }));
    const vridOf = (node: string, instance: string) => this.nodes.get(node)?.conf.instances.find((i) => i.name === instance)?.vrid;
    const signalled = stops.map((w) => w.signalled);
    stopsFromWire(this.out.transitions, stops, this.out.adverts, vridOf);
    // A stop's answer on the wire read as before its signal (the clocks' disagreement): the
    // fault's record moves with the signal, so that no timeline shows the answer first.
    stops.forEach((w, i) => {
      if (w.signalled === signalled[i]) return;
      const rec = this.out.faults.find((r) => r.at === signalled[i] && this.scenario.faults[r.index].kind === 'stop');
      if (!rec) return;
      this.log(
        `netns: ${w.node}'s priority 0 reads ${((signalled[i] - w.signalled) / 1000).toFixed(2)} ms before its signal on the wire's clock; the stop is timed at it`,
      );
      rec.at = w.signalled;
      rec.requestedAt = Math.min(rec.requestedAt ?? rec.at, w.signalled);
    });
    const place = (node: string, instance: string) => {
      const rt = this.nodes.get(node);
      const inst = rt?.conf.instances.find((i) => i.name === instance);
      const segment = inst && [...rt!.ifaces].find(([, ifname]) => ifname === inst.interface)?.[0];
      return inst && segment !== undefined ? { vrid: inst.vrid, segment } : undefined;
    };
    for (const w of timeFromWire(this.out.transitions, this.out.adverts, place)) this.log(`netns: ${timingLine(w)}`);
  }

  // ---------------------------------------------------------------------------------------------
  // Recording (logs.ts, uptime.ts, vip-sampler.ts)

  private transition(rt: NodeRt, instance: string, to: LabState, priority: number | undefined, reason: string, mono: number): void {
    if (!this.recording) return;
    const from = rt.states.get(instance) ?? 'INIT';
    if (from === to) return;
    if (from === 'INIT' && !this.started.has(rt.node.name)) this.started.set(rt.node.name, mono);
    rt.states.set(instance, to);
    if (priority !== undefined) rt.prio.set(instance, priority);
    const t: LabTransition = { at: 0, node: rt.node.name, instance, from, to, priority: priority ?? rt.prio.get(instance) ?? 0, reason };
    this.out.transitions.push(this.stamp(t, mono));
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
      for (const inst of rt.conf.instances)
        if (inst.vips.includes(c.target.address) && rt.ifaces.get(c.segment) === inst.interface) out.push({ node: rt, instance: inst.name });
    }
    return out;
  }

  /** A line of a node's daemon: our pino JSON, or keepalived's console log. */
  private daemonLine(rt: NodeRt, line: OutputLine): void {
    // Ours stamps its lines in whole ms (taken as the middle of it), which a busy lab may read
    // some ms later.
    const epoch = rt.node.impl === 'keepalived' || !this.epochOffsets.length ? undefined : ourLineEpochMs(line.text);
    const mono = epoch === undefined ? line.mono : Math.min(line.mono, this.epochMono(epoch + 0.5));
    if (this.released.has(rt.node.name) && !this.opened.has(rt.node.name)) {
      const first = rt.node.impl === 'keepalived' ? /Starting Keepalived/ : /Start gate .* opened/;
      if (first.test(line.text)) this.opened.set(rt.node.name, mono);
    }
    const events = rt.node.impl === 'keepalived' ? rt.log.read(line, (i) => rt.states.get(i) ?? 'INIT') : readOurLine(line.text);
    for (const e of events) this.logEvent(rt, e, mono);
  }

  private logEvent(rt: NodeRt, e: LogEvent, mono: number): void {
    switch (e.kind) {
      case 'state':
        return this.transition(rt, e.instance, e.state, e.priority, e.reason, mono);
      case 'priority':
        rt.prio.set(e.instance, e.priority);
        if (this.recording) this.out.priorities.push(this.stamp({ at: 0, node: rt.node.name, instance: e.instance, priority: e.priority }, mono));
        return;
      case 'server': {
        if (!this.recording) return;
        const rs = this.scenario.realServers.find((s) => s.address === e.address && s.port === e.port);
        this.out.servers.push(
          this.stamp({ at: 0, node: rt.node.name, server: rs?.name ?? `${e.address}:${e.port}`, inService: e.inService, reason: e.reason }, mono),
        );
        return;
      }
    }
  }

  /** Once a second per VIP: ping from its segment's probe, and which nodes have it configured. */
  private async sampleVips(): Promise<void> {
    const vips = [...vipsBySegment(this.nodes.values())].flatMap(([segment, list]) => list.map((address) => ({ segment, address })));
    if (!vips.length) return;
    if (!this.canPing) {
      this.log('netns: ping is not installed: VIP reachability is not sampled');
      return;
    }
    const nodes = [...this.nodes.values()];
    await sampleVips(
      vips,
      {
        now: () => performance.now(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        addresses: () =>
          Promise.all(nodes.map(async (rt) => ({ node: rt.node.name, text: (await run('ip', ['-n', rt.ns, '-4', '-o', 'addr', 'show'])).stdout }))),
        // A short wait, so that a reply means "answering now", not "within the next second".
        ping: async (v) =>
          (await this.host.exec(this.probes.get(v.segment)!, ['ping', '-c', '1', '-W', '0.5', '-n', '-q', v.address], { timeoutMs: 3000 })).code === 0,
      },
      { t0: this.t0, recording: () => this.recording, at: (mono) => this.at(mono), record: (s) => this.out.vips.push(s) },
    );
  }

  /** notify.log lines, placed on our clock. */
  private collectNotifies(): void {
    for (const rt of this.nodes.values()) {
      const file = join(rt.dir, 'notify.log');
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      for (const n of parseNotifyLog(text)) {
        const at = this.at(notifyMono(n.uptimeMs, this.uptimeOffset));
        if (at > this.scenario.duration) continue;
        this.out.notifies.push({ at, node: rt.node.name, kind: n.kind, name: n.name, state: n.state, priority: n.priority });
      }
    }
    this.out.notifies.sort((a, b) => a.at - b.at);
  }

  // ---------------------------------------------------------------------------------------------
  // Faults (faults.ts)

  node(name: string): NodeRt {
    const rt = this.nodes.get(name);
    if (!rt) throw new Error(`netns backend: no node ${name}`);
    return rt;
  }
}
