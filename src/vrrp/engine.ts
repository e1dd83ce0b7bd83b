// All VRRP instances of one config on one clock: packets demultiplexed by interface and VRID,
// tracked objects turned into effective priorities and FAULT (priority.ts has keepalived's
// arithmetic), transitions handed to the address driver and the notifier. The daemon gives it a
// real clock, raw sockets and iproute2; the tests and the lab give it a virtual clock and a
// simulated segment.
import type { Clock } from '../core/clock.js';
import type { Config, ResolvedVrrpInstance as VrrpInstance, SyncGroup } from '../config/model/index.js';
import { runnerConfig } from './from-config.js';
import { receivedVrid, VrrpRunner, type InstanceHooks, type PacketPort, type Received, type RunnerConfig } from './instance.js';
import type { GarpWhy, VrrpState } from './machine.js';
import { effectivePriority, type Tracker } from './priority.js';
import { addressCount, addressesOnlyIn, sameAddresses } from './address-diff.js';
import { US_PER_SEC } from './timers.js';

export interface Port extends PacketPort {
  onPacket(cb: (p: Received) => void): void;
}

export interface EngineEnv {
  clock: Clock;
  /**
   * SIGHUP: the previous engine's runner for an instance that kept its identity, and the instance
   * as it was configured, so it keeps its state, timers and VIPs; start() applies the new settings
   * in place. Return undefined to start the instance afresh.
   */
  adopt?(inst: VrrpInstance, cfg: RunnerConfig, ifname: string): { runner: VrrpRunner; was: VrrpInstance } | undefined;
  /** vrrp_startup_delay's end, carried over by a reload (keepalived delays the first start only);
   * unset: a first start, the delay counts from now. */
  startupDelayUntil?: number;
  /** Tracked objects known to be down when this engine starts (carried over by a reload). */
  down?: Iterable<string>;
  /** The port for an interface and address family (one socket per interface and family in the daemon). */
  port(ifname: string, family: 4 | 6): Port;
  /** The interface's primary address, the advert source when unicast_src_ip is not set. */
  primaryAddress(ifname: string, family: 4 | 6): string;
  hooks?: EngineHooks;
}

export interface EngineHooks {
  addAddresses?(inst: VrrpInstance): void;
  removeAddresses?(inst: VrrpInstance): void;
  announce?(inst: VrrpInstance): void;
  /** A garp_master_refresh or garp_lower_prio burst of `repeat` gratuitous ARPs per VIP. */
  garp?(inst: VrrpInstance, repeat: number, why: GarpWhy): void;
  /** A MASTER heard a lower priority advert: notify_master_rx_lower_pri. */
  rxLowerPri?(inst: VrrpInstance, effectivePriority: number): void;
  transition?(inst: VrrpInstance, from: VrrpState, to: VrrpState, priority: number, reason: string): void;
  /** A vrrp_sync_group as a whole changed state (keepalived notifies `GROUP NAME STATE 0`). */
  groupTransition?(group: SyncGroup, from: VrrpState, to: VrrpState): void;
  log?(level: 'info' | 'warn', message: string, inst?: string): void;
}

interface Managed {
  inst: VrrpInstance;
  runner: VrrpRunner;
  trackers: Tracker[];
  ifname: string;
  group?: SyncGroup;
  /** Why this instance itself is FAULT (its interface or a weight-0 tracker), if it is. */
  ownFault?: string;
  /** Taken over from the previous engine with other settings: start() applies them. */
  reconfigure?: { cfg: RunnerConfig; was: VrrpInstance };
}

export class VrrpEngine {
  private readonly managed: Managed[] = [];
  /** By instance name, and the members of each sync group: 1,000 instances going MASTER at once
   * looked themselves up in the whole list, each, several times. */
  private readonly byName = new Map<string, Managed>();
  private readonly groupMembers = new Map<SyncGroup, Managed[]>();
  /** Tracked objects that are down, keyed `kind:name`. */
  private readonly down = new Set<string>();
  /** track_file values by name. */
  private readonly fileValues = new Map<string, number>();
  private readonly groupState = new Map<string, VrrpState>();
  /** Stopping: keepalived's notify_shutdown reports each member STOP, then each group STOP, and
   * none of the group states between. */
  private stopping = false;
  readonly unknownVrid: Record<string, number> = {};
  /** Until then BACKUPs' down timers cannot run out (vrrp_startup_delay), on env.clock. */
  readonly startupDelayUntil: number;

