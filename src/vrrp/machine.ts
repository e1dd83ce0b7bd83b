// The VRRP state machine of one instance (RFC 3768 §6.4, RFC 5798 §6.4, with keepalived's FAULT
// state, nopreempt, preempt_delay and "forcing new election"). Pure: step(config, state, event)
// returns the next state and the actions to carry out; the caller owns clocks, sockets and `ip`.
// Every state change goes through changeState(), which records why.
import type { DecodedAdvert, DropReason } from './packet.js';
import { addressBytes, AUTH_AH, AUTH_NONE, AUTH_PASS, passAuthData } from './packet.js';
import { masterDownUs, skewUs, US_PER_CS, US_PER_SEC } from './timers.js';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

/** keepalived's numbering (vrrp.h VRRP_STATE_*): its JSON dump and keepalived_vrrp_state carry it. */
/** The reason of a BACKUP's move to MASTER when no advert came (keepalived's words). */
export const ADVERT_TIMEOUT = 'Receive advertisement timeout';

export const STATE_NUMBER: Record<VrrpState, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3 };

export interface MachineConfig {
  name: string;
  vrid: number;
  version: 2 | 3;
  /** Configured priority; 255 makes this router the address owner. */
  priority: number;
  /** state MASTER in the config: the initial wish. */
  wantMaster: boolean;
  advertIntUs: number;
  preempt: boolean;
  preemptDelayUs: number;
  downTimerAdverts: number;
  /** The addresses carried in adverts (compared with received lists). */
  addresses: string[];
  /** Our primary address on the interface: the advert source, and the equal-priority tie-break. */
  primaryAddress: string;
  authType: number;
  authPass?: string;
  /** skip_check_adv_addr: a BACKUP skips the address list (and unicast source) checks for adverts
   * from the master it already follows. */
  skipCheckAdvAddr: boolean;
  /** Unicast peers: TTL is not checked (keepalived 2.2.7 does not), multicast is not expected. */
  unicast: boolean;
  /**
   * check_unicast_src (or global vrrp_check_unicast_src) on a unicast instance: adverts must come
   * from one of these peers, with a TTL in its [min_ttl, max_ttl] (keepalived default 0..255).
   */
  unicastSrcPeers?: readonly UnicastSource[];
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  /** Member of a vrrp_sync_group: mastership is the group's decision (see 'wantMaster'). */
  syncGroup?: string;
  /** garp_master_refresh (0: off): a MASTER sends garp_master_refresh_repeat gratuitous ARPs with
   * the first advert after this long, and again this long after that. */
  garpRefreshUs: number;
  garpRefreshRepeat: number;
  /** garp_extra_if (0: off): a MASTER sends its extra-interface gratuitous ARPs with the first
   * advert this long after it became MASTER, and again this long after that. */
  extraIfGarpUs: number;
  /** garp_lower_prio_repeat (0: none) gratuitous ARPs when a MASTER hears a lower priority, and as
   * many again garp_lower_prio_delay later (0: no second burst). */
  garpLowerPrioRepeat: number;
  garpLowerPrioDelayUs: number;
}

export interface UnicastSource {
  address: string;
  minTtl: number;
  maxTtl: number;
}

export interface Counters {
  advertRcvd: number;
  advertSent: number;
  becomeMaster: number;
  releaseMaster: number;
  priZeroRcvd: number;
  priZeroSent: number;
  addressListErrors: number;
  dropped: Partial<Record<DropReason, number>>;
}

