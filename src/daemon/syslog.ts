// Logging to the local syslog daemon, as keepalived does through openlog(3)/syslog(3): datagrams
// to /dev/log in glibc's format (`<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE`, RFC 3164 without the
// host name, which the syslog daemon adds), facility daemon unless -S says otherwise, and one ident
// per keepalived process: Keepalived, Keepalived_vrrp, Keepalived_healthcheckers, Keepalived_bfd.
// Node's dgram has no AF_UNIX; the unix-dgram addon (already used for sd_notify) sends them.
//
// Fail safe: logging must never stop or crash the daemon. The socket is non-blocking; a syslog
// daemon that is slow (EAGAIN) gets the lines from a bounded queue retried on a timer, what does
// not fit is dropped and counted; one that is absent or failing (ENOENT, ECONNREFUSED...) costs
// the line, and one warning says so until sending works again.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';

/** keepalived's -S values: 0-7 and local0-local7 (LOG_LOCAL0..7), user, daemon (the default). */
export const LOG_DAEMON = 3;
const LOG_USER = 1;
const LOG_LOCAL0 = 16;

/** The facility code for keepalived's -S argument, undefined where keepalived prints
 * "Invalid log facility" (and keeps the default). */
export function parseLogFacility(text: string): number | undefined {
  const m = /^(?:local)?([0-7])$/.exec(text);
  if (m) return LOG_LOCAL0 + Number(m[1]);
  if (text === 'daemon') return LOG_DAEMON;
  if (text === 'user') return LOG_USER;
  return undefined;
}

/** syslog(3) severities. */
export type Severity = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** pino's level (10 trace ... 60 fatal) as a syslog severity: fatal is LOG_CRIT, error LOG_ERR,
 * warn LOG_WARNING, info LOG_INFO, debug and trace LOG_DEBUG. */
export function severityOf(level: number): Severity {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** keepalived's ident for each of its processes; ours are parts of one process. */
export const IDENTS = { main: 'Keepalived', vrrp: 'Keepalived_vrrp', checker: 'Keepalived_healthcheckers', bfd: 'Keepalived_bfd' } as const;
export type Subsystem = keyof typeof IDENTS;

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** Longest message text sent; rsyslog's default limit is 8 KiB for the whole datagram. */
export const MAX_MESSAGE = 4096;

/** One datagram as glibc's syslog(3) writes it to /dev/log (local time, `%h %e %T`). */
export function syslogLine(facility: number, severity: Severity, at: Date, ident: string, pid: number, message: string): string {
  const stamp = `${MONTHS[at.getMonth()]} ${String(at.getDate()).padStart(2, ' ')} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}...` : message;
  return `<${facility * 8 + severity}>${stamp} ${ident}[${pid}]: ${text}`;
}

/** What the sink needs of a datagram socket: a send that reports its errno synchronously. */
export interface DatagramSender {
  send(buf: Buffer, path: string, cb: (err?: Error & { code?: unknown }) => void): void;
  close(): void;
}

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error & { code?: unknown }) => void): void;
  on(event: 'error', cb: (e: Error) => void): void;
  close(): void;
}

/** A non-blocking AF_UNIX datagram socket (unix-dgram); its send reports EAGAIN as 'congestion'. */
export function unixDatagramSender(): DatagramSender {
  const mod = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDgramSocket };
  const sock = mod.createSocket('unix_dgram');
  // Errors come back through each send's callback; an 'error' event must not be unhandled.
  sock.on('error', () => undefined);
  return { send: (buf, path, cb) => sock.send(buf, 0, buf.length, path, cb), close: () => sock.close() };
}

/** The send failed because the receiver's queue is full: worth a retry, not a warning. */
function congested(err: Error & { code?: unknown }): boolean {
  // unix-dgram: errno as a negative number, or 1 with message 'congestion' for EAGAIN/ENOBUFS.
  return err.code === 1 || err.code === -11 || err.code === -105 || err.message === 'congestion';
}

/** A negative errno from unix-dgram as its name, for the warning. */
function errnoName(err: Error & { code?: unknown }): string {
  const names: Record<number, string> = { [-2]: 'ENOENT', [-13]: 'EACCES', [-20]: 'ENOTDIR', [-91]: 'EPROTOTYPE', [-111]: 'ECONNREFUSED', [-90]: 'EMSGSIZE' };
  return typeof err.code === 'number' ? (names[err.code] ?? `errno ${-err.code}`) : err.message;
}

export interface SyslogOptions {
  path: string;
  facility: number;
  pid: number;
  /** One line for the operator when syslog stops taking lines (stderr). */
  warn(line: string): void;
  sender?: DatagramSender;
  now?: () => Date;
  /** Lines kept while the syslog daemon is congested. */
  queueLimit?: number;
  retryMs?: number;
  /** For tests: a monotonic clock in ms (default performance.now). */
  monotonicMs?: () => number;
}

export interface SyslogStats {
  sent: number;
  /** Lines lost: queue full, or syslog absent or failing. */
  dropped: number;
}

