// The embedded data plane for TCP virtual services: a userspace proxy that accepts on the virtual
// address and port, asks for a target (a real server, or the sorry server) and splices the two
// connections. Like LVS-NAT it is a full proxy (real servers see the director's address),
// whatever lb_kind says. It keeps no counters of its own per destination: it reports each
// connection's phases and bytes to the target's ConnReport, which keeps IPVS's counters.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ConnPhase, ConnReport } from './connection.js';

export type { ConnPhase, ConnReport } from './connection.js';

export interface Target {
  host: string;
  port: number;
  /** The sorry server rather than a real server (only counted apart). */
  sorry?: boolean;
  /** Told this connection's phases and byte totals. */
  conn?: ConnReport;
}

export interface ForwarderOptions {
  host: string;
  port: number;
  /** The routing decision: where this client goes, or undefined to refuse it. */
  pick(client: { address: string; port: number }): Target | undefined;
  /** Where clients go when `pick` gives nothing (for a forwarder used without a Balancer). */
  sorry?: { host: string; port: number };
  /** Milliseconds to wait for a real server to accept. */
  connectTimeoutMs?: number;
  log?(level: 'info' | 'warn', message: string): void;
}

export interface ForwarderStats {
  accepted: number;
  forwarded: number;
  sorry: number;
  /** Clients closed because no real server (and no sorry server) was available. */
  refused: number;
  /** Real servers that did not accept in time or reset the connection. */
  backendErrors: number;
  bytesIn: number;
  bytesOut: number;
}

interface Pipe {
  client: Socket;
  upstream: Socket;
  conn?: ConnReport;
}

export class TcpForwarder {
  private server?: Server;
  private readonly live = new Set<Pipe>();
  readonly stats: ForwarderStats = { accepted: 0, forwarded: 0, sorry: 0, refused: 0, backendErrors: 0, bytesIn: 0, bytesOut: 0 };

  constructor(private readonly opts: ForwarderOptions) {}

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const srv = createServer({ noDelay: true, pauseOnConnect: true }, (client) => this.accept(client));
      srv.once('error', reject);
      srv.listen(this.opts.port, this.opts.host, () => {
        const a = srv.address();
        resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : { host: this.opts.host, port: this.opts.port });
      });
      this.server = srv;
    });
  }

  /** Stop accepting; resolves once the connections in progress have closed (`drain` false: cut them). */
  close(drain = true): Promise<void> {
    return new Promise((resolve) => {
      if (!drain) for (const p of this.live) p.client.destroy();
      if (!this.server) return resolve();
      this.server.close(() => resolve());
    });
  }

  /** Connections in progress. */
  get connections(): number {
    return this.live.size;
  }

  /**
   * Report the byte totals of the connections in progress (before sampling the rates). Totals
   * come from the sockets' own counters: a 'data' listener per chunk would cost as much as the
   * copying. A userspace proxy sees reads, not packets, so TCP reports no packet counts.
   */
  flush(): void {
    for (const p of this.live) report(p);
  }

  private accept(client: Socket): void {
    this.stats.accepted++;
    client.on('error', () => client.destroy());
    const picked = this.opts.pick({ address: client.remoteAddress ?? '', port: client.remotePort ?? 0 });
    const to: Target | undefined = picked ?? (this.opts.sorry && { ...this.opts.sorry, sorry: true });
    if (!to) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    if (to.sorry) this.stats.sorry++;
    else this.stats.forwarded++;
    const upstream = connect({ host: to.host, port: to.port, noDelay: true });
    const pipe: Pipe = { client, upstream, conn: to.conn };
    this.live.add(pipe);
    const timer = setTimeout(() => {
      this.stats.backendErrors++;
      this.opts.log?.('warn', `real server ${to.host}:${to.port} did not accept within ${this.opts.connectTimeoutMs ?? 5000} ms`);
      upstream.destroy();
      client.destroy();
    }, this.opts.connectTimeoutMs ?? 5000);
    let phase: ConnPhase = 'connecting';
    const setPhase = (p: ConnPhase): void => {
      if (p === phase) return;
      phase = p;
      to.conn?.phase(p);
    };
    upstream.once('connect', () => {
      clearTimeout(timer);
      setPhase('active');
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    // One side finished: the connection is "inactive" for the schedulers until both are gone.
    const halfClosed = (): void => { if (phase === 'active') setPhase('closing'); };
    client.on('end', halfClosed);
    upstream.on('end', halfClosed);
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (phase === 'connecting') {
        this.stats.backendErrors++;
        this.opts.log?.('warn', `real server ${to.host}:${to.port}: ${e.code ?? e.message}`);
      }
      client.destroy();
    });
    const closed = (): void => {
      clearTimeout(timer);
      if (this.live.delete(pipe)) {
        report(pipe);
        this.stats.bytesIn += client.bytesRead;
        this.stats.bytesOut += upstream.bytesRead;
      }
      setPhase('closed');
      upstream.destroy();
      client.destroy();
    };
    upstream.on('close', closed);
    client.on('close', closed);
  }
}

/** in = read from the client (sent on to the real server), out = read from the real server. */
const report = (p: Pipe): void => p.conn?.traffic({ inBytes: p.client.bytesRead, outBytes: p.upstream.bytesRead });
