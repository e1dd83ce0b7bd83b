// Directors on simulated segments, running the daemon's own code: each node is a VrrpEngine built
// from its keepalived.conf on one virtual clock, with a SimPort per interface that joins a segment.
// A node can be started (a fresh daemon), stopped (SIGTERM), killed (kill -9) and reloaded
// (SIGHUP, keeping unchanged instances as the daemon does). The lab's sim backend and the VRRP
// tests both build on it.
import type { Clock } from '../../core/clock.js';
import { VirtualClock } from '../../core/clock.js';
import { seededUnit } from '../../core/random.js';
import type { Balancer } from '../../lvs/balancer.js';
import type { Config, ResolvedVrrpInstance as VrrpInstance, SyncGroup } from '../../config/model/index.js';
import { SimSegment, type SimPacket, type SimPort } from '../../net/sim-network.js';
import { VrrpEngine, type Port } from '../../vrrp/engine.js';
import type { VrrpRunner } from '../../vrrp/instance.js';
import type { VrrpState } from '../../vrrp/machine.js';
import { adoptSameIdentity } from '../../vrrp/reload.js';
import { startTrackers } from '../../vrrp/trackers.js';
import { startProcessTrackers } from '../../vrrp/track-process.js';
import type { ProcEntry, ProcessTable } from '../../proc/process-table.js';
import { standIns } from '../model/processes.js';
import type { LabState } from '../model/result.js';

/** What a node reports; every callback is optional. */
export interface NodeObserver {
  /** INIT from a stop or kill of the whole node is reported as STOPPED. */
  transition?(inst: VrrpInstance, from: LabState, to: LabState, priority: number, reason: string): void;
  groupTransition?(group: SyncGroup, from: VrrpState, to: VrrpState): void;
  /** The instance's VIPs were added (present) or removed (also when the node is killed). */
  addresses?(inst: VrrpInstance, present: boolean): void;
  /** Gratuitous ARP (unsolicited neighbour advertisements for IPv6) for the instance's VIPs,
   * naming the MAC they point at: the VMAC's when the instance has one, else the interface's. */
  announce?(inst: VrrpInstance, mac: string): void;
  /** A frame left `mac` on `segment` (the switch learns where that MAC is). */
  frameFrom?(segment: string, mac: string): void;
}

export type NodeStatus = 'down' | 'running' | 'stopped' | 'killed';

interface Link {
  segment: string;
  port: SimPort;
  address: string;
  mac: string;
  /** The IPv6 link-local address (EUI-64 from the MAC): the source of IPv6 adverts. */
  linkLocal: string;
}

/** The world around a daemon that outlives it: script outcomes, track_file contents, links, and
 * the processes its track_processes count (by stand-in key: their pids and command line). */
interface World {
  scriptsFailing: Set<string>;
  files: Map<string, number>;
  interfacesDown: Set<string>;
  processes: Map<string, { argv: string[]; pids: number[] }>;
  nextPid: number;
}

export class SimNode {
  status: NodeStatus = 'down';
  /** The running engine; undefined while the node is down, stopped or killed. */
  engine?: VrrpEngine;
  /** VIPs the node holds now. */
  readonly vips = new Set<string>();
  private readonly links = new Map<string, Link>();
  private readonly handlers = new Map<string, (p: SimPacket) => void>();
  private readonly world: World = { scriptsFailing: new Set(), files: new Map(), interfacesDown: new Set(), processes: new Map(), nextPid: 1000 };
  /** The load balancer of the daemon's virtual_servers, when it has some and `lvs` is given. */
  balancer?: Balancer;
  /** The daemon's clock: closed when it dies, so that its timers then fire into nothing. */
  private life = gatedClock(undefined, { open: false });
  private stopping = false;
  private stopTrackers?: () => void;
  /** The running daemon's link and track_file event listeners (keepalived: netlink and inotify). */
  private linkChanged?: (ifname?: string) => void;
  private fileChanged?: (name: string) => void;

  constructor(
    readonly name: string,
    private readonly clock: VirtualClock,
    public config: Config,
    private readonly observer: NodeObserver = {},
    private readonly lvs?: LvsFactory,
    private readonly lateUs = 0,
  ) {
    this.standInProcesses(config);
  }

