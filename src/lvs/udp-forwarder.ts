// The embedded data plane for UDP virtual services. One socket on the virtual address receives
// every client's datagrams; the first datagram of a client (address:port) opens a flow: a socket
// connected to the real server picked for it, whose replies go back to the client from the
// virtual address. Like IPVS's UDP connection entries, a flow lives until it has been idle for the
// UDP timeout (300 s by default, ipvsadm --set ... udp), and counts as inactive for the schedulers
// all its life. Flows are bounded: a datagram that would open one too many is dropped and counted.
import { createSocket, type Socket } from 'node:dgram';
import type { Target } from './forwarder.js';

export interface UdpForwarderOptions {
  host: string;
  port: number;
  /** Where a new client's flow goes, or undefined to drop its datagram. */
  pick(client: { address: string; port: number }): Target | undefined;
  /** A flow idle this long expires (default 300 000 ms, IPVS's UDP timeout). */
  idleTimeoutMs?: number;
  /** At most this many flows at once (default 65 536). */
  maxFlows?: number;
  log?: (level: 'info' | 'warn', message: string) => void;
}

export interface UdpForwarderStats {
  /** Datagrams received from clients. */
  received: number;
  flows: number;
  forwarded: number;
  sorry: number;
  /** Datagrams of new clients dropped: no real server (and no sorry server), or the service is closing. */
  refused: number;
  /** Datagrams dropped because the flow table was full. */
  overflow: number;
  /** Flows ended by an error from the real server's side (ICMP port unreachable...). */
  backendErrors: number;
  expired: number;
}

export const UDP_TIMEOUT_MS = 300_000;
const MAX_FLOWS = 65_536;
/** Datagrams held per flow while its socket connects (a lookup at most, on loopback: none). */
const PENDING_MAX = 64;

interface Flow {
  key: string;
  upstream: Socket;
  timer: NodeJS.Timeout;
  target: Target;
  /** Datagrams from the client while the upstream socket connects (undefined once connected). */
  pending?: Buffer[];
  /** Datagrams and payload bytes: a UDP datagram is one packet, so these counts are exact. */
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

export class UdpForwarder {
  private socket?: Socket;
  private readonly flows = new Map<string, Flow>();
  readonly stats: UdpForwarderStats = { received: 0, flows: 0, forwarded: 0, sorry: 0, refused: 0, overflow: 0, backendErrors: 0, expired: 0 };
  private readonly idleMs: number;
  private readonly maxFlows: number;
  private closing = false;
  private readonly closed: (() => void)[] = [];

  constructor(private readonly opts: UdpForwarderOptions) {
    this.idleMs = opts.idleTimeoutMs ?? UDP_TIMEOUT_MS;
    this.maxFlows = opts.maxFlows ?? MAX_FLOWS;
  }

  get idleTimeoutMs(): number {
    return this.idleMs;
  }

  /** Flows open now. */
  get connections(): number {
    return this.flows.size;
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const sock = createSocket({ type: this.opts.host.includes(':') ? 'udp6' : 'udp4' });
      sock.once('error', reject);
      sock.on('message', (msg, from) => this.receive(msg, from));
      sock.bind(this.opts.port, this.opts.host, () => {
        sock.off('error', reject);
        sock.on('error', (e) => this.opts.log?.('warn', `UDP virtual server ${this.opts.host}:${this.opts.port}: ${e.message}`));
        const a = sock.address();
        resolve({ host: a.address, port: a.port });
      });
      this.socket = sock;
    });
  }

  /**
   * Stop taking new flows; resolves once the flows in progress have expired (`drain` false: end
   * them now). Existing flows keep being relayed while they drain, so the socket stays open.
   */
  close(drain = true): Promise<void> {
    this.closing = true;
    if (!drain) for (const f of [...this.flows.values()]) this.end(f);
    return new Promise((resolve) => {
      this.closed.push(resolve);
      this.maybeClosed();
    });
  }

  /** Report the flows' totals to their targets (before sampling the rates). */
  flush(): void {
    for (const f of this.flows.values()) report(f);
  }

  private receive(msg: Buffer, from: { address: string; port: number }): void {
    this.stats.received++;
    const key = `${from.address}|${from.port}`;
    let f = this.flows.get(key);
    if (!f) {
      if (this.flows.size >= this.maxFlows && !this.closing) {
        this.stats.overflow++;
        return;
      }
      const target = this.closing ? undefined : this.opts.pick({ address: from.address, port: from.port });
      if (!target) {
        this.stats.refused++;
        return;
      }
      f = this.open(key, target, from);
    }
    f.inPkts++;
    f.inBytes += msg.length;
    f.timer.refresh();
    if (!f.pending) f.upstream.send(msg);
    else if (f.pending.length < PENDING_MAX) f.pending.push(msg);
  }

  private open(key: string, target: Target, client: { address: string; port: number }): Flow {
    this.stats.flows++;
    if (target.sorry) this.stats.sorry++;
    else this.stats.forwarded++;
    const upstream = createSocket({ type: target.host.includes(':') ? 'udp6' : 'udp4' });
    const f: Flow = {
      key,
      upstream,
      target,
      timer: setTimeout(() => this.expire(f), this.idleMs),
      pending: [],
      inPkts: 0,
      outPkts: 0,
      inBytes: 0,
      outBytes: 0,
    };
    this.flows.set(key, f);
    upstream.on('message', (reply) => {
      f.outPkts++;
      f.outBytes += reply.length;
      f.timer.refresh();
      this.socket?.send(reply, client.port, client.address);
    });
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      this.stats.backendErrors++;
      this.opts.log?.('warn', `UDP real server ${target.host}:${target.port}: ${e.code ?? e.message}`);
      this.end(f);
    });
    upstream.connect(target.port, target.host, () => {
      const held = f.pending ?? [];
      f.pending = undefined;
      for (const m of held) upstream.send(m);
    });
    return f;
  }

  private expire(f: Flow): void {
    this.stats.expired++;
    this.end(f);
  }

  private end(f: Flow): void {
    if (this.flows.get(f.key) !== f) return;
    this.flows.delete(f.key);
    clearTimeout(f.timer);
    report(f);
    f.target.conn?.phase('closed');
    f.upstream.close();
    this.maybeClosed();
  }

  private maybeClosed(): void {
    if (!this.closing || this.flows.size > 0) return;
    const waiting = this.closed.splice(0);
    const done = (): void => waiting.forEach((r) => r());
    if (!this.socket) return done();
    this.socket.close(done);
    this.socket = undefined;
  }
}

const report = (f: Flow): void => f.target.conn?.traffic({ inBytes: f.inBytes, outBytes: f.outBytes, inPkts: f.inPkts, outPkts: f.outPkts });
