// The embedded data plane for UDP virtual services. One socket on the virtual address receives
// every client's datagrams; the first datagram of a client (address:port) opens a flow: a socket
// connected to the real server picked for it, whose replies go back to the client from the
// virtual address. Like IPVS's UDP connection entries, a flow lives until it has been idle for the
// UDP timeout (300 s by default, lvs_timeouts udp), and counts as inactive for the schedulers
// all its life. Flows are bounded (maxFlows, and the process's descriptors: a flow holds one):
// when a new client finds no room, the least recently used flow gives way (counted as evicted).
//
// No timer per flow and none touched per datagram: the flow table is kept in least recently used
// order (a flow moves to the end when the coarse clock has moved since its last datagram, so at
// most once per sweep), and one sweep closes the idle flows from its front, stopping at the first
// that is not.
import { createSocket, type Socket } from 'node:dgram';
import type { FdBudget } from './fd-budget.js';
import type { Target } from './forwarder.js';
import { coarse } from './forwarder-link.js';

export interface UdpForwarderOptions {
  host: string;
  port: number;
  /** Where a new client's flow goes, or undefined to drop its datagram. */
  pick(client: { address: string; port: number }): Target | undefined;
  /** A flow idle this long expires (default 300 000 ms, IPVS's UDP timeout); read at each sweep. */
  idleTimeoutMs?: number;
  /** At most this many flows at once (default 65 536). */
  maxFlows?: number;
  /** The process's descriptors (fd-budget.ts), one per flow. Without it, only maxFlows bounds them. */
  fds?: FdBudget;
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
  /** Datagrams of new clients dropped: no room, and no flow of this service to give way. */
  overflow: number;
  /** Flows ended by an error from the real server's side (ICMP port unreachable...). */
  backendErrors: number;
  /** Flows closed idle for the UDP timeout. */
  expired: number;
  /** Flows closed, least recently used first, to make room for a new client's. */
  evicted: number;
}

export const UDP_TIMEOUT_MS = 300_000;
const MAX_FLOWS = 65_536;
/** Datagrams held per flow while its socket connects (a lookup at most, on loopback: none). */
const PENDING_MAX = 64;

interface Flow {
  key: string;
  upstream: Socket;
  /** Last datagram either way (coarse.now): the table's order follows it. */
  seen: number;
  target: Target;
  /** Datagrams from the client while the upstream socket connects (undefined once connected). */
  pending?: Buffer[];
  /** Datagrams and payload bytes: a UDP datagram is one packet, so these counts are exact. */
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

/** Evictions are said in the log at most this often (with the count since). */
const EVICT_LOG_MS = 60_000;

export class UdpForwarder {
  private socket?: Socket;
  /** In least recently used order (see above). */
  private readonly flows = new Map<string, Flow>();
  readonly stats: UdpForwarderStats = {
    received: 0,
    flows: 0,
    forwarded: 0,
    sorry: 0,
    refused: 0,
    overflow: 0,
    backendErrors: 0,
    expired: 0,
    evicted: 0,
  };
  private readonly maxFlows: number;
  private closing = false;
  private readonly closed: (() => void)[] = [];
  private sweeper?: NodeJS.Timeout;
  private sweepMs = 0;
  private unsaidEvictions = 0;
  private evictSaidAt = -Infinity;

  constructor(private readonly opts: UdpForwarderOptions) {
    this.maxFlows = opts.maxFlows ?? MAX_FLOWS;
  }

  get idleTimeoutMs(): number {
    return this.opts.idleTimeoutMs ?? UDP_TIMEOUT_MS;
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
      if (this.closing) {
        this.stats.refused++;
        return;
      }
      if (!this.makeRoom()) {
        this.stats.overflow++;
        return;
      }
      const target = this.opts.pick({ address: from.address, port: from.port });
      if (!target) {
        this.stats.refused++;
        return;
      }
      f = this.open(key, target, from);
    }
    f.inPkts++;
    f.inBytes += msg.length;
    this.touch(f);
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
      seen: (coarse.now = Date.now()),
      pending: [],
      inPkts: 0,
      outPkts: 0,
      inBytes: 0,
      outBytes: 0,
    };
    this.flows.set(key, f);
    this.opts.fds?.take(1);
    if (!this.sweeper) this.armSweep();
    upstream.on('message', (reply) => {
      f.outPkts++;
      f.outBytes += reply.length;
      this.touch(f);
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

  /** A datagram on the flow: to the end of the table, once per tick of the coarse clock. */
  private touch(f: Flow): void {
    if (f.seen === coarse.now) return;
    f.seen = coarse.now;
    this.flows.delete(f.key);
    this.flows.set(f.key, f);
  }

  /** Room for one more flow: within maxFlows and the descriptors, the oldest giving way if need be. */
  private makeRoom(): boolean {
    while (this.flows.size >= this.maxFlows || (this.opts.fds && !this.opts.fds.fits(1))) {
      const oldest = this.flows.values().next();
      if (oldest.done) return false;
      this.stats.evicted++;
      this.unsaidEvictions++;
      this.end(oldest.value);
    }
    this.sayEvictions(false);
    return true;
  }

  private sayEvictions(now: boolean): void {
    if (!this.unsaidEvictions || (!now && Date.now() - this.evictSaidAt < EVICT_LOG_MS)) return;
    this.evictSaidAt = Date.now();
    this.opts.log?.(
      'info',
      `UDP virtual server ${this.opts.host}:${this.opts.port}: no room for new flows (at most ${this.maxFlows}, or out of descriptors); ${this.unsaidEvictions} least recently used flow(s) closed to make room, ${this.stats.evicted} in all`,
    );
    this.unsaidEvictions = 0;
  }

  private armSweep(): void {
    // A quarter of the timeout, within 0.25..5 s; unref'd: the flows keep nothing alive.
    this.sweepMs = Math.max(250, Math.min(5000, this.idleTimeoutMs / 4));
    this.sweeper = setTimeout(() => this.sweep(), this.sweepMs).unref();
  }

  /** Close the flows idle for the timeout, from the front of the table (stamps lag by at most a period). */
  private sweep(): void {
    this.sweeper = undefined;
    const now = (coarse.now = Date.now());
    const idle = this.idleTimeoutMs + this.sweepMs;
    for (const f of this.flows.values()) {
      if (now - f.seen < idle) break;
      this.stats.expired++;
      this.end(f);
    }
    this.sayEvictions(false);
    if (this.flows.size) this.armSweep();
  }

  private end(f: Flow): void {
    if (this.flows.get(f.key) !== f) return;
    this.flows.delete(f.key);
    this.opts.fds?.give(1);
    report(f);
    f.target.conn?.phase('closed');
    f.upstream.close();
    this.maybeClosed();
  }

  private maybeClosed(): void {
    if (!this.closing || this.flows.size > 0) return;
    clearTimeout(this.sweeper);
    this.sweeper = undefined;
    this.sayEvictions(true);
    const waiting = this.closed.splice(0);
    const done = (): void => waiting.forEach((r) => r());
    if (!this.socket) return done();
    this.socket.close(done);
    this.socket = undefined;
  }
}

const report = (f: Flow): void => f.target.conn?.traffic({ inBytes: f.inBytes, outBytes: f.outBytes, inPkts: f.inPkts, outPkts: f.outPkts });