  /** Joins `ifname` to a segment with `address` and `mac` (before start). */
  attach(ifname: string, segmentName: string, segment: SimSegment, address: string, mac: string): void {
    const port = segment.attach(this.name, address);
    const linkLocal = eui64LinkLocal(mac);
    port.also.push(linkLocal);
    port.up = false;
    // A frame on the wire reaches the interface and the VMACs on it (the engine sorts by VRID).
    port.onPacket((p) => {
      const family = p.dst.includes(':') ? 6 : 4;
      for (const name of [ifname, ...this.vmacsOn(ifname).map((v) => v.ifname)]) this.handlers.get(`${name}/${family}`)?.(p);
    });
    this.links.set(ifname, { segment: segmentName, port, address, mac, linkLocal });
  }

  /** The segment, address and MAC of an interface when it joins one, or of the interface a
   * VMAC (or ipvlan) of the running config sits on, with the VMAC's own MAC. */
  link(ifname: string): { segment: string; address: string; linkLocal: string; mac: string; up: boolean } | undefined {
    const vmac = this.vmac(ifname);
    const l = this.links.get(vmac?.base ?? ifname);
    const mac = vmac?.kind === 'macvlan' ? vmac.mac : l?.mac;
    return l && { segment: l.segment, address: l.address, linkLocal: l.linkLocal, mac: mac!, up: l.port.up };
  }

  private vmac(ifname: string): NonNullable<VrrpInstance['vmac']> | undefined {
    return this.config.resolved.vrrpInstances.find((i) => i.vmac?.ifname === ifname)?.vmac;
  }

  private vmacsOn(base: string): NonNullable<VrrpInstance['vmac']>[] {
    return this.config.resolved.vrrpInstances.flatMap((i) => (i.vmac?.base === base ? [i.vmac] : []));
  }

  get running(): boolean {
    return this.status === 'running';
  }

  /** A daemon starting with the current config (a first start or a restart). */
  start(): void {
    if (this.running) return;
    this.life = gatedClock(this.clock, { open: true }, this.lateUs);
    for (const [ifname, l] of this.links) l.port.up = !this.world.interfacesDown.has(ifname);
    this.status = 'running';
    this.engine = this.build(this.config);
    this.startTrackers(this.engine, this.config);
    this.engine.start();
    this.balancer = this.lvs?.(this.config, this.life);
    void this.balancer?.start();
  }

  /** SIGTERM: masters send priority 0 and drop their VIPs, then the daemon is gone. */
  stop(): void {
    if (!this.running) return;
    this.stopping = true;
    this.engine!.stop();
    this.stopping = false;
    void this.balancer?.stop();
    this.die('stopped');
  }

  /** kill -9: no goodbye advert; the VIPs vanish with the host's view of them. */
  kill(): void {
    if (!this.running) return;
    // A dead daemon notifies nothing: observers see the status first.
    this.status = 'killed';
    for (const { inst, runner } of this.engine!.instances) {
      this.observer.transition?.(inst, runner.state.state, 'STOPPED', runner.state.effectivePriority, 'killed');
      if (runner.state.state === 'MASTER') this.observer.addresses?.(inst, false);
    }
    this.die('killed');
  }

  /** SIGHUP with a new config that loaded cleanly: unchanged instances keep running as they are. */
  reload(config: Config): { kept: number; restarted: number } {
    this.config = config;
    this.standInProcesses(config);
    if (!this.running) return { kept: 0, restarted: 0 };
    const old = this.engine!;
    const adopted = new Set<VrrpRunner>();
    const next = this.build(config, old, adopted);
    this.stopTrackers?.();
    old.stop(adopted);
    this.engine = next;
    this.startTrackers(next, config);
    next.start();
    if (this.balancer) void this.balancer.reload(config);
    else {
      this.balancer = this.lvs?.(config, this.life);
      void this.balancer?.start();
    }
    return { kept: adopted.size, restarted: next.instances.length - adopted.size };
  }

  /** A vrrp_script's outcome from now on: the daemon's next runs see it, through rise/fall. */
  setScript(name: string, ok: boolean): void {
    if (ok) this.world.scriptsFailing.delete(name);
    else this.world.scriptsFailing.add(name);
  }

  /** A track_file's content, by its name or its path. */
  setFile(nameOrPath: string, value: number): void {
    const tf = this.config.trackFiles.find((f) => f.name === nameOrPath || f.file === nameOrPath);
    const name = tf?.name ?? nameOrPath;
    // inotify: the daemon reads the file at once.
    this.world.files.set(name, value);
    this.fileChanged?.(name);
  }