export interface MachineState {
  state: VrrpState;
  /** Priority after tracker weights (the engine supplies it); the owner stays at 255. */
  effectivePriority: number;
  /** v3 learns the master's interval; v2 always uses its own. */
  masterAdverIntUs: number;
  /** Absolute deadlines on the injected clock, µs. */
  adverAt?: number;
  masterDownAt?: number;
  /** preempt_delay: until when a lower-priority master is still accepted. */
  preemptDelayUntil?: number;
  /** Address of the router whose adverts we accept as master. */
  masterAddress?: string;
  /** The priority in that router's last accepted advert; kept after we become MASTER, as
   * keepalived keeps it (its JSON dump's master_priority). */
  masterPriority?: number;
  /** Sync group member whose down timer ran out: waiting for the group to go MASTER together. */
  wantMaster?: boolean;
  /** MASTER: when the last lower-priority (or priority 0) advert came in; see replyAllowed(). */
  lowerRxAt?: number;
  /** vrrp_startup_delay: until then a BACKUP's down timer does not run out, and an address owner
   * waits in INIT (its masterDownAt is then the end of the delay). */
  delayUntil?: number;
  /** MASTER with garp_master_refresh: the first advert sent from then on brings a refresh burst. */
  garpRefreshAt?: number;
  /** MASTER with garp_extra_if: likewise, the first advert from then on brings the extra-interface ARPs. */
  extraIfGarpAt?: number;
  /** Second bursts of lower-priority gratuitous ARPs still to send, in time order (at most
   * MAX_PENDING_GARPS); each goes out only if we are MASTER then. */
  lowerGarpAt?: number[];
  /** auth_type AH: keepalived's one sequence counter per instance, for what it sends and what it
   * accepts (a received number must exceed it); `ahCycle`: it reached 0xfffffffe. */
  ahSeq: number;
  ahCycle?: boolean;
  counters: Counters;
}

export type Event =
  /** `delayUntil`: vrrp_startup_delay's end on the same clock (undefined or past: no delay);
   * `configFault`: the instance cannot run (unicast_fault_no_peer without peers). */
  | { type: 'start'; now: number; delayUntil?: number; configFault?: boolean }
  | { type: 'timer'; now: number }
  | { type: 'advert'; now: number; advert: DecodedAdvert; src: string; ttl: number }
  | { type: 'priority'; now: number; priority: number }
  | { type: 'fault'; now: number; fault: boolean; reason: string }
  | { type: 'shutdown'; now: number }
  /** A packet the codec rejected: counted with the other drops. */
  | { type: 'malformed'; now: number; reason: DropReason; detail: string }
  /** Another member of our sync group heard a lower priority as MASTER: our lower-priority GARPs too. */
  | { type: 'syncLowerPri'; now: number }
  /** The sync group moves this member: to MASTER with the others, or back to BACKUP. */
  | { type: 'group'; now: number; to: 'MASTER' | 'BACKUP'; reason: string }
  /** A reload kept this instance (same VRID, interface, version, family) with new settings,
   * already in the config step() is given; `addressesChanged`: its VIPs, routes or rules differ. */
  | { type: 'reconfigure'; now: number; addressesChanged: boolean };

export type Action =
  /** An advert; `reply` marks an immediate answer to a received advert, not a scheduled one. */
  /** `seq`: the AH sequence number to carry (auth_type AH). */
  | { type: 'send'; priority: number; reply?: true; seq?: number }
  | { type: 'transition'; from: VrrpState; to: VrrpState; reason: string }
  | { type: 'addAddresses' }
  | { type: 'removeAddresses' }
  | { type: 'announce' }
  | { type: 'drop'; reason: DropReason; detail: string }
  /** `limit`: a line that can come at packet rate, rate-limited under this name (log-limit.ts). */
  | { type: 'log'; level: 'info' | 'warn'; message: string; limit?: string }
  /** A sync group member is ready to become MASTER; the group decides. */
  | { type: 'wantMaster' }
  /** A MASTER's address list changed by a reload: add the new ones, remove the old ones. */
  | { type: 'updateAddresses' }
  /** `repeat` gratuitous ARPs (unsolicited NAs) per virtual address, now: a garp_master_refresh
   * or a garp_lower_prio burst (becoming MASTER is 'announce'). */
  | { type: 'garp'; repeat: number; why: GarpWhy }
  /** A MASTER heard a lower priority advert: notify_master_rx_lower_pri runs, and the members of
   * its sync group send their lower-priority GARPs (keepalived vrrp_state_master_rx). */
  | { type: 'rxLowerPri' };

