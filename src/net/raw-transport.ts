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
// IPv6 is out of scope for now: it needs IPV6_CHECKSUM, IPV6_JOIN_GROUP of ff02::12 and, to check
// the hop limit, recvmsg with IPV6_RECVHOPLIMIT, which raw-socket cannot do (peers.md §6.2).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4 } from 'node:net';
import { getSystemErrorMap } from 'node:util';
import { VRRP_MCAST4, VRRP_PROTO, addressBytes, decodeIpv4 } from '../vrrp/packet.js';
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
const IFNAMSIZ = 16;
const IPV4_HEADER = 20;
const MAX_PAYLOAD = 65535 - IPV4_HEADER;

/** The slice of raw-socket 1.8.1 we use (it ships no type declarations). */
export interface RawSocketLike {
  setOption(level: number, option: number, value: number | Buffer, length?: number): void;
  send(buffer: Buffer, offset: number, length: number, address: string, cb: (error: Error | null, bytes: number) => void): unknown;
  on(event: 'message', cb: (buffer: Buffer, source: string) => void): unknown;
  on(event: 'error', cb: (error: Error) => void): unknown;
  on(event: 'close', cb: () => void): unknown;
  close(): unknown;
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
  /** Only 4 for now (IPv6: see the comment at the top of this file). */
  family: 4;
  /** IP protocol of the socket: 112 (VRRP, default) or 51 (keepalived's AH-authenticated VRRP). */
  protocol?: number;
  /** Send and receive failures after open (open failures throw). Default: process.emitWarning. */
  onError?: (error: TransportError) => void;
  /** IP TOS of what we send; default 0xc0 (internetwork control), as keepalived and FRR. */
  tos?: number;
  /**
   * Packets waiting for the socket, at most (default 64). Beyond it the oldest waiting reply, or
   * else the oldest waiting advert, is dropped for the new one; a new reply is dropped first.
   */
  maxQueue?: number;
  /** For tests: the raw-socket module (or a stand-in) and the interface index. */
  rawSocket?: RawSocketModule;
  ifindex?: number;
}

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

