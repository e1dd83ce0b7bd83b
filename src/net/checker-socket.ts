// A checker's socket with SO_MARK (fwmark) and SO_BINDTODEVICE (bind_if) set before anything is
// sent, as keepalived's layer4.c sets them before bind() and connect().
//
// Node has no setsockopt, and its sockets get a descriptor only when they connect (TCP) or bind
// (UDP): set afterwards, the SYN or the first datagram has already left unmarked and unbound. So
// the socket is made by libc (socket(2) and setsockopt(2) through the koffi FFI) and then handed
// to Node through its public API: new net.Socket({ fd }) then connect(), or dgram's bind({ fd }).
// Sockets without either option never come here and koffi is loaded only when one is used.
import { createRequire } from 'node:module';
import { isIPv6 } from 'node:net';
import { addressBytes } from '../core/address.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const SO_MARK = 36;

export interface CheckerSocketOptions {
  /** SO_MARK; 0 or unset: no mark (keepalived sets it only when non-zero). */
  fwmark?: number;
  /** SO_BINDTODEVICE. */
  bindIf?: string;
  /** UDP only: the source (bindto, bind_port), bound here since dgram ignores them with an fd. */
  bindto?: string;
  bindPort?: number;
}

/** A descriptor Node may take over, or keepalived's log line for what failed. */
export type OpenedSocket = { fd: number } | { error: string };

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  bind(fd: number, addr: Buffer, length: number): number;
  close(fd: number): number;
  strerror(errno: number): string;
  errno(): number;
}

interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  errno(): number;
}

let libc: Libc | string | undefined;

/** libc through koffi, or why it could not be loaded (said once per probe that needs it). */
function loadLibc(): Libc | string {
  if (libc !== undefined) return libc;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const lib = koffi.load('libc.so.6');
    libc = {
      socket: lib.func('int socket(int, int, int)') as Libc['socket'],
      setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)') as Libc['setsockopt'],
      bind: lib.func('int bind(int, const void *, uint32_t)') as Libc['bind'],
      close: lib.func('int close(int)') as Libc['close'],
      strerror: lib.func('const char *strerror(int)') as Libc['strerror'],
      errno: () => koffi.errno(),
    };
  } catch (e) {
    libc = `cannot load koffi for setsockopt: ${(e as Error).message.split('\n')[0]}`;
  }
  return libc;
}

/** struct sockaddr_in / sockaddr_in6 for bind(2). */
export function sockaddr(address: string, port: number): Buffer {
  const v6 = isIPv6(address);
  const b = Buffer.alloc(v6 ? 28 : 16);
  b.writeUInt16LE(v6 ? AF_INET6 : AF_INET, 0);
  b.writeUInt16BE(port, 2);
  addressBytes(address).copy(b, v6 ? 8 : 4);
  return b;
}

/**
 * A non-blocking socket for a check of `host` with the options set in keepalived's order (mark,
 * device, then for UDP the source address). The caller owns the descriptor: Node closes it once
 * it has taken it over; on error nothing is left open.
 */
export function openCheckerSocket(kind: 'tcp' | 'udp', host: string, o: CheckerSocketOptions): OpenedSocket {
  const c = loadLibc();
  if (typeof c === 'string') return { error: c };
  const fd = c.socket(isIPv6(host) ? AF_INET6 : AF_INET, (kind === 'tcp' ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return { error: `cannot create a socket: ${c.strerror(c.errno())}` };
  const fail = (what: string): OpenedSocket => {
    const why = c.strerror(c.errno());
    c.close(fd);
    return { error: `${what}: ${why}` };
  };
  if (o.fwmark) {
    const mark = Buffer.alloc(4);
    mark.writeUInt32LE(o.fwmark);
    if (c.setsockopt(fd, SOL_SOCKET, SO_MARK, mark, 4) < 0) return fail(`Error setting fwmark ${o.fwmark} to socket`);
  }
  if (o.bindIf) {
    const name = Buffer.from(`${o.bindIf}\0`, 'latin1');
    if (c.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length) < 0) return fail(`Checker can't bind to device ${o.bindIf}`);
  }
  if (kind === 'udp' && (o.bindto || o.bindPort)) {
    const addr = sockaddr(o.bindto ?? (isIPv6(host) ? '::' : '0.0.0.0'), o.bindPort ?? 0);
    if (c.bind(fd, addr, addr.length) < 0) return fail('bind failed');
  }
  return { fd };
}
