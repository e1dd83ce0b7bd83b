// Connection-flood benchmark: the daemon (embedded forwarder, -C) under a lowered open files
// limit, with two real servers behind TCP_CHECKs (delay_loop 1), flooded by clients that open
// connections and hold them (three times its connection limit), while others keep making short
// request/response connections. Figures per window (idle, then flood): the daemon's CPU
// (utime + stime over the window, from /proc/PID/stat), its RSS (VmRSS sampled every 200 ms, max),
// short connections served, connections held by the real servers, and the log lines that matter:
// pauses at the connection limit, "Removing service" (there should be none) and whether it is
// still running.
//
// Env: BENCH_CONNFLOOD_S (seconds of flood, default 10), BENCH_CONNFLOOD_NOFILE (the daemon's
// open files limit, default 1024).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLK_TCK, cpuTicks, ROOT, rssMb, sleep } from './common.mjs';

const CLI = join(ROOT, 'dist/keepalived-ts.mjs');
const FLOOD_S = Math.max(2, Number(process.env.BENCH_CONNFLOOD_S ?? 10));
const NOFILE = Math.max(128, Number(process.env.BENCH_CONNFLOOD_NOFILE ?? 1024));
const IDLE_S = 3;

async function holder() {
  let held = 0;
  const socks = new Set();
  const s = createServer((c) => {
    socks.add(c);
    held++;
    c.on('error', () => {});
    c.on('close', () => {
      socks.delete(c);
      held--;
    });
    c.on('data', (d) => c.write(d));
  });
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  return { port: s.address().port, held: () => held, close: () => (socks.forEach((c) => c.destroy()), s.close()) };
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

/** One short connection: connect, 'ping', its echo, close. Resolves true when answered within 10 s. */
const shortOne = (port) =>
  new Promise((resolve) => {
    const c = connect(port, '127.0.0.1', () => c.write('ping'));
    const t = setTimeout(() => (c.destroy(), resolve(false)), 10_000);
    c.once('data', () => (clearTimeout(t), c.destroy(), resolve(true)));
    c.once('error', () => (clearTimeout(t), resolve(false)));
  });

export async function run() {
  const A = await holder();
  const B = await holder();
  const vsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kts-connflood-'));
  const conf = join(dir, 'k.conf');
  const rs = (p) => `  real_server 127.0.0.1 ${p} {\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }\n`;
  writeFileSync(conf, `virtual_server 127.0.0.1 ${vsPort} {\n  delay_loop 1\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n${rs(A.port)}${rs(B.port)}}\n`);
  const env = { ...process.env, KEEPALIVED_TS_RUNTIME_DIR: join(dir, 'rt'), TMPDIR: dir };
  delete env.KEEPALIVED_TS_CONTROL;
  const d = spawn('prlimit', [`--nofile=${NOFILE}:${NOFILE}`, process.execPath, CLI, '-n', '-l', '-C', '-f', conf, '-p', join(dir, 'd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  d.stdout.on('data', (c) => (out += c));
  d.stderr.on('data', (c) => (out += c));
  let alive = true;
  d.on('exit', () => (alive = false));
  for (let i = 0; i < 150 && !/ready \(rr/.test(out); i++) await sleep(100);
  const max = Number(/up to (\d+) client connections/.exec(out)?.[1] ?? NaN);

  const windowOf = async (seconds, work) => {
    const c0 = cpuTicks(d.pid);
    const t0 = Date.now();
    let rss = 0;
    const sampler = setInterval(() => alive && (rss = Math.max(rss, rssMb(d.pid))), 200);
    const extra = await work(t0 + seconds * 1000);
    clearInterval(sampler);
    const wall = (Date.now() - t0) / 1000;
    return { cpu: alive ? ((cpuTicks(d.pid) - c0) / CLK_TCK / wall) * 100 : NaN, rss, wall, ...extra };
  };
  const idle = await windowOf(IDLE_S, async (end) => {
    await sleep(end - Date.now());
    return {};
  });
  const logAt = out.length;
  const clients = [];
  const flood = await windowOf(FLOOD_S, async (end) => {
    for (let i = 0; i < max * 3; i++) {
      const c = connect(vsPort, '127.0.0.1');
      c.on('error', () => {});
      clients.push(c);
      if (i % 100 === 99) await sleep(10);
    }
    let served = 0;
    let failed = 0;
    const worker = async () => {
      while (Date.now() < end) {
        if ((await shortOne(vsPort)) === true) served++;
        else failed++;
      }
    };
    // Every second a fifth of the limit's worth of held clients leave: room for the waiting ones
    // (the short connections wait behind them in the listen backlog).
    const churn = setInterval(() => clients.splice(0, Math.ceil(max / 5)).forEach((c) => c.destroy()), 1000);
    await Promise.all(Array.from({ length: 8 }, worker));
    clearInterval(churn);
    return { served, failed, held: A.held() + B.held() };
  });
  const log = out.slice(logAt);
  clients.forEach((c) => c.destroy());
  const removed = (log.match(/Removing service/g) ?? []).length;
  const pauses = (log.match(/connection limit reached/g) ?? []).length;
  const emfile = (log.match(/EMFILE/g) ?? []).length;
  const running = alive;
  d.kill('SIGTERM');
  await sleep(500);
  A.close();
  B.close();
  rmSync(dir, { recursive: true, force: true });

  console.log(`\n## Connection flood (daemon under prlimit --nofile=${NOFILE}: ${max} connections; ${max * 3} held + 8 short-connection loops, ${FLOOD_S} s)`);
  console.log('window   CPU %   RSS MB  short served/failed  held by servers');
  console.log(`idle     ${idle.cpu.toFixed(1).padEnd(8)}${idle.rss.toFixed(1).padEnd(8)}-                    -`);
  console.log(`flood    ${flood.cpu.toFixed(1).padEnd(8)}${flood.rss.toFixed(1).padEnd(8)}${`${flood.served}/${flood.failed}`.padEnd(21)}${flood.held}`);
  console.log(`pauses at the limit ${pauses}, "Removing service" ${removed}, EMFILE in the log ${emfile}, daemon ${running ? 'running' : 'EXITED'}`);
  if (!running) console.log(log.split('\n').slice(-10).join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
