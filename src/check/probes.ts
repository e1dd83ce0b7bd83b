// The network and process probes behind TCP_CHECK, HTTP_GET/SSL_GET and MISC_CHECK, and what the
// other probes share. Each resolves to { ok, reason } (never rejects) within its timeout; what "ok"
// means follows keepalived.
import { createHash } from 'node:crypto';
import { Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type SecureContext } from 'node:tls';
import type { HttpUrl, StatusRange } from '../config/model/index.js';
import { openCheckerSocket } from '../net/checker-socket.js';
import type { ScriptRunner } from '../proc/script-runner.js';

export interface ProbeResult {
  ok: boolean;
  reason: string;
  /** MISC_CHECK with misc_dynamic: the weight the exit code asks for. */
  weight?: number;
  /** FILE_CHECK: what the file adds to the configured weight (value × weight). */
  addWeight?: number;
  /** The check could not be run on this host (its socket's fwmark or bind_if could not be set):
   * no verdict on the server; keepalived logs it and tries again after delay_loop. */
  unrun?: true;
}

export interface Target {
  host: string;
  port: number;
  /** Source address (bindto) and port (bind_port). */
  bindto?: string;
  bindPort?: number;
  /** SO_MARK and SO_BINDTODEVICE of the check's socket (fwmark, bind_if). */
  fwmark?: number;
  bindIf?: string;
  /** Seconds. */
  connectTimeout: number;
}

/** Why a connection was not made; unrun when the socket could not be set up on this host. */
export type NotConnected = Pick<ProbeResult, 'reason' | 'unrun'>;

/** What keepalived sends when it has no payload of its own (layer4.c set_buf). */
export function fillerPayload(length: number): Buffer {
  return Buffer.alloc(length, 'keepalived check - ');
}

/** A TCP (or TLS) connection within connect_timeout, or why not. */
export function openTcp(t: Target, tls: false | { servername?: string; secureContext?: SecureContext }): Promise<Socket | NotConnected> {
  // With fwmark or bind_if, the socket comes from libc with them set, and Node connects it.
  let socket: Socket | undefined;
  if (t.fwmark || t.bindIf) {
    const made = openCheckerSocket('tcp', t.host, t);
    if ('error' in made) return Promise.resolve({ reason: made.error, unrun: true });
    socket = new Socket({ fd: made.fd, readable: true, writable: true });
  }
  return new Promise((resolve) => {
    const opts = { host: t.host, port: t.port, ...(t.bindto ? { localAddress: t.bindto } : {}), ...(t.bindPort ? { localPort: t.bindPort } : {}) };
    socket?.connect(opts);
    // keepalived does not verify the server (no SSL_VERIFY_PEER), even with a CA file.
    const sock: Socket = tls
      ? tlsConnect({
          ...opts,
          ...(socket ? { socket } : {}),
          rejectUnauthorized: false,
          ...(tls.servername ? { servername: tls.servername } : {}),
          ...(tls.secureContext ? { secureContext: tls.secureContext } : {}),
        })
      : (socket ?? tcpConnect(opts));
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ reason: `connection timeout after ${t.connectTimeout}s` });
    }, t.connectTimeout * 1000);
    sock.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ reason: `${e.code ?? 'error'}: ${e.message}` });
    });
  });
}

/** TCP_CHECK: the connection is accepted within connect_timeout. */
export async function tcpProbe(t: Target): Promise<ProbeResult> {
  const s = await openTcp(t, false);
  if (!(s instanceof Socket)) return { ok: false, ...s };
  s.destroy();
  return { ok: true, reason: 'connected' };
}

export const inRanges = (code: number, ranges: readonly StatusRange[]): boolean => ranges.some((r) => code >= r.min && code <= r.max);

export interface HttpOptions {
  tls: boolean;
  protocol: '1.0' | '1.0C' | '1.1';
  /** Host header value; keepalived sends connect IP:port when no virtualhost is set. */
  virtualhost?: string;
  /** SSL_GET: the TLS SNI name (enable_sni), and the SSL block's context. */
  servername?: string;
  secureContext?: SecureContext;
  /** Largest response we read, bytes. */
  maxBytes?: number;
}

