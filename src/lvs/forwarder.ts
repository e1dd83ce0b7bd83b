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
//   DEP0111): handlesAvailable says whether this Node has the shape used here, and the tests run
//   both ways.
// - 'streams': net.Socket with manual forwarding, the fallback.
// Either way a direction reads no more while its last chunk is not yet accepted by the kernel on
// the other side, so a slow reader holds at most one chunk per direction in our memory (two from
// the client while the real server is still accepting, with 'handles').
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

/** Who connected. With io 'handles' it is looked up (a syscall) only when read. */
export interface ClientAddress {
  readonly address: string;
  readonly port: number;
}

export interface ForwarderOptions {
  host: string;
  port: number;
  /** The routing decision: where this client goes, or undefined to refuse it. */
  pick(client: ClientAddress): Target | undefined;
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
  private route(client: ClientAddress): Target | undefined {
    this.stats.accepted++;
    const to = this.opts.pick(client) ?? (this.opts.sorry && { ...this.opts.sorry, sorry: true });
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
        const to = this.route({ address: client.remoteAddress ?? '', port: client.remotePort ?? 0 });
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
      return Promise.reject(e);
    }
    // Linux copies TCP_NODELAY from the listening socket to each accepted one: set once here.
    const err = h.setNoDelay(true) || h.listen(511);
    if (err) {
      h.close();
      return Promise.reject(uvError(err, 'listen', `${host}:${port}`));
    }
    h.onconnection = (e, client) => {
      if (e || !client) return void this.opts.log?.('warn', `accept on ${host}:${port}: ${getSystemErrorName(e)}`);
      const to = this.route(new Peer(client));
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
  /** With a user buffer: called with no argument, the data at the buffer's start. */
  onread: (this: TcpHandle) => void;
  bind(host: string, port: number): number;
  bind6(host: string, port: number, flags: number): number;
  listen(backlog: number): number;
  connect(req: Req, host: string, port: number): number;
  connect6(req: Req, host: string, port: number): number;
  getsockname(out: SockName): number;
  getpeername(out: SockName): number;
  setNoDelay(on: boolean): number;
  readStart(): number;
  /** Read into this buffer (its start) rather than a fresh allocation per read. */
  useUserBuffer(buf: Uint8Array): void;
  readStop(): number;
  writeBuffer(req: Req, data: Uint8Array): number;
  shutdown(req: Req): number;
  close(): void;
  /** Ours: the link this handle carries. */
  link?: HandleLink;
}
export interface SockName { address?: string; port?: number }
/** A request object (connect, write, shutdown): the callback and what it must keep alive. */
interface Req { oncomplete?: (this: Req, status: number) => void; link?: HandleLink; from?: TcpHandle; buffer?: Uint8Array }
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
  kAsync: number;
}

