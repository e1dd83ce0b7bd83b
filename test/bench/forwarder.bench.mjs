// Forwarder benchmark: keepalived-ts's embedded TCP forwarder against HAProxy 2.6 in TCP mode,
// round robin over the same three loopback HTTP backends, measured in the same run with wrk:
// new connections per second (Connection: close) and bulk throughput (1 MiB responses). Ours is
// the daemon's own path: a Balancer built from a keepalived.conf virtual_server (TCP_CHECK on each
// real server), so routing, counting and the checkers all run as in production. On a small
// machine wrk and the backends share the CPUs with the proxy, so the rate depends on what each
// connection costs all three: the CPU each used per 1,000 connections is printed too. The proxies
// take turns for several rounds, so a slow spell of the machine hits all of them alike; each ratio
// is taken within a round, and the median and range over the rounds are printed.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECONDS = Number(process.env.BENCH_FORWARDER_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_FORWARDER_ROUNDS ?? 3);
const have = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startProc(cmd, args) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.on('data', () => {});
  p.stderr.on('data', (d) => (p.lastError = String(d).slice(-2000)));
  return p;
}

/** CPU seconds (user + system) a process and its children (worker processes) have used. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const own = (Number(stat[11]) + Number(stat[12])) / 100;
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return own + kids.reduce((a, k) => a + cpuSeconds(Number(k)), 0);
}

function wrk(url, extra, seconds = SECONDS) {
  // bash's `times` gives the CPU wrk used (its second line: children's user and system time).
  const out = execFileSync('bash', ['-c', 'wrk "$@" && times', 'wrk', '-t2', '-c32', `-d${seconds}s`, '--latency', ...extra, url], { encoding: 'utf8' });
  const t = [
    ...out
      .trim()
      .split('\n')
      .at(-1)
      .matchAll(/(\d+)m([\d.]+)s/g),
  ].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const tm = /Transfer\/sec:\s+([\d.]+)(\w+)/.exec(out);
  const mult = { B: 1 / 2 ** 20, KB: 1 / 1024, MB: 1, GB: 1024 }[tm?.[2] ?? 'MB'] ?? 1;
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out)?.[0] ?? 'none';
  return { rps, requests, wrkCpu: t, mbps: Number(tm?.[1] ?? NaN) * mult, errors };
}

/** A wrk run with the CPU the proxy and the backends used meanwhile, per 1,000 requests. */
function measured(url, extra, proxyPid, backendPid) {
  const [p0, b0] = [cpuSeconds(proxyPid), cpuSeconds(backendPid)];
  const r = wrk(url, extra);
  const per = (s) => (1000 * s) / r.requests;
  return { ...r, cpu: { proxy: per(cpuSeconds(proxyPid) - p0), backends: per(cpuSeconds(backendPid) - b0), wrk: per(r.wrkCpu) } };
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
  writeFileSync(
    join(dir, 'backend.mjs'),
    `
import { createServer } from 'node:http';
const big = Buffer.alloc(1 << 20, 120);
for (const p of process.argv.slice(2)) createServer((q, r) => { if (q.url === '/big') r.end(big); else r.end('ok\\n'); }).listen(Number(p), '127.0.0.1');
`,
  );
  // argv: config file, io ('handles' or 'streams'). The daemon's Balancer, from a keepalived.conf.
  const dist = (m) => JSON.stringify(join(ROOT, 'dist', m));
  writeFileSync(
    join(dir, 'forwarder.mjs'),
    `
import { readFileSync } from 'node:fs';
import { loadConfigText } from ${dist('config/index.js')};
import { Balancer } from ${dist('lvs/balancer.js')};
import { makeProbe } from ${dist('check/dispatch.js')};
import { CheckerPool } from ${dist('check/pool.js')};
import { ScriptRunner } from ${dist('proc/script-runner.js')};
import { RealClock } from ${dist('core/clock.js')};
const [file, io] = process.argv.slice(2);
const { config, diagnostics } = loadConfigText(readFileSync(file, 'utf8'), file, { configId: 'bench' });
const errors = diagnostics.filter((d) => d.severity === 'error');
if (errors.length) throw new Error(errors.map((d) => d.message).join('; '));
const clock = new RealClock();
const health = new CheckerPool(undefined, { clock, probe: makeProbe(new ScriptRunner()), random: Math.random });
await new Balancer(config, { clock, health, forwarderIo: io }).start();
`,
  );
  const keepalivedConf = (port) => {
    const real = (p) => `  real_server 127.0.0.1 ${p} {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n`;
    const file = join(dir, `keepalived-${port}.conf`);
    writeFileSync(file, `virtual_server 127.0.0.1 ${port} {\n  delay_loop 5\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n${backends.map(real).join('')}}\n`);
    return file;
  };
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
  const backend = startProc(process.execPath, [join(dir, 'backend.mjs'), ...backends.map(String)]);
  // Our forwarder is one event loop (also with net.Socket streams, its fallback); HAProxy runs a
  // thread per core (2 here), and also 1 for the per-core comparison.
  const proxies = [
    ['keepalived-ts forwarder', base, process.execPath, [join(dir, 'forwarder.mjs'), keepalivedConf(base), 'handles']],
    ['haproxy 2.6 tcp, 2 threads', base + 10, 'haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db']],
    ['haproxy 2.6 tcp, 1 thread', base + 11, 'haproxy', ['-f', join(dir, 'haproxy1.cfg'), '-db']],
    ['keepalived-ts, streams io', base + 13, process.execPath, [join(dir, 'forwarder.mjs'), keepalivedConf(base + 13), 'streams']],
  ].map(([name, port, cmd, args]) => ({ name, port, proc: startProc(cmd, args) }));
  const procs = [backend, ...proxies.map((p) => p.proc)];
  try {
    await sleep(1500);
    for (const { name, proc } of proxies) if (proc.exitCode !== null) throw new Error(`${name} exited: ${proc.lastError ?? proc.exitCode}`);
    // A warm-up per proxy (the JITs of the backends and of our forwarder), not counted. Then
    // rounds: each proxy in turn, starting one further along each round so that none always goes
    // first; bulk throughput once each, after the first round.
    for (const { port } of proxies) wrk(`http://127.0.0.1:${port}/`, ['-H', 'Connection: close'], 2);
    const runs = proxies.map(() => []);
    const bulk = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < proxies.length; k++) {
        const i = (round + k) % proxies.length;
        runs[i].push(measured(`http://127.0.0.1:${proxies[i].port}/`, ['-H', 'Connection: close'], proxies[i].proc.pid, backend.pid));
      }
      if (round === 0) for (const { port } of proxies) bulk.push(wrk(`http://127.0.0.1:${port}/big`, []));
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const rows = proxies.map(({ name }, i) => ({
      name,
      connsPerSec: median(runs[i].map((r) => r.rps)),
      mbPerSec: bulk[i].mbps,
      errors: [...new Set([...runs[i].map((r) => r.errors), bulk[i].errors])].join(' / '),
      cpu: Object.fromEntries(['proxy', 'backends', 'wrk'].map((k) => [k, median(runs[i].map((r) => r.cpu[k]))])),
      rounds: runs[i].map((r) => r.rps),
    }));
    const [ours, haproxy, haproxy1] = rows;
    const ratios = (peer) => runs[0].map((r, k) => r.rps / runs[rows.indexOf(peer)][k].rps);
    const spread = (xs) => `${median(xs).toFixed(2)}x (rounds ${xs.map((x) => x.toFixed(2)).join(', ')})`;
    console.log(
      `\nForwarder: 3 loopback backends, round robin, wrk -t2 -c32; ${ROUNDS} rounds of ${SECONDS} s per proxy for new connections (one per request), median shown; 1 MiB bulk with keep-alive, ${SECONDS} s`,
    );
    console.log(['proxy', 'conn/s', 'MB/s', 'conn/s per round', 'errors'].map((c, i) => c.padEnd([28, 10, 8, 32][i] ?? 0)).join(''));
    for (const r of rows)
      console.log(
        [r.name, r.connsPerSec.toFixed(0), r.mbPerSec.toFixed(0), r.rounds.map((x) => x.toFixed(0)).join(' '), r.errors]
          .map((c, i) => String(c).padEnd([28, 10, 8, 32][i] ?? 0))
          .join(''),
      );
    console.log(
      `ratio keepalived-ts / haproxy (2 threads): connections ${spread(ratios(haproxy))}, throughput ${(ours.mbPerSec / haproxy.mbPerSec).toFixed(2)}x (goal: connections >= 0.8x)`,
    );
    console.log(
      `ratio keepalived-ts / haproxy (1 thread):  connections ${spread(ratios(haproxy1))}, throughput ${(ours.mbPerSec / haproxy1.mbPerSec).toFixed(2)}x`,
    );
    console.log(
      `\nCPU seconds per 1,000 new connections, median of the rounds (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`,
    );
    console.log(['proxy', 'proxy', 'backends', 'wrk'].map((c, i) => c.padEnd(i ? 14 : 28)).join(''));
    for (const r of rows)
      console.log([r.name, ...[r.cpu.proxy, r.cpu.backends, r.cpu.wrk].map((x) => x.toFixed(3))].map((c, i) => String(c).padEnd(i ? 14 : 28)).join(''));
    return { ours, haproxy, haproxy1 };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
