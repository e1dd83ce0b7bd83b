// Checker pool load: 5,000 TCP_CHECK targets at delay_loop 1 for a fixed window; CPU and memory of
// the pool. keepalived's own checker process cannot run here to compare (it exits at once
// without kernel IPVS: "IPVS: Can't initialize ipvs"), so this reports ours with that caveat.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TARGETS = Number(process.env.BENCH_CHECK_TARGETS ?? 5000);
const SECONDS = Number(process.env.BENCH_CHECK_SECONDS ?? 15);

export async function run() {
  const { loadConfigText } = await import(join(ROOT, 'dist/config/index.js'));
  const { CheckerPool } = await import(join(ROOT, 'dist/check/pool.js'));
  const { makeProbe } = await import(join(ROOT, 'dist/check/dispatch.js'));
  const { ScriptRunner } = await import(join(ROOT, 'dist/proc/script-runner.js'));
  const { RealClock } = await import(join(ROOT, 'dist/core/clock.js'));
  // One listener on the whole of 127/8 (targets are 127.1.x.y, one port), in its own process so
  // the figures below are the pool's alone.
  const server = spawn(
    process.execPath,
    ['-e', "const s=require('net').createServer(c=>c.destroy());s.listen({port:0,host:'0.0.0.0',backlog:8192},()=>console.log(s.address().port))"],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise((r) => server.stdout.once('data', (d) => r(Number(String(d).trim()))));
  const perVs = 100;
  const vss = [];
  for (let v = 0; v * perVs < TARGETS; v++) {
    const rs = [];
    for (let i = v * perVs; i < Math.min(TARGETS, (v + 1) * perVs); i++)
      rs.push(`  real_server 127.1.${i >> 8}.${i & 255 || 1} ${port} {\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }`);
    vss.push(`virtual_server 10.${v >> 8}.${v & 255}.1 80 {\n  delay_loop 1\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n${rs.join('\n')}\n}`);
  }
  const { config } = loadConfigText(vss.join('\n'), 'bench.conf', { configId: 'bench' });
  const runner = new ScriptRunner();
  const rss0 = process.memoryUsage().rss;
  const pool = new CheckerPool(config, { clock: new RealClock(), probe: makeProbe(runner), random: Math.random, maxInFlight: 512 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  pool.start();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  pool.stop();
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rss = process.memoryUsage().rss;
  server.kill();
  await runner.shutdown();
  const probes = pool.counters.probes;
  const cpuPct = ((cpu.user + cpu.system) / 1e6 / wall) * 100;
  console.log(
    `\nChecker pool: ${TARGETS} TCP_CHECK targets, delay_loop 1, ${SECONDS} s (keepalived's checker cannot run without kernel IPVS here: no peer figure)`,
  );
  console.log(`probes ${probes} (${(probes / wall).toFixed(0)}/s, expected ~${TARGETS}/s), failures ${pool.counters.failures}`);
  console.log(
    `CPU ${cpuPct.toFixed(1)}% of one core (${((cpu.user + cpu.system) / probes).toFixed(0)} µs per probe), RSS ${(rss / 2 ** 20).toFixed(0)} MiB (+${((rss - rss0) / 2 ** 20).toFixed(0)} MiB for the pool)`,
  );
  return { probes, perSecond: probes / wall, cpuPct, rssMiB: rss / 2 ** 20 };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
