// Persistence templates (keepalived persistence_timeout / persistence_granularity; IPVS
// ip_vs_sched_persist). A client, masked by the granularity (IPv4 netmask, default /32; IPv6
// prefix, default /128), keeps going to the destination its template names. Within one virtual
// service the kernel's template key <proto, client & mask, vaddr, vport> reduces to the masked
// client: vport is the service port or, for port-0 services, 0.
//
// Lifetime, as IPVS runs a template's timer: each use re-arms it to now + timeout; while the
// template controls connections (hold/release) an expiring timer re-arms itself, so after the last
// connection goes the template ends at the first timer expiry from then on. A template whose
// destination left the service, or has weight 0 (sysctl expire_quiescent_template; default on here,
// off in the kernel), is dropped at its next use and the client is scheduled afresh. The overload
// flag is not checked for an existing template: persistence sticks to an overloaded destination.
// A template counts in its destination's persistConns.
import { addressBytes, addressString } from '../core/address.js';
import type { Dest } from './dest.js';
import { parseV4 } from './hash.js';
import type { ConnInfo } from './schedulers/types.js';

export interface PersistenceOptions {
  /** Seconds (persistence_timeout). */
  timeout: number;
  /** persistence_granularity: an IPv4 netmask (`255.255.255.0`) or a prefix length (`24`, `/64`). */
  granularity?: string;
  /** Drop templates whose destination has weight 0. Default true (the kernel's sysctl default is 0). */
  expireQuiescent?: boolean;
  /** Clock units per second (default 1e6: core/clock.ts microseconds). */
  unitsPerSecond?: number;
}

export interface Template {
  /** The masked client. */
  readonly client: string;
  readonly dest: Dest;
  /** When the template expires unless used again or holding connections. */
  readonly expires: number;
  /** Connections it controls. */
  readonly controlled: number;
}

interface Tpl extends Template {
  dest: Dest;
  expires: number;
  controlled: number;
  releasedAt: number;
  dead: boolean;
  /** Time of this template's live entry in the expiry heap. */
  due: number;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** A granularity as a prefix length per family (a netmask counts its leading ones). */
export function parseGranularity(g: string | undefined): { v4: number; v6: number } {
  if (g === undefined || g === '') return { v4: 32, v6: 128 };
  const m = V4.exec(g);
  if (m) {
    const n = ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0;
    const ones = Math.clz32(~n >>> 0);
    if (ones < 32 && (n << ones) >>> 0 !== 0) throw new RangeError(`persistence_granularity ${g} is not a contiguous netmask`);
    return { v4: ones, v6: 128 };
  }
  const p = /^\/?(\d{1,3})$/.exec(g);
  if (!p || +p[1] > 128) throw new RangeError(`persistence_granularity must be a netmask or a prefix length, got "${g}"`);
  return { v4: Math.min(32, +p[1]), v6: +p[1] };
}

export class PersistenceTable {
  readonly timeout: number;
  private readonly prefix: { v4: number; v6: number };
  private readonly expireQuiescent: boolean;
  private readonly templates = new Map<string, Tpl>();
  private heap: Array<{ at: number; t: Tpl }> = [];
  private members = new Set<Dest>();
  private dests: readonly Dest[] | undefined;

  constructor(opts: PersistenceOptions) {
    if (!(opts.timeout > 0)) throw new RangeError(`persistence timeout must be > 0 s, got ${opts.timeout}`);
    this.timeout = opts.timeout * (opts.unitsPerSecond ?? 1e6);
    this.prefix = parseGranularity(opts.granularity);
    this.expireQuiescent = opts.expireQuiescent ?? true;
  }

  get size(): number {
    return this.templates.size;
  }

  /** The service's destinations changed (templates of removed ones become invalid). */
  onDestsChanged(dests: readonly Dest[]): void {
    this.dests = dests;
    this.members = new Set(dests);
  }

  /** The client address masked by the granularity. */
  clientKey(src: string): string {
    const v = parseV4(src);
    if (v >= 0) {
      const bits = this.prefix.v4;
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      const a = (v & mask) >>> 0;
      return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    }
    const b = addressBytes(src.replace(/%.*$/, ''));
    let bits = b.length === 4 ? this.prefix.v4 : this.prefix.v6;
    for (let i = 0; i < b.length; i++, bits -= 8) b[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
    return addressString(b, b.length === 4 ? 4 : 6);
  }

  /** The live template for this client (refreshed: expires = now + timeout), if any. */
  lookup(dests: readonly Dest[], conn: ConnInfo, now: number): Template | undefined {
    if (dests !== this.dests) this.onDestsChanged(dests);
    const t = this.templates.get(this.clientKey(conn.src));
    if (!t) return undefined;
    if (now >= this.expiry(t) || !this.members.has(t.dest) || (this.expireQuiescent && t.dest.weight === 0)) {
      this.drop(t);
      return undefined;
    }
    t.expires = now + this.timeout;
    t.releasedAt = -Infinity;
    return t;
  }

  /** The client's template, or a new one bound to what `schedule` picks (undefined: none available). */
  resolve(dests: readonly Dest[], conn: ConnInfo, now: number, schedule: () => Dest | undefined): Template | undefined {
    const live = this.lookup(dests, conn, now);
    if (live) return live;
    const dest = schedule();
    if (!dest) return undefined;
    const t: Tpl = { client: this.clientKey(conn.src), dest, expires: now + this.timeout, controlled: 0, releasedAt: -Infinity, dead: false, due: 0 };
    this.templates.set(t.client, t);
    dest.bindConn('template');
    this.push(t, t.expires);
    return t;
  }

  /** A connection controlled by the template was created. */
  hold(t: Template): void {
    (t as Tpl).controlled++;
  }

  /** A connection controlled by the template ended. */
  release(t: Template, now: number): void {
    const x = t as Tpl;
    if (x.controlled === 0) throw new RangeError(`template of ${x.client} holds no connection`);
    if (--x.controlled === 0) {
      x.releasedAt = now;
      if (!x.dead) this.push(x, this.expiry(x));
    }
  }

  /** Drop the templates expired by `now`; returns how many. */
  expire(now: number): number {
    let n = 0;
    while (this.heap.length && this.heap[0].at <= now) {
      const { at, t } = this.pop();
      if (t.dead || at !== t.due) continue;
      const end = this.expiry(t);
      if (now >= end) {
        this.drop(t);
        n++;
      } else if (t.controlled === 0) this.push(t, end);
    }
    return n;
  }

  /** The next time expire() may have work. */
  nextDeadline(): number | undefined {
    return this.heap[0]?.at;
  }

  /** When the template ends if nothing touches it again (Infinity while it controls connections). */
  private expiry(t: Tpl): number {
    if (t.controlled > 0) return Infinity;
    let end = t.expires;
    if (t.releasedAt > end) end += Math.ceil((t.releasedAt - end) / this.timeout) * this.timeout;
    return end;
  }

  private drop(t: Tpl): void {
    if (this.templates.get(t.client) === t) this.templates.delete(t.client);
    t.dead = true;
    if (t.dest.persistConns > 0) t.dest.unbindConn('template');
  }

  // A binary min-heap on `at`; stale entries (at ≠ t.due) are skipped when popped.
  private push(t: Tpl, at: number): void {
    t.due = at;
    const h = this.heap;
    h.push({ at, t });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }

  private pop(): { at: number; t: Tpl } {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].at < h[m].at) m = l;
        if (r < h.length && h[r].at < h[m].at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}