  constructor(
    readonly config: Config,
    private readonly env: EngineEnv,
  ) {
    this.startupDelayUntil = env.startupDelayUntil ?? env.clock.now() + Math.round(config.globalDefs.vrrpStartupDelay * US_PER_SEC);
    for (const k of env.down ?? []) this.down.add(k);
    const ports = new Map<string, Port>();
    /** Per port, its instances by VRID: a packet goes to its own instances, not past all 1,000. */
    const receivers = new Map<string, Managed[][]>();
    // Each instance's sync group, looked up once: not a scan of every group per instance.
    const groupOf = new Map<string, SyncGroup>();
    for (const g of config.syncGroups) for (const name of g.group) if (!groupOf.has(name)) groupOf.set(name, g);
    for (const inst of config.resolved.vrrpInstances) {
      // The VMAC when adverts go through one; the source address stays the instance interface's.
      const ifname = inst.sendInterface;
      const family = inst.family;
      let port = ports.get(`${ifname}/${family}`);
      let byVrid = receivers.get(`${ifname}/${family}`);
      if (!port || !byVrid) {
        port = env.port(ifname, family);
        ports.set(`${ifname}/${family}`, port);
        const table: Managed[][] = (byVrid = []);
        receivers.set(`${ifname}/${family}`, table);
        port.onPacket((p) => this.demux(ifname, table, p));
      }
      const rc = runnerConfig(inst, env.primaryAddress(inst.interface, inst.family));
      const adopted = env.adopt?.(inst, rc, ifname);
      const was = adopted?.was;
      const hooks: InstanceHooks = {
        addAddresses: () => env.hooks?.addAddresses?.(inst),
        removeAddresses: () => env.hooks?.removeAddresses?.(inst),
        // New addresses first, then the old ones go: the ones in both stay up throughout.
        updateAddresses: () => {
          if (!was) return;
          const added = addressesOnlyIn(inst, was);
          const removed = addressesOnlyIn(was, inst);
          if (addressCount(added)) env.hooks?.addAddresses?.(added);
          if (added.virtualIpaddress.length) env.hooks?.announce?.(added);
          if (addressCount(removed)) env.hooks?.removeAddresses?.(removed);
        },
        announce: () => env.hooks?.announce?.(inst),
        garp: (_r, repeat, why) => env.hooks?.garp?.(inst, repeat, why),
        rxLowerPri: (r) => {
          env.hooks?.rxLowerPri?.(inst, r.state.effectivePriority);
          // keepalived: the other members of the sync group send their lower-priority GARPs too.
          const m = this.byName.get(inst.name);
          if (m?.group) for (const p of this.members(m.group)) if (p !== m) p.runner.syncLowerPri();
        },
        transition: (r, from, to, reason) => {
          // keepalived reports a sync group's first state before its members' (vrrp_scheduler.c
          // vrrp_init_state), later group states after the member that made them.
          if (from === 'INIT') this.syncTransition(inst.name, from, to);
          env.hooks?.transition?.(inst, from, to, r.state.effectivePriority, reason);
          if (from !== 'INIT') this.syncTransition(inst.name, from, to);
        },
        wantMaster: () => this.syncWantMaster(inst.name),
        log: (_r, level, message) => env.hooks?.log?.(level, message, inst.name),
      };
      adopted?.runner.setHooks(hooks);
      const runner = adopted?.runner ?? new VrrpRunner(rc, env.clock, port, hooks);
      const group = groupOf.get(inst.name);
      const changed = adopted && (JSON.stringify(adopted.runner.cfg) !== JSON.stringify(rc) || !sameAddresses(adopted.was, inst));
      const reconfigure = changed ? { cfg: rc, was: adopted.was } : undefined;
      const m: Managed = { inst, runner, trackers: inst.tracks, ifname, group, reconfigure };
      this.managed.push(m);
      this.byName.set(inst.name, m);
      if (group) {
        const members = this.groupMembers.get(group);
        if (members) members.push(m);
        else this.groupMembers.set(group, [m]);
      }
      // The VRID is part of the instance's identity: a reload that keeps a runner keeps it.
      (byVrid[rc.vrid] ??= []).push(m);
    }
  }

