// The imperative shell around one instance's state machine: it owns the timer on the injected
// clock, turns received packets into events, builds adverts with the codec, and hands address
// changes, announcements and transitions to hooks (iproute2 and arping in the daemon, recorders
// in the simulator and the lab).
import type { Clock, TimerHandle } from '../core/clock.js';
import { LogLimiter, type LimitedLine } from './log-limit.js';
import { initialState, nextDeadline, step, type Action, type Event, type MachineConfig, type MachineState, type GarpWhy, type VrrpState } from './machine.js';
import { AH_LEN, IPPROTO_AH, openAh, sealAh } from './ah.js';
import { AUTH_AH, AUTH_PASS, decodeAdvert, encodeAdvert, passAuthData, VRRP_MCAST4, VRRP_MCAST6, type ChecksumMode } from './packet.js';

export interface Received {
  src: string;
  dst: string;
  /** IPv6: 0 means a multicast advert whose hop limit was not 255, -1 a unicast one's (not known). */
  ttl: number;
  payload: Buffer;
  /** IPv6: the kernel verified the checksum (keepalived relies on IPV6_CHECKSUM too). */
  checksumChecked?: boolean;
  /** 51: an AH header and VRRP message (auth_type AH), with the IPv4 header it covers. */
  protocol?: number;
  header?: Buffer;
}

/** The VRID of a received packet, inside the AH header if there is one. */
export function receivedVrid(p: Received): number | undefined {
  return p.protocol === IPPROTO_AH ? p.payload[AH_LEN + 1] : p.payload[1];
}

export interface PacketPort {
  /** `reply`: an immediate answer to a received advert, which may wait behind scheduled adverts. */
  send(payload: Buffer, opts: { src: string; dst: string; ttl?: number; reply?: boolean; protocol?: number; id?: number }): void;
}

export interface InstanceHooks {
  addAddresses?(inst: VrrpRunner): void;
  removeAddresses?(inst: VrrpRunner): void;
  /** A MASTER's address list changed by a reload (see reconfigure()). */
  updateAddresses?(inst: VrrpRunner): void;
  announce?(inst: VrrpRunner): void;
  /** A garp_master_refresh or garp_lower_prio burst: `repeat` gratuitous ARPs per VIP. */
  garp?(inst: VrrpRunner, repeat: number, why: GarpWhy): void;
  /** MASTER heard a lower priority advert (notify_master_rx_lower_pri). */
  rxLowerPri?(inst: VrrpRunner): void;
  transition?(inst: VrrpRunner, from: VrrpState, to: VrrpState, reason: string): void;
  /** A sync group member is ready for MASTER (see machine.ts). */
  wantMaster?(inst: VrrpRunner): void;
  log?(inst: VrrpRunner, level: 'info' | 'warn', message: string): void;
}

export interface RunnerConfig extends MachineConfig {
  family: 4 | 6;
  /** Unicast peers; empty means multicast to 224.0.0.18 / ff02::12. */
  peers: string[];
  mcastGroup?: string;
  checksumMode: ChecksumMode;
  /** TTL (hop limit) of the adverts we send: unicast_ttl with unicast peers, else 255. */
  ttl: number;
}

export interface TransitionRecord {
  at: number;
  from: VrrpState;
  to: VrrpState;
  reason: string;
}

/** The last transitions kept for inspection (tests, the lab); older ones are let go. */
const MAX_TRANSITIONS = 1000;
/** The default multicast destinations, one array each, not one per advert. */
const MCAST4: readonly string[] = [VRRP_MCAST4];
const MCAST6: readonly string[] = [VRRP_MCAST6];
/** An encoded advert and its send options, as sent every advert_int (the same objects each time). */
interface CachedAdvert {
  cfg: RunnerConfig;
  priority: number;
  payload: Buffer;
  opts: { src: string; dst: string; ttl: number };
}

/** Destinations whose encoded advert is kept: the unicast peers of one instance, bounded. */
const MAX_CACHED_ADVERTS = 64;

export class VrrpRunner {
  private st: MachineState;
  private timer?: TimerHandle;
  private logTimer?: TimerHandle;
  readonly transitions: TransitionRecord[] = [];
  /** IP identification of our AH adverts: keepalived numbers them itself (0 is the kernel's). */
  private ipId = 0;
  /** Encoded adverts by destination (advertFor). */
  private readonly adverts = new Map<string, CachedAdvert>();
  /** Drops and other per-packet lines: the first logged, the rest summed up (log-limit.ts). */
  private readonly limiter: LogLimiter;

  constructor(
    private config: RunnerConfig,
    private readonly clock: Clock,
    private readonly port: PacketPort,
    private hooks: InstanceHooks = {},
  ) {
    this.st = initialState(config);
    this.limiter = new LogLimiter(`(${config.name}) `);
  }

  get cfg(): RunnerConfig {
    return this.config;
  }

  get state(): MachineState {
    return this.st;
  }

