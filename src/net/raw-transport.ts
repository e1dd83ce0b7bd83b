// VRRP over a raw IPv4 socket (protocol 112) with the raw-socket addon, one socket per interface.
//
// raw-socket 1.8.1 has no bind(), recvmsg() or IP_PKTINFO, so:
// - SO_BINDTODEVICE ties the socket to one interface: it hears only that interface's traffic, which
//   is how we know ReceivedPacket.ifname, and its multicast leaves through that interface;
// - IP_HDRINCL: we write the IPv4 header ourselves (TTL 255, TOS 0xc0, proto 112, and above all
//   the source address, which the VRRPv3 pseudo-header checksum covers); the kernel fills in the
//   identification and the header checksum;
// - received buffers start with the kernel's copy of the IPv4 header, which decodeIpv4 checks
//   (TTL, addresses, total length).
//
// raw-socket queues sends without bound and writes one per poll round. We keep our own bounded
// queue in front of it with one packet handed over at a time, so scheduled adverts go before
// replies (answers to received adverts) and a full queue drops, and counts, instead of growing.
//
// IPv6 (VRRPv3 only): two raw IPv6 sockets per interface, both SO_BINDTODEVICE. The kernel never
// hands a raw IPv6 socket the IPv6 header, and raw-socket cannot read ancillary data, so the
// destination and hop limit are told by which socket a packet arrived on and by a BPF filter
// (hop-limit-filter.ts): the multicast one joins ff02::12 and keeps only multicast packets, cut
// short when their hop limit is not 255; the unicast one keeps only unicast packets (hop limit
// unknown, as keepalived does not check it there). IPV6_CHECKSUM(6) makes the kernel verify the
// pseudo-header checksum of what arrives (keepalived does the same); IPV6_HDRINCL lets us write
// the header we send (source: the link-local or unicast_src_ip, hop limit 255, traffic class 0xc0).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import { getSystemErrorMap } from 'node:util';
import { writeAddress } from '../core/address.js';
import { VRRP_MCAST4, VRRP_MCAST6, VRRP_PROTO, addressBytes, decodeIpv4 } from '../vrrp/packet.js';
import { HOP_LIMIT_CUT, hopLimitFprog } from './hop-limit-filter.js';
import type { ReceivedPacket, SendOptions, TransportStats, VrrpTransport } from './transport.js';

// Linux socket option numbers (raw-socket exports only a few of them).
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const IPPROTO_IP = 0;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IP_MULTICAST_ALL = 49;
const SO_ATTACH_FILTER = 26;
const IPPROTO_IPV6 = 41;
const IPV6_CHECKSUM = 7;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_JOIN_GROUP = 20;
const IPV6_MULTICAST_ALL = 29;
const IPV6_HDRINCL = 36;
const IPV6_TCLASS = 67;
const IFNAMSIZ = 16;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const MAX_PAYLOAD = 65535 - IPV4_HEADER;

/** The slice of raw-socket 1.8.1 we use (it ships no type declarations). */
export interface RawSocketLike {
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  send(buffer: Buffer, offset: number, length: number, address: string, cb: (error: Error | null, bytes: number) => void): unknown;
  on(event: 'message', cb: (buffer: Buffer, source: string) => void): unknown;
  on(event: 'error', cb: (error: Error) => void): unknown;
  on(event: 'close', cb: () => void): unknown;
  close(): unknown;
  /** raw-socket's native socket: a synchronous sendto (throws on failure, EAGAIN included) that
   * calls back at once. */
  wrap?: { send(buffer: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): unknown };
}

export interface RawSocketModule {
  createSocket(options: { protocol: number; addressFamily?: number; bufferSize?: number }): RawSocketLike;
  AddressFamily: { IPv4: number; IPv6: number };
}

export type TransportOp = 'open' | 'send' | 'receive' | 'callback';

