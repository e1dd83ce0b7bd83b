// The SNMP subagent: keepalived's MIB (snmp-mib.ts) served to the system's snmpd through AgentX
// (RFC 2741), as keepalived's own subagent does (enable_snmp_vrrp, enable_snmp_checker,
// enable_traps; snmp_socket, default unix:/var/agentx/master).
//
// The AgentX PDUs are built and read by net-snmp's AgentXPdu (the npm `net-snmp` package, a
// maintained SNMP and AgentX implementation), not by hand. This module owns the socket so that it
// can bound what net-snmp's Subagent leaves open: PDUs are framed from the stream (a read may hold
// half a PDU or two), every request to the master has a timeout, the connection is retried with a
// backoff, and a master that is absent or goes away is logged once and never stops the daemon.
// Values are answered from a snapshot of the MIB, taken afresh when a request arrives and the
// last one is older than REFRESH_MS or something changed (a walk sees one consistent view).
import { connect, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { compareOid, SNMP_TRAP_OID, type Cell, type SnmpType } from './snmp-mib.js';

export const AGENT_LIMITS = {
  /** A PDU larger than this from the master is a broken stream: the connection is dropped. */
  maxPduBytes: 1 << 20,
  /** How long the master may take to answer an Open, Register or Notify. */
  requestMs: 5000,
  /** How long start() waits for the first registration: the VRRP part starts after it at the latest. */
  startWaitMs: 1000,
  /** Reconnection backoff: from the first to the last, doubling. */
  retryFirstMs: 1000,
  retryMaxMs: 60_000,
  /** A snapshot of the MIB serves requests for this long unless something changed. */
  refreshMs: 1000,
  /** GetBulk answers at most this many varbinds. */
  maxBulk: 1000,
};

// AgentX PDU types (RFC 2741 §6.1) and the SMI types of varbinds (§5.4).
const PDU = { Open: 1, Close: 2, Register: 3, Get: 5, GetNext: 6, GetBulk: 7, TestSet: 8, CommitSet: 9, UndoSet: 10, CleanupSet: 11, Notify: 12, Response: 18 };
const TYPE: Record<SnmpType | 'NoSuchObject' | 'EndOfMibView', number> = {
  Integer: 2,
  OctetString: 4,
  OID: 6,
  Counter: 65,
  Gauge: 66,
  Unsigned: 66,
  Counter64: 70,
  NoSuchObject: 128,
  EndOfMibView: 130,
};
/** AgentX's notWritable: every object here is read-only (keepalived's few writable ones are not). */
const NOT_WRITABLE = 17;

interface Varbind {
  oid: string;
  type: number;
  value: unknown;
}
interface AgentXPdu {
  pduType: number;
  sessionID: number;
  transactionID: number;
  packetID: number;
  error?: number;
  nonRepeaters?: number;
  maxRepetitions?: number;
  searchRangeList?: { start: string | null; end: string | null }[];
  varbinds?: Varbind[] | null;
  toBuffer(): Buffer;
  getResponsePduForRequest(): AgentXPdu;
}
interface AgentXPduStatics {
  createFromVariables(v: Record<string, unknown>): AgentXPdu;
  createFromBuffer(b: Buffer): AgentXPdu;
  writeOctetString(buffer: SmartBufferLike, value: string | Buffer): void;
}
interface SmartBufferLike {
  writeUInt32BE(v: number): unknown;
  writeUInt8(v: number): unknown;
  writeBuffer(b: Buffer): unknown;
}

let agentx: AgentXPduStatics | undefined;
/** net-snmp's AgentX codec, loaded on first use (only a daemon with SNMP enabled needs it). */
function codec(): AgentXPduStatics {
  if (agentx) return agentx;
  const mod = createRequire(import.meta.url)('net-snmp') as { AgentXPdu: AgentXPduStatics };
  agentx = mod.AgentXPdu;
  // net-snmp 3.29 writes an OctetString with smart-buffer's writeString: a Buffer (an
  // InetAddress's raw bytes) throws, and a non-ASCII name is counted in characters, not bytes.
  // Its varbind writer calls this static, so replacing it fixes both for every PDU it builds.
  agentx.writeOctetString = (buffer, value) => {
    const b = Buffer.isBuffer(value) ? value : Buffer.from(value ?? '', 'utf8');
    buffer.writeUInt32BE(b.length);
    buffer.writeBuffer(b);
    for (let i = 0; i < (4 - (b.length % 4)) % 4; i++) buffer.writeUInt8(0);
  };
  return agentx;
}

/** snmp_socket: `unix:PATH`, a PATH, `tcp:HOST:PORT` or `HOST:PORT` (net-snmp's AgentX socket forms). */
export type AgentxAddress = { path: string } | { host: string; port: number };
export function parseAgentxSocket(spec: string): AgentxAddress | { error: string } {
  if (spec.startsWith('unix:')) return { path: spec.slice(5) };
  if (spec.startsWith('/')) return { path: spec };
  const m = /^(?:tcp:)?(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(spec);
  if (m && Number(m[3]) <= 65535) return { host: m[1] ?? m[2], port: Number(m[3]) };
  return { error: `snmp_socket '${spec}' is not unix:PATH, tcp:HOST:PORT or HOST:PORT` };
}
export const DEFAULT_AGENTX_SOCKET = 'unix:/var/agentx/master';

const oidString = (oid: readonly number[]): string => oid.join('.');
const oidArray = (s: string | null): number[] => (s ? s.split('.').map(Number) : []);

/** The varbind of a cell, as net-snmp's writer takes it. */
function varbind(c: Cell): Varbind {
  return { oid: oidString(c.oid), type: TYPE[c.type], value: c.type === 'OID' ? oidString(c.value as number[]) : c.value };
}

/** The first cell after `start` (inclusive when asked) and before `end` (none: unbounded). */
function nextCell(cells: readonly Cell[], start: number[], end: number[], inclusive = false): Cell | undefined {
  let lo = 0;
  let hi = cells.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = compareOid(cells[mid].oid, start);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  const found = cells[lo];
  return found && (!end.length || compareOid(found.oid, end) < 0) ? found : undefined;
}

/** Answers to Get, GetNext and GetBulk over the cells (RFC 2741 §7.2.3). */
export function answer(cells: readonly Cell[], pdu: Pick<AgentXPdu, 'pduType' | 'searchRangeList' | 'nonRepeaters' | 'maxRepetitions'>): Varbind[] {
  const ranges = (pdu.searchRangeList ?? []).map((r) => ({ start: oidArray(r.start), end: oidArray(r.end) }));
  const next = (start: number[], end: number[]): Varbind => {
    const c = nextCell(cells, start, end);
    return c ? varbind(c) : { oid: oidString(start), type: TYPE.EndOfMibView, value: null };
  };
  if (pdu.pduType === PDU.Get)
    return ranges.map(({ start }) => {
      const c = nextCell(cells, start, [], true);
      return c && compareOid(c.oid, start) === 0 ? varbind(c) : { oid: oidString(start), type: TYPE.NoSuchObject, value: null };
    });
  if (pdu.pduType === PDU.GetNext) return ranges.map(({ start, end }) => next(start, end));
  // GetBulk: the non-repeaters once, then the repeaters row by row until all reached the end.
  const n = Math.min(pdu.nonRepeaters ?? 0, ranges.length);
  const out = ranges.slice(0, n).map(({ start, end }) => next(start, end));
  const repeat = ranges.slice(n).map((r) => ({ ...r }));
  for (let i = 0; i < (pdu.maxRepetitions ?? 0) && repeat.length && out.length < AGENT_LIMITS.maxBulk; i++) {
    let ended = 0;
    for (const r of repeat) {
      const v = next(r.start, r.end);
      out.push(v);
      if (v.type === TYPE.EndOfMibView) ended++;
      else r.start = oidArray(v.oid);
    }
    if (ended === repeat.length) break;
  }
  return out;
}

export interface SnmpAgentOptions {
  address: AgentxAddress;
  /** How the address is written, for the log. */
  label: string;
  /** The MIB now, in OID order. */
  cells(): Cell[];
  /** The subtrees registered with the master (keepalived: global, vrrp, check as enabled). */
  subtrees: number[][];
  description: string;
  log: { info(m: string): void; warn(m: string): void };
}

interface Pending {
  resolve(pdu: AgentXPdu): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class SnmpAgent {
  private socket?: Socket;
  private session = 0;
  private ready = false;
  private closed = false;
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending = new Map<number, Pending>();
  private retryMs = AGENT_LIMITS.retryFirstMs;
  private retryTimer?: NodeJS.Timeout;
  /** The failure logged for the current outage; the next one is logged once it recovers. */
  private outage = false;
  private snapshot?: { at: number; cells: Cell[] };
  /** Ends start()'s wait: the first attempt registered or failed. */
  private firstAttempt?: () => void;
  /** Traps sent and dropped (no session then), for the figures. */
  readonly counts = { trapsSent: 0, trapsDropped: 0, requests: 0 };

  constructor(private readonly opts: SnmpAgentOptions) {}

  /** Connects, retrying in the background; resolves once the first attempt has registered or failed,
   * or after startWaitMs. keepalived's VRRP process opens its AgentX session before its instances
   * start, so the trap for their first state reaches a master agent that is there. */
  start(): Promise<void> {
    const attempt = new Promise<void>((resolve) => (this.firstAttempt = resolve));
    this.connect();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, AGENT_LIMITS.startWaitMs)));
    return Promise.race([attempt, bound]).finally(() => {
      clearTimeout(timer);
      this.firstAttempt = undefined;
    });
  }

  /** Something the MIB shows changed: the next request reads it afresh. */
  changed(): void {
    this.snapshot = undefined;
  }

  /** Sends a notification (keepalived's send_v2trap); dropped while not registered, as keepalived's. */
  notify(trap: number[], varbinds: Cell[]): void {
    this.changed();
    if (!this.ready) {
      this.counts.trapsDropped++;
      return;
    }
    const pdu = codec().createFromVariables({
      pduType: PDU.Notify,
      sessionID: this.session,
      varbinds: [{ oid: oidString(SNMP_TRAP_OID), type: TYPE.OID, value: oidString(trap) }, ...varbinds.map(varbind)],
    });
    this.counts.trapsSent++;
    this.request(pdu).catch((e: Error) => this.opts.log.warn(`SNMP notification not delivered: ${e.message}`));
  }

  /** Closes the session (the master unregisters our subtrees) and stops retrying. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    if (this.ready && socket) await this.request(codec().createFromVariables({ pduType: PDU.Close, sessionID: this.session })).catch(() => undefined);
    socket?.destroy();
    this.fail(new Error('closed'));
  }

  private connect(): void {
    if (this.closed) return;
    const socket =
      'path' in this.opts.address ? connect({ path: this.opts.address.path }) : connect({ host: this.opts.address.host, port: this.opts.address.port });
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    socket.on('connect', () => void this.open(socket));
    socket.on('data', (chunk) => this.onData(socket, chunk));
    socket.on('error', (e) => this.lost(socket, e.message));
    socket.on('close', () => this.lost(socket, 'connection closed'));
  }

  private async open(socket: Socket): Promise<void> {
    try {
      const c = codec();
      const opened = await this.request(c.createFromVariables({ pduType: PDU.Open, timeout: 0, descr: this.opts.description }));
      if (opened.error) throw new Error(`Open refused (AgentX error ${opened.error})`);
      this.session = opened.sessionID;
      // One at a time: the master answers each before the next.
      for (const oid of this.opts.subtrees) {
        const r = await this.request(c.createFromVariables({ pduType: PDU.Register, sessionID: this.session, timeout: 0, priority: 127, oid: oidString(oid) }));
        if (r.error) this.opts.log.warn(`SNMP: the master agent refused ${oidString(oid)} (AgentX error ${r.error})`);
      }
      if (socket !== this.socket) return;
      this.ready = true;
      this.retryMs = AGENT_LIMITS.retryFirstMs;
      this.outage = false;
      this.opts.log.info(`SNMP subagent registered with the master agent at ${this.opts.label}`);
      this.firstAttempt?.();
    } catch (e) {
      this.lost(socket, (e as Error).message);
    }
  }

  /** The connection is gone or unusable: log once per outage, and retry with a backoff. */
  private lost(socket: Socket, why: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.ready = false;
    socket.destroy();
    this.fail(new Error(why));
    this.firstAttempt?.();
    if (this.closed) return;
    if (!this.outage) this.opts.log.warn(`SNMP: no master agent at ${this.opts.label} (${why}); retrying, up to every ${AGENT_LIMITS.retryMaxMs / 1000} s`);
    this.outage = true;
    this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, AGENT_LIMITS.retryMaxMs);
  }

  private fail(e: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(e);
      this.pending.delete(id);
    }
  }

  private request(pdu: AgentXPdu): Promise<AgentXPdu> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(pdu.packetID);
        reject(new Error(`no answer from the master agent in ${AGENT_LIMITS.requestMs / 1000} s`));
        this.lost(socket, 'the master agent stopped answering');
      }, AGENT_LIMITS.requestMs);
      this.pending.set(pdu.packetID, { resolve, reject, timer });
      socket.write(pdu.toBuffer());
    });
  }

  /** Frames PDUs out of the stream: a 20-byte header whose last word is the payload length. */
  private onData(socket: Socket, chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 20) {
      const bigEndian = (this.buf[2] & 0x10) !== 0;
      const len = bigEndian ? this.buf.readUInt32BE(16) : this.buf.readUInt32LE(16);
      if (len > AGENT_LIMITS.maxPduBytes) return this.lost(socket, `a ${len}-byte PDU from the master agent`);
      if (this.buf.length < 20 + len) return;
      const one = this.buf.subarray(0, 20 + len);
      this.buf = this.buf.subarray(20 + len);
      try {
        this.onPdu(socket, one, bigEndian);
      } catch (e) {
        return this.lost(socket, `unreadable PDU from the master agent: ${(e as Error).message}`);
      }
    }
  }

  private onPdu(socket: Socket, raw: Buffer, bigEndian: boolean): void {
    const type = raw[1];
    // net-snmp reads network byte order only; snmpd answers in the order of our Open (network).
    if (!bigEndian) throw new Error('not in network byte order');
    if (type === PDU.Close) return this.lost(socket, 'the master agent closed the session');
    const pdu = codec().createFromBuffer(raw);
    if (type === PDU.Response) {
      const p = this.pending.get(pdu.packetID);
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(pdu.packetID);
      return p.resolve(pdu);
    }
    if (type === PDU.CleanupSet) return;
    const response = pdu.getResponsePduForRequest();
    if (type === PDU.Get || type === PDU.GetNext || type === PDU.GetBulk) {
      this.counts.requests++;
      response.varbinds = answer(this.cells(), pdu);
    } else if (type === PDU.TestSet) {
      Object.assign(response, { error: NOT_WRITABLE, index: 1 });
    }
    socket.write(response.toBuffer());
  }

  private cells(): Cell[] {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at > AGENT_LIMITS.refreshMs) this.snapshot = { at: now, cells: this.opts.cells() };
    return this.snapshot.cells;
  }
}
