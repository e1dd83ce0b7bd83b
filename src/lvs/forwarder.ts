// The embedded data plane for TCP virtual services: a userspace proxy that accepts on the virtual
// address and port, asks for a target (a real server, or the sorry server) and splices the two
// connections. Like LVS-NAT it is a full proxy (real servers see the director's address),
// whatever lb_kind says, and like IPVS it passes half-closes through: a FIN from one side is
// forwarded once that side's data is written, and the other direction carries on until it ends
// too. It keeps no counters of its own per destination: it reports each connection's phases and
// bytes to the target's ConnReport, which keeps IPVS's counters.
//
// Two ways to move the bytes, with the same behaviour:
// - 'handles' (the default where this Node exposes them): libuv TCP handles driven directly, as
//   net.Socket drives them internally. A net.Socket costs two stream state machines, a dozen
//   listeners and several ticks per connection: on loopback (npm run bench) a proxied
//   connection costs about 2.5 times as much CPU that way as this way, and this way 1.2-1.4
//   times HAProxy's; about three quarters of ours is the kernel's. The handles are Node internals (process.binding,
//   DEP0111), driven in forwarder-uv.ts: handlesAvailable says whether this Node has the shape
//   used here, and the tests run both ways.
// - 'streams': net.Socket with manual forwarding, the fallback.
// Either way a direction reads no more while its last chunk is not yet accepted by the kernel on
// the other side, so a slow reader holds at most one chunk per direction in our memory (two from
// the client while the real server is still accepting, with 'handles').
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { FdBudget, Pausable } from './fd-budget.js';
import type { LvsTimeouts } from '../config/model/index.js';
import { LVS_TIMEOUT_DEFAULTS } from '../config/resolve-lvs.js';
import { coarse, Link, type ClientAddress, type Target } from './forwarder-link.js';
import { bindHandle, handlesAvailable, listenHandles, pauseListener, type Acceptor, type TcpHandle } from './forwarder-uv.js';

export type { ConnPhase, ConnReport } from './connection.js';
export type { ClientAddress, Target } from './forwarder-link.js';
export { handlesAvailable } from './forwarder-uv.js';

export type ForwarderIo = 'handles' | 'streams';

export interface ForwarderOptions {
  host: string;
  port: number;
  /** The routing decision: where this client goes, or undefined to refuse it. */
  pick(client: ClientAddress): Target | undefined;
  /** Where clients go when `pick` gives nothing (for a forwarder used without a Balancer). */
  sorry?: { host: string; port: number };
  /** Milliseconds to wait for a real server to accept. */
  connectTimeoutMs?: number;
  /**
   * IPVS's idle timeouts in seconds, read at each sweep: an established connection with no data
   * either way for `tcp` is closed, one half-closed for `tcpfin` (default 900 and 120 s).
   */
  timeouts?: Pick<LvsTimeouts, 'tcp' | 'tcpfin'>;
  /** Default 'handles' when available (see above). With 'handles', hosts must be IP addresses. */
  io?: ForwarderIo;
  /**
   * The process's descriptors (fd-budget.ts): each connection holds two of them, and at the limit
   * the forwarder stops accepting until some close. Without it, no limit.
   */
  fds?: FdBudget;
  log?: (level: 'info' | 'warn', message: string) => void;
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
  /** accept(2) failures (EMFILE, ENFILE...): libuv sheds those clients. */
  acceptErrors: number;
  /** Connections closed idle: established for the tcp timeout, half-closed for tcpfin. */
  tcpTimeouts: number;
  finTimeouts: number;
}

/** How often the idle sweep runs: a quarter of the shorter timeout, within 0.25..5 s. */
const sweepPeriodMs = (t: Pick<LvsTimeouts, 'tcp' | 'tcpfin'>): number => Math.max(250, Math.min(5000, (Math.min(t.tcp, t.tcpfin) * 1000) / 4));
/** Idle timeouts are said in the log at most this often (with the counts since). */
const TIMEOUT_LOG_MS = 60_000;

export class TcpForwarder implements Acceptor, Pausable {
  readonly io: ForwarderIo;
  private server?: Server;
  private listener?: TcpHandle;
  /** The listening handle to pause (the listener, or the handle under the net.Server). */
  private accepting?: TcpHandle;
  /** An accept error was logged; the next one is logged after a successful accept. */
  private acceptErrorSaid = false;
  private readonly live = new Set<Link>();
  /** Links waiting for their real server to accept: one timer for all of them. */
  private readonly connecting = new Set<Link>();
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  /** The idle sweep: one timer for all the connections, running while there are any. */
  private sweeper?: NodeJS.Timeout;
  private sweepMs = 0;
  /** Timeouts not yet in the log, and when it last said some. */
  private unsaid = { tcp: 0, fin: 0 };
  private saidAt = -Infinity;
  private onIdle?: () => void;
  private idle?: Promise<void>;
  readonly stats: ForwarderStats = {
    accepted: 0,
    forwarded: 0,
    sorry: 0,
    refused: 0,
    backendErrors: 0,
    bytesIn: 0,
    bytesOut: 0,
    acceptErrors: 0,
    tcpTimeouts: 0,
    finTimeouts: 0,
  };