function loadRaw(): RawTcp | undefined {
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding.bind(process);
    const tcp = binding('tcp_wrap') as { TCP: RawTcp['TCP']; TCPConnectWrap: RawTcp['ConnectWrap']; constants: { SOCKET: number; SERVER: number } };
    const s = binding('stream_wrap') as { WriteWrap: RawTcp['WriteWrap']; ShutdownWrap: RawTcp['ShutdownWrap']; streamBaseState: Int32Array; kReadBytesOrError: number; kLastWriteWasAsync: number };
    const proto = tcp.TCP?.prototype as Partial<TcpHandle> | undefined;
    const methods = ['bind', 'bind6', 'listen', 'connect', 'connect6', 'getpeername', 'setNoDelay', 'readStart', 'readStop', 'useUserBuffer', 'writeBuffer', 'shutdown', 'close'] as const;
    if (!proto || !methods.every((m) => typeof proto[m] === 'function') || !(s.streamBaseState instanceof Int32Array)) return undefined;
    if (![s.kReadBytesOrError, s.kLastWriteWasAsync, tcp.constants.SOCKET, tcp.constants.SERVER].every(Number.isInteger)) return undefined;
    return {
      TCP: tcp.TCP, ConnectWrap: tcp.TCPConnectWrap, WriteWrap: s.WriteWrap, ShutdownWrap: s.ShutdownWrap,
      SOCKET: tcp.constants.SOCKET, SERVER: tcp.constants.SERVER,
      state: s.streamBaseState, kRead: s.kReadBytesOrError, kAsync: s.kLastWriteWasAsync,
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

/** The client's address, asked of the kernel only if the routing decision reads it (rr and most
 * schedulers never do). Read it during `pick`: the handle may be gone afterwards. */
class Peer implements ClientAddress {
  private name?: SockName;

  constructor(private readonly handle: TcpHandle) {}

  get address(): string {
    return this.lookup().address ?? '';
  }

  get port(): number {
    return this.lookup().port ?? 0;
  }

  private lookup(): SockName {
    if (!this.name) this.handle.getpeername((this.name = {}));
    return this.name;
  }
}

/** isIP per distinct target, not per connection (it is a regular expression). */
const families = new Map<string, number>();
function familyOf(host: string): number {
  let f = families.get(host);
  if (f === undefined) {
    if (families.size >= 4096) families.clear();
    families.set(host, (f = isIP(host)));
  }
  return f;
}

/**
 * Every read of every connection lands here (one process-wide buffer: no allocation per read,
 * none for an EOF). A chunk is copied out before it is written on, because a write the kernel
 * does not take at once goes on pointing at its bytes.
 */
const readBuffer = new Uint8Array(64 * 1024);

/** A write request that the last write, done at once, did not keep: most writes are. */
let spareWrite: Req | undefined;

class HandleLink extends Link {
  readonly upstream: TcpHandle;
  /** Chunks from the client queued on the real server's socket while it was still connecting. */
  private early = 0;

  constructor(fw: TcpForwarder, to: Target, readonly client: TcpHandle) {
    super(fw, to);
    this.upstream = new raw!.TCP(raw!.SOCKET);
    client.link = this.upstream.link = this;
    client.onread = clientRead;
    this.upstream.onread = upstreamRead;
  }

  /**
   * Connect to the real server and read both sides at once: the client's first bytes (usually the
   * whole request) wait in libuv's queue and leave on the connect, not a loop turn later, and the
   * socket's poll registration is made once for both directions.
   */
  start(): void {
    const family = familyOf(this.to.host);
    if (!family) return this.fw.backendFailed(this, 'not an IP address');
    const req = new raw!.ConnectWrap();
    req.link = this;
    req.oncomplete = afterConnect;
    const up = this.upstream;
    const err = family === 6 ? up.connect6(req, this.to.host, this.to.port) : up.connect(req, this.to.host, this.to.port);
    if (err) return this.fw.backendFailed(this, getSystemErrorName(err));
    up.setNoDelay(true);
    this.client.useUserBuffer(readBuffer);
    up.useUserBuffer(readBuffer);
    if (this.client.readStart() || up.readStart()) this.cut();
  }

  /** The real server accepted. */
  connected(): void {
    this.fw.connected(this);
    // The client may have finished sending before the real server accepted.
    if (this.ended) this.fw.halfClosed(this);
  }

  /** `n` bytes (or an error, or EOF) read on `from`, to pass to `to`. */
  pass(from: TcpHandle, to: TcpHandle, n: number): void {
    if (n > 0) {
      const req = spareWrite ?? new raw!.WriteWrap();
      spareWrite = undefined;
      const chunk = Buffer.allocUnsafe(n);
      chunk.set(readBuffer.subarray(0, n));
      const err = to.writeBuffer(req, chunk);
      if (err) {
        spareWrite = req;
        return this.cut();
      }
      // Written at once: the request object was not used and serves the next write.
      if (!raw!.state[raw!.kAsync]) {
        spareWrite = req;
        return;
      }
      // Queued: libuv holds the bytes, the request holds the buffer until they are sent.
      req.buffer = chunk;
      // The first chunk queued while connecting leaves on the connect: reading on costs nothing.
      if (this.phase === 'connecting' && from === this.client && this.early++ === 0) return;
      // Otherwise read no more from this side until the other has taken the chunk.
      req.from = from;
      req.oncomplete = afterWrite;
      from.readStop();
      return;
    }
    if (n !== UV_EOF) return this.cut();
    if (this.phase !== 'connecting') this.fw.halfClosed(this);
    if (++this.ended === 2) return this.cut();
    // The FIN goes on after the data queued before it (libuv orders it after pending writes). A
    // failed shutdown needs no callback: the socket's reads then fail too, and cut the link.
    if (to.shutdown(new raw!.ShutdownWrap())) this.cut();
  }

  cut(): void {
    if (this.phase === 'closed') return;
    this.fw.closed(this);
    this.client.close();
    this.upstream.close();
  }
}

// Shared callbacks (no closures per connection): `this` is the handle or the request.
function clientRead(this: TcpHandle): void {
  const l = this.link!;
  const n = raw!.state[raw!.kRead];
  if (n > 0) l.inBytes += n;
  l.pass(this, l.upstream, n);
}
function upstreamRead(this: TcpHandle): void {
  const l = this.link!;
  const n = raw!.state[raw!.kRead];
  if (n > 0) l.outBytes += n;
  l.pass(this, l.client, n);
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