  get instances(): readonly { inst: VrrpInstance; runner: VrrpRunner; ifname: string }[] {
    return this.managed;
  }

  runner(name: string): VrrpRunner | undefined {
    return this.byName.get(name)?.runner;
  }

  start(): void {
    const log = (level: 'info' | 'warn', message: string, inst?: string): void => this.env.hooks?.log?.(level, message, inst);
    const secs = this.config.globalDefs.vrrpStartupDelay;
    if (this.env.startupDelayUntil === undefined && secs > 0) {
      // keepalived: the first at reading the config (global_parser.c), the second at starting VRRP (vrrp_daemon.c).
      if (secs >= 60) log('info', `The vrrp_startup_delay is very large - ${secs} seconds`);
      log('info', `Delaying startup for ${secs} seconds`);
    }
    // One start time for all, as keepalived's instances share the time_now of the loop turn that
    // starts them: equal priorities time out together, however long starting 1,000 of them takes.
    const now = this.env.clock.now();
    for (const m of this.managed) {
      if (m.reconfigure) {
        log('info', `(${m.inst.name}) Configuration changed by reload: applied in place, state ${m.runner.state.state} kept`, m.inst.name);
        m.runner.reconfigure(m.reconfigure.cfg, !sameAddresses(m.reconfigure.was, m.inst));
        m.reconfigure = undefined;
      }
      if (m.inst.configFault) log('info', `(${m.inst.name}) ${m.inst.configFault}`, m.inst.name);
      // A config fault is FAULT from the start, unannounced; other faults go from INIT straight to
      // FAULT, as keepalived's "Entering FAULT STATE (init)".
      if (m.inst.configFault) m.runner.start(this.startupDelayUntil, true, now);
      this.apply(m);
      m.runner.start(this.startupDelayUntil, false, now);
    }
  }

  /** Graceful stop: masters send priority 0 and remove their addresses (notify STOP follows).
   * `keep` names runners a reload handed to the next engine: they are left running. */
  stop(keep: ReadonlySet<VrrpRunner> = new Set()): void {
    this.stopping = true;
    for (const m of this.managed) if (!keep.has(m.runner)) m.runner.stop();
  }

  /** An interface that was missing at start got its address (dynamic_interfaces, a VMAC made
   * late): its instances of that family without unicast_src_ip send from it from now on. */
  setPrimaryAddress(ifname: string, family: 4 | 6, address: string): void {
    for (const m of this.managed) {
      if (m.ifname !== ifname || m.inst.family !== family || m.inst.unicastSrcIp || m.runner.cfg.primaryAddress === address) continue;
      m.runner.reconfigure({ ...m.runner.cfg, primaryAddress: address }, false);
    }
  }

  /** A vrrp_sync_group's state as a whole (INIT before its first). */
  groupStateOf(name: string): VrrpState {
    return this.groupState.get(name) ?? 'INIT';
  }

  /** Tracked objects currently down, for the engine that replaces this one. */
  get trackedDown(): string[] {
    return [...this.down];
  }

  /** A tracked script, file, process, BFD session or interface changed state. */
  setTracked(kind: Tracker['kind'], name: string, up: boolean): void {
    const key = `${kind}:${name}`;
    if (up !== this.down.has(key)) return; // no change
    if (up) this.down.delete(key);
    else this.down.add(key);
    for (const m of this.managed) {
      const touches = m.trackers.some((t) => t.kind === kind && t.name === name) || (kind === 'interface' && name === m.ifname);
      if (touches) this.apply(m);
    }
  }

