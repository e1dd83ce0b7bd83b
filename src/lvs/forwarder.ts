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
//   listeners and several ticks per connection: on loopback a proxied connection cost about
//   0.45 CPU-ms that way, about 0.2 this way, 0.12-0.17 in HAProxy (what is left is mostly the
//   kernel's). The handles are Node internals (process.binding, DEP0111): handlesAvailable says
//   whether this Node has the shape used here, and the tests run both ways.
// - 'streams': net.Socket with manual forwarding, the fallback.
// Either way a direction reads no more while its last chunk is not yet accepted by the kernel on
// the other side, so a slow reader holds at most one chunk per direction in our memory.
import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
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

export type ForwarderIo = 'handles' | 'streams';

export interface ForwarderOptions {
  host: string;
  port: number;
  /** The routing decision: where this client goes, or undefined to refuse it. */
  pick(client: { address: string; port: number }): Target | undefined;
  /** Where clients go when `pick` gives nothing (for a forwarder used without a Balancer). */
  sorry?: { host: string; port: number };
  /** Milliseconds to wait for a real server to accept. */
  connectTimeoutMs?: number;
  /** Default 'handles' when available (see above). With 'handles', hosts must be IP addresses. */
  io?: ForwarderIo;
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

/** One client and its real server, whichever way the bytes move. */
abstract class Link {
  phase: ConnPhase = 'connecting';
  /** When the real server must have accepted by (ms, Date.now()). */
  deadline = 0;
  /** Read from the client (sent on to the real server), and read from the real server. */
  inBytes = 0;
  outBytes = 0;
  /** Directions that have ended (FIN read). */
  ended = 0;

  constructor(readonly fw: TcpForwarder, readonly to: Target) {}

  /** Close both sides now. */
  abstract cut(): void;

  setPhase(p: ConnPhase): void {
    if (p === this.phase) return;
    this.phase = p;
    this.to.conn?.phase(p);
  }

  report(): void {
    this.to.conn?.traffic({ inBytes: this.inBytes, outBytes: this.outBytes });
  }
}

export class TcpForwarder {
  readonly io: ForwarderIo;
  private server?: Server;
  private listener?: TcpHandle;
  private readonly live = new Set<Link>();
  /** Links waiting for their real server to accept: one timer for all of them. */
  private readonly connecting = new Set<Link>();
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  private onIdle?: () => void;
  private idle?: Promise<void>;
  readonly stats: ForwarderStats = { accepted: 0, forwarded: 0, sorry: 0, refused: 0, backendErrors: 0, bytesIn: 0, bytesOut: 0 };

  constructor(private readonly opts: ForwarderOptions) {
    this.io = opts.io ?? (raw ? 'handles' : 'streams');
    if (this.io === 'handles' && !raw) throw new Error('this Node does not expose the TCP handles the forwarder drives; use io: streams');
  }

  listen(): Promise<{ host: string; port: number }> {
    return this.io === 'handles' ? this.listenHandles() : this.listenStreams();
  }

  /** Stop accepting; resolves once the connections in progress have closed (`drain` false: cut them). */
  close(drain = true): Promise<void> {
    if (!drain) for (const l of [...this.live]) l.cut();
    this.server?.close();
    this.server = undefined;
    this.listener?.close();
    this.listener = undefined;
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
  private route(address: string, port: number): Target | undefined {
    this.stats.accepted++;
    const to = this.opts.pick({ address, port }) ?? (this.opts.sorry && { ...this.opts.sorry, sorry: true });
    if (!to) this.stats.refused++;
    else if (to.sorry) this.stats.sorry++;
    else this.stats.forwarded++;
    return to;
  }

  private opened(l: Link): void {
    this.live.add(l);
    l.deadline = Date.now() + this.timeoutMs();
    this.connecting.add(l);
    if (l.deadline < this.timerAt) this.arm(l.deadline);
  }

  /** The real server accepted: both directions flow. */
  connected(l: Link): void {
    this.connecting.delete(l);
    l.setPhase('active');
  }

  /** One direction ended: the connection is "inactive" for the schedulers until both are gone. */
  halfClosed(l: Link): void {
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
    l.report();
    this.stats.bytesIn += l.inBytes;
    this.stats.bytesOut += l.outBytes;
    l.setPhase('closed');
    if (!this.live.size) this.onIdle?.();
  }

  private timeoutMs(): number {
    return this.opts.connectTimeoutMs ?? 5000;
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
        const to = this.route(client.remoteAddress ?? '', client.remotePort ?? 0);
        if (!to) client.destroy();
        else this.opened(new StreamLink(this, to, client));
      });
      srv.once('error', reject);
      srv.listen(this.opts.port, this.opts.host, () => {
        const a = srv.address();
        resolve(typeof a === 'object' && a ? { host: a.address, port: a.port } : { host: this.opts.host, port: this.opts.port });
      });
      this.server = srv;
    });
  }

  // ---- handles ----------------------------------------------------------------------------------

  private listenHandles(): Promise<{ host: string; port: number }> {
    const { host, port } = this.opts;
    let h: TcpHandle;
    try {
      h = bindHandle(host, port);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const err = h.listen(511);
    if (err) {
      h.close();
      return Promise.reject(uvError(err, 'listen', `${host}:${port}`));
    }
    h.onconnection = (e, client) => {
      if (e || !client) return void this.opts.log?.('warn', `accept on ${host}:${port}: ${getSystemErrorName(e)}`);
      const peer: SockName = {};
      client.getpeername(peer);
      const to = this.route(peer.address ?? '', peer.port ?? 0);
      if (!to) return client.close();
      const l = new HandleLink(this, to, client);
      this.opened(l);
      l.start();
    };
    this.listener = h;
    const at: SockName = {};
    h.getsockname(at);
    return Promise.resolve({ host: at.address ?? host, port: at.port ?? port });
  }
}

