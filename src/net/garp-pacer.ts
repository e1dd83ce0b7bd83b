// Spacing of gratuitous ARPs per interface, as keepalived 2.2.7 does it (vrrp_arp.c
// send_gratuitous_arp / queue_garp, vrrp_scheduler.c vrrp_arp_thread): with a garp interval on the
// interface (vrrp_garp_interval, or a garp_group's garp_interval), an ARP asked for before the
// interface's next free time is marked pending instead, once per instance and address (asking
// again while it is pending adds nothing), and one timer sends the pending ones, one per interface
// per interval: instance by instance (in the order they first had one pending; keepalived's is the
// config's), each in its VIP order. Without an interval every ARP goes out at once.
// Pure: the clock and the sending are injected.
import type { Clock, TimerHandle } from '../core/clock.js';

export interface GarpPacerOptions {
  clock: Clock;
  /** The garp interval of an interface in µs, 0 for none. */
  intervalUs(dev: string): number;
  send(dev: string, address: string): void;
}

interface Pending {
  dev: string;
  /** The address's place in its instance's VIP list. */
  rank: number;
}

export class GarpPacer {
  /** Per interface: when it may send again (µs); absent: now. */
  private readonly nextAt = new Map<string, number>();
  /** Per instance, per address: at most one entry each, so bounded by the configuration. */
  private readonly pending = new Map<string, Map<string, Pending>>();
  private pendingTotal = 0;
  private timer?: TimerHandle;

  constructor(private readonly opts: GarpPacerOptions) {}

  /** A gratuitous ARP for `address` on `dev`, on behalf of `owner` (an instance name), whose
   * `rank`-th VIP it is. */
  request(owner: string, dev: string, address: string, rank = 0): void {
    const now = this.opts.clock.now();
    const iv = this.opts.intervalUs(dev);
    const free = this.nextAt.get(dev);
    if (iv > 0 && free !== undefined && now < free) {
      let mine = this.pending.get(owner);
      if (!mine) this.pending.set(owner, (mine = new Map<string, Pending>()));
      if (!mine.has(address)) {
        mine.set(address, { dev, rank });
        this.pendingTotal++;
      }
      // keepalived's queue_garp: the thread runs an interval from now, if that is sooner.
      this.arm(now + iv);
      return;
    }
    this.sendNow(dev, address, now, iv);
  }

  /** Drops what `owner` still has pending (its VIPs are being removed: keepalived sends pending
   * ARPs only for an instance that is MASTER with its VIPs set). */
  cancel(owner: string): void {
    this.pendingTotal -= this.pending.get(owner)?.size ?? 0;
    this.pending.delete(owner);
    if (this.pendingTotal === 0) this.disarm();
  }

  /** Forgets every interface's next free time and pending ARP (a stop). */
  clear(): void {
    this.pending.clear();
    this.pendingTotal = 0;
    this.nextAt.clear();
    this.disarm();
  }

  get pendingCount(): number {
    return this.pendingTotal;
  }

  private sendNow(dev: string, address: string, now: number, iv: number): void {
    this.opts.send(dev, address);
    if (iv > 0) this.nextAt.set(dev, now + iv);
    else this.nextAt.delete(dev);
  }

  private arm(at: number): void {
    if (this.timer && this.timer.at <= at) return;
    this.disarm();
    this.timer = this.opts.clock.setTimer(at, () => this.fire());
  }

  private disarm(): void {
    if (this.timer) this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.opts.clock.now();
    let next = Infinity;
    for (const [owner, mine] of this.pending) {
      for (const [address, p] of [...mine].sort((a, b) => a[1].rank - b[1].rank)) {
        const free = this.nextAt.get(p.dev) ?? 0;
        if (now >= free) {
          mine.delete(address);
          this.pendingTotal--;
          this.sendNow(p.dev, address, now, this.opts.intervalUs(p.dev));
        } else next = Math.min(next, free);
      }
      if (mine.size === 0) this.pending.delete(owner);
    }
    if (next !== Infinity) this.arm(next);
  }
}

/** The garp (or gna) interval of each interface in µs: a garp_group's garp_interval (gna_interval)
 * for the interfaces it names, else vrrp_garp_interval (vrrp_gna_interval): keepalived's
 * set_default_garp_delay gives each interface one delay record, its group's or the default. */
export function garpIntervals(
  globalIntervalSec: number,
  groups: readonly { garpInterval?: number; gnaInterval?: number; interface?: string; interfaces: readonly string[] }[],
  which: 'garpInterval' | 'gnaInterval' = 'garpInterval',
): (dev: string) => number {
  const byDev = new Map<string, number>();
  for (const g of groups) {
    // A group with only the other interval gives its interfaces none of this one and keeps them
    // from the default, as keepalived does. (keepalived drops a group with neither interval, whose
    // interfaces then take the default; here they have none.)
    const us = Math.round((g[which] ?? 0) * 1e6);
    for (const dev of [...(g.interface ? [g.interface] : []), ...g.interfaces]) if (!byDev.has(dev)) byDev.set(dev, us);
  }
  const dflt = Math.round(globalIntervalSec * 1e6);
  return (dev) => byDev.get(dev) ?? dflt;
}