  /** keepalived's STATS_CLEAR: the counters start again from zero; nothing else changes. */
  clearCounters(): void {
    this.st = { ...this.st, counters: initialState(this.cfg).counters };
  }

  /** `delayUntil`: the end of vrrp_startup_delay on this clock, if one runs; `configFault`: the
   * instance cannot run and stays FAULT; `now`: when the engine started its instances (one time
   * for all). */
  start(delayUntil?: number, configFault = false, now = this.clock.now()): void {
    this.dispatch({ type: 'start', now, delayUntil, configFault });
  }

  /** A member of our sync group heard a lower priority as MASTER: send our lower-priority GARPs. */
  syncLowerPri(): void {
    this.dispatch({ type: 'syncLowerPri', now: this.clock.now() });
  }

  /** A reload hands a running instance to the new engine: same state and timer, new hooks. */
  setHooks(hooks: InstanceHooks): void {
    this.hooks = hooks;
  }

  /** A reload kept this instance with new settings: same state and timers, new configuration;
   * a MASTER whose addresses changed gets updateAddresses and sends a fresh advert. */
  reconfigure(cfg: RunnerConfig, addressesChanged: boolean): void {
    this.config = cfg;
    this.dispatch({ type: 'reconfigure', now: this.clock.now(), addressesChanged });
  }

  stop(): void {
    this.dispatch({ type: 'shutdown', now: this.clock.now() });
  }

  setPriority(priority: number): void {
    this.dispatch({ type: 'priority', now: this.clock.now(), priority });
  }

  setFault(fault: boolean, reason: string): void {
    this.dispatch({ type: 'fault', now: this.clock.now(), fault, reason });
  }

  /** Sync group decision: move with the other members. */
  group(to: 'MASTER' | 'BACKUP', reason: string): void {
    this.dispatch({ type: 'group', now: this.clock.now(), to, reason });
  }

  /** A packet for this VRID from the transport (already past the IPv4 header check). */
  receive(p: Received): void {
    const now = this.clock.now();
    // An IPv6 multicast advert cut short by the hop-limit filter (raw-transport.ts): keepalived's
    // ip_ttl_err, whose value we cannot tell.
    if (this.cfg.family === 6 && p.ttl === 0 && !this.cfg.unicast)
      return this.dispatch({ type: 'malformed', now, reason: 'ttl', detail: `invalid TTL/HL. Received less than 255 and expect 255 (from ${p.src})` });
    const ah = this.cfg.authType === AUTH_AH;
    const wrapped = p.protocol === IPPROTO_AH;
    // keepalived's first receive check: an AH header exactly when auth_type is AH.
    if (ah !== wrapped) {
      const detail = wrapped ? 'Received AH header but auth type not AH' : 'No AH header but auth type is AH';
      return this.dispatch({ type: 'malformed', now, reason: 'auth-type', detail });
    }
    let payload = p.payload;
    let ahSeq: number | undefined;
    if (wrapped) {
      const o = openAh(p.header ?? Buffer.alloc(20), p.payload, this.cfg.authPass ?? '', this.cfg.unicast);
      if (!o.ok) {
        if (o.ignore) return;
        return this.dispatch({ type: 'malformed', now, reason: o.reason, detail: `dropped packet from ${p.src}: ${o.detail}` });
      }
      payload = o.value.vrrp;
      ahSeq = o.value.seq;
    }
    const d = decodeAdvert(payload, { family: this.cfg.family, src: p.src, dst: p.dst, checksumChecked: p.checksumChecked });
    if (!d.ok) return this.dispatch({ type: 'malformed', now: this.clock.now(), reason: d.reason, detail: `dropped packet from ${p.src}: ${d.detail}` });
    if (ahSeq !== undefined) d.value.ahSeq = ahSeq;
    this.dispatch({ type: 'advert', now, advert: d.value, src: p.src, ttl: p.ttl });
  }

  private dispatch(ev: Event): void {
    const prevMaster = this.st.masterAddress;
    const r = step(this.cfg, this.st, ev);
    this.st = r.state;
    // keepalived re-arms its rate-limited logs when a backup accepts a new master.
    if (r.state.state === 'BACKUP' && r.state.masterAddress !== prevMaster && r.state.masterAddress !== undefined) this.rearmLogs(ev.now);
    for (const a of r.actions) this.perform(a, ev.now);
    this.reschedule();
  }

  private rearmLogs(now: number): void {
    this.emit(this.limiter.reset(now));
    this.scheduleLogFlush();
  }

  private emit(lines: LimitedLine[]): void {
    for (const l of lines) this.hooks.log?.(this, l.level, l.message);
  }

  private limited(key: string, now: number, level: 'info' | 'warn', detail: string, what: string): void {
    const line = this.limiter.offer(key, now, level, detail, what);
    if (line) this.emit([line]);
    this.scheduleLogFlush();
  }

