// Lab benchmark: how fast the sim backend runs the shipped scenarios (scenarios per second and
// virtual seconds per wall second), and the wall time of the same scenario on the netns backend
// with real daemons, when this machine can run it (root, ip netns).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { f0, f1, f2, pad } from './common.mjs';

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

  await largePair(loadScenario, runSim, finish);
  await exploreRate(loadScenario);

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

/** lab --explore on sim: the whole single+double fault space of two shipped pairs, faults per second. */
async function exploreRate(loadScenario) {
  const { explore } = await import(join(ROOT, 'dist/lab/explore/index.js'));
  const { exploreInput } = await import(join(ROOT, 'dist/lab/explore/input.js'));
  console.log('\nLab --explore, sim backend: every single fault and ordered pair of faults');
  console.log(
    pad(['pair', 'fault sets', 'faults', 'runs', 'wall s', 'faults/s', 'runs/s', 'virtual s per wall s', 'problems'], [30, 12, 8, 8, 8, 10, 8, 22, 10]),
  );
  const inputs = [
    ['explore/two-checks/ (2 scripts)', () => exploreInput([join(DIR, 'explore/two-checks/lb1.conf'), join(DIR, 'explore/two-checks/lb2.conf')]).scenario],
    ['weight-too-small.yaml', () => loadScenario(join(DIR, 'weight-too-small.yaml')).scenario],
  ];
  for (const [name, get] of inputs) {
    const x = await explore(get());
    const s = x.wallMs / 1000;
    const problems = x.findings.filter((f) => f.severity === 'problem').length;
    console.log(
      pad(
        [name, x.explored, x.faultsApplied, x.runs, f1(s), f0(x.faultsApplied / s), f0(x.runs / s), f0(x.virtual / 1e6 / s), problems],
        [30, 12, 8, 8, 8, 10, 8, 22, 10],
      ),
    );
  }
}

/** A director pair with N VRRPv2 instances (250 VRIDs per interface, one /32 VIP each). */
function writeLargePair(dir, n) {
  for (const [name, me, peer, prio] of [
    ['lb1', 11, 12, 150],
    ['lb2', 12, 11, 100],
  ]) {
    let conf = `global_defs {\n router_id ${name}\n}\n`;
    for (let i = 0; i < n; i++) {
      const k = Math.floor(i / 250);
      conf += `vrrp_instance VI_${i} {\n state ${prio === 150 ? 'MASTER' : 'BACKUP'}\n interface eth${k}\n virtual_router_id ${(i % 250) + 1}\n priority ${prio}\n advert_int 1\n unicast_src_ip 192.168.${k}.${me}\n unicast_peer {\n  192.168.${k}.${peer}\n }\n virtual_ipaddress {\n  10.${k}.${i % 250}.1/32\n }\n}\n`;
    }
    writeFileSync(join(dir, `${name}-${n}.conf`), conf);
  }
  const file = join(dir, `large-${n}.yaml`);
  writeFileSync(
    file,
    `name: large pair (${n} instances)\nduration: 20s\nnodes:\n  lb1: lb1-${n}.conf\n  lb2: lb2-${n}.conf\ntimeline:\n  - {at: 6s, kill: lb1, label: master-dies}\n  - {at: 12s, start: lb1, label: master-back}\nexpect:\n  - {master: {VI_${n - 1}: lb1}, at: 5s}\n  - {failover: {after: master-dies, instance: VI_${n - 1}, to: lb2, within: 4s}}\n  - {failover: {after: master-back, instance: VI_${n - 1}, to: lb1, within: 5s}}\n`,
  );
  return file;
}

/** The sim at a large director's scale: wall time for 250 and 1,000 instances, and the marginal cost. */
async function largePair(loadScenario, runSim, finish) {
  const dir = mkdtempSync(join(tmpdir(), 'kt-bench-lab-'));
  try {
    console.log('\nLab, sim backend, a large pair: 20 virtual s, master killed at 6 s and restarted at 12 s');
    console.log(pad(['instances', 'wall ms', 'virtual s per wall s', 'heap MB after', 'verdict'], [12, 12, 24, 16, 10]));
    const rows = [];
    for (const n of [250, 1000]) {
      const { scenario, diagnostics } = loadScenario(writeLargePair(dir, n));
      if (!scenario) throw new Error(`large pair ${n}: ${diagnostics.map((d) => d.message).join('; ')}`);
      const t0 = performance.now();
      const result = finish(scenario, await runSim(scenario));
      const ms = performance.now() - t0;
      rows.push({ n, ms });
      console.log(pad([n, f0(ms), f1(20_000 / ms), f0(process.memoryUsage().heapUsed / 2 ** 20), result.passed ? 'PASS' : 'FAIL'], [12, 12, 24, 16, 10]));
    }
    const [a, b] = rows;
    console.log(`marginal: ${f2((b.ms - a.ms) / (b.n - a.n))} ms of wall time per instance for 20 virtual s (no peer: keepalived has no simulator)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
