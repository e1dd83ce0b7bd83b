// The forwarder's 'handles' way of moving bytes (forwarder.ts says why): libuv TCP handles driven
// directly, as net.Socket drives them internally. The handles are Node internals (process.binding,
// DEP0111) and this is the only file that touches them; handlesAvailable says whether this Node
// has the shape used here.
import { isIP } from 'node:net';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import { coarse, Link, type ClientAddress, type LinkOwner, type Target } from './forwarder-link.js';

/** The parts of Node's internal TCPWrap this module uses (lib/net.js drives the same calls). */
export interface TcpHandle {
  onconnection: (err: number, client?: TcpHandle) => void;
  /** With a user buffer: called with no argument, the data at the buffer's start. */
  onread: (this: TcpHandle) => void;
  bind(host: string, port: number): number;
  bind6(host: string, port: number, flags: number): number;
  /** Adopt a socket: used on the listener's own, to make it pausable (see bindHandle). */
  open(fd: number): number;
  readonly fd: number;
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
export interface SockName {
  address?: string;
  port?: number;
}
/** A request object (connect, write, shutdown): the callback and what it must keep alive. */
interface Req {
  oncomplete?: (this: Req, status: number) => void;
  link?: HandleLink;
  from?: TcpHandle;
  buffer?: Uint8Array;
}
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
    const s = binding('stream_wrap') as {
      WriteWrap: RawTcp['WriteWrap'];
      ShutdownWrap: RawTcp['ShutdownWrap'];
      streamBaseState: Int32Array;
      kReadBytesOrError: number;
      kLastWriteWasAsync: number;
    };
    const proto = tcp.TCP?.prototype as Partial<TcpHandle> | undefined;
    const methods = [
      'bind',
      'bind6',
      'open',
      'listen',
      'connect',
      'connect6',
      'getpeername',
      'setNoDelay',
      'readStart',
      'readStop',
      'useUserBuffer',
      'writeBuffer',
      'shutdown',
      'close',
    ] as const;
    if (!proto || !methods.every((m) => typeof proto[m] === 'function') || !(s.streamBaseState instanceof Int32Array)) return undefined;
    if (![s.kReadBytesOrError, s.kLastWriteWasAsync, tcp.constants.SOCKET, tcp.constants.SERVER].every(Number.isInteger)) return undefined;
    return {
      TCP: tcp.TCP,
      ConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: s.WriteWrap,
      ShutdownWrap: s.ShutdownWrap,
      SOCKET: tcp.constants.SOCKET,
      SERVER: tcp.constants.SERVER,
      state: s.streamBaseState,
      kRead: s.kReadBytesOrError,
      kAsync: s.kLastWriteWasAsync,
    };
  } catch {
    return undefined;
  }
}

const raw = loadRaw();
/** Whether io 'handles' works on this Node. */
export const handlesAvailable = raw !== undefined;
const UV_EOF = -4095;

/**
 * A TCP socket bound to host:port, not yet listening, whose accepting can be paused: libuv stops
 * and starts polling a listener for connections with readStop/readStart, but lets them only on a
 * stream it takes as readable, which a socket it opened itself is; so the listener adopts its
 * own socket (uv_tcp_open on the same descriptor changes nothing else).
 */
export function bindHandle(host: string, port: number): TcpHandle {
  if (!raw) throw new Error('this Node does not expose the TCP handles the forwarder drives');
  const h = new raw.TCP(raw.SERVER);
  const err = (isIP(host) === 6 ? h.bind6(host, port, 0) : h.bind(host, port)) || h.open(h.fd);
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

  constructor(
    fw: LinkOwner,
    to: Target,
    readonly client: TcpHandle,
  ) {
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
  l.seen = coarse.now;
  l.pass(this, l.upstream, n);
}
function upstreamRead(this: TcpHandle): void {
  const l = this.link!;
  const n = raw!.state[raw!.kRead];
  if (n > 0) l.outBytes += n;
  l.seen = coarse.now;
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

/** What listenHandles needs of its forwarder besides the links' reports. */
export interface Acceptor extends LinkOwner {
  /** A new client: where it goes, or undefined (refused, and counted). */
  route(client: ClientAddress): Target | undefined;
  /** A link was made: its real server must accept in time. */
  opened(l: Link): void;
  /** accept(2) failed (EMFILE...): libuv has already shed the connection. */
  acceptFailed(why: string): void;
}

/** Stop (true) or start again polling a listener from bindHandle for connections. */
export function pauseListener(h: TcpHandle, paused: boolean): void {
  if (paused) {
    // readStop acts only on a stream marked reading.
    h.readStart();
    h.readStop();
  } else h.readStart();
}

/** Listen on host:port with a TCP handle; every client accepted becomes a HandleLink of `fw`. Throws when it cannot. */
export function listenHandles(fw: Acceptor, host: string, port: number): { listener: TcpHandle; address: { host: string; port: number } } {
  const h = bindHandle(host, port);
  // Linux copies TCP_NODELAY from the listening socket to each accepted one: set once here.
  const err = h.setNoDelay(true) || h.listen(511);
  if (err) {
    h.close();
    throw uvError(err, 'listen', `${host}:${port}`);
  }
  h.onconnection = (e, client) => {
    if (e || !client) return fw.acceptFailed(e ? getSystemErrorName(e) : 'no socket');
    const to = fw.route(new Peer(client));
    if (!to) return client.close();
    const l = new HandleLink(fw, to, client);
    fw.opened(l);
    l.start();
  };
  const at: SockName = {};
  h.getsockname(at);
  return { listener: h, address: { host: at.address ?? host, port: at.port ?? port } };
}
