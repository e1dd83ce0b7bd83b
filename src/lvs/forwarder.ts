// The embedded data plane for TCP virtual services: a userspace proxy that accepts on the virtual
// address and port, asks the scheduler for a real server, and splices the two connections. Like
// LVS-NAT it is a full proxy (real servers see the director's address), whatever lb_kind says.
// It keeps IPVS's per-destination counters (active: both directions open; inactive: closing),
// which the dynamic schedulers read.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Backend {
  id: string;
  host: string;
  port: number;
  activeConns: number;
  inactConns: number;
  /** Connections handed to this backend since start. */
  total: number;
}

export interface ForwarderOptions {
  host: string;
  port: number;
  /** The scheduler: a backend for this client, or undefined when none is available. */
  pick(client: { address: string; port: number }): Backend | undefined;
  /** Where clients go when no real server is available (sorry_server). */
  sorry?: { host: string; port: number };
  /** Milliseconds to wait for a real server to accept. */
  connectTimeoutMs?: number;
  /** A connection to a backend changed phase (the scheduler's destination counters follow it). */
  onPhase?(backend: Backend, from: ConnPhase, to: ConnPhase): void;
  log?(level: 'info' | 'warn', message: string): void;
}

/** connecting → active (both directions open) → closing (one side finished) → closed. */
export type ConnPhase = 'connecting' | 'active' | 'closing' | 'closed';

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

export class TcpForwarder {
  private server?: Server;
  private readonly open = new Set<Socket>();
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

  /** Stop accepting; with `drain` false also cut the connections in progress. */
  close(drain = true): Promise<void> {
    return new Promise((resolve) => {
      if (!drain) for (const s of this.open) s.destroy();
      if (!this.server) return resolve();
      this.server.close(() => resolve());
    });
  }

  private accept(client: Socket): void {
    this.stats.accepted++;
    this.open.add(client);
    client.on('close', () => this.open.delete(client));
    client.on('error', () => client.destroy());
    const backend = this.opts.pick({ address: client.remoteAddress ?? '', port: client.remotePort ?? 0 });
    const to = backend ?? this.opts.sorry;
    if (!to) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    if (backend) {
      this.stats.forwarded++;
      backend.total++;
    } else this.stats.sorry++;
    const upstream = connect({ host: to.host, port: to.port, noDelay: true });
    this.open.add(upstream);
    const timer = setTimeout(() => {
      this.stats.backendErrors++;
      this.opts.log?.('warn', `real server ${to.host}:${to.port} did not accept within ${this.opts.connectTimeoutMs ?? 5000} ms`);
      upstream.destroy();
      client.destroy();
    }, this.opts.connectTimeoutMs ?? 5000);
    let phase: ConnPhase = 'connecting';
    if (backend) this.opts.onPhase?.(backend, 'closed', 'connecting');
    const setPhase = (p: ConnPhase): void => {
      if (!backend || p === phase) return;
      if (phase === 'active') backend.activeConns--;
      if (phase === 'closing') backend.inactConns--;
      if (p === 'active') backend.activeConns++;
      if (p === 'closing') backend.inactConns++;
      const from = phase;
      phase = p;
      this.opts.onPhase?.(backend, from, p);
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
    let counted = false;
    const closed = (): void => {
      clearTimeout(timer);
      setPhase('closed');
      // Byte counts from the sockets at the end: a 'data' listener per chunk would cost as much
      // as the copying itself.
      if (!counted) {
        counted = true;
        this.stats.bytesIn += client.bytesRead;
        this.stats.bytesOut += upstream.bytesRead;
      }
      this.open.delete(upstream);
      upstream.destroy();
      client.destroy();
    };
    upstream.on('close', closed);
    client.on('close', closed);
  }
}