class StreamLink extends Link {
  private readonly upstream: Socket;
  private closes = 0;

  constructor(fw: TcpForwarder, to: Target, private readonly client: Socket) {
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

// ---- libuv handles ------------------------------------------------------------------------------

/** The parts of Node's internal TCPWrap this module uses (lib/net.js drives the same calls). */
export interface TcpHandle {
  onconnection: (err: number, client?: TcpHandle) => void;
  onread: (this: TcpHandle, buf?: ArrayBuffer) => void;
  bind(host: string, port: number): number;
  bind6(host: string, port: number, flags: number): number;
  listen(backlog: number): number;
  connect(req: Req, host: string, port: number): number;
  connect6(req: Req, host: string, port: number): number;
  getsockname(out: SockName): number;
  getpeername(out: SockName): number;
  setNoDelay(on: boolean): number;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: Req, data: Uint8Array): number;
  shutdown(req: Req): number;
  close(): void;
  /** Ours: the link this handle carries. */
  link?: HandleLink;
}
export interface SockName { address?: string; port?: number }
/** A request object (connect, write, shutdown): the callback and what it must keep alive. */
interface Req { oncomplete?: (this: Req, status: number) => void; link?: HandleLink; from?: TcpHandle; buffer?: ArrayBuffer }
interface RawTcp {
  TCP: new (type: number) => TcpHandle;
  ConnectWrap: new () => Req;
  WriteWrap: new () => Req;
  ShutdownWrap: new () => Req;
  SOCKET: number;
  SERVER: number;
  /** streamBaseState: where a read callback finds its length (or error) and offset. */
  state: Int32Array;
  kRead: number;
  kOffset: number;
  kAsync: number;
}

function loadRaw(): RawTcp | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = binding('tcp_wrap') as { TCP: RawTcp['TCP']; TCPConnectWrap: RawTcp['ConnectWrap']; constants: { SOCKET: number; SERVER: number } };
    const s = binding('stream_wrap') as { WriteWrap: RawTcp['WriteWrap']; ShutdownWrap: RawTcp['ShutdownWrap']; streamBaseState: Int32Array; kReadBytesOrError: number; kArrayBufferOffset: number; kLastWriteWasAsync: number };
    const proto = tcp.TCP?.prototype as Partial<TcpHandle> | undefined;
    const methods = ['bind', 'bind6', 'listen', 'connect', 'connect6', 'getpeername', 'setNoDelay', 'readStart', 'readStop', 'writeBuffer', 'shutdown', 'close'] as const;
    if (!proto || !methods.every((m) => typeof proto[m] === 'function') || !(s.streamBaseState instanceof Int32Array)) return undefined;
    if (![s.kReadBytesOrError, s.kArrayBufferOffset, s.kLastWriteWasAsync, tcp.constants.SOCKET, tcp.constants.SERVER].every(Number.isInteger)) return undefined;
    return {
      TCP: tcp.TCP, ConnectWrap: tcp.TCPConnectWrap, WriteWrap: s.WriteWrap, ShutdownWrap: s.ShutdownWrap,
      SOCKET: tcp.constants.SOCKET, SERVER: tcp.constants.SERVER,
      state: s.streamBaseState, kRead: s.kReadBytesOrError, kOffset: s.kArrayBufferOffset, kAsync: s.kLastWriteWasAsync,
    };
  } catch {
    return undefined;
  }
}

