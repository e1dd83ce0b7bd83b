// The small programs the netns lab runs inside its namespaces, written to the run directory.

/** notify script: $1 is the node's log; the daemon appends TYPE NAME STATE PRIORITY. The time is
 * /proc/uptime (CLOCK_BOOTTIME, 10 ms steps), which the lab maps onto its monotonic clock: a
 * shell has no other monotonic clock, and a Node process would take 50 ms to start. */
export const NOTIFY_SH = `#!/bin/sh
read up _ < /proc/uptime
echo "$up $2 $3 $4 $5" >> "$1"
`;

/** Real server: node server.mjs ADDRESS PORT BODY; HTTP 200 with BODY to anything. */
export const SERVER_MJS = `import { createServer } from 'node:http';
const [address, port, body] = process.argv.slice(2);
const srv = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end(body);
});
srv.listen(Number(port), address, () => console.log('listening'));
process.on('SIGTERM', () => { srv.close(); srv.closeAllConnections(); process.exit(0); });
`;

/** Client: node client.mjs ADDRESS PORT RATE TIMEOUT_MS; one JSON line per request when it ends:
 * {"ms": duration, "ok": bool, "body": text} or {"ms", "ok": false, "error"}. A new connection
 * per request, so each one goes wherever the VIP is now. */
export const CLIENT_MJS = `import { get } from 'node:http';
const [host, port, rate, timeout] = process.argv.slice(2).map((v, i) => (i === 0 ? v : Number(v)));
const one = () => {
  const start = performance.now();
  let done = false;
  const end = (r) => {
    if (done) return;
    done = true;
    process.stdout.write(JSON.stringify({ ms: performance.now() - start, ...r }) + '\\n');
  };
  const req = get({ host, port, path: '/', agent: false, timeout }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    res.on('end', () => end(res.statusCode === 200 ? { ok: true, body } : { ok: false, error: 'HTTP ' + res.statusCode, body }));
    res.on('error', (e) => end({ ok: false, error: e.message }));
  });
  req.on('timeout', () => req.destroy(new Error('no answer within ' + timeout + ' ms')));
  req.on('error', (e) => end({ ok: false, error: e.message }));
};
setInterval(one, 1000 / rate);
process.on('SIGTERM', () => process.exit(0));
`;
