// Unsolicited neighbour advertisements for a MASTER's IPv6 VIPs, as keepalived's vrrp_ndisc.c
// builds them: from the VIP to ff02::1, hop limit 255, ICMPv6 type 136 with Override (and Router
// when the interface forwards), target the VIP, and a target link-layer address option.
//
// Sent in-process through one IPPROTO_RAW IPv6 socket per interface (raw-socket; IPPROTO_RAW
// implies IPV6_HDRINCL, so we write the header, the VIP as source, and the ICMPv6 checksum, and the
// socket receives nothing). keepalived writes the Ethernet frame on a packet socket instead; the
// kernel makes the same frame from this (33:33:00:00:00:01, the interface's MAC).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { addressBytes } from '../core/address.js';
import { inetChecksum } from '../core/checksum.js';
import type { RawSocketLike, RawSocketModule } from './raw-transport.js';

const IPPROTO_ICMPV6 = 58;
const IPPROTO_RAW = 255;
const ND_NEIGHBOR_ADVERT = 136;
const ND_OPT_TARGET_LINKADDR = 2;
const ALL_NODES = 'ff02::1';
const NA_FLAG_ROUTER = 0x80;
const NA_FLAG_OVERRIDE = 0x20;
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;

/** The whole IPv6 packet of one unsolicited NA for `vip`, the interface's MAC `mac` (aa:bb:..). */
export function unsolicitedNa(vip: string, mac: string, router: boolean): Buffer {
  const lladdr = Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
  if (lladdr.length !== 6 || lladdr.some((b) => Number.isNaN(b))) throw new TypeError(`not an Ethernet address: ${mac}`);
  const icmp = Buffer.alloc(24 + 8);
  icmp[0] = ND_NEIGHBOR_ADVERT;
  icmp[4] = NA_FLAG_OVERRIDE | (router ? NA_FLAG_ROUTER : 0);
  addressBytes(vip).copy(icmp, 8);
  icmp[24] = ND_OPT_TARGET_LINKADDR;
  icmp[25] = 1; // in units of 8 bytes
  lladdr.copy(icmp, 26);
  const pseudo = Buffer.alloc(40);
  addressBytes(vip).copy(pseudo, 0);
  addressBytes(ALL_NODES).copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = IPPROTO_ICMPV6;
  icmp.writeUInt16BE(inetChecksum(pseudo, icmp), 2);
  const pkt = Buffer.alloc(40 + icmp.length);
  pkt.writeUInt32BE(0x60000000, 0);
  pkt.writeUInt16BE(icmp.length, 4);
  pkt[6] = IPPROTO_ICMPV6;
  pkt[7] = 255;
  addressBytes(vip).copy(pkt, 8);
  addressBytes(ALL_NODES).copy(pkt, 24);
  icmp.copy(pkt, 40);
  return pkt;
}

/** An interface's MAC and whether it forwards IPv6 (keepalived sets the Router flag then). */
export interface LinkInfo {
  mac(ifname: string): string;
  forwarding(ifname: string): boolean;
}

export const sysfsLinkInfo: LinkInfo = {
  mac: (ifname) => readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim(),
  forwarding: (ifname) => {
    try {
      return readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`, 'utf8').trim() === '1';
    } catch {
      return false;
    }
  },
};

export interface NeighbourAdvertiserOptions {
  log?: (level: 'info' | 'warn', message: string) => void;
  link?: LinkInfo;
  rawSocket?: RawSocketModule;
}

/** NAs waiting on one interface, at most: beyond it a burst is cut short (counted). */
export const NA_QUEUE_LIMIT = 4096;

/** One IPPROTO_RAW socket per interface, opened at the first NA and kept. */
export class NeighbourAdvertiser {
  private readonly sockets = new Map<string, RawSocketLike>();
  private readonly link: LinkInfo;
  /** Per interface: NAs waiting for their turn (vrrp_gna_interval apart). */
  private readonly queues = new Map<string, { pkts: Buffer[]; timer?: NodeJS.Timeout }>();
  sent = 0;
  errors = 0;
  dropped = 0;

  constructor(private readonly opts: NeighbourAdvertiserOptions = {}) {
    this.link = opts.link ?? sysfsLinkInfo;
  }

  /** `repeat` rounds of one NA per IPv6 VIP on `ifname` (keepalived's order), `intervalMs` apart (vrrp_gna_interval). */
  burst(ifname: string, vips: readonly string[], repeat: number, intervalMs: number): void {
    if (!vips.length || repeat < 1) return;
    let mac: string;
    try {
      mac = this.link.mac(ifname);
    } catch (e) {
      this.errors++;
      this.opts.log?.('warn', `unsolicited NA on ${ifname}: no MAC address (${(e as Error).message})`);
      return;
    }
    const router = this.link.forwarding(ifname);
    const q = this.queues.get(ifname) ?? { pkts: [] };
    this.queues.set(ifname, q);
    for (let r = 0; r < repeat; r++)
      for (const vip of vips) {
        if (q.pkts.length >= NA_QUEUE_LIMIT) {
          this.dropped++;
          continue;
        }
        q.pkts.push(unsolicitedNa(vip, mac, router));
      }
    if (!q.timer) this.pump(ifname, q, intervalMs);
  }

  private pump(ifname: string, q: { pkts: Buffer[]; timer?: NodeJS.Timeout }, intervalMs: number): void {
    q.timer = undefined;
    // Without an interval the whole burst goes now; with one, one NA per tick.
    do {
      const pkt = q.pkts.shift();
      if (!pkt) return;
      this.send(ifname, pkt);
    } while (intervalMs <= 0);
    if (q.pkts.length) q.timer = setTimeout(() => this.pump(ifname, q, intervalMs), intervalMs);
  }

  private send(ifname: string, pkt: Buffer): void {
    let so = this.sockets.get(ifname);
    try {
      if (!so) {
        const raw = this.opts.rawSocket ?? (createRequire(import.meta.url)('raw-socket') as RawSocketModule);
        so = raw.createSocket({ protocol: IPPROTO_RAW, addressFamily: raw.AddressFamily.IPv6 });
        so.setOption(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`, 'latin1'), ifname.length + 1);
        so.on('error', () => undefined);
        this.sockets.set(ifname, so);
      }
      so.send(pkt, 0, pkt.length, ALL_NODES, (err) => {
        if (err) {
          this.errors++;
          this.opts.log?.('warn', `unsolicited NA on ${ifname} failed: ${err.message}`);
        } else this.sent++;
      });
    } catch (e) {
      this.errors++;
      this.opts.log?.('warn', `unsolicited NA on ${ifname} failed: ${(e as Error).message}`);
    }
  }

  /** Closes `ifname`'s socket: bound to its old index, it is no use once the interface is made again. */
  forget(ifname: string): void {
    const so = this.sockets.get(ifname);
    this.sockets.delete(ifname);
    try {
      so?.close();
    } catch {
      /* already closed */
    }
  }

  close(): void {
    for (const q of this.queues.values()) if (q.timer) clearTimeout(q.timer);
    this.queues.clear();
    for (const so of this.sockets.values())
      try {
        so.close();
      } catch {
        /* already closed */
      }
    this.sockets.clear();
  }
}