/** What a burst is for: garp_master_refresh, garp_lower_prio, or garp_extra_if (one ARP per extra interface). */
export type GarpWhy = 'refresh' | 'lower-prio' | 'extra-if';

export interface Step {
  state: MachineState;
  actions: Action[];
}

export function initialState(cfg: MachineConfig): MachineState {
  return {
    state: 'INIT',
    effectivePriority: cfg.priority,
    masterAdverIntUs: cfg.advertIntUs,
    ahSeq: 0,
    counters: { advertRcvd: 0, advertSent: 0, becomeMaster: 0, releaseMaster: 0, priZeroRcvd: 0, priZeroSent: 0, addressListErrors: 0, dropped: {} },
  };
}

/** Pending second bursts kept at most: a stream of lower-priority adverts cannot grow the list. */
export const MAX_PENDING_GARPS = 64;

/** The earliest deadline the caller must wake us for. */
export function nextDeadline(s: MachineState): number | undefined {
  return earliest(earliest(s.adverAt, s.masterDownAt), s.lowerGarpAt?.[0]);
}

/** Called per packet: no arrays. */
const earliest = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

const downInterval = (cfg: MachineConfig, s: MachineState): number => masterDownUs(cfg.version, s.effectivePriority, s.masterAdverIntUs, cfg.downTimerAdverts);

/** IPv4/IPv6 addresses compared as unsigned numbers in network order (RFC 9568 tie-break). */
export function compareAddresses(a: string, b: string): number {
  return Buffer.compare(addressBytes(a), addressBytes(b));
}

class Stepper {
  readonly actions: Action[] = [];
  readonly s: MachineState;

  constructor(
    readonly cfg: MachineConfig,
    prev: MachineState,
  ) {
    // The drop counts are copied only when one changes (drop()): most steps send or receive an
    // advert and leave them alone, and 1,000 instances step 1,000 times a second.
    this.s = { ...prev, counters: { ...prev.counters } };
  }

  changeState(to: VrrpState, reason: string): void {
    const from = this.s.state;
    if (from === to) return;
    this.s.state = to;
    this.actions.push({ type: 'transition', from, to, reason });
    if (to === 'MASTER') this.s.counters.becomeMaster++;
    if (from === 'MASTER') this.s.counters.releaseMaster++;
  }

  send(priority: number, reply = false): void {
    const a: Action = reply ? { type: 'send', priority, reply: true } : { type: 'send', priority };
    if (this.cfg.authType === AUTH_AH) {
      // vrrp_update_pkt: the counter stops at 0xfffffffe and marks the cycle (reset on becoming MASTER).
      if (this.s.ahSeq > 0xfffffffd) this.s.ahCycle = true;
      else this.s.ahSeq++;
      a.seq = this.s.ahSeq;
    }
    this.actions.push(a);
    this.s.counters.advertSent++;
    if (priority === 0) this.s.counters.priZeroSent++;
  }

  drop(reason: DropReason, detail: string): void {
    const dropped = this.s.counters.dropped;
    this.s.counters.dropped = { ...dropped, [reason]: (dropped[reason] ?? 0) + 1 };
    this.actions.push({ type: 'drop', reason, detail });
  }

  becomeMaster(now: number, reason: string): void {
    this.s.wantMaster = undefined;
    if (this.s.ahCycle) {
      this.s.ahCycle = undefined;
      this.s.ahSeq = 0;
    }
    // keepalived vrrp_state_master_tx: the advert first (the old master drops its VIPs before our
    // GARPs), then the transition's log line, VIPs, GARPs and notifies: a notify's fork, slow in
    // a large process on a busy box, never delays the advert that tells the peers.
    this.send(this.s.effectivePriority);
    this.changeState('MASTER', reason);
    this.s.masterDownAt = undefined;
    this.s.masterAdverIntUs = this.cfg.advertIntUs;
    this.s.masterAddress = this.cfg.primaryAddress;
    this.s.lowerRxAt = undefined;
    this.actions.push({ type: 'addAddresses' }, { type: 'announce' });
    this.s.adverAt = now + this.cfg.advertIntUs;
    this.s.garpRefreshAt = this.cfg.garpRefreshUs > 0 ? now + this.cfg.garpRefreshUs : undefined;
    this.s.extraIfGarpAt = this.cfg.extraIfGarpUs > 0 ? now + this.cfg.extraIfGarpUs : undefined;
  }