/** A socket failure with the errno name when we could recover it (raw-socket gives only strerror text). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    readonly op: TransportOp,
    readonly ifname: string,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RawTransportOptions {
  ifname: string;
  family: 4 | 6;
  /** IP protocol of the socket: 112 (VRRP, default) or 51 (keepalived's AH-authenticated VRRP; IPv4 only). */
  protocol?: number;
  /** Send and receive failures after open (open failures throw). Default: process.emitWarning. */
  onError?: (error: TransportError) => void;
  /** IP TOS of what we send; default 0xc0 (internetwork control), as keepalived and FRR. */
  tos?: number;
  /**
   * Packets waiting for the socket, at most (default 1,024: the 255 VRIDs of an interface can all
   * fall due in the same millisecond, each with a few unicast peers; with 64, 250 instances that
   * became MASTER together lost 3 adverts in 4 every second). Beyond it the oldest waiting reply, or
   * else the oldest waiting advert, is dropped for the new one; a new reply is dropped first.
   */
  maxQueue?: number;
  /** For tests: the raw-socket module (or a stand-in) and the interface index. */
  rawSocket?: RawSocketModule;
  ifindex?: number;
  /** For tests: the IPv6 hop-limit filters (default: hop-limit-filter.ts's). */
  hopLimitFilter?: (kind: 'multicast' | 'unicast') => { fprog: Buffer } | undefined;
}

/** ReceivedPacket.ttl of an IPv6 multicast advert whose hop limit was not 255 (the filter cut it; its value is not known). */
export const HOP_LIMIT_NOT_255 = 0;

export interface RawTransportStats extends TransportStats {
  /** Socket read failures (raw-socket reports them; the socket may be closed afterwards). */
  receiveErrors: number;
  /** Packets never sent because the send queue was full (see RawTransportOptions.maxQueue). */
  sendDropped: number;
}