  constructor(private readonly opts: ForwarderOptions) {
    this.io = opts.io ?? (handlesAvailable ? 'handles' : 'streams');
    if (this.io === 'handles' && !handlesAvailable) throw new Error('this Node does not expose the TCP handles the forwarder drives; use io: streams');
  }

  listen(): Promise<{ host: string; port: number }> {
    const listening = this.io === 'handles' ? this.listenHandles() : this.listenStreams();
    return listening.then((at) => {
      this.opts.fds?.add(this);
      return at;
    });
  }

  /** At the descriptor limit: accept no more; the kernel's listen backlog holds the next clients. */
  pauseAccept(): void {
    if (this.accepting) pauseListener(this.accepting, true);
  }

  resumeAccept(): void {
    if (this.accepting) pauseListener(this.accepting, false);
  }

  acceptFailed(why: string): void {
    this.stats.acceptErrors++;
    if (this.acceptErrorSaid) return;
    this.acceptErrorSaid = true;
    this.opts.log?.('warn', `accept on ${this.opts.host}:${this.opts.port}: ${why} (${this.stats.acceptErrors} so far; said again after the next success)`);
  }

  /** Stop accepting; resolves once the connections in progress have closed (`drain` false: cut them). */
  close(drain = true): Promise<void> {
    this.opts.fds?.remove(this);
    this.sayTimeouts(true);
    if (!drain) for (const l of [...this.live]) l.cut();
    this.server?.close();
    this.server = undefined;
    this.listener?.close();
    this.listener = this.accepting = undefined;
    return (this.idle ??= this.live.size ? new Promise((resolve) => (this.onIdle = resolve)) : Promise.resolve());
  }

  /** Connections in progress. */
  get connections(): number {
    return this.live.size;
  }

  /**
   * Report the byte totals of the connections in progress (before sampling the rates). A userspace
   * proxy sees reads, not packets, so TCP reports no packet counts.
   */
  flush(): void {
    for (const l of this.live) l.report();
  }

  // ---- what both ways share ---------------------------------------------------------------------

  /** A new client: where it goes, or undefined (refused, and counted). */
  route(client: ClientAddress): Target | undefined {
    this.stats.accepted++;
    this.acceptErrorSaid = false;
    const to = this.opts.pick(client) ?? (this.opts.sorry && { ...this.opts.sorry, sorry: true });
    if (!to) this.stats.refused++;
    else if (to.sorry) this.stats.sorry++;
    else this.stats.forwarded++;
    return to;
  }

  opened(l: Link): void {
    this.live.add(l);
    this.opts.fds?.take(2);
    l.seen = coarse.now = Date.now();
    l.deadline = l.seen + this.timeoutMs();
    if (!this.sweeper) this.armSweep();
    this.connecting.add(l);
    if (l.deadline < this.timerAt) this.arm(l.deadline);
  }

  /** The real server accepted: both directions flow. */
  connected(l: Link): void {
    this.connecting.delete(l);
    l.seen = coarse.now;
    l.setPhase('active');
  }

  /** One direction ended: the connection is "inactive" for the schedulers until both are gone. */
  halfClosed(l: Link): void {
    l.seen = coarse.now;
    if (l.phase === 'active') l.setPhase('closing');
  }

  backendFailed(l: Link, why: string): void {
    this.stats.backendErrors++;
    this.opts.log?.('warn', `real server ${l.to.host}:${l.to.port}: ${why}`);
    l.cut();
  }

  /** Called once per link, when it is cut. */
  closed(l: Link): void {
    this.connecting.delete(l);
    this.live.delete(l);
    this.opts.fds?.give(2);
    l.report();
    this.stats.bytesIn += l.inBytes;
    this.stats.bytesOut += l.outBytes;
    l.setPhase('closed');
    if (!this.live.size) this.onIdle?.();
  }

  private timeoutMs(): number {
    return this.opts.connectTimeoutMs ?? 5000;
  }

  private get timeouts(): Pick<LvsTimeouts, 'tcp' | 'tcpfin'> {
    return this.opts.timeouts ?? LVS_TIMEOUT_DEFAULTS;
  }

  private armSweep(): void {
    this.sweepMs = sweepPeriodMs(this.timeouts);
    // Unref'd, as the connect timer.
    this.sweeper = setTimeout(() => this.sweep(), this.sweepMs).unref();
  }

