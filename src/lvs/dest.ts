// A destination (real server) of a virtual service: the state IPVS schedulers read. Counters
// change only through the methods below, which apply IPVS's overload rules and tell subscribers
// (the schedulers' indexes) what changed, so a scheduler never has to rescan the list.
//
// Overload (IP_VS_DEST_F_OVERLOAD), as ip_vs_conn.c and ip_vs_ctl.c do it:
// - binding a connection (or a persistence template) sets it when uThreshold ≠ 0 and
//   active + inactive ≥ uThreshold;
// - unbinding clears it when lThreshold ≠ 0 and active + inactive < lThreshold, else when
//   uThreshold ≠ 0 and the total is below 3/4 of it, else unconditionally;
// - editing the destination clears it when the new uThreshold is 0 or higher than the old one.
// Moving a connection between active and inactive (TCP ESTABLISHED in/out) leaves it alone.
import { WEIGHT_MAX } from '../config/model/index.js';
import { Stats } from './estimator.js';
import { addrFold } from './hash.js';

/** `edit`: weight or thresholds changed (IPVS upd_dest). `conns`: counters or the overload flag. */
export type DestChange = 'edit' | 'conns';
export type DestListener = (dest: Dest, change: DestChange) => void;
/** How IPVS counts a connection: ESTABLISHED TCP/SCTP, anything else, or a persistence template. */
export type ConnKind = 'active' | 'inactive' | 'template';

export interface DestInit {
  address: string;
  port?: number;
  /** 0..2147483647; default 1. 0 = quiesced: kept for existing connections, never picked. */
  weight?: number;
  /** 0 = no upper threshold. */
  uThreshold?: number;
  /** 0 = 3/4 of uThreshold. */
  lThreshold?: number;
  /** Default `address:port` (`[address]:port` for IPv6). */
  id?: string;
}

export interface DestEdit {
  weight?: number;
  uThreshold?: number;
  lThreshold?: number;
}

function checkInt(name: string, v: number, max = WEIGHT_MAX): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name} must be an integer in 0..${max}, got ${v}`);
  return v;
}

export class Dest {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** IPVS addr_fold of the address (host order): what sh/mh hash destinations by. */
  readonly addrFold: number;
  /**
   * Totals and rates for ipvsadm --stats/--rate. They outlive removal from the service: a
   * draining destination keeps counting its last connections (IPVS keeps it in the trash).
   */
  readonly stats = new Stats();

  private w: number;
  private lastW: number;
  private u: number;
  private l: number;
  private active = 0;
  private inact = 0;
  private persist = 0;
  private over = false;
  private listeners: DestListener[] = [];

  constructor(init: DestInit) {
    this.address = init.address;
    this.port = checkInt('port', init.port ?? 0, 65535);
    this.family = init.address.includes(':') ? 6 : 4;
    this.id = init.id ?? (this.family === 6 ? `[${init.address}]:${this.port}` : `${init.address}:${this.port}`);
    this.addrFold = addrFold(init.address);
    this.w = checkInt('weight', init.weight ?? 1);
    // On add, IPVS copies the weight into last_weight even when it is 0.
    this.lastW = this.w;
    this.u = checkInt('uThreshold', init.uThreshold ?? 0);
    this.l = checkInt('lThreshold', init.lThreshold ?? 0);
  }

  get weight(): number {
    return this.w;
  }
  /** The latest non-zero weight (the weight given at creation if never edited): mh keeps slots by it. */
  get lastWeight(): number {
    return this.lastW;
  }
  get uThreshold(): number {
    return this.u;
  }
  get lThreshold(): number {
    return this.l;
  }
  get activeConns(): number {
    return this.active;
  }
  get inactConns(): number {
    return this.inact;
  }
  get persistConns(): number {
    return this.persist;
  }
  /** IP_VS_DEST_F_OVERLOAD: every scheduler skips the destination while set. */
  get overloaded(): boolean {
    return this.over;
  }
  /** IPVS `ip_vs_dest_conn_overhead`: active × 256 + inactive. */
  get overhead(): number {
    return this.active * 256 + this.inact;
  }

  /** Change weight and/or thresholds (ipvsadm -e; keepalived on a weight or check change). */
  edit(e: DestEdit): void {
    if (e.weight !== undefined) {
      this.w = checkInt('weight', e.weight);
      if (this.w !== 0) this.lastW = this.w;
    }
    const u = e.uThreshold === undefined ? this.u : checkInt('uThreshold', e.uThreshold);
    if (u === 0 || u > this.u) this.over = false;
    this.u = u;
    if (e.lThreshold !== undefined) this.l = checkInt('lThreshold', e.lThreshold);
    this.emit('edit');
  }

  /** A new connection (IPVS starts every one inactive) or a template was bound to this destination. */
  bindConn(kind: ConnKind = 'inactive'): void {
    this.count(kind, 1);
    this.afterBind();
    this.emit('conns');
  }

  /** A connection or template left this destination. */
  unbindConn(kind: ConnKind = 'inactive'): void {
    this.count(kind, -1);
    this.afterUnbind();
    this.emit('conns');
  }

  /** A bound connection moved between inactive and active (TCP entering or leaving ESTABLISHED). */
  moveConn(from: 'active' | 'inactive', to: 'active' | 'inactive'): void {
    if (from === to) return;
    this.count(from, -1);
    this.count(to, 1);
    this.emit('conns');
  }

  /**
   * Set the counters directly (tests, state sync). The overload flag follows the bind rule when
   * the total grew and the unbind rule when it shrank, as if the change came one connection at a time.
   */
  setConns(c: { active?: number; inactive?: number; persist?: number }): void {
    const before = this.active + this.inact;
    this.active = checkInt('activeConns', c.active ?? this.active);
    this.inact = checkInt('inactConns', c.inactive ?? this.inact);
    this.persist = checkInt('persistConns', c.persist ?? this.persist);
    const after = this.active + this.inact;
    if (after > before) this.afterBind();
    else if (after < before) this.afterUnbind();
    this.emit('conns');
  }

  /** Be told of every change; returns the unsubscribe function. */
  subscribe(fn: DestListener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  toString(): string {
    return this.id;
  }

  private count(kind: ConnKind, delta: 1 | -1): void {
    if (kind === 'active') this.active = this.dec('activeConns', this.active + delta);
    else if (kind === 'inactive') this.inact = this.dec('inactConns', this.inact + delta);
    else this.persist = this.dec('persistConns', this.persist + delta);
  }

  private dec(name: string, v: number): number {
    if (v < 0) throw new RangeError(`${this.id}: ${name} would go below 0`);
    return v;
  }

  private afterBind(): void {
    if (this.u !== 0 && this.active + this.inact >= this.u) this.over = true;
  }

  private afterUnbind(): void {
    const total = this.active + this.inact;
    if (this.l !== 0) {
      if (total < this.l) this.over = false;
    } else if (this.u !== 0) {
      if (total * 4 < this.u * 3) this.over = false;
    } else this.over = false;
  }

  private emit(change: DestChange): void {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i](this, change);
  }
}
