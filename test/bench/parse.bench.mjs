// Config-test benchmark: keepalived-ts -t against keepalived -t on the same generated file, in
// the same run. Node's start-up (~100 ms) dominates the whole-process comparison, so the
// marginal cost per line is reported too, for both.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateConfig } from './config-gen.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist/keepalived-ts.mjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timeProcess(cmd, args) {
  const times = [];
  let status;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    status = r.status;
  }
  return { ms: median(times), status };
}

function hasKeepalived() {
  try {
    execFileSync('keepalived', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'kt-bench-'));
  const big = join(dir, 'big.conf');
  const small = join(dir, 'small.conf');
  const bigText = generateConfig();
  writeFileSync(big, bigText);
  writeFileSync(small, generateConfig({ instances: 1, virtualServers: 0 }));
  const lines = bigText.split('\n').length;
  const smallLines = 23;

  const { loadConfig } = await import(join(ROOT, 'dist/config/index.js'));
  // In-process: the marginal cost without Node's start-up, first (cold JIT) and warm.
  let t0 = performance.now();
  const first = loadConfig(big, { configId: 'bench' });
  const firstMs = performance.now() - t0;
  const warm = [];
  for (let i = 0; i < RUNS; i++) {
    t0 = performance.now();
    loadConfig(big, { configId: 'bench' });
    warm.push(performance.now() - t0);
  }
  const warmMs = median(warm);
  const errors = first.diagnostics.filter((d) => d.severity === 'error');

  const oursBig = timeProcess(process.execPath, [CLI, '-t', '-f', big]);
  const oursSmall = timeProcess(process.execPath, [CLI, '-t', '-f', small]);
  const rows = [
    ['keepalived-ts -t (whole process)', `${oursBig.ms.toFixed(1)} ms`, `${oursSmall.ms.toFixed(1)} ms`, `exit ${oursBig.status}`],
    ['keepalived-ts in-process load, first / warm', `${firstMs.toFixed(1)} / ${warmMs.toFixed(1)} ms`, '', `${errors.length} errors`],
  ];
  const result = {
    lines,
    ours: {
      process: oursBig.ms,
      processSmall: oursSmall.ms,
      firstMs,
      warmMs,
      usPerLineWarm: (warmMs * 1000) / lines,
      usPerLineProcess: ((oursBig.ms - oursSmall.ms) * 1000) / (lines - smallLines),
    },
  };
  if (hasKeepalived()) {
    const kaBig = timeProcess('keepalived', ['-t', '-f', big]);
    const kaSmall = timeProcess('keepalived', ['-t', '-f', small]);
    rows.push(['keepalived 2.2.7 -t (whole process)', `${kaBig.ms.toFixed(1)} ms`, `${kaSmall.ms.toFixed(1)} ms`, `exit ${kaBig.status}`]);
    result.keepalived = { process: kaBig.ms, processSmall: kaSmall.ms, usPerLine: ((kaBig.ms - kaSmall.ms) * 1000) / (lines - smallLines) };
  }
  console.log(`\nConfig test: generated keepalived.conf of ${lines} lines (400 vrrp_instance, 132 virtual_server x 18 real_server), median of ${RUNS}`);
  console.log(['what', `${lines} lines`, `${smallLines} lines`, ''].map((c, i) => c.padEnd(i ? 18 : 44)).join(''));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(i ? 18 : 44)).join(''));
  console.log(
    `marginal cost per line: keepalived-ts ${result.ours.usPerLineProcess.toFixed(2)} µs (process difference), ${result.ours.usPerLineWarm.toFixed(2)} µs warm in-process`,
  );
  if (result.keepalived) {
    console.log(`                        keepalived    ${result.keepalived.usPerLine.toFixed(2)} µs (process difference)`);
    console.log(
      `ratio keepalived-ts / keepalived: whole process ${(result.ours.process / result.keepalived.process).toFixed(2)}x, per line ${(result.ours.usPerLineProcess / result.keepalived.usPerLine).toFixed(2)}x (process), ${(result.ours.usPerLineWarm / result.keepalived.usPerLine).toFixed(2)}x (warm)`,
    );
  } else console.log('keepalived not installed: no comparison (apt-get install keepalived)');
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
