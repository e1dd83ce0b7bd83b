// The Prometheus endpoint's listener: GET /metrics, nothing else, and bounded in every way a
// scraper or a stray client could hold it up: a few connections at once, headers of at most
// 8 KiB, no request body, and timeouts on the headers, the request and an idle keep-alive.
// Off unless --prometheus asks for it; it binds the address given (the loopback by default).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { isIP } from 'node:net';

export const METRICS_LIMITS = { connections: 8, headerBytes: 8192, headersMs: 5000, requestMs: 10_000, keepAliveMs: 5000 };

export interface MetricsListen {
  host: string;
  port: number;
}

/** `--prometheus` values: PORT, ADDR:PORT or [IPv6]:PORT; the address defaults to 127.0.0.1. */
export function parseMetricsListen(value: string): MetricsListen | { error: string } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]:|([0-9.]+):)?(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? m?.[2] ?? '127.0.0.1';
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535 || !isIP(host))
    return { error: `--prometheus: '${value}' is not [ADDRESS:]PORT (write e.g. 9650, 127.0.0.1:9650 or [::1]:9650)` };
  return { host, port };
}

function answer(register: Registry, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  // A request with a body is not one of ours; not reading it, the connection ends with the answer.
  if (req.headers['content-length'] && req.headers['content-length'] !== '0') res.shouldKeepAlive = false;
  if (req.headers['transfer-encoding']) res.shouldKeepAlive = false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Method Not Allowed\n');
    return;
  }
  if (path !== '/metrics') {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found: the metrics are at /metrics\n');
    return;
  }
  register.metrics().then(
    (text) => {
      res.writeHead(200, { 'Content-Type': register.contentType });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
    (e: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${e.message}\n`),
  );
}

/** Starts listening; resolves once bound, rejects with why it could not bind. */
export function startMetricsServer(register: Registry, at: MetricsListen): Promise<Server> {
  const srv = createServer({ maxHeaderSize: METRICS_LIMITS.headerBytes, requestTimeout: METRICS_LIMITS.requestMs }, (req, res) => answer(register, req, res));
  srv.maxConnections = METRICS_LIMITS.connections;
  srv.headersTimeout = METRICS_LIMITS.headersMs;
  srv.keepAliveTimeout = METRICS_LIMITS.keepAliveMs;
  srv.maxRequestsPerSocket = 100;
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ host: at.host, port: at.port, exclusive: true }, () => {
      srv.off('error', reject);
      resolve(srv);
    });
  });
}

/** Closes the listener and the connections it holds (a scrape in flight is cut). */
export function closeMetricsServer(srv: Server): Promise<void> {
  return new Promise((resolve) => {
    srv.close(() => resolve());
    srv.closeAllConnections();
  });
}
