// PING_CHECK: an ICMP echo (keepalived's 128-byte filler) answered by an echo reply within
// connect_timeout; a destination unreachable quoting our echo fails it at once. keepalived opens an
// unprivileged ICMP datagram socket per check; Node has none, so all PING_CHECKs in flight share one
// raw ICMP socket per address family (root or CAP_NET_RAW), replies told apart by identifier and
// sequence number. The socket opens with the first ping and closes when none is left in flight, so
// nothing stays open once the checkers stop.
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { RawSocketLike, RawSocketModule } from '../net/raw-transport.js';
import { inetChecksum } from '../core/checksum.js';
import { fillerPayload, type ProbeResult } from './probes.js';

const FILLER = 128;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
/** keepalived's SOCK_RECV_BUFF: room for many replies arriving together. */
const RECV_BUFFER = 128 * 1024;

type Family = 4 | 6;
const ICMP = {
  4: { protocol: 1, echo: 8, reply: 0, unreachable: 3 },
  6: { protocol: 58, echo: 128, reply: 129, unreachable: 1 },
} as const;
const IPV6_HEADER = 40;

interface Pending {
  host: string;
  timer: NodeJS.Timeout;
  resolve(r: ProbeResult): void;
}

let rawModule: RawSocketModule | undefined;

export class Pinger {
  private readonly sockets = new Map<Family, RawSocketLike>();
  /** Pings waiting for their reply, by family and sequence number. */
  private readonly pending = { 4: new Map<number, Pending>(), 6: new Map<number, Pending>() };
  private readonly ident = randomInt(0, 0x10000);
  private seq = 0;

  ping(host: string, timeoutSec: number): Promise<ProbeResult> {
    const family = isIP(host);
    if (family !== 4 && family !== 6) return Promise.resolve({ ok: false, reason: `PING: ${host} is not an IP address` });
    const sock = this.socket(family);
    if (typeof sock === 'string') return Promise.resolve({ ok: false, reason: sock });
    const seq = this.nextSeq(family);
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => this.settle(family, seq, { ok: false, reason: `PING: no echo reply from ${host} within ${timeoutSec}s` }),
        timeoutSec * 1000,
      );
      this.pending[family].set(seq, { host, timer, resolve });
      const packet = echoRequest(family, this.ident, seq);
      const failed = (e: Error): void => this.settle(family, seq, { ok: false, reason: `PING: send to ${host} failed: ${e.message}` });
      try {
        sock.send(packet, 0, packet.length, host, (e) => e && failed(e));
      } catch (e) {
        failed(e as Error);
      }
    });
  }

  /** Fails the pings in flight now (their sockets then close). */
  dispose(): void {
    for (const family of [4, 6] as const) this.failAll(family, 'PING: stopped');
  }

  /** Sockets open now. */
  get openSockets(): number {
    return this.sockets.size;
  }

  private nextSeq(family: Family): number {
    // Skip numbers still waiting for their reply (only after 65,536 pings in flight).
    do this.seq = (this.seq + 1) & 0xffff;
    while (this.pending[family].has(this.seq));
    return this.seq;
  }

  private settle(family: Family, seq: number, r: ProbeResult): void {
    const p = this.pending[family].get(seq);
    if (!p) return;
    this.pending[family].delete(seq);
    clearTimeout(p.timer);
    p.resolve(r);
    // Closed outside raw-socket's receive callback; a ping sent meanwhile keeps it open.
    setImmediate(() => {
      if (this.pending[family].size > 0) return;
      this.sockets.get(family)?.close();
      this.sockets.delete(family);
    });
  }

  private failAll(family: Family, reason: string): void {
    for (const seq of [...this.pending[family].keys()]) this.settle(family, seq, { ok: false, reason });
  }

  private socket(family: Family): RawSocketLike | string {
    const open = this.sockets.get(family);
    if (open) return open;
    let raw: RawSocketModule;
    try {
      // A native addon: loaded on first use, so nothing else needs the build.
      rawModule ??= createRequire(import.meta.url)('raw-socket') as RawSocketModule;
      raw = rawModule;
    } catch (e) {
      return `PING_CHECK needs the raw-socket addon: ${(e as Error).message}`;
    }
    let s: RawSocketLike;
    try {
      s = raw.createSocket({ protocol: ICMP[family].protocol, addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6 });
    } catch (e) {
      return `PING_CHECK needs root (raw ICMP socket): ${(e as Error).message}`;
    }
    try {
      s.setOption(SOL_SOCKET, SO_RCVBUF, RECV_BUFFER);
    } catch {
      // The default buffer still works, with less room for bursts.
    }
    s.on('message', (buf) => this.receive(family, buf));
    s.on('error', (e) => {
      // raw-socket closes the socket after an error: fail what waits on it, reopen on next use.
      this.sockets.delete(family);
      this.failAll(family, `PING: socket error: ${e.message}`);
    });
    this.sockets.set(family, s);
    return s;
  }

  private receive(family: Family, buf: Buffer): void {
    // IPv4 raw sockets see the IP header, IPv6 ones do not.
    const icmp = family === 4 ? buf.subarray((buf[0] & 0xf) * 4) : buf;
    if (icmp.length < 8) return;
    const t = ICMP[family];
    if (icmp[0] === t.reply) {
      this.match(family, icmp, (host) => ({ ok: true, reason: `PING: echo reply from ${host}` }));
    } else if (icmp[0] === t.unreachable) {
      // The error quotes our packet: its IP header, then the echo header with our id and sequence.
      const inner = icmp.subarray(8);
      const quoted = family === 4 ? inner.subarray((inner[0] & 0xf) * 4) : inner.subarray(IPV6_HEADER);
      if (quoted.length >= 8 && quoted[0] === t.echo)
        this.match(family, quoted, (host) => ({ ok: false, reason: `PING: ${host} unreachable (ICMP code ${icmp[1]})` }));
    }
  }

  private match(family: Family, echo: Buffer, result: (host: string) => ProbeResult): void {
    if (echo.readUInt16BE(4) !== this.ident) return;
    const seq = echo.readUInt16BE(6);
    const p = this.pending[family].get(seq);
    if (p) this.settle(family, seq, result(p.host));
  }
}

function echoRequest(family: Family, ident: number, seq: number): Buffer {
  const b = Buffer.concat([Buffer.alloc(8), fillerPayload(FILLER)]);
  b[0] = ICMP[family].echo;
  b.writeUInt16BE(ident, 4);
  b.writeUInt16BE(seq, 6);
  // The kernel computes ICMPv6 checksums itself (it needs the IPv6 pseudo-header).
  if (family === 4) b.writeUInt16BE(inetChecksum(b), 2);
  return b;
}
