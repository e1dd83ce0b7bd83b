// Lab benchmark: how fast the sim backend runs the shipped scenarios (scenarios per second and
// virtual seconds per wall second), and the wall time of the same scenario on the netns backend
// with real daemons, when this machine can run it (root, ip netns).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = join(ROOT, 'conf-examples/lab');
const ROUNDS = Number(process.env.BENCH_LAB_ROUNDS ?? 5);

export async function run() {
  const { loadScenario } = await import(join(ROOT, 'dist/lab/load/index.js'));
  const { runSim } = await import(join(ROOT, 'dist/lab/sim/index.js'));
  const { finish } = await import(join(ROOT, 'dist/lab/expect/index.js'));
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  const scenarios = files.map((f) => {
    const { scenario, diagnostics } = loadScenario(join(DIR, f));
    if (!scenario) throw new Error(`${f}: ${diagnostics.map((d) => d.message).join('; ')}`);
    return { f, scenario };
  });
  // One warm-up round, so the figures are the steady state rather than V8's first compile.
  for (const { scenario } of scenarios) finish(scenario, await runSim(scenario));
  console.log(`\nLab, sim backend: ${scenarios.length} shipped scenarios x ${ROUNDS} rounds`);
  console.log(['scenario', 'virtual s', 'wall ms', 'virtual s per wall s', 'verdict'].map((c, i) => c.padEnd(i ? 22 : 36)).join(''));
  let runs = 0;
  let wallTotal = 0;
  let virtualTotal = 0;
  for (const { f, scenario } of scenarios) {
    let best = Infinity;
    let passed = true;
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      const result = finish(scenario, await runSim(scenario));
      const ms = performance.now() - t0;
      best = Math.min(best, ms);
      wallTotal += ms;
      runs++;
      passed &&= result.passed;
    }
    virtualTotal += (scenario.duration / 1e6) * ROUNDS;
    console.log(
      [f, (scenario.duration / 1e6).toFixed(0), best.toFixed(1), (scenario.duration / 1e3 / best).toFixed(0), passed ? 'PASS' : 'FAIL']
        .map((c, i) => String(c).padEnd(i ? 22 : 36))
        .join(''),
    );
  }
  console.log(
    `sim: ${(runs / (wallTotal / 1000)).toFixed(1)} scenarios/s, ${(virtualTotal / (wallTotal / 1000)).toFixed(0)} virtual seconds per wall second (in-process, after warm-up)`,
  );

  const netnsOk = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
  if (!netnsOk) {
    console.log('netns: skipped (needs root and ip netns)');
    return;
  }
  const file = join(DIR, 'master-killed.yaml');
  const cli = join(ROOT, 'dist/keepalived-ts.mjs');
  const wall = (backend) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'lab', file, '--backend', backend, '--json'], { encoding: 'utf8', timeout: 180_000 });
    const ms = performance.now() - t0;
    let verdict = `exit ${r.status}`;
    try {
      verdict = JSON.parse(r.stdout).passed ? 'PASS' : 'FAIL';
    } catch {
      /* the exit code says it */
    }
    return { ms, verdict };
  };
  const sim = wall('sim');
  const netns = wall('netns');
  console.log(
    `master-killed.yaml, whole process: sim ${sim.ms.toFixed(0)} ms (${sim.verdict}), netns ${(netns.ms / 1000).toFixed(1)} s with real daemons (${netns.verdict}); ratio ${(netns.ms / sim.ms).toFixed(0)}x`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