  private scheduleLogFlush(): void {
    const at = this.limiter.nextFlushAt();
    if (this.logTimer && this.logTimer.at === at) return;
    if (this.logTimer) this.clock.clearTimer(this.logTimer);
    this.logTimer = undefined;
    if (at !== undefined)
      this.logTimer = this.clock.setTimer(at, () => {
        this.logTimer = undefined;
        this.emit(this.limiter.flush(this.clock.now()));
        this.scheduleLogFlush();
      });
  }

  private perform(a: Action, now: number): void {
    switch (a.type) {
      case 'send':
        this.sendAdvert(a.priority, a.reply ?? false, a.seq);
        break;
      case 'transition':
        // Logged by whoever handles the transition (the daemon logs keepalived's wording).
        this.transitions.push({ at: now, from: a.from, to: a.to, reason: a.reason });
        if (this.transitions.length > MAX_TRANSITIONS) this.transitions.splice(0, this.transitions.length - MAX_TRANSITIONS);
        // keepalived re-arms its rate-limited logs on every state change.
        this.rearmLogs(now);
        this.hooks.transition?.(this, a.from, a.to, a.reason);
        break;
      case 'addAddresses':
        this.hooks.addAddresses?.(this);
        break;
      case 'removeAddresses':
        this.hooks.removeAddresses?.(this);
        break;
      case 'updateAddresses':
        this.hooks.updateAddresses?.(this);
        break;
      case 'announce':
        this.hooks.announce?.(this);
        break;
      case 'garp':
        this.hooks.garp?.(this, a.repeat, a.why);
        break;
      case 'rxLowerPri':
        this.hooks.rxLowerPri?.(this);
        break;
      case 'drop':
        this.limited(`drop:${a.reason}`, now, 'warn', a.detail, `adverts dropped for ${a.reason}`);
        break;
      case 'log':
        if (a.limit) this.limited(`log:${a.limit}`, now, a.level, a.message.replace(`(${this.cfg.name}) `, ''), a.limit);
        else this.hooks.log?.(this, a.level, a.message);
        break;
      case 'wantMaster':
        this.hooks.wantMaster?.(this);
        break;
    }
  }

  private sendAdvert(priority: number, reply: boolean, seq?: number): void {
    const c = this.cfg;
    const dsts = c.peers.length ? c.peers : c.mcastGroup ? [c.mcastGroup] : c.family === 4 ? MCAST4 : MCAST6;
    for (const dst of dsts) {
      const advert = this.advertFor(c, priority, dst);
      const payload = advert.payload;
      const opts = reply ? { src: c.primaryAddress, dst, ttl: c.ttl, reply } : advert.opts;
      if (c.authType !== AUTH_AH) {
        this.port.send(payload, opts);
        continue;
      }
      // vrrp_update_pkt: the identification goes 1..65535 (0 would let the kernel choose after we signed).
      this.ipId = (this.ipId % 0xffff) + 1;
      const sealed = sealAh(payload, c.authPass ?? '', { src: c.primaryAddress, dst, ttl: c.ttl, id: this.ipId, seq: seq ?? 0, unicast: c.peers.length > 0 });
      this.port.send(sealed, { ...opts, protocol: IPPROTO_AH, id: this.ipId });
    }
  }

  /** The VRRP message for a destination, encoded once per configuration and priority: a MASTER
   * sends the same bytes every advert_int (1,000 instances: 1,000 encodings a second saved). The
   * transports copy what they are given, so the cached buffer is never handed out to keep. */
  private advertFor(c: RunnerConfig, priority: number, dst: string): CachedAdvert {
    const hit = this.adverts.get(dst);
    if (hit && hit.cfg === c && hit.priority === priority) return hit;
    const payload = encodeAdvert(
      {
        version: c.version,
        vrid: c.vrid,
        priority,
        family: c.family,
        addresses: c.addresses,
        adverIntSec: Math.round(c.advertIntUs / 1_000_000),
        maxAdverIntCs: Math.round(c.advertIntUs / 10_000),
        authType: c.authType,
        authData: c.authType === AUTH_PASS ? passAuthData(c.authPass ?? '') : undefined,
      },
      { src: c.primaryAddress, dst, checksum: c.checksumMode },
    );
    // One entry per destination (peers change only with the configuration).
    if (!hit && this.adverts.size >= MAX_CACHED_ADVERTS) this.adverts.clear();
    const entry = { cfg: c, priority, payload, opts: { src: c.primaryAddress, dst, ttl: c.ttl } };
    this.adverts.set(dst, entry);
    return entry;
  }

  private reschedule(): void {
    const at = nextDeadline(this.st);
    if (this.timer && this.timer.at === at) return;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (at !== undefined) this.timer = this.clock.setTimer(at, this.onTimer);
  }

  /** The timer's callback, one per runner rather than a closure per advert. */
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.dispatch({ type: 'timer', now: this.clock.now() });
  };
}