export interface RawTransport extends VrrpTransport {
  readonly ifname: string;
  readonly ifindex: number;
  readonly stats: RawTransportStats;
  readonly closed: boolean;
  /**
   * Resolves once every waiting packet has been handed to the kernel (true), or after timeoutMs
   * (false). raw-socket writes only when the socket polls writable, a later turn of the event
   * loop: a close() right after a send would drop it, and at a stop that is the priority-0 advert.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

// strerror() text -> errno name, so callers can branch on EPERM, ENETUNREACH...
const errnoByMessage = (() => {
  const m = new Map<string, string>();
  for (const [, [name, text]] of getSystemErrorMap()) m.set(text.toLowerCase(), name);
  // glibc wording where libuv's differs.
  m.set('cannot assign requested address', 'EADDRNOTAVAIL');
  m.set('address already in use', 'EADDRINUSE');
  m.set('no buffer space available', 'ENOBUFS');
  m.set('message too long', 'EMSGSIZE');
  m.set('protocol not supported', 'EPROTONOSUPPORT');
  return m;
})();

function errnoOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  const msg = err instanceof Error ? err.message : String(err);
  return errnoByMessage.get(msg.trim().toLowerCase());
}

const describe = (err: unknown): string => {
  const msg = err instanceof Error ? err.message : String(err);
  const code = errnoOf(err);
  return code && !msg.includes(code) ? `${msg} (${code})` : msg;
};

const HINTS: Record<string, string> = {
  EPERM: 'raw sockets need root or CAP_NET_RAW',
  EACCES: 'raw sockets need root or CAP_NET_RAW',
  ENODEV: 'no such interface in this network namespace',
  // Bound to a device, the kernel treats any destination as on-link: this means the link is down.
  ENETUNREACH: 'no route to the destination from this interface (is the interface down?)',
  ENETDOWN: 'the interface is down',
  EADDRNOTAVAIL: 'the address is not usable on this interface',
};

function hint(code: string | undefined): string {
  return code && HINTS[code] ? `; ${HINTS[code]}` : '';
}

let cachedModule: RawSocketModule | undefined;

function loadRawSocket(ifname: string): RawSocketModule {
  if (cachedModule) return cachedModule;
  try {
    // A CommonJS addon: require it lazily, so importing this file never needs the native build.
    cachedModule = createRequire(import.meta.url)('raw-socket') as RawSocketModule;
    return cachedModule;
  } catch (err) {
    throw new TransportError(
      `raw-transport ${ifname}: cannot load raw-socket (npm install raw-socket@1.8.1, which builds a native addon): ${describe(err)}`,
      'open',
      ifname,
      'MODULE_NOT_FOUND',
      { cause: err },
    );
  }
}

function readIfindex(ifname: string): number {
  const path = `/sys/class/net/${ifname}/ifindex`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = errnoOf(err);
    throw new TransportError(
      `raw-transport ${ifname}: no interface ${ifname} (${path}: ${describe(err)}); /sys must be mounted for this network namespace (ip netns exec does that)`,
      'open',
      ifname,
      code === 'ENOENT' ? 'ENODEV' : code,
      { cause: err },
    );
  }
  const ifindex = Number(text.trim());
  if (!Number.isInteger(ifindex) || ifindex <= 0)
    throw new TransportError(`raw-transport ${ifname}: bad ifindex ${JSON.stringify(text)} in ${path}`, 'open', ifname);
  return ifindex;
}

/** struct ip_mreqn: multiaddr, address, ifindex (int, host order = little endian here). */
function ipMreqn(group: string, ifindex: number): Buffer {
  const b = Buffer.alloc(12);
  addressBytes(group).copy(b, 0);
  b.writeInt32LE(ifindex, 8);
  return b;
}

/** struct ipv6_mreq: multiaddr, ifindex. */
function ipv6Mreq(group: string, ifindex: number): Buffer {
  const b = Buffer.alloc(20);
  addressBytes(group).copy(b, 0);
  b.writeInt32LE(ifindex, 16);
  return b;
}

/** raw-socket's send callback where the send is done when sendto() returns. */
const ignore = (): void => undefined;

function ipv4Packet(payload: Buffer, src: string, dst: string, ttl: number, tos: number, protocol: number, id = 0): Buffer {
  // From Node's pool (one advert a second per instance: no ArrayBuffer of its own); every byte is
  // written below.
  const pkt = Buffer.allocUnsafe(IPV4_HEADER + payload.length);
  pkt[0] = 0x45; // version 4, 5 words
  pkt[1] = tos;
  pkt.writeUInt16BE(pkt.length, 2); // the kernel rewrites it anyway
  // identification 0 (unless given: AH covers it) and header checksum 0: the kernel fills both
  pkt.writeUInt16BE(id & 0xffff, 4);
  pkt.writeUInt16BE(0, 6); // flags and fragment offset
  pkt[8] = ttl;
  pkt[9] = protocol;
  pkt.writeUInt16BE(0, 10);
  writeAddress(src, pkt, 12);
  writeAddress(dst, pkt, 16);
  payload.copy(pkt, IPV4_HEADER);
  return pkt;
}

/** An IPv6 header (RFC 8200): version 6, the traffic class, no flow label, next header 112. */
export function ipv6Packet(payload: Buffer, src: string, dst: string, hopLimit: number, tclass: number): Buffer {
  const pkt = Buffer.alloc(IPV6_HEADER + payload.length);
  pkt.writeUInt32BE(((6 << 28) | (tclass << 20)) >>> 0, 0);
  pkt.writeUInt16BE(payload.length, 4);
  pkt[6] = VRRP_PROTO;
  pkt[7] = hopLimit;
  addressBytes(src).copy(pkt, 8);
  addressBytes(dst).copy(pkt, 24);
  payload.copy(pkt, IPV6_HEADER);
  return pkt;
}

/** Open a raw VRRP socket on one interface. Throws a TransportError when that is impossible. */
export function createRawTransport(opts: RawTransportOptions): RawTransport {
  const { ifname } = opts;
  const v6 = opts.family === 6;
  const protocol = opts.protocol ?? VRRP_PROTO;
  if (v6 && protocol !== VRRP_PROTO) throw new TransportError(`raw-transport ${ifname}: AH (protocol ${protocol}) is IPv4 only`, 'open', ifname);
  if (!ifname || Buffer.byteLength(ifname) >= IFNAMSIZ || /[/\s\0]/.test(ifname) || ifname === '.' || ifname === '..') {
    throw new TransportError(`raw-transport: invalid interface name ${JSON.stringify(ifname)}`, 'open', String(ifname));
  }
  const tos = opts.tos ?? 0xc0;
  const reportError =
    opts.onError ??
    ((e: TransportError) => {
      process.emitWarning(e.message, { code: e.code ?? 'ERR_VRRP_TRANSPORT' });
    });
  const ifindex = opts.ifindex ?? readIfindex(ifname);
  const raw = opts.rawSocket ?? loadRawSocket(ifname);

  const opened: RawSocketLike[] = [];
  const closeOpened = (): void => {
    for (const so of opened)
      try {
        so.close();
      } catch {
        /* already failing */
      }
  };
  const openSocket = (): RawSocketLike => {
    try {
      const so = raw.createSocket({ protocol, addressFamily: v6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4, bufferSize: 4096 });
      opened.push(so);
      return so;
    } catch (err) {
      const code = errnoOf(err);
      closeOpened();
      throw new TransportError(
        `raw-transport ${ifname}: cannot open a raw IPv${v6 ? 6 : 4} socket for protocol ${protocol}: ${describe(err)}${hint(code)}`,
        'open',
        ifname,
        code,
        { cause: err },
      );
    }
  };
  const setOption = (so: RawSocketLike, what: string, level: number, option: number, value: number | Buffer): void => {
    try {
      if (typeof value === 'number') so.setOption(level, option, value);
      else so.setOption(level, option, value, value.length);
    } catch (err) {
      const code = errnoOf(err);
      closeOpened();
      throw new TransportError(`raw-transport ${ifname}: setsockopt ${what} failed: ${describe(err)}${hint(code)}`, 'open', ifname, code, { cause: err });
    }
  };

  const socket = openSocket();
  // Receive only this interface's packets and send through it.
  setOption(socket, 'SO_BINDTODEVICE', SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`, 'latin1'));
  /** IPv6: the socket that hears unicast adverts (see the top of this file). */
  let unicastSocket: RawSocketLike | undefined;
  if (!v6) {
    // We write the IPv4 header (source address, TTL 255, TOS) ourselves.
    setOption(socket, 'IP_HDRINCL', IPPROTO_IP, IP_HDRINCL, 1);
    // Measured: with SO_BINDTODEVICE and IP_HDRINCL the next two change nothing (the bound device
    // routes 224.0.0.18, our header carries TTL 255); without SO_BINDTODEVICE, sendto(224.0.0.18)
    // fails with ENETUNREACH and, without IP_HDRINCL, leaves with TTL 1. Set anyway, as keepalived does.
    setOption(socket, 'IP_MULTICAST_IF', IPPROTO_IP, IP_MULTICAST_IF, ipMreqn('0.0.0.0', ifindex));
    setOption(socket, 'IP_MULTICAST_TTL', IPPROTO_IP, IP_MULTICAST_TTL, 255);
    // Do not hear our own adverts.
    setOption(socket, 'IP_MULTICAST_LOOP', IPPROTO_IP, IP_MULTICAST_LOOP, 0);
    // Only the groups this socket joined (as keepalived does), not every group joined on the host.
    setOption(socket, 'IP_MULTICAST_ALL', IPPROTO_IP, IP_MULTICAST_ALL, 0);
    // Nothing for 224.0.0.18 reaches a raw socket until the interface is in the group.
    setOption(socket, `IP_ADD_MEMBERSHIP ${VRRP_MCAST4}`, IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreqn(VRRP_MCAST4, ifindex));
  } else {
    const multicastFilter = opts.hopLimitFilter ? opts.hopLimitFilter('multicast') : hopLimitFprog('multicast');
    const unicastFilter = opts.hopLimitFilter ? opts.hopLimitFilter('unicast') : hopLimitFprog('unicast');
    if (!multicastFilter || !unicastFilter) {
      closeOpened();
      throw new TransportError(
        `raw-transport ${ifname}: cannot build the hop-limit socket filter (this process's /proc/self/syscall and /proc/self/mem are not readable)`,
        'open',
        ifname,
      );
    }
    // We write the IPv6 header (source, hop limit 255, traffic class) ourselves, and the checksum.
    setOption(socket, 'IPV6_HDRINCL', IPPROTO_IPV6, IPV6_HDRINCL, 1);
    setOption(socket, 'IPV6_TCLASS', IPPROTO_IPV6, IPV6_TCLASS, tos);
    setOption(socket, 'IPV6_MULTICAST_IF', IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex);
    setOption(socket, 'IPV6_MULTICAST_HOPS', IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255);
    setOption(socket, 'IPV6_MULTICAST_LOOP', IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0);
    setOption(socket, 'IPV6_MULTICAST_ALL', IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
    setOption(socket, `IPV6_JOIN_GROUP ${VRRP_MCAST6}`, IPPROTO_IPV6, IPV6_JOIN_GROUP, ipv6Mreq(VRRP_MCAST6, ifindex));
    // The kernel checks the checksum at offset 6 of what arrives (it cannot on what we send: IPV6_HDRINCL).
    setOption(socket, 'IPV6_CHECKSUM', IPPROTO_IPV6, IPV6_CHECKSUM, 6);
    setOption(socket, 'SO_ATTACH_FILTER (multicast, hop limit 255)', SOL_SOCKET, SO_ATTACH_FILTER, multicastFilter.fprog);
    const uni = openSocket();
    setOption(uni, 'SO_BINDTODEVICE', SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`, 'latin1'));
    setOption(uni, 'IPV6_MULTICAST_ALL', IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
    setOption(uni, 'IPV6_CHECKSUM', IPPROTO_IPV6, IPV6_CHECKSUM, 6);
    setOption(uni, 'SO_ATTACH_FILTER (unicast)', SOL_SOCKET, SO_ATTACH_FILTER, unicastFilter.fprog);
    unicastSocket = uni;
  }

  const callbacks: ((p: ReceivedPacket) => void)[] = [];
  const stats: RawTransportStats = { sent: 0, received: 0, sendErrors: 0, dropped: {}, receiveErrors: 0, sendDropped: 0 };
  const maxQueue = Math.max(1, opts.maxQueue ?? 1024);
  interface Pending {
    pkt: Buffer;
    src: string;
    dst: string;
  }
  const adverts: Pending[] = [];
  const replies: Pending[] = [];
  let inFlight = false;
  let closed = false;
  const drained: (() => void)[] = [];
  const idle = (): boolean => closed || (!inFlight && adverts.length === 0 && replies.length === 0);
  const wakeDrained = (): void => {
    if (idle()) for (const w of drained.splice(0)) w();
  };

  const deliver = (p: ReceivedPacket): void => {
    stats.received++;
    for (const cb of callbacks) {
      try {
        cb(p);
      } catch (err) {
        reportError(new TransportError(`raw-transport ${ifname}: packet callback threw: ${describe(err)}`, 'callback', ifname, undefined, { cause: err }));
      }
    }
  };

  const onMessage = (buf: Buffer, source: string): void => {
    if (closed) return;
    if (v6) {
      // Past the filter, so multicast; the kernel checked the checksum. raw-socket reads every
      // packet into the same buffer: copy before anyone keeps it.
      const cut = buf.length === HOP_LIMIT_CUT;
      deliver({ src: source, dst: VRRP_MCAST6, ttl: cut ? HOP_LIMIT_NOT_255 : 255, payload: Buffer.from(buf), ifname, checksumChecked: true });
      return;
    }
    const ip = decodeIpv4(buf, protocol);
    if (!ip.ok) {
      stats.dropped[ip.reason] = (stats.dropped[ip.reason] ?? 0) + 1;
      return;
    }
    // raw-socket reads every packet into the same buffer: copy before anyone keeps it.
    const p: ReceivedPacket = { src: ip.value.src, dst: ip.value.dst, ttl: ip.value.ttl, payload: Buffer.from(ip.value.payload), ifname };
    if (protocol !== VRRP_PROTO) Object.assign(p, { protocol, header: Buffer.from(ip.value.header) });
    deliver(p);
  };

  socket.on('message', onMessage);
  // Unicast to one of our addresses: hop limit unknown (-1), destination not the group.
  unicastSocket?.on('message', (buf: Buffer, source: string) => {
    if (!closed) deliver({ src: source, dst: '::', ttl: -1, payload: Buffer.from(buf), ifname, checksumChecked: true });
  });
  unicastSocket?.on('error', (err: Error) => {
    stats.receiveErrors++;
    const code = errnoOf(err);
    reportError(new TransportError(`raw-transport ${ifname}: receive failed: ${describe(err)}${hint(code)}`, 'receive', ifname, code, { cause: err }));
  });
  socket.on('error', (err: Error) => {
    // raw-socket emits read failures here, and closes the socket after a poll failure.
    stats.receiveErrors++;
    const code = errnoOf(err);
    reportError(new TransportError(`raw-transport ${ifname}: receive failed: ${describe(err)}${hint(code)}`, 'receive', ifname, code, { cause: err }));
  });
  socket.on('close', () => {
    closed = true;
    wakeDrained();
  });

  const failed = (p: Pending, err: unknown): void => {
    stats.sendErrors++;
    const code = errnoOf(err);
    reportError(
      new TransportError(`raw-transport ${ifname}: send ${p.src} -> ${p.dst} failed: ${describe(err)}${hint(code)}`, 'send', ifname, code, { cause: err }),
    );
  };

  /** sendto now, as keepalived does (pump calls it only with nothing in flight, so raw-socket
   * queues nothing then): raw-socket's own send waits for a
   * writable poll on a later turn of the event loop, after whatever the caller does next (a
   * transition's notify fork: 25-260 ms on a busy 2-core box between becoming MASTER and the
   * advert saying so), and two epoll_ctl() calls per packet (the largest CPU cost of 1,000
   * instances in steady state). False when the kernel's buffer is full (EAGAIN): the poll path
   * then. */
  const sendNow = (p: Pending): boolean => {
    const wrap = socket.wrap;
    if (!wrap) return false;
    try {
      wrap.send(p.pkt, 0, p.pkt.length, p.dst, ignore);
      stats.sent++;
    } catch (err) {
      if (errnoOf(err) === 'EAGAIN') return false;
      failed(p, err);
    }
    return true;
  };

  /**
   * Packets built for the payloads that come again: a MASTER hands over the same cached advert
   * every advert_int (instance.ts advertFor), so its checked, built packet is sent again as it is.
   * Not for AH (the identification and the seal change with each packet).
   */
  const built = new WeakMap<Buffer, Pending & { ttl: number }>();
  const header = v6 ? IPV6_HEADER : IPV4_HEADER;

  /** Hand the next waiting packet to raw-socket once the previous one is written. */
  const pump = (): void => {
    while (!inFlight && !closed) {
      const p = adverts.shift() ?? replies.shift();
      if (!p) return;
      if (sendNow(p)) {
        wakeDrained();
        continue;
      }
      inFlight = true;
      let sync = true;
      let again = false;
      try {
        socket.send(p.pkt, 0, p.pkt.length, p.dst, (err) => {
          inFlight = false;
          if (err) failed(p, err);
          else stats.sent++;
          // Called back at once (raw-socket's argument checks): the loop goes on, no recursion.
          if (sync) again = true;
          else pump();
          wakeDrained();
        });
      } catch (err) {
        inFlight = false;
        again = true;
        failed(p, err);
      }
      sync = false;
      if (!again) return;
    }
  };

  const send = (payload: Buffer, o: SendOptions): void => {
    const again = o.id ? undefined : built.get(payload);
    // The same bytes still (a caller may write to its buffer between two sends).
    const same = again && again.src === o.src && again.dst === o.dst && again.ttl === (o.ttl ?? 255) && payload.compare(again.pkt, header) === 0;
    if (same && !closed) return queue(again, o.reply);
    const isFamily = v6 ? isIPv6 : isIPv4;
    const what = v6 ? 'an IPv6' : 'an IPv4';
    if (!isFamily(o.src)) throw new TypeError(`raw-transport ${ifname}: source ${o.src} is not ${what} address`);
    if (!isFamily(o.dst)) throw new TypeError(`raw-transport ${ifname}: destination ${o.dst} is not ${what} address`);
    const ttl = o.ttl ?? 255;
    // 0 too: keepalived sends what unicast_ttl says, and accepts 0 there.
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) throw new RangeError(`raw-transport ${ifname}: TTL ${ttl} is not 0-255`);
    if (payload.length > MAX_PAYLOAD) throw new RangeError(`raw-transport ${ifname}: ${payload.length}-byte payload does not fit an IP packet`);
    if (closed) {
      stats.sendErrors++;
      reportError(new TransportError(`raw-transport ${ifname}: send to ${o.dst} after close`, 'send', ifname, 'ECLOSED'));
      return;
    }
    const pkt = v6 ? ipv6Packet(payload, o.src, o.dst, ttl, tos) : ipv4Packet(payload, o.src, o.dst, ttl, tos, protocol, o.id);
    const p = { pkt, src: o.src, dst: o.dst, ttl };
    if (!o.id) built.set(payload, p);
    queue(p, o.reply);
  };

  const queue = (p: Pending, reply: boolean | undefined): void => {
    // Nothing waiting: straight out (no queue entry to make and take off again).
    if (!inFlight && !adverts.length && !replies.length && sendNow(p)) return wakeDrained();
    if (adverts.length + replies.length >= maxQueue) {
      stats.sendDropped++;
      if (reply) return;
      if (!replies.shift()) adverts.shift();
    }
    (reply ? replies : adverts).push(p);
    pump();
  };

  return {
    ifname,
    ifindex,
    stats,
    get closed() {
      return closed;
    },
    send,
    onPacket(cb) {
      callbacks.push(cb);
    },
    drain(timeoutMs) {
      if (idle()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          drained.splice(drained.indexOf(done), 1);
          resolve(false);
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        drained.push(done);
      });
    },
    close() {
      if (closed) return;
      closed = true;
      adverts.length = 0;
      replies.length = 0;
      wakeDrained();
      try {
        socket.close();
        unicastSocket?.close();
      } catch {
        /* closing twice or a dead socket: nothing left to release */
      }
    },
  };
}