  /** A track_file's number changed. */
  setTrackedValue(name: string, value: number): void {
    if (this.fileValues.get(name) === value) return;
    this.fileValues.set(name, value);
    for (const m of this.managed) if (m.trackers.some((t) => t.kind === 'file' && t.name === name)) this.apply(m);
  }

  private members(g: SyncGroup): Managed[] {
    return this.groupMembers.get(g) ?? [];
  }

  private apply(m: Managed): void {
    const downSet = new Set(m.trackers.filter((t) => this.down.has(`${t.kind}:${t.name}`)));
    const primaryDown = !m.inst.dontTrackPrimary && this.down.has(`interface:${m.ifname}`);
    const eff = effectivePriority(m.inst, m.trackers, downSet, this.fileValues);
    const before = m.ownFault;
    m.ownFault = m.inst.configFault ?? (primaryDown ? `interface ${m.ifname} down` : eff.fault ? `${eff.by} failed` : undefined);
    if (!eff.fault) m.runner.setPriority(eff.priority);
    // A member's own fault takes the whole sync group to FAULT (keepalived vrrp_sync.c).
    const peers = m.group ? this.members(m.group) : [m];
    for (const p of peers) {
      const other = peers.find((q) => q !== p && q.ownFault);
      const reason = p.ownFault ?? (other ? `sync group ${m.group!.name}: ${other.inst.name} is FAULT` : undefined);
      if (reason) p.runner.setFault(true, reason);
      // Only a FAULT instance has a fault to clear: the others skip a machine step (1,000 at start).
      else if ((p === m || before !== m.ownFault) && p.runner.state.state === 'FAULT') p.runner.setFault(false, 'trackers up');
    }
  }

  /** A member's down timer ran out: the group goes MASTER only when every member wants to. */
  private syncWantMaster(name: string): void {
    const m = this.byName.get(name);
    if (!m?.group) return;
    const peers = this.members(m.group);
    if (!peers.every((p) => p.runner.state.state === 'MASTER' || p.runner.state.wantMaster)) return;
    for (const p of peers) if (p.runner.state.state === 'BACKUP') p.runner.group('MASTER', `sync group ${m.group.name} going MASTER`);
  }

  /** One member left MASTER for BACKUP: the others follow; group state changes are reported. */
  private syncTransition(name: string, from: VrrpState, to: VrrpState): void {
    const m = this.byName.get(name);
    if (!m?.group) return;
    const peers = this.members(m.group);
    if (from === 'MASTER' && to === 'BACKUP') {
      for (const p of peers) if (p !== m && p.runner.state.state === 'MASTER') p.runner.group('BACKUP', `sync group ${m.group.name}: ${name} went BACKUP`);
    }
    const states = peers.map((p) => p.runner.state.state);
    const groupNow: VrrpState = states.includes('FAULT')
      ? 'FAULT'
      : states.every((st) => st === 'MASTER')
        ? 'MASTER'
        : states.every((st) => st === 'INIT')
          ? 'INIT'
          : 'BACKUP';
    const prev = this.groupState.get(m.group.name) ?? 'INIT';
    if (groupNow !== prev && (!this.stopping || groupNow === 'INIT')) {
      this.groupState.set(m.group.name, groupNow);
      this.env.hooks?.groupTransition?.(m.group, prev, groupNow);
    }
  }

  private demux(ifname: string, byVrid: readonly (Managed[] | undefined)[], p: Received): void {
    const vrid = receivedVrid(p);
    let hit = false;
    for (const m of (vrid === undefined ? undefined : byVrid[vrid]) ?? NONE) {
      // Unicast and multicast instances may share a VRID: deliver by destination.
      const multicastDst = p.dst === m.runner.cfg.mcastGroup;
      if (m.runner.cfg.unicast === multicastDst) continue;
      hit = true;
      m.runner.receive(p);
    }
    if (!hit) this.unknownVrid[`${ifname}/${vrid}`] = (this.unknownVrid[`${ifname}/${vrid}`] ?? 0) + 1;
  }
}

const NONE: readonly Managed[] = [];