  /**
   * Close the connections idle for their timeout: established ones for tcp, half-closed ones for
   * tcpfin. A stamp lags its last read by at most one sweep period (the coarse clock), so a
   * connection counts as idle only a period past its timeout: never early, at most two late.
   */
  private sweep(): void {
    this.sweeper = undefined;
    const now = (coarse.now = Date.now());
    const t = this.timeouts;
    const [tcp, fin] = [t.tcp * 1000 + this.sweepMs, t.tcpfin * 1000 + this.sweepMs];
    for (const l of this.live) {
      if (l.phase === 'connecting' || now - l.seen < (l.phase === 'closing' ? fin : tcp)) continue;
      if (l.phase === 'closing') {
        this.stats.finTimeouts++;
        this.unsaid.fin++;
      } else {
        this.stats.tcpTimeouts++;
        this.unsaid.tcp++;
      }
      l.cut();
    }
    this.sayTimeouts(false);
    if (this.live.size) this.armSweep();
  }

  /** The idle timeouts since the last line, at most one line a minute (`now`: whatever is left). */
  private sayTimeouts(now: boolean): void {
    const { tcp, fin } = this.unsaid;
    if (!tcp && !fin) return;
    if (!now && Date.now() - this.saidAt < TIMEOUT_LOG_MS) return;
    this.saidAt = Date.now();
    this.unsaid = { tcp: 0, fin: 0 };
    const t = this.timeouts;
    this.opts.log?.(
      'info',
      `virtual server ${this.opts.host}:${this.opts.port}: closed ${tcp} idle connection(s) (tcp timeout ${t.tcp} s) and ${fin} half-closed (tcpfin timeout ${t.tcpfin} s); ${this.stats.tcpTimeouts + this.stats.finTimeouts} in all`,
    );
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    // Unref'd: the connections it watches keep the process alive, not the timer.
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - Date.now())).unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const l of this.connecting) {
      if (l.deadline <= now) this.backendFailed(l, `did not accept within ${this.timeoutMs()} ms`);
      else next = Math.min(next, l.deadline);
    }
    if (next < Infinity) this.arm(next);
  }

  // ---- streams ----------------------------------------------------------------------------------

  private listenStreams(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const srv = createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (client) => {
        // Where the listener cannot pause (no handles on this Node), a client over the limit is
        // turned away rather than left to fail the process.
        const full = !this.accepting && this.opts.fds && !this.opts.fds.fits(2);
        const to = full ? undefined : this.route({ address: client.remoteAddress ?? '', port: client.remotePort ?? 0 });
        if (!to) client.destroy();
        else this.opened(new StreamLink(this, to, client));
      });
      srv.once('error', reject);
      const ready = (): void => {
        srv.off('error', reject);
        // accept(2) errors come here once listening (unhandled, they would end the process).
        srv.on('error', (e: NodeJS.ErrnoException) => this.acceptFailed(e.code ?? e.message));
        const a = srv.address();
        resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : { host: this.opts.host, port: this.opts.port });
      };
      this.server = srv;
      if (!handlesAvailable) return void srv.listen(this.opts.port, this.opts.host, ready);
      // The listening socket made pausable (bindHandle), under net.Server.
      try {
        this.accepting = bindHandle(this.opts.host, this.opts.port);
      } catch (e) {
        return reject(e);
      }
      srv.listen(this.accepting, ready);
    });
  }

  // ---- handles ----------------------------------------------------------------------------------

  private listenHandles(): Promise<{ host: string; port: number }> {
    try {
      const { listener, address } = listenHandles(this, this.opts.host, this.opts.port);
      this.listener = this.accepting = listener;
      return Promise.resolve(address);
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

class StreamLink extends Link {
  private readonly upstream: Socket;
  private closes = 0;

  constructor(
    fw: TcpForwarder,
    to: Target,
    private readonly client: Socket,
  ) {
    super(fw, to);
    const up = (this.upstream = connect({ host: to.host, port: to.port, noDelay: true, allowHalfOpen: true }));
    client.on('error', () => this.cut());
    up.on('error', (e: NodeJS.ErrnoException) => (this.phase === 'connecting' ? fw.backendFailed(this, e.code ?? e.message) : this.cut()));
    up.once('connect', () => {
      fw.connected(this);
      this.splice(client, up, (n) => (this.inBytes += n));
      this.splice(up, client, (n) => (this.outBytes += n));
    });
    // Both directions ended: each socket closes by itself once its last writes are flushed.
    // Closed any other way (a reset, a destroy), the other side goes too.
    const closed = (): void => {
      if (++this.closes === 2 || this.ended < 2) this.cut();
    };
    client.once('close', closed);
    up.once('close', closed);
  }

  private splice(from: Socket, to: Socket, count: (n: number) => void): void {
    from.on('data', (d: Buffer) => {
      count(d.length);
      this.seen = coarse.now;
      if (!to.write(d)) from.pause();
    });
    to.on('drain', () => from.resume());
    from.once('end', () => {
      this.ended++;
      this.fw.halfClosed(this);
      to.end();
    });
    from.resume();
  }

  cut(): void {
    if (this.phase === 'closed') return;
    this.fw.closed(this);
    this.client.destroy();
    this.upstream.destroy();
  }
}