/** Open a raw VRRP socket on one interface. Throws a TransportError when that is impossible. */
export function createRawTransport(opts: RawTransportOptions): RawTransport {
  const { ifname } = opts;
  if ((opts.family as number) !== 4)
    throw new TransportError(`raw-transport ${ifname}: only IPv4 is implemented (family ${String(opts.family)})`, 'open', ifname);
  if (!ifname || Buffer.byteLength(ifname) >= IFNAMSIZ || /[/\s\0]/.test(ifname) || ifname === '.' || ifname === '..') {
    throw new TransportError(`raw-transport: invalid interface name ${JSON.stringify(ifname)}`, 'open', String(ifname));
  }
  const tos = opts.tos ?? 0xc0;
  const protocol = opts.protocol ?? VRRP_PROTO;
  const reportError =
    opts.onError ??
    ((e: TransportError) => {
      process.emitWarning(e.message, { code: e.code ?? 'ERR_VRRP_TRANSPORT' });
    });
  const ifindex = opts.ifindex ?? readIfindex(ifname);
  const raw = opts.rawSocket ?? loadRawSocket(ifname);

  let socket: RawSocketLike;
  try {
    socket = raw.createSocket({ protocol, addressFamily: raw.AddressFamily.IPv4, bufferSize: 4096 });
  } catch (err) {
    const code = errnoOf(err);
    throw new TransportError(
      `raw-transport ${ifname}: cannot open a raw IPv4 socket for protocol ${protocol}: ${describe(err)}${hint(code)}`,
      'open',
      ifname,
      code,
      { cause: err },
    );
  }

  const setOption = (what: string, level: number, option: number, value: number | Buffer): void => {
    try {
      if (typeof value === 'number') socket.setOption(level, option, value);
      else socket.setOption(level, option, value, value.length);
    } catch (err) {
      const code = errnoOf(err);
      try {
        socket.close();
      } catch {
        /* already failing */
      }
      throw new TransportError(`raw-transport ${ifname}: setsockopt ${what} failed: ${describe(err)}${hint(code)}`, 'open', ifname, code, { cause: err });
    }
  };
  // Receive only this interface's packets and send through it.
  setOption('SO_BINDTODEVICE', SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${ifname}\0`, 'latin1'));
  // We write the IPv4 header (source address, TTL 255, TOS) ourselves.
  setOption('IP_HDRINCL', IPPROTO_IP, IP_HDRINCL, 1);
  // Measured: with SO_BINDTODEVICE and IP_HDRINCL the next two change nothing (the bound device
  // routes 224.0.0.18, our header carries TTL 255); without SO_BINDTODEVICE, sendto(224.0.0.18)
  // fails with ENETUNREACH and, without IP_HDRINCL, leaves with TTL 1. Set anyway, as keepalived does.
  setOption('IP_MULTICAST_IF', IPPROTO_IP, IP_MULTICAST_IF, ipMreqn('0.0.0.0', ifindex));
  setOption('IP_MULTICAST_TTL', IPPROTO_IP, IP_MULTICAST_TTL, 255);
  // Do not hear our own adverts.
  setOption('IP_MULTICAST_LOOP', IPPROTO_IP, IP_MULTICAST_LOOP, 0);
  // Only the groups this socket joined (as keepalived does), not every group joined on the host.
  setOption('IP_MULTICAST_ALL', IPPROTO_IP, IP_MULTICAST_ALL, 0);
  // Nothing for 224.0.0.18 reaches a raw socket until the interface is in the group.
  setOption(`IP_ADD_MEMBERSHIP ${VRRP_MCAST4}`, IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreqn(VRRP_MCAST4, ifindex));

  const callbacks: ((p: ReceivedPacket) => void)[] = [];
  const stats: RawTransportStats = { sent: 0, received: 0, sendErrors: 0, dropped: {}, receiveErrors: 0, sendDropped: 0 };
  const maxQueue = Math.max(1, opts.maxQueue ?? 64);
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

  const onMessage = (buf: Buffer): void => {
    if (closed) return;
    const ip = decodeIpv4(buf, protocol);
    if (!ip.ok) {
      stats.dropped[ip.reason] = (stats.dropped[ip.reason] ?? 0) + 1;
      return;
    }
    stats.received++;
    // raw-socket reads every packet into the same buffer: copy before anyone keeps it.
    const p: ReceivedPacket = { src: ip.value.src, dst: ip.value.dst, ttl: ip.value.ttl, payload: Buffer.from(ip.value.payload), ifname };
    if (protocol !== VRRP_PROTO) Object.assign(p, { protocol, header: Buffer.from(ip.value.header) });
    for (const cb of callbacks) {
      try {
        cb(p);
      } catch (err) {
        reportError(new TransportError(`raw-transport ${ifname}: packet callback threw: ${describe(err)}`, 'callback', ifname, undefined, { cause: err }));
      }
    }
  };

  socket.on('message', onMessage);
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

  /** Hand the next waiting packet to raw-socket once the previous one is written. */
  const pump = (): void => {
    while (!inFlight && !closed) {
      const p = adverts.shift() ?? replies.shift();
      if (!p) return;
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
    if (!isIPv4(o.src)) throw new TypeError(`raw-transport ${ifname}: source ${o.src} is not an IPv4 address`);
    if (!isIPv4(o.dst)) throw new TypeError(`raw-transport ${ifname}: destination ${o.dst} is not an IPv4 address`);
    const ttl = o.ttl ?? 255;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw new RangeError(`raw-transport ${ifname}: TTL ${ttl} is not 1-255`);
    if (payload.length > MAX_PAYLOAD) throw new RangeError(`raw-transport ${ifname}: ${payload.length}-byte payload does not fit an IPv4 packet`);
    if (closed) {
      stats.sendErrors++;
      reportError(new TransportError(`raw-transport ${ifname}: send to ${o.dst} after close`, 'send', ifname, 'ECLOSED'));
      return;
    }
    const pkt = Buffer.alloc(IPV4_HEADER + payload.length);
    pkt[0] = 0x45; // version 4, 5 words
    pkt[1] = tos;
    pkt.writeUInt16BE(pkt.length, 2); // the kernel rewrites it anyway
    // identification 0 (unless given: AH covers it) and header checksum 0: the kernel fills both
    pkt.writeUInt16BE((o.id ?? 0) & 0xffff, 4);
    pkt[8] = ttl;
    pkt[9] = protocol;
    addressBytes(o.src).copy(pkt, 12);
    addressBytes(o.dst).copy(pkt, 16);
    payload.copy(pkt, IPV4_HEADER);
    if (adverts.length + replies.length >= maxQueue) {
      stats.sendDropped++;
      if (o.reply) return;
      if (!replies.shift()) adverts.shift();
    }
    (o.reply ? replies : adverts).push({ pkt, src: o.src, dst: o.dst });
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
      } catch {
        /* closing twice or a dead socket: nothing left to release */
      }
    },
  };
}