/** How often a missing syslog socket is looked for again. */
const MISSING_PROBE_MS = 1000;

/** The syslog target: `write` never blocks and never throws. */
export class SyslogSink {
  private readonly sender: DatagramSender | undefined;
  private readonly queue: Buffer[] = [];
  private readonly limit: number;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  /** The last send failed with ENOENT: nothing listens at the path. */
  private missing = false;
  /** While missing: when (monotonicMs) to look for the socket again. */
  private probeAt = 0;
  private closed = false;
  /** Lines dropped since the last one sent, reported in the next line that gets through. */
  private unreported = 0;
  readonly stats: SyslogStats = { sent: 0, dropped: 0 };

  constructor(private readonly opts: SyslogOptions) {
    this.limit = opts.queueLimit ?? 256;
    try {
      this.sender = opts.sender ?? unixDatagramSender();
    } catch (e) {
      this.failing = true;
      opts.warn(`keepalived-ts: cannot log to syslog: ${(e as Error).message}; logging goes on without syslog`);
    }
  }

  /** false: syslog is not taking lines now (the line is lost; the caller may write it elsewhere). */
  get working(): boolean {
    return !!this.sender && !this.failing;
  }

  write(severity: Severity, ident: string, message: string): void {
    if (this.closed) return;
    if (!this.sender) return void this.stats.dropped++;
    // No socket at the path: looked for again at most once a second (1,000 instances changing
    // state log thousands of lines, and the box may have no syslog): a failed send builds an
    // exception, and even a stat per line was a tenth of such a start's CPU.
    if (this.missing && (this.monotonicMs() < this.probeAt || this.stillMissing())) {
      this.stats.dropped++;
      this.unreported++;
      return;
    }
    const line = Buffer.from(syslogLine(this.opts.facility, severity, (this.opts.now ?? (() => new Date()))(), ident, this.opts.pid, message));
    if (this.queue.length) return this.enqueue(line);
    this.sendOne(line);
  }

  private monotonicMs(): number {
    return (this.opts.monotonicMs ?? performance.now.bind(performance))();
  }

  /** Whether the socket is still absent; if so, the next look is a second away. */
  private stillMissing(): boolean {
    if (statSync(this.opts.path, { throwIfNoEntry: false }) !== undefined) return false;
    this.probeAt = this.monotonicMs() + MISSING_PROBE_MS;
    return true;
  }

  private enqueue(line: Buffer): void {
    if (this.queue.length >= this.limit) {
      this.stats.dropped++;
      this.unreported++;
      return;
    }
    this.queue.push(line);
    this.timer ??= setTimeout(() => this.flush(), this.opts.retryMs ?? 100);
    this.timer.unref();
  }

  /** Sends `line`; false when it was queued or lost. */
  private sendOne(line: Buffer): boolean {
    let ok = false;
    let retry = false;
    try {
      this.sender!.send(line, this.opts.path, (err) => {
        if (!err) ok = true;
        else if (congested(err)) retry = true;
        else {
          this.missing = errnoName(err) === 'ENOENT';
          this.fail(errnoName(err));
        }
      });
    } catch (e) {
      this.fail((e as Error).message);
    }
    if (retry) {
      this.enqueue(line);
      return false;
    }
    if (!ok) {
      this.stats.dropped++;
      this.unreported++;
      return false;
    }
    this.stats.sent++;
    this.missing = false;
    if (this.failing) this.failing = false;
    if (this.unreported) {
      const n = this.unreported;
      this.unreported = 0;
      this.write(4, IDENTS.main, `${n} log line(s) could not be sent to syslog and were dropped`);
    }
    return true;
  }

  private fail(why: string): void {
    if (!this.failing)
      this.opts.warn(`keepalived-ts: cannot log to syslog at ${this.opts.path}: ${why}; logging goes on without syslog until it takes lines again`);
    this.failing = true;
  }

  /** Sends what waits, in order, until the syslog daemon is congested again. */
  private flush(): void {
    this.timer = undefined;
    while (this.queue.length && !this.closed) {
      const line = this.queue.shift()!;
      const before = this.queue.length;
      if (!this.sendOne(line)) {
        // Congested again: sendOne put it at the back; put it back at the front instead.
        if (this.queue.length > before) this.queue.unshift(this.queue.pop()!);
        return;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
    try {
      this.sender?.close();
    } catch {
      // closing a socket that failed: nothing left to do
    }
  }
}

/** /dev/log, where glibc's syslog(3) sends. KEEPALIVED_TS_SYSLOG_SOCKET (an absolute path) points
 * the daemon at another socket: a test seam for a private rsyslog, as KEEPALIVED_TS_CONTROL is for
 * the control socket. */
export function syslogPath(env: NodeJS.ProcessEnv): string {
  const p = env.KEEPALIVED_TS_SYSLOG_SOCKET;
  return p && p.startsWith('/') ? p : '/dev/log';
}