/** HTTP_GET/SSL_GET for one url, with keepalived's request and checks: any data received, status
 * in the configured ranges (default 200-299), MD5 of the body equal to digest, regex. */
export async function httpProbe(t: Target, url: HttpUrl, o: HttpOptions): Promise<ProbeResult> {
  const s = await openTcp(t, o.tls ? { servername: o.servername, secureContext: o.secureContext } : false);
  if (!(s instanceof Socket)) return { ok: false, ...s };
  const host = o.virtualhost ?? (t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`);
  const version = o.protocol === '1.1' ? '1.1' : '1.0';
  const close = o.protocol === '1.0' ? '' : 'Connection: close\r\n';
  s.write(`GET ${url.path ?? '/'} HTTP/${version}\r\nUser-Agent: KeepAliveClient\r\nHost: ${host}\r\n${close}\r\n`);
  const max = o.maxBytes ?? 16 << 20;
  const raw = await new Promise<Buffer | string>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // keepalived's connect_timeout also bounds each read of the answer.
    s.setTimeout(t.connectTimeout * 1000, () => {
      s.destroy();
      resolve(size ? Buffer.concat(chunks) : `read timeout after ${t.connectTimeout}s`);
    });
    s.on('data', (d: Buffer) => {
      size += d.length;
      if (size > max) {
        s.destroy();
        resolve(`response larger than ${max} bytes`);
        return;
      }
      chunks.push(d);
    });
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(size ? Buffer.concat(chunks) : `${e.code ?? 'error'}: ${e.message}`));
  });
  s.destroy();
  if (typeof raw === 'string') return { ok: false, reason: raw };
  if (raw.length === 0) return { ok: false, reason: 'no data received' };
  const headEnd = raw.indexOf('\r\n\r\n');
  const statusLine = /^HTTP\/\d\.\d (\d{3})/.exec(raw.subarray(0, Math.min(raw.length, 64)).toString('latin1'));
  if (!statusLine) return { ok: false, reason: 'not an HTTP response' };
  const code = Number(statusLine[1]);
  const ranges = url.statusCode.length ? url.statusCode : [{ min: 200, max: 299 }];
  if (!inRanges(code, ranges)) return { ok: false, reason: `HTTP status code error to [${t.host}]:${t.port} url(${url.path}), status_code [${code}]` };
  const body = headEnd < 0 ? Buffer.alloc(0) : raw.subarray(headEnd + 4);
  if (url.digest) {
    const md5 = createHash('md5').update(body).digest('hex');
    if (md5 !== url.digest.toLowerCase())
      return { ok: false, reason: `MD5 digest error to [${t.host}]:${t.port} url(${url.path}), expecting ${url.digest}, got ${md5}` };
  }
  if (url.regex !== undefined) {
    const matches = new RegExp(url.regex).test(body.toString('latin1'));
    if (matches === url.regexNoMatch) return { ok: false, reason: `regex ${url.regexNoMatch ? 'matched' : 'did not match'} on url(${url.path})` };
  }
  return { ok: true, reason: `status ${code}` };
}

/** MISC_CHECK: exit 0 success, 1 failure; 2..255 with misc_dynamic success with weight code - 2
 * (without it any non-zero is a failure); killed at misc_timeout = failure. */
export async function miscProbe(
  runner: ScriptRunner,
  argv: string[],
  timeoutSec: number,
  dynamic: boolean,
  ids: { uid?: number; gid?: number } = {},
): Promise<ProbeResult> {
  const r = await runner.run(argv, { timeoutMs: timeoutSec * 1000, ...ids });
  if (r.timedOut) return { ok: false, reason: `timed out after ${timeoutSec}s` };
  if (r.error) return { ok: false, reason: r.error };
  if (r.code === 0) return { ok: true, reason: 'exit 0' };
  if (r.code !== null && r.code >= 2 && dynamic) return { ok: true, reason: `exit ${r.code}`, weight: r.code - 2 };
  return { ok: false, reason: r.signal ? `killed by ${r.signal}` : `exit ${r.code}` };
}
