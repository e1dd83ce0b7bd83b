// An in-process Ethernet segment on a virtual clock, for the deterministic tests and the lab's
// sim backend: multicast reaches every other port, unicast the port owning the address; links can
// be partitioned, lose, delay or duplicate packets. Randomness is injected, so runs repeat.
import type { VirtualClock } from '../core/clock.js';
import { seededUnit } from '../core/random.js';

export interface SimPacket {
  src: string;
  dst: string;
  ttl: number;
  payload: Buffer;
}

export class SimPort {
  private handlers: ((p: SimPacket) => void)[] = [];
  /** Packets this port sent and received, for assertions and the lab's report. */
  readonly stats = { sent: 0, received: 0, lost: 0 };
  up = true;

  /** Unicast addresses the port answers besides `address` (an IPv6 link-local one). */
  readonly also: string[] = [];

  constructor(
    readonly segment: SimSegment,
    readonly name: string,
    readonly address: string,
  ) {}

  owns(address: string): boolean {
    return address === this.address || this.also.includes(address);
  }

  send(payload: Buffer, opts: { src: string; dst: string; ttl?: number }): void {
    if (!this.up) return;
    this.stats.sent++;
    this.segment.carry(this, { src: opts.src, dst: opts.dst, ttl: opts.ttl ?? 255, payload: Buffer.from(payload) });
  }

  onPacket(cb: (p: SimPacket) => void): void {
    this.handlers.push(cb);
  }

  deliver(p: SimPacket): void {
    if (!this.up) return;
    this.stats.received++;
    for (const h of this.handlers) h(p);
  }
}

export interface LinkFaults {
  /** Probability 0..1 that a packet is lost. */
  loss?: number;
  /** Extra one-way delay, µs. */
  delayUs?: number;
  /** Probability 0..1 that a packet arrives twice. */
  duplicate?: number;
}

export class SimSegment {
  private readonly ports: SimPort[] = [];
  /** Port name → group id; ports in different groups cannot hear each other. */
  private partition?: Map<string, number>;
  private readonly faults = new Map<string, LinkFaults>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly baseDelayUs = 100,
    private readonly random: () => number = seededUnit(1),
  ) {}

  attach(name: string, address: string): SimPort {
    const p = new SimPort(this, name, address);
    this.ports.push(p);
    return p;
  }

  /** Split the segment: each inner list can only talk among itself. */
  split(groups: string[][]): void {
    this.partition = new Map(groups.flatMap((g, i) => g.map((n) => [n, i] as [string, number])));
  }

  heal(): void {
    this.partition = undefined;
  }

  /** Faults on packets sent by (or to) the named port. */
  setFaults(name: string, f: LinkFaults): void {
    this.faults.set(name, f);
  }

  carry(from: SimPort, p: SimPacket): void {
    const multicast = isMulticast(p.dst);
    for (const to of this.ports) {
      if (to === from) continue;
      if (!multicast && !to.owns(p.dst)) continue;
      if (this.partition && this.partition.get(to.name) !== this.partition.get(from.name)) continue;
      const f = { ...this.faults.get(from.name), ...this.faults.get(to.name) };
      if (f.loss && this.random() < f.loss) {
        from.stats.lost++;
        continue;
      }
      const at = this.clock.now() + this.baseDelayUs + (f.delayUs ?? 0);
      this.clock.setTimer(at, () => to.deliver(p));
      if (f.duplicate && this.random() < f.duplicate) this.clock.setTimer(at + 1, () => to.deliver(p));
    }
  }
}

function isMulticast(addr: string): boolean {
  if (addr.includes(':')) return addr.toLowerCase().startsWith('ff');
  const first = Number(addr.split('.')[0]);
  return first >= 224 && first <= 239;
}
