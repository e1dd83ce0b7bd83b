// All VRRP instances of one config on one clock: packets demultiplexed by interface and VRID,
// tracked objects turned into effective priorities and FAULT (priority.ts has keepalived's
// arithmetic), transitions handed to the address driver and the notifier. The daemon gives it a
// real clock, raw sockets and iproute2; the tests and the lab give it a virtual clock and a
// simulated segment.
import type { Clock } from '../core/clock.js';
import type { Config, VrrpInstance } from '../config/model/index.js';
import { runnerConfig } from './from-config.js';
import { VrrpRunner, type InstanceHooks, type PacketPort, type Received } from './instance.js';
import type { VrrpState } from './machine.js';
import { effectivePriority, trackersOf, type Tracker } from './priority.js';

export interface Port extends PacketPort {
  onPacket(cb: (p: Received) => void): void;
}

export interface EngineEnv {
  clock: Clock;
  /** The port for an interface (one socket per interface in the daemon). */
  port(ifname: string): Port;
  /** The interface's primary address, the advert source when unicast_src_ip is not set. */
  primaryAddress(ifname: string, family: 4 | 6): string;
  hooks?: EngineHooks;
}

export interface EngineHooks {
  addAddresses?(inst: VrrpInstance): void;
  removeAddresses?(inst: VrrpInstance): void;
  announce?(inst: VrrpInstance): void;
  transition?(inst: VrrpInstance, from: VrrpState, to: VrrpState, priority: number, reason: string): void;
  log?(level: 'info' | 'warn', message: string, inst?: string): void;
}

interface Managed {
  inst: VrrpInstance;
  runner: VrrpRunner;
  trackers: Tracker[];
  ifname: string;
}

export class VrrpEngine {
  private readonly managed: Managed[] = [];
  /** Tracked objects that are down, keyed `kind:name`. */
  private readonly down = new Set<string>();
  readonly unknownVrid: Record<string, number> = {};

  constructor(readonly config: Config, private readonly env: EngineEnv) {
    const ports = new Map<string, Port>();
    for (const inst of config.vrrpInstances) {
      const ifname = inst.interface ?? config.globalDefs.defaultInterface;
      const family = inst.virtualIpaddress[0]?.family ?? 4;
      let port = ports.get(ifname);
      if (!port) {
        port = env.port(ifname);
        ports.set(ifname, port);
        port.onPacket((p) => this.demux(ifname, p));
      }
      const hooks: InstanceHooks = {
        addAddresses: () => env.hooks?.addAddresses?.(inst),
        removeAddresses: () => env.hooks?.removeAddresses?.(inst),
        announce: () => env.hooks?.announce?.(inst),
        transition: (r, from, to, reason) => env.hooks?.transition?.(inst, from, to, r.state.effectivePriority, reason),
        log: (_r, level, message) => env.hooks?.log?.(level, message, inst.name),
      };
      const runner = new VrrpRunner(runnerConfig(inst, config, env.primaryAddress(ifname, family)), env.clock, port, hooks);
      this.managed.push({ inst, runner, trackers: trackersOf(inst, config), ifname });
    }
  }

  get instances(): readonly { inst: VrrpInstance; runner: VrrpRunner }[] {
    return this.managed;
  }

  runner(name: string): VrrpRunner | undefined {
    return this.managed.find((m) => m.inst.name === name)?.runner;
  }

  start(): void {
    for (const m of this.managed) {
      m.runner.start();
      this.apply(m);
    }
  }

  /** Graceful stop: masters send priority 0 and remove their addresses (notify STOP follows). */
  stop(): void {
    for (const m of this.managed) m.runner.stop();
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

  private apply(m: Managed): void {
    const downSet = new Set(m.trackers.filter((t) => this.down.has(`${t.kind}:${t.name}`)));
    const primaryDown = !m.inst.dontTrackPrimary && this.down.has(`interface:${m.ifname}`);
    const eff = effectivePriority(m.inst, m.trackers, downSet);
    if (primaryDown) m.runner.setFault(true, `interface ${m.ifname} down`);
    else if (eff.fault) m.runner.setFault(true, `${eff.by} failed`);
    else {
      m.runner.setPriority(eff.priority);
      m.runner.setFault(false, 'trackers up');
    }
  }

  private demux(ifname: string, p: Received): void {
    const vrid = p.payload[1];
    let hit = false;
    for (const m of this.managed) {
      if (m.ifname !== ifname || m.runner.cfg.vrid !== vrid) continue;
      // Unicast and multicast instances may share a VRID: deliver by destination.
      const multicastDst = p.dst === m.runner.cfg.mcastGroup;
      if (m.runner.cfg.unicast === multicastDst) continue;
      hit = true;
      m.runner.receive(p);
    }
    if (!hit) this.unknownVrid[`${ifname}/${vrid}`] = (this.unknownVrid[`${ifname}/${vrid}`] ?? 0) + 1;
  }
}