  /** Link state: the port stops carrying packets at once, and the daemon hears of it at once (netlink). */
  setInterface(ifname: string, up: boolean): void {
    if (up) this.world.interfacesDown.delete(ifname);
    else this.world.interfacesDown.add(ifname);
    const l = this.links.get(ifname);
    if (l && this.running) l.port.up = up;
    this.linkChanged?.(ifname);
    // A macvlan follows the link it sits on.
    for (const v of this.vmacsOn(ifname)) this.linkChanged?.(v.ifname);
  }

  /** How many of the stand-in processes with `key` run from now on; the daemon's next process
   * scan sees the change (as the daemon's scan of /proc would). */
  setProcesses(key: string, count: number): void {
    const p = this.world.processes.get(key);
    if (!p) return;
    while (p.pids.length > count) p.pids.pop();
    while (p.pids.length < count) p.pids.push(this.world.nextPid++);
  }

  /** The processes a config's track_processes count, running from the start (a reload adds the
   * ones it tracks anew). */
  private standInProcesses(config: Config): void {
    for (const s of standIns(config)) {
      if (this.world.processes.has(s.key)) continue;
      this.world.processes.set(s.key, { argv: s.argv, pids: [] });
      this.setProcesses(s.key, s.atStart);
    }
  }

  /** The node's process table: the stand-ins, each a child of init. */
  private processTable(): ProcessTable {
    const world = this.world;
    return {
      snapshot: () => {
        const out = new Map<number, ProcEntry>();
        for (const p of world.processes.values()) {
          const comm = p.argv[0].slice(p.argv[0].lastIndexOf('/') + 1).slice(0, 15);
          for (const pid of p.pids) out.set(pid, { ppid: 1, comm });
        }
        return out;
      },
      cmdline: (pid, max) => {
        const p = [...world.processes.values()].find((x) => x.pids.includes(pid));
        return p && Buffer.from(p.argv.map((a) => `${a}\0`).join(''), 'latin1').subarray(0, max);
      },
    };
  }

  /** Effective priority of each instance now. */
  priorities(): { inst: VrrpInstance; priority: number }[] {
    return (this.engine?.instances ?? []).map((m) => ({ inst: m.inst, priority: m.runner.state.effectivePriority }));
  }

  private die(status: 'stopped' | 'killed'): void {
    this.stopTrackers?.();
    this.life.gate.open = false;
    this.balancer = undefined;
    for (const l of this.links.values()) l.port.up = false;
    this.handlers.clear();
    this.vips.clear();
    this.engine = undefined;
    this.status = status;
  }

  private build(config: Config, previous?: VrrpEngine, adopted?: Set<VrrpRunner>): VrrpEngine {
    const o = this.observer;
    return new VrrpEngine(config, {
      clock: this.life,
      port: (ifname, family) => this.port(ifname, family),
      // IPv6 adverts go from the link-local address, as keepalived's.
      primaryAddress: (ifname, family) => {
        const l = this.link(ifname);
        return (family === 6 ? l?.linkLocal : l && !l.address.includes(':') ? l.address : undefined) ?? (family === 4 ? '0.0.0.0' : '::');
      },
      down: previous?.trackedDown,
      startupDelayUntil: previous?.startupDelayUntil,
      adopt: previous && adopted ? adoptSameIdentity(previous, adopted) : undefined,
      hooks: {
        addAddresses: (i) => {
          i.virtualIpaddress.forEach((v) => this.vips.add(v.address));
          o.addresses?.(i, true);
        },
        removeAddresses: (i) => {
          i.virtualIpaddress.forEach((v) => this.vips.delete(v.address));
          o.addresses?.(i, false);
        },
        announce: (i) => o.announce?.(i, this.link(i.virtualIpaddress[0]?.dev ?? i.interface)?.mac ?? ''),
        // Refresh and lower-priority bursts teach the segment the same thing.
        garp: (i) => o.announce?.(i, this.link(i.virtualIpaddress[0]?.dev ?? i.interface)?.mac ?? ''),
        transition: (i, from, to, prio, reason) => o.transition?.(i, from, to === 'INIT' && this.stopping ? 'STOPPED' : to, prio, reason),
        groupTransition: (g, from, to) => o.groupTransition?.(g, from, to),
      },
    });
  }

  private port(ifname: string, family: 4 | 6): Port {
    const base = this.vmac(ifname)?.base ?? ifname;
    const l = this.links.get(base);
    return {
      send: (payload, opts) => {
        if (!l?.port.up) return;
        // Adverts through a VMAC leave from its MAC: the switch learns it there.
        if (base !== ifname) this.observer.frameFrom?.(l.segment, this.link(ifname)!.mac);
        l.port.send(payload, opts);
      },
      onPacket: (cb) => void this.handlers.set(`${ifname}/${family}`, cb),
    };
  }