  /** keepalived vrrp_init_instance_sands: during vrrp_startup_delay a BACKUP's timers count from its end. */
  downFrom(now: number): number {
    return this.s.delayUntil !== undefined && now < this.s.delayUntil ? this.s.delayUntil : now;
  }

  /** garp_lower_prio_repeat GARPs now and, after garp_lower_prio_delay, again (if still MASTER). */
  lowerPrioGarps(now: number): void {
    const { garpLowerPrioRepeat: repeat, garpLowerPrioDelayUs: delay } = this.cfg;
    if (repeat === 0 || this.s.state !== 'MASTER') return;
    this.actions.push({ type: 'garp', repeat, why: 'lower-prio' });
    const pending = this.s.lowerGarpAt ?? [];
    if (delay > 0 && pending.length < MAX_PENDING_GARPS) this.s.lowerGarpAt = [...pending, now + delay].sort((a, b) => a - b);
  }

  becomeBackup(now: number, reason: string, masterAdverIntUs?: number): void {
    const wasMaster = this.s.state === 'MASTER';
    this.s.wantMaster = undefined;
    this.changeState('BACKUP', reason);
    if (wasMaster) this.actions.push({ type: 'removeAddresses' });
    this.s.adverAt = undefined;
    this.s.masterAdverIntUs = masterAdverIntUs ?? this.cfg.advertIntUs;
    this.s.masterDownAt = this.downFrom(now) + downInterval(this.cfg, this.s);
  }

  /** Leaving MASTER for FAULT or shutdown: priority 0 makes backups take over at once. */
  release(): void {
    if (this.s.state !== 'MASTER') return;
    this.send(0);
    this.actions.push({ type: 'removeAddresses' });
  }
}