const raw = loadRaw();
/** Whether io 'handles' works on this Node. */
export const handlesAvailable = raw !== undefined;
const UV_EOF = -4095;

/** A TCP socket bound to host:port, not yet listening. */
function bindHandle(host: string, port: number): TcpHandle {
  if (!raw) throw new Error('this Node does not expose the TCP handles the forwarder drives');
  const h = new raw.TCP(raw.SERVER);
  const err = isIP(host) === 6 ? h.bind6(host, port, 0) : h.bind(host, port);
  if (err) {
    h.close();
    throw uvError(err, 'bind', `${host}:${port}`);
  }
  return h;
}

function uvError(err: number, syscall: string, where: string): NodeJS.ErrnoException {
  const [code, text] = getSystemErrorMap().get(err) ?? [String(err), 'error'];
  return Object.assign(new Error(`${syscall} ${code}: ${text} ${where}`), { code, errno: err, syscall });
}

class HandleLink extends Link {
  readonly upstream: TcpHandle;

  constructor(fw: TcpForwarder, to: Target, readonly client: TcpHandle) {
    super(fw, to);
    this.upstream = new raw!.TCP(raw!.SOCKET);
    client.link = this.upstream.link = this;
    client.onread = clientRead;
    this.upstream.onread = upstreamRead;
  }

  start(): void {
    const family = isIP(this.to.host);
    if (!family) return this.fw.backendFailed(this, 'not an IP address');
    const req = new raw!.ConnectWrap();
    req.link = this;
    req.oncomplete = afterConnect;
    const err = family === 6 ? this.upstream.connect6(req, this.to.host, this.to.port) : this.upstream.connect(req, this.to.host, this.to.port);
    if (err) this.fw.backendFailed(this, getSystemErrorName(err));
  }

  /** The real server accepted. */
  connected(): void {
    this.fw.connected(this);
    this.client.setNoDelay(true);
    this.upstream.setNoDelay(true);
    this.client.readStart();
    this.upstream.readStart();
  }

  /** `n` bytes (or an error, or EOF) read on `from`, to pass to `to`. */
  pass(from: TcpHandle, to: TcpHandle, buf: ArrayBuffer | undefined, n: number): void {
    if (n > 0) {
      const req = new raw!.WriteWrap();
      const err = to.writeBuffer(req, new Uint8Array(buf!, raw!.state[raw!.kOffset], n));
      if (err) return this.cut();
      // Not all taken by the kernel: keep the chunk alive and read no more until it is.
      if (raw!.state[raw!.kAsync]) {
        req.buffer = buf;
        req.from = from;
        req.oncomplete = afterWrite;
        from.readStop();
      }
      return;
    }
    if (n !== UV_EOF) return this.cut();
    this.fw.halfClosed(this);
    if (++this.ended === 2) return this.cut();
    // The FIN goes on after the data queued before it (libuv orders it after pending writes).
    const req = new raw!.ShutdownWrap();
    req.link = this;
    req.oncomplete = afterShutdown;
    if (to.shutdown(req)) this.cut();
  }

  cut(): void {
    if (this.phase === 'closed') return;
    this.fw.closed(this);
    this.client.close();
    this.upstream.close();
  }
}

// Shared callbacks (no closures per connection): `this` is the handle or the request.
function clientRead(this: TcpHandle, buf?: ArrayBuffer): void {
  const l = this.link!;
  const n = raw!.state[raw!.kRead];
  if (n > 0) l.inBytes += n;
  l.pass(this, l.upstream, buf, n);
}
function upstreamRead(this: TcpHandle, buf?: ArrayBuffer): void {
  const l = this.link!;
  const n = raw!.state[raw!.kRead];
  if (n > 0) l.outBytes += n;
  l.pass(this, l.client, buf, n);
}
function afterConnect(this: Req, status: number): void {
  const l = this.link!;
  if (l.phase === 'closed') return;
  if (status < 0) l.fw.backendFailed(l, getSystemErrorName(status));
  else l.connected();
}
function afterWrite(this: Req, status: number): void {
  const l = this.from!.link!;
  if (l.phase === 'closed') return;
  if (status < 0) l.cut();
  else this.from!.readStart();
}
function afterShutdown(this: Req, status: number): void {
  if (status < 0) this.link!.cut();
}
