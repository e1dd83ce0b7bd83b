// One datagram out on a connected UDP socket and the replies back, for UDP_CHECK and DNS_CHECK.
// A connected socket is what turns an ICMP port unreachable into an error (ECONNREFUSED) here.
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { openCheckerSocket } from '../net/checker-socket.js';
import type { ProbeResult, Target } from './probes.js';

export interface Exchange {
  /** Prefix of every reason, e.g. "DNS". */
  label: string;
  payload: Buffer;
  /** A result ends the exchange; undefined keeps listening (a reply that is not ours). */
  reply(msg: Buffer): ProbeResult | undefined;
  /** The result when connect_timeout passes without one. */
  timeout(): ProbeResult;
}

const describe = (e: NodeJS.ErrnoException): string =>
  e.code === 'ECONNREFUSED' ? 'ICMP port unreachable (ECONNREFUSED)' : `${e.code ?? 'error'}: ${e.message}`;

export function udpExchange(t: Target, x: Exchange): Promise<ProbeResult> {
  // With fwmark or bind_if, the socket comes from libc with them set (and bound to bindto).
  let fd: number | undefined;
  if (t.fwmark || t.bindIf) {
    const made = openCheckerSocket('udp', t.host, t);
    if ('error' in made) return Promise.resolve({ ok: false, reason: `${x.label}: ${made.error}`, unrun: true });
    fd = made.fd;
  }
  return new Promise((resolve) => {
    const s = createSocket(isIPv6(t.host) ? 'udp6' : 'udp4');
    let open = true;
    const done = (r: ProbeResult): void => {
      clearTimeout(timer);
      if (open) s.close();
      open = false;
      resolve(r);
    };
    const timer = setTimeout(() => done(x.timeout()), t.connectTimeout * 1000);
    s.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, reason: `${x.label}: ${describe(e)}` }));
    s.on('message', (msg) => {
      const r = x.reply(msg);
      if (r) done(r);
    });
    const send = (): void => {
      try {
        s.connect(t.port, t.host, (e?: Error) => {
          if (e) done({ ok: false, reason: `${x.label}: ${describe(e)}` });
          else s.send(x.payload, (err) => err && done({ ok: false, reason: `${x.label}: send failed: ${describe(err)}` }));
        });
      } catch (e) {
        // A bad port or address throws at once.
        done({ ok: false, reason: `${x.label}: ${describe(e as NodeJS.ErrnoException)}` });
      }
    };
    if (fd !== undefined) s.bind({ fd }, send);
    else if (t.bindto || t.bindPort) s.bind({ address: t.bindto, port: t.bindPort ?? 0 }, send);
    else send();
  });
}