export function step(cfg: MachineConfig, prev: MachineState, ev: Event): Step {
  const x = new Stepper(cfg, prev);
  const s = x.s;
  switch (ev.type) {
    case 'start':
      if (s.state !== 'INIT') break;
      if (ev.configFault) {
        // keepalived 2.2.7 sets such an instance FAULT before its state machine starts: no
        // "Entering FAULT STATE" line and no notify (observed), so no transition here either.
        s.state = 'FAULT';
        break;
      }
      if (ev.delayUntil !== undefined && ev.delayUntil > ev.now) s.delayUntil = ev.delayUntil;
      if (cfg.priority === 255 && cfg.wantMaster && s.delayUntil !== undefined) {
        // keepalived holds the owner in BACKUP, unannounced, with a 1 µs down timer counted from
        // the end of the delay: it goes MASTER then. INIT here, so that no BACKUP is notified.
        s.masterDownAt = s.delayUntil + 1;
      } else if (cfg.priority === 255 && cfg.wantMaster) {
        x.becomeMaster(ev.now, 'address owner (priority 255) starts as MASTER');
      } else {
        // Everyone else starts BACKUP with the full Master_Down_Interval, `state MASTER` too
        // (observed with keepalived 2.2.7: MASTER 3.42-3.46 s after start at priority 150).
        x.becomeBackup(ev.now, 'start-up');
      }
      break;

    case 'timer':
      while (s.lowerGarpAt?.length && ev.now >= s.lowerGarpAt[0]) {
        s.lowerGarpAt = s.lowerGarpAt.slice(1);
        // keepalived's delayed burst sends nothing once the VIPs are gone (VRRP_VIP_ISSET).
        if (s.state === 'MASTER') x.actions.push({ type: 'garp', repeat: cfg.garpLowerPrioRepeat, why: 'lower-prio' });
      }
      if (s.lowerGarpAt?.length === 0) s.lowerGarpAt = undefined;
      if (s.state === 'INIT' && s.masterDownAt !== undefined && ev.now >= s.masterDownAt) {
        x.becomeMaster(ev.now, 'address owner (priority 255) starts as MASTER after vrrp_startup_delay');
      } else if (s.state === 'MASTER' && s.adverAt !== undefined && ev.now >= s.adverAt) {
        x.send(s.effectivePriority);
        s.adverAt = ev.now + cfg.advertIntUs;
        // keepalived vrrp_state_master_tx: the refresh rides on an advert once its time has come.
        if (s.garpRefreshAt !== undefined && ev.now >= s.garpRefreshAt) {
          x.actions.push({ type: 'garp', repeat: cfg.garpRefreshRepeat, why: 'refresh' });
          s.garpRefreshAt = ev.now + cfg.garpRefreshUs;
        }
        if (s.extraIfGarpAt !== undefined && ev.now >= s.extraIfGarpAt) {
          x.actions.push({ type: 'garp', repeat: 1, why: 'extra-if' });
          s.extraIfGarpAt = ev.now + cfg.extraIfGarpUs;
        }
      } else if (s.state === 'BACKUP' && s.masterDownAt !== undefined && ev.now >= s.masterDownAt) {
        if (cfg.syncGroup) {
          // keepalived: a sync group goes MASTER only when every member wants to.
          s.masterDownAt = undefined;
          s.wantMaster = true;
          x.actions.push({ type: 'wantMaster' });
        } else x.becomeMaster(ev.now, ADVERT_TIMEOUT);
      }
      break;

    case 'group':
      if (ev.to === 'MASTER' && s.state === 'BACKUP') x.becomeMaster(ev.now, ev.reason);
      else if (ev.to === 'BACKUP' && s.state === 'MASTER') x.becomeBackup(ev.now, ev.reason, s.masterAdverIntUs);
      break;

    case 'advert':
      receive(x, ev);
      break;

    case 'malformed':
      x.drop(ev.reason, ev.detail);
      break;

    case 'priority': {
      const p = cfg.priority === 255 ? 255 : Math.min(254, Math.max(1, ev.priority));
      if (p === s.effectivePriority) break;
      x.actions.push({ type: 'log', level: 'info', message: `(${cfg.name}) Changing effective priority from ${s.effectivePriority} to ${p}` });
      s.effectivePriority = p;
      // The skew depends on the priority: keepalived recomputes a running down timer.
      if (s.state === 'BACKUP' && s.masterDownAt !== undefined) s.masterDownAt = x.downFrom(ev.now) + downInterval(cfg, s);
      break;
    }

    case 'fault':
      if (ev.fault && s.state !== 'FAULT') {
        x.release();
        x.changeState('FAULT', ev.reason);
        s.adverAt = undefined;
        s.masterDownAt = undefined;
        s.wantMaster = undefined;
      } else if (!ev.fault && s.state === 'FAULT') {
        x.becomeBackup(ev.now, ev.reason);
      }
      break;

    case 'reconfigure':
      // State and timers stay; a MASTER puts its new addresses up at once and tells the backups.
      if (s.state === 'MASTER') {
        if (ev.addressesChanged) x.actions.push({ type: 'updateAddresses' });
        x.send(s.effectivePriority);
        s.adverAt = ev.now + cfg.advertIntUs;
        s.masterAddress = cfg.primaryAddress;
        // keepalived restarts the refresh timer of a MASTER kept by a reload.
        s.garpRefreshAt = cfg.garpRefreshUs > 0 ? ev.now + cfg.garpRefreshUs : undefined;
        s.extraIfGarpAt = cfg.extraIfGarpUs > 0 ? ev.now + cfg.extraIfGarpUs : undefined;
      }
      if (cfg.version === 2 || s.state === 'MASTER') s.masterAdverIntUs = cfg.advertIntUs;
      break;

    case 'shutdown':
      x.release();
      x.changeState('INIT', 'shutdown');
      s.adverAt = undefined;
      s.masterDownAt = undefined;
      s.lowerGarpAt = undefined;
      break;

    case 'syncLowerPri':
      x.lowerPrioGarps(ev.now);
      break;
  }
  return { state: s, actions: x.actions };
}