  /** The daemon's own trackers, reading this node's world instead of processes and sysfs. */
  private startTrackers(engine: VrrpEngine, config: Config): void {
    // The daemon's process scan, every second, of this node's stand-ins.
    const stopProcesses = startProcessTrackers(config, engine, { clock: this.life, log: () => undefined, table: this.processTable(), pollUs: 1_000_000 });
    const stopOthers = startTrackers(config, engine, {
      clock: this.life,
      log: () => undefined,
      runScript: (sc) => (this.world.scriptsFailing.has(sc.name) ? { ok: false, why: 'exited with status 1' } : { ok: true }),
      linkUp: (ifname) => !this.world.interfacesDown.has(ifname) && !this.world.interfacesDown.has(this.vmac(ifname)?.base ?? ifname),
      readFile: (f) => this.world.files.get(f.name) ?? f.initFile?.value ?? 0,
      // Events as the daemon gets them from netlink and inotify; the polls only back them up.
      watchLinks: (changed) => {
        this.linkChanged = changed;
        return { stop: () => (this.linkChanged = undefined), live: () => true };
      },
      watchFiles: (files, changed) => {
        this.fileChanged = (name) => files.filter((f) => f.name === name).forEach(changed);
        return { stop: () => (this.fileChanged = undefined), all: true };
      },
    });
    this.stopTrackers = () => {
      stopProcesses();
      stopOthers();
    };
  }
}

const hex2 = (n: number): string => (n & 255).toString(16).padStart(2, '0');

/** A locally administered MAC per segment and member: 02:00:SS:SS:MM:MM. */
export function labMac(segment: number, member: number): string {
  return ['02', '00', hex2((segment + 1) >> 8), hex2(segment + 1), hex2((member + 1) >> 8), hex2(member + 1)].join(':');
}

/** fe80:: with the MAC's modified EUI-64 interface identifier, in canonical form. */
export function eui64LinkLocal(mac: string): string {
  const o = mac.split(':').map((x) => parseInt(x, 16));
  const words = [0xfe80, 0, 0, 0, ((o[0] ^ 2) << 8) | o[1], (o[2] << 8) | 0xff, 0xfe00 | o[3], (o[4] << 8) | o[5]];
  return new URL(`http://[${words.map((w) => w.toString(16)).join(':')}]`).hostname.slice(1, -1);
}

/** The clock a daemon's timers run on: they fire while the gate is open, each `lateUs` after
 * its time (a busy machine's daemon; the daemon re-arms from when it ran, so it drifts). */
function gatedClock(clock: VirtualClock | undefined, gate: { open: boolean }, lateUs = 0): Clock & { gate: { open: boolean } } {
  return {
    gate,
    now: () => clock?.now() ?? 0,
    setTimer: (at, cb) => clock!.setTimer(at + lateUs, () => gate.open && cb()),
    clearTimer: (h) => clock?.clearTimer(h),
  };
}

/** Builds a node's load balancer on the daemon's clock (undefined: the config has no virtual_server). */
export type LvsFactory = (config: Config, clock: Clock) => Balancer | undefined;

export interface SimLabSpec {
  /** One-way delay on every segment, µs (default 100). */
  delayUs?: number;
  seed?: number;
  segments: { name: string; members: { node: string; interface: string; address: string }[] }[];
  /** `lateUs`: how late each of the node's timers fires (default 0: on time). */
  nodes: { name: string; config: Config; lateUs?: number }[];
  observe?(node: string): NodeObserver;
  lvs?(node: string): LvsFactory | undefined;
}

export interface SimLab {
  clock: VirtualClock;
  segments: Map<string, SimSegment>;
  nodes: Map<string, SimNode>;
}

/** Nodes joined to their segments, not started yet. */
export function buildSimLab(spec: SimLabSpec, clock = new VirtualClock()): SimLab {
  const segments = new Map<string, SimSegment>();
  const nodes = new Map(spec.nodes.map((n) => [n.name, new SimNode(n.name, clock, n.config, spec.observe?.(n.name), spec.lvs?.(n.name), n.lateUs)]));
  spec.segments.forEach((s, i) => {
    const seg = new SimSegment(clock, spec.delayUs ?? 100, seededUnit((spec.seed ?? 1) + i));
    segments.set(s.name, seg);
    s.members.forEach((m, j) => nodes.get(m.node)?.attach(m.interface, s.name, seg, m.address, labMac(i, j)));
  });
  return { clock, segments, nodes };
}
