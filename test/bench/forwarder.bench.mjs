// Forwarder benchmark: keepalived-ts's embedded TCP forwarder against HAProxy 2.6 in TCP mode,
// round robin over the same three loopback HTTP backends, measured in the same run with wrk:
// new connections per second (Connection: close) and bulk throughput (1 MiB responses).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECONDS = Number(process.env.BENCH_FORWARDER_SECONDS ?? 8);
const have = (cmd) => {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startProc(cmd, args) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.on('data', () => {});
  p.stderr.on('data', () => {});
  return p;
}

function wrk(url, extra) {
  const out = execFileSync('wrk', ['-t2', '-c32', `-d${SECONDS}s`, '--latency', ...extra, url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const tm = /Transfer\/sec:\s+([\d.]+)(\w+)/.exec(out);
  const mult = { B: 1 / 2 ** 20, KB: 1 / 1024, MB: 1, GB: 1024 }[tm?.[2] ?? 'MB'] ?? 1;
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out)?.[0] ?? 'none';
  return { rps, mbps: Number(tm?.[1] ?? NaN) * mult, errors };
}

export async function run() {
  if (!have('haproxy') || !have('wrk')) {
    console.log('\nForwarder benchmark skipped: needs haproxy and wrk (apt-get install haproxy wrk)');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kt-fwd-'));
  const base = 18080;
  const backends = [base + 1, base + 2, base + 3];
  // One backend process serving a small page and a 1 MiB body, on three ports.
  writeFileSync(join(dir, 'backend.mjs'), `
import { createServer } from 'node:http';
const big = Buffer.alloc(1 << 20, 120);
for (const p of process.argv.slice(2)) createServer((q, r) => { if (q.url === '/big') r.end(big); else r.end('ok\\n'); }).listen(Number(p), '127.0.0.1');
`);
  writeFileSync(join(dir, 'forwarder.mjs'), `
import { TcpForwarder } from ${JSON.stringify(join(ROOT, 'dist/lvs/forwarder.js'))};
const bs = ${JSON.stringify(backends)}.map((port, i) => ({ id: String(i), host: '127.0.0.1', port, activeConns: 0, inactConns: 0, total: 0 }));
let i = 0;
await new TcpForwarder({ host: '127.0.0.1', port: ${base}, pick: () => bs[i++ % bs.length] }).listen();
`);
  const haproxyCfg = (port, threads) => `
global
  maxconn 4000
  nbthread ${threads}
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  balance roundrobin
${backends.map((p, i) => `  server s${i} 127.0.0.1:${p}`).join('\n')}
`;
  writeFileSync(join(dir, 'haproxy.cfg'), haproxyCfg(base + 10, 2));
  writeFileSync(join(dir, 'haproxy1.cfg'), haproxyCfg(base + 11, 1));
  const procs = [startProc(process.execPath, [join(dir, 'backend.mjs'), ...backends.map(String)])];
  procs.push(startProc(process.execPath, [join(dir, 'forwarder.mjs')]));
  procs.push(startProc('haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db']));
  procs.push(startProc('haproxy', ['-f', join(dir, 'haproxy1.cfg'), '-db']));
  try {
    await sleep(800);
    const rows = [];
    // Our forwarder is one event loop; HAProxy runs a thread per core (2 here), and also 1 for
    // the per-core comparison.
    for (const [name, port] of [['keepalived-ts forwarder', base], ['haproxy 2.6 tcp, 2 threads', base + 10], ['haproxy 2.6 tcp, 1 thread', base + 11]]) {
      const conns = wrk(`http://127.0.0.1:${port}/`, ['-H', 'Connection: close']);
      const bulk = wrk(`http://127.0.0.1:${port}/big`, []);
      rows.push({ name, connsPerSec: conns.rps, mbPerSec: bulk.mbps, errors: `${conns.errors} / ${bulk.errors}` });
    }
    const [ours, haproxy, haproxy1] = rows;
    console.log(`\nForwarder: 3 loopback backends, round robin, wrk -t2 -c32 ${SECONDS}s per figure (new connection per request; 1 MiB bulk with keep-alive)`);
    console.log(['proxy', 'conn/s', 'MB/s', 'errors'].map((c, i) => c.padEnd(i ? 14 : 28)).join(''));
    for (const r of rows) console.log([r.name, r.connsPerSec.toFixed(0), r.mbPerSec.toFixed(0), r.errors].map((c, i) => String(c).padEnd(i ? 14 : 28)).join(''));
    console.log(`ratio keepalived-ts / haproxy (2 threads): connections ${(ours.connsPerSec / haproxy.connsPerSec).toFixed(2)}x, throughput ${(ours.mbPerSec / haproxy.mbPerSec).toFixed(2)}x (goal: connections >= 0.8x)`);
    console.log(`ratio keepalived-ts / haproxy (1 thread):  connections ${(ours.connsPerSec / haproxy1.connsPerSec).toFixed(2)}x, throughput ${(ours.mbPerSec / haproxy1.mbPerSec).toFixed(2)}x`);
    return { ours, haproxy, haproxy1 };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