/**
 * A MASTER answers a lower-priority or priority-0 advert at once (keepalived: "forcing new
 * election"), but only when none came in for a whole advert interval before it: the first advert
 * of another master gets its answer, while a stream of them (a flood, or a peer that does not hear
 * us) is answered by the scheduled adverts alone. Replies are thus at least advert_int apart, and
 * under a flood the MASTER keeps its own interval (keepalived 2.2.7 answers every one).
 */
function replyAllowed(cfg: MachineConfig, s: MachineState, now: number): boolean {
  const quiet = s.lowerRxAt === undefined || now - s.lowerRxAt >= cfg.advertIntUs;
  s.lowerRxAt = now;
  return quiet;
}

/** Receive checks the engine owns (RFC 5798 §7.1 / RFC 3768 §7.1 as keepalived applies them),
 * then the Backup or Master rules of §6.4. */
function receive(x: Stepper, ev: Extract<Event, { type: 'advert' }>): void {
  const { cfg, s } = x;
  const a = ev.advert;
  if (a.vrid !== cfg.vrid) return x.drop('vrid-unknown', `VRID ${a.vrid}`);
  if (a.version !== cfg.version) return x.drop('version', `version ${a.version}, configured ${cfg.version}`);
  if (!cfg.unicast && ev.ttl !== 255) return x.drop('ttl', `invalid TTL/HL. Received ${ev.ttl} and expect 255`);
  if (ev.src === cfg.primaryAddress) return x.drop('own-packet', 'advert from our own address');
  if (cfg.version === 2) {
    // keepalived 2.2.7 counts a type it does not know (not none, pass or AH) apart from a mismatch.
    const got = a.authType ?? AUTH_NONE;
    if (got > 2) return x.drop('auth-type-invalid', `Invalid auth type: ${got}`);
    if (got !== cfg.authType) return x.drop('auth-type', `auth type ${got}, configured ${cfg.authType}`);
    if (cfg.authType === AUTH_PASS && !passAuthData(cfg.authPass ?? '').equals(a.authData ?? Buffer.alloc(8))) {
      return x.drop('auth-failure', 'received an invalid passwd');
    }
    if (cfg.authType === AUTH_AH) {
      const seq = a.ahSeq ?? 0;
      if (seq <= s.ahSeq) {
        return x.drop('auth-failure', `IPSEC-AH : sequence number ${seq} already processed. Packet dropped. Local(${s.ahSeq})`);
      }
      s.ahSeq = seq;
      if (s.state === 'BACKUP') s.ahCycle = undefined;
    }
    if ((a.adverIntSec ?? 0) * US_PER_SEC !== cfg.advertIntUs) {
      return x.drop('interval-mismatch', `advertisement interval mismatch mine=${cfg.advertIntUs / US_PER_SEC} sec rcv'd=${a.adverIntSec} sec`);
    }
  }
  if (s.state === 'FAULT' || s.state === 'INIT') return;
  // keepalived 2.2.7 (vrrp_check_packet) ignores an advert whose address list is not ours: another
  // router on this VRID, or a peer with another config, must not win or lose the election for us.
  // A BACKUP with skip_check_adv_addr trusts the master it follows.
  const checkAddr = !cfg.skipCheckAdvAddr || s.state !== 'BACKUP' || s.masterAddress === undefined || compareAddresses(s.masterAddress, ev.src) !== 0;
  if (checkAddr && a.addresses.length !== cfg.addresses.length) {
    s.counters.addressListErrors++;
    return x.drop('address-list', `received an unexpected ip number count ${a.addresses.length}, expected ${cfg.addresses.length}!`);
  }
  s.counters.advertRcvd++;
  if (checkAddr) {
    const missing = cfg.addresses.find((mine) => !a.addresses.some((theirs) => compareAddresses(mine, theirs) === 0));
    if (missing !== undefined) {
      s.counters.addressListErrors++;
      return x.drop('address-list', `ip address associated with VRID ${cfg.vrid} not present in MASTER advert: ${missing}`);
    }
  }
  // keepalived 2.2.7 checks the unicast source last (and only with the address list): after
  // counting the advert as received, before counting a priority 0.
  if (checkAddr && cfg.unicastSrcPeers) {
    const peer = cfg.unicastSrcPeers.find((p) => compareAddresses(p.address, ev.src) === 0);
    if (!peer) return x.drop('unicast-src', `unicast source address ${ev.src} not a unicast peer`);
    // -1: an IPv6 unicast advert, whose hop limit the transport cannot read (keepalived skips the check when it has none).
    if (ev.ttl >= 0 && (ev.ttl < peer.minTtl || ev.ttl > peer.maxTtl)) return x.drop('ttl', `TTL/HL ${ev.ttl} not in range ${peer.minTtl} - ${peer.maxTtl}`);
  }
  if (a.priority === 0) s.counters.priZeroRcvd++;
  const theirInterval = a.version === 3 ? (a.maxAdverIntCs ?? 0) * US_PER_CS : cfg.advertIntUs;

  if (s.state === 'BACKUP') {
    if (a.priority === 0) {
      s.masterDownAt = x.downFrom(ev.now) + skewUs(cfg.version, s.effectivePriority, s.masterAdverIntUs);
      return;
    }
    const lower = a.priority < s.effectivePriority;
    if (lower && cfg.preempt) {
      if (cfg.preemptDelayUs > 0) {
        s.preemptDelayUntil ??= ev.now + cfg.preemptDelayUs;
        if (ev.now < s.preemptDelayUntil) return accept();
      }
      // "lower priority advert - discarding": the down timer runs out and we preempt.
      return;
    }
    return accept();
  }

  // MASTER
  if (a.priority === 0) {
    if (replyAllowed(cfg, s, ev.now)) reply();
    return;
  }
  const theyWin = a.priority > s.effectivePriority || (a.priority === s.effectivePriority && compareAddresses(ev.src, cfg.primaryAddress) > 0);
  if (theyWin) {
    s.ahCycle = undefined;
    if (cfg.higherPrioSendAdvert) x.send(s.effectivePriority);
    x.becomeBackup(ev.now, `Master received advert from ${ev.src} with higher priority ${a.priority}, ours ${s.effectivePriority}`, theirInterval);
    s.masterAddress = ev.src;
    s.masterPriority = a.priority;
    return;
  }
  x.actions.push({
    type: 'log',
    level: 'info',
    message: `(${cfg.name}) Received advert from ${ev.src} with lower priority ${a.priority}, ours ${s.effectivePriority}${cfg.lowerPrioNoAdvert ? '' : ', forcing new election'}`,
    limit: 'lower priority adverts',
  });
  // keepalived "IPSEC-AH : Syncing seq_num - Increment seq": past the lower priority's number.
  if (cfg.authType === AUTH_AH) {
    s.ahSeq = ((a.ahSeq ?? 0) + 1) >>> 0;
    s.ahCycle = undefined;
  }
  // keepalived answers, sends the GARPs and runs notify_master_rx_lower_pri for every such advert;
  // here for the first of a stream only (see replyAllowed()), so that a flood cannot fork an arping
  // or a script per packet and crowd out our adverts.
  if (!replyAllowed(cfg, s, ev.now)) return;
  if (!cfg.lowerPrioNoAdvert) reply();
  x.lowerPrioGarps(ev.now);
  x.actions.push({ type: 'rxLowerPri' });

  /** An advert at once, which restarts the advert timer (RFC 5798 §6.4.3 for priority 0). */
  function reply(): void {
    x.send(s.effectivePriority, true);
    s.adverAt = ev.now + cfg.advertIntUs;
  }

  function accept(): void {
    s.wantMaster = undefined;
    s.masterAdverIntUs = theirInterval;
    s.masterAddress = ev.src;
    s.masterPriority = a.priority;
    s.masterDownAt = x.downFrom(ev.now) + downInterval(cfg, s);
  }
}
