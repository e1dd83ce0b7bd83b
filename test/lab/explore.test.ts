// `lab --explore`: the fault space of a pair's configs, the judge of each run, and the search on
// the shipped examples. The judge is tested on hand-made runs (one per kind of finding, and the
// near misses that must not be one); the search on the real sim with the shipped configs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { finish } from '../../src/lab/expect/index.js';
import { explore, nodeConfigs } from '../../src/lab/explore/index.js';
import { judgeRun, type InstanceFacts } from '../../src/lab/explore/judge.js';
import { exploreInput } from '../../src/lab/explore/input.js';
import { countFaultSets, failingFileValue, faultChoices, faultSets, layOut, masterDownInterval, reactionWindow } from '../../src/lab/explore/space.js';
import { loadScenario } from '../../src/lab/load/index.js';
import { emptyRun, type LabRun } from '../../src/lab/model/result.js';
import type { Scenario } from '../../src/lab/model/scenario.js';
import { runSim } from '../../src/lab/sim/index.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const LAB = join(REPO, 'conf-examples/lab');
const CLI = join(REPO, 'dist/keepalived-ts.mjs');
const S = 1_000_000;
const tmp = mkdtempSync(join(tmpdir(), 'kt-explore-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function load(file: string): Scenario {
  const { scenario, diagnostics } = loadScenario(join(LAB, file));
  if (!scenario) throw new Error(diagnostics.map((d) => d.message).join('; '));
  return scenario;
}

describe('the fault space', () => {
  const sc = load('weight-too-small.yaml');
  const nodes = nodeConfigs(sc);
  const choices = faultChoices(sc, nodes);

  it('lists every single fault the configs make possible, in a stable order', () => {
    expect(choices.map((c) => c.id)).toEqual([
      'kill lb1',
      'stop lb1',
      'kill lb2',
      'stop lb2',
      'link eth0 of lb1 down (lan)',
      'link eth0 of lb2 down (lan)',
      'partition lan: [lb1] | [lb2]',
      'script chk_nginx fails on lb1',
      'reload lb1',
      'reload lb2',
    ]);
    // What each should take mastership from: the tracked script and the own interface.
    expect(choices.find((c) => c.kind === 'script')!.impairs).toEqual(['VI_1']);
    expect(choices.find((c) => c.id.startsWith('link eth0 of lb1'))!.impairs).toEqual(['VI_1']);
    expect(choices.find((c) => c.kind === 'kill')!.impairs).toEqual([]);
  });

  it('pairs every two faults in both orders, except two that take one daemon down twice', () => {
    const sets = faultSets(choices);
    const n = choices.length;
    // 10 singles, 10 × 9 ordered pairs, less kill/stop of lb1 and of lb2 (2 × 2 orders).
    expect(sets.length).toBe(n + n * (n - 1) - 4);
    expect(countFaultSets(choices)).toBe(sets.length);
    expect(sets.some((s) => s.length === 2 && s[0].id === 'kill lb1' && s[1].id === 'stop lb1')).toBe(false);
    expect(sets.some((s) => s.length === 2 && s[0].id === 'kill lb1' && s[1].id === 'stop lb2')).toBe(true);
  });

  it('lays a pair out as overlapping windows from the settled start, each fault undone', () => {
    const [kill] = choices;
    const script = choices.find((c) => c.kind === 'script')!;
    const run = layOut([kill, script], { settle: 5 * S, window: 12 * S });
    expect(run.faults.map((f) => [f.at / S, f.kind])).toEqual([
      [5, 'kill'],
      [17, 'script'],
      [29, 'start'],
      [41, 'script'],
    ]);
    expect(run.labels).toEqual(['f1', 'f2', 'f1-undone', 'f2-undone']);
    expect(run.duration).toBe(53 * S);
    expect(layOut([script], { settle: 5 * S, window: 12 * S }).duration).toBe(29 * S);
  });

  it('holds each fault long enough for the slowest tracker and Master_Down_Interval', () => {
    // chk_nginx: interval 2 × fall 2 + timeout 2 = 6 s; MDI at priority 1: 3 + 255/256 s; an advert; 1 s.
    expect(reactionWindow(nodes)).toBe(12 * S);
    expect(masterDownInterval(1, 2, 100)).toBe(3_609_375);
    expect(masterDownInterval(0.1, 3, 100)).toBe(360_938);
  });

  it('fails a track_file as keepalived counts it: non-zero with weight 0, else value × weight ≤ -254', () => {
    expect(failingFileValue(0, false)).toBe(1);
    expect(failingFileValue(10, false)).toBe(-26);
    expect(failingFileValue(-10, false)).toBe(26);
    expect(failingFileValue(10, true)).toBe(26);
  });

  it('derives a scenario from configs as lint --pair takes them: nodes, real servers, a client per VIP service', () => {
    const { scenario } = exploreInput([join(LAB, 'pair/lb1.conf'), join(LAB, 'pair/lb2.conf')]);
    expect(scenario!.nodes.map((n) => n.name)).toEqual(['lb1', 'lb2']);
    expect(scenario!.realServers.map((r) => `${r.name} ${r.address}:${r.port}`)).toEqual([
      'rs1 192.168.1.21:80',
      'rs2 192.168.1.22:80',
      'sorry1 192.168.1.29:80',
    ]);
    expect(scenario!.clients.map((c) => `${c.name} ${c.target.address}:${c.target.port}`)).toEqual(['client1 192.168.1.100:80']);
    expect(scenario!.segments[0].members.map((m) => m.address)).toEqual(['192.168.1.11', '192.168.1.12']);
  });
});

// ---- the judge, on hand-made runs -------------------------------------------------------------

const span = { file: 'judge.yaml', line: 1, col: 1 };
const VI: InstanceFacts = { name: 'VI_1', advertInt: 1, version: 2, nodes: ['lb1', 'lb2'], vips: ['10.0.0.100'] };

function baseScenario(): Scenario {
  return {
    name: 'judge',
    file: 'judge.yaml',
    duration: 40 * S,
    seed: 1,
    nodes: ['lb1', 'lb2'].map((name) => ({ name, config: { file: `${name}.conf` }, impl: 'keepalived-ts' as const, span })),
    segments: [
      {
        name: 'lan',
        prefix: 24,
        members: [
          { node: 'lb1', interface: 'eth0', address: '10.0.0.1' },
          { node: 'lb2', interface: 'eth0', address: '10.0.0.2' },
        ],
        span,
      },
    ],
    realServers: [],
    clients: [],
    faults: [],
    expectations: [],
    span,
  };
}

type T = [at: number, node: string, to: 'BACKUP' | 'MASTER' | 'FAULT' | 'STOPPED', priority?: number];

function judged(choices: ReturnType<typeof faultChoices>, transitions: T[], extra: Partial<LabRun> = {}) {
  const sc = baseScenario();
  const fr = layOut(choices, { settle: 5 * S, window: 10 * S });
  const run: LabRun = {
    ...emptyRun({ ...sc, duration: fr.duration }, 'sim'),
    nodes: ['lb1', 'lb2'].map((name) => ({ name, impl: 'keepalived-ts' as const, instances: [{ name: 'VI_1', vrid: 51, interface: 'eth0' }] })),
    transitions: transitions.map(([t, node, to, priority]) => ({
      at: t * S,
      node,
      instance: 'VI_1',
      from: 'INIT',
      to,
      priority: priority ?? (node === 'lb1' ? 150 : 100),
      reason: '',
    })),
    ...extra,
  };
  return judgeRun(finish({ ...sc, faults: fr.faults, duration: fr.duration }, run), fr, [VI]);
}

/** The fault choices of the hand-made pair (its configs are not loaded: only ids and impairs matter). */
function choice(kind: 'kill' | 'partition' | 'script', node = 'lb1') {
  const sc = baseScenario();
  return {
    id: kind === 'partition' ? 'partition lan: [lb1] | [lb2]' : `${kind} ${node}`,
    kind,
    node: kind === 'partition' ? undefined : node,
    impairs: kind === 'script' ? ['VI_1'] : [],
    apply: (at: number) =>
      kind === 'partition'
        ? { at, kind, segment: 'lan', groups: [['lb1'], ['lb2']], span: sc.span }
        : kind === 'kill'
          ? { at, kind, node, span: sc.span }
          : { at, kind, node, script: 'chk', ok: false, span: sc.span },
    undo: (at: number) =>
      kind === 'partition'
        ? { at, kind: 'heal' as const, segment: 'lan', span: sc.span }
        : kind === 'kill'
          ? { at, kind: 'start' as const, node, span: sc.span }
          : { at, kind, node, script: 'chk', ok: true, span: sc.span },
  } as ReturnType<typeof faultChoices>[number];
}

const START: T[] = [
  [0, 'lb1', 'BACKUP'],
  [0, 'lb2', 'BACKUP'],
  [3.41, 'lb1', 'MASTER'],
];

describe('judging a run', () => {
  it('finds nothing in a clean failover and return', () => {
    expect(
      judged(
        [choice('kill')],
        [...START, [5, 'lb1', 'STOPPED'], [8.6, 'lb2', 'MASTER'], [15, 'lb1', 'BACKUP'], [18.4, 'lb1', 'MASTER'], [18.4, 'lb2', 'BACKUP']],
      ),
    ).toEqual([]);
  });

  it('reports two MASTERs beyond one advert interval as a problem, and under a partition as a limit', () => {
    const [sb] = judged([choice('kill')], [...START, [6, 'lb2', 'MASTER'], [8, 'lb2', 'BACKUP']]);
    expect(sb).toMatchObject({ kind: 'split-brain', severity: 'problem', subject: 'VI_1', nodes: ['lb1', 'lb2'], start: 6 * S, length: 2 * S });
    expect(sb.expect).toEqual({ 'single-master': { window: '1s' } });
    const [limit] = judged([choice('partition')], [...START, [8.6, 'lb2', 'MASTER'], [15, 'lb2', 'BACKUP']]);
    expect(limit).toMatchObject({ kind: 'split-brain', severity: 'limit', length: 6.4 * S });
    // One advert's overlap, as in a preemption, is no finding.
    expect(judged([choice('kill')], [...START, [6, 'lb2', 'MASTER'], [6.5, 'lb2', 'BACKUP']])).toEqual([]);
  });

  it('reports a split brain that outlasts the heal as a problem', () => {
    const [sb] = judged([choice('partition')], [...START, [8.6, 'lb2', 'MASTER'], [20, 'lb2', 'BACKUP']]);
    expect(sb).toMatchObject({ kind: 'split-brain', severity: 'problem' });
  });

  it('reports no MASTER for longer than Master_Down_Interval while a BACKUP waited', () => {
    const [gap] = judged([choice('kill')], [...START, [5, 'lb1', 'STOPPED'], [10, 'lb2', 'MASTER']]);
    expect(gap).toMatchObject({ kind: 'no-master', subject: 'VI_1', nodes: ['lb2'], start: 5 * S, length: 5 * S });
    expect(gap.why).toContain('Master_Down_Interval is 3.61s');
    expect(gap.expect).toEqual({ master: { VI_1: 'lb2' }, at: '9.119s' });
    // Within it: nothing; with nobody able to take over (both down): nothing either.
    expect(judged([choice('kill')], [...START, [5, 'lb1', 'STOPPED'], [8.6, 'lb2', 'MASTER']])).toEqual([]);
    expect(judged([choice('kill')], [...START, [5, 'lb1', 'STOPPED'], [5, 'lb2', 'STOPPED']])).toEqual([]);
  });

  it('reports a tracked failure on the MASTER that leaves it MASTER while a healthy BACKUP waits', () => {
    const [nf] = judged([choice('script')], [...START], { priorities: [{ at: 9 * S, node: 'lb1', instance: 'VI_1', priority: 130 }] });
    expect(nf).toMatchObject({ kind: 'no-failover', subject: 'VI_1', nodes: ['lb1', 'lb2'], start: 5 * S, length: 10 * S });
    expect(nf.why).toBe("after 'script lb1' at 5.00s, lb1 stayed MASTER of VI_1 for 10s: lb1's priority fell from 150 to 130, still above lb2's 100");
    expect(nf.expect).toEqual({ failover: { after: 'f1', instance: 'VI_1', to: 'lb2', within: '10s' } });
    // It moved: nothing. The BACKUP was down meanwhile (a pair): nothing.
    expect(judged([choice('script')], [...START, [12.6, 'lb2', 'MASTER'], [12.6, 'lb1', 'BACKUP']])).toEqual([]);
    expect(judged([choice('kill', 'lb2'), choice('script')], [...START, [5, 'lb2', 'STOPPED'], [25, 'lb2', 'BACKUP']])).toEqual([]);
  });

  it('reports flapping: three elections between two faults', () => {
    const flaps: T[] = [
      [6, 'lb2', 'MASTER'],
      [6, 'lb1', 'BACKUP'],
      [7, 'lb1', 'MASTER'],
      [7, 'lb2', 'BACKUP'],
      [8, 'lb2', 'MASTER'],
      [8, 'lb1', 'BACKUP'],
    ];
    const found = judged([choice('script')], [...START, ...flaps]);
    expect(found.map((f) => f.kind)).toEqual(['flapping']);
    expect(found[0]).toMatchObject({ nodes: ['lb1', 'lb2'], start: 6 * S, length: 2 * S });
    expect(found[0].expect).toEqual({ master: { VI_1: 'lb2' }, at: '7s' });
  });

  it('reports clients that keep failing after the VIP moved, not those failing while it moves', () => {
    const vips = [
      { at: 3.41 * S, address: '10.0.0.100', segment: 'lan', reachable: true, holders: ['lb1'] },
      { at: 5 * S, address: '10.0.0.100', segment: 'lan', reachable: false, holders: [] },
      { at: 8.6 * S, address: '10.0.0.100', segment: 'lan', reachable: true, holders: ['lb2'] },
    ];
    const bucket = (second: number, failed: number): NonNullable<LabRun['requests']>[number] => ({
      client: 'user',
      second,
      ok: 10 - failed,
      failed,
      byServer: {},
      failures: failed ? { 'lb2 has no real server': failed } : {},
    });
    const moving = [4, 5, 6, 7, 8, 9, 10, 11].map((s) => bucket(s, s >= 5 && s <= 9 ? 10 : 0));
    const t: T[] = [...START, [5, 'lb1', 'STOPPED'], [8.6, 'lb2', 'MASTER']];
    expect(judged([choice('kill')], t, { vips, requests: moving })).toEqual([]);
    const stuck = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13].map((s) => bucket(s, s >= 5 ? 10 : 0));
    const [cf] = judged([choice('kill')], t, { vips, requests: stuck });
    expect(cf).toMatchObject({ kind: 'clients-failing', subject: 'user', nodes: ['lb2'], start: 11 * S, length: 3 * S });
    expect(cf.why).toBe("10.0.0.100 moved to lb2 at 8.60s, and 30 of 30 of user's requests still failed from 11s to 14s (lb2 has no real server)");
    expect(cf.expect).toEqual({ requests: { client: 'user', window: '5.999s' } });
  });
});

// ---- the search on the shipped examples --------------------------------------------------------

describe('exploring the shipped examples on sim', () => {
  it('finds the weight-too-small mistake and the split brain under partition', async () => {
    const x = await explore(load('weight-too-small.yaml'));
    expect(x.explored).toBe(x.space);
    const problems = x.findings.filter((f) => f.severity === 'problem');
    expect(problems.map((f) => [f.kind, f.faults])).toEqual([['no-failover', ['script chk_nginx fails on lb1']]]);
    expect(problems[0].why).toContain("lb1's priority fell from 150 to 130, still above lb2's 100");
    const limits = x.findings.filter((f) => f.severity === 'limit');
    expect(limits.map((f) => [f.kind, f.faults])).toEqual([['split-brain', ['partition lan: [lb1] | [lb2]']]]);
  }, 120_000);

  it('reports nothing wrong on a correct pair, and runs its single and double faults within 10 s of CPU', async () => {
    const cpu = process.cpuUsage();
    const { scenario } = exploreInput([join(LAB, 'explore/two-checks/lb1.conf'), join(LAB, 'explore/two-checks/lb2.conf')]);
    const x = await explore(scenario!);
    const used = process.cpuUsage(cpu);
    expect(x.choices).toHaveLength(13);
    expect(x.choices.filter((c) => c.startsWith('script'))).toEqual([
      'script chk_nginx fails on lb1',
      'script chk_disk fails on lb1',
      'script chk_nginx fails on lb2',
      'script chk_disk fails on lb2',
    ]);
    expect(x.explored).toBe(x.space);
    expect(x.findings.filter((f) => f.severity === 'problem')).toEqual([]);
    // The partition's split brain is shown as what VRRP cannot avoid, nothing more.
    expect(x.findings.map((f) => `${f.severity} ${f.kind}`)).toEqual(['limit split-brain']);
    expect((used.user + used.system) / S).toBeLessThan(10);
  }, 120_000);

  it('reports clients failing when the backup sends the VIP to real servers that are not there', async () => {
    const x = await explore(load('explore/backup-typo.yaml'), { maxRuns: 12 });
    const cf = x.findings.find((f) => f.kind === 'clients-failing' && f.faults[0] === 'kill lb1');
    expect(cf?.why).toMatch(/^192\.168\.1\.100 moved to lb2 at 8\.02s, and 60 of 60 of user's requests still failed from 11s to 17s \(lb2: quorum lost\)$/);
    expect(x.findings.filter((f) => f.severity === 'problem').every((f) => f.kind === 'clients-failing')).toBe(true);
    expect(x.notes[0]).toMatch(/^explored 12 of 165 fault sets \(--max-runs 12\): raise it to explore the rest$/);
  }, 120_000);
});

// ---- the command -------------------------------------------------------------------------------

/** The failed verdict of the first written scenario, run through the CLI as a user would. */
function result0(out: string): string {
  const r = spawnSync(process.execPath, [CLI, 'lab', join(out, '01-no-failover-VI_1.yaml')], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status).toBe(1);
  return r.stdout;
}

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'lab', '--explore', ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('keepalived-ts lab --explore', () => {
  it('ranks the findings, writes a scenario for each that reproduces on sim, and exits 1', async () => {
    const out = join(tmp, 'found');
    const report = join(tmp, 'explore.html');
    const r = cli(join(LAB, 'weight-too-small.yaml'), '--json', '--out', out, '--report', report);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out) as { windowUs: number; findings: { rank: number; kind: string; severity: string; durationUs: number }[] };
    expect(doc.findings.map((f) => [f.rank, f.kind, f.severity])).toEqual([
      [1, 'no-failover', 'problem'],
      [2, 'split-brain', 'limit'],
    ]);
    expect(doc.findings[0]).toMatchObject({ subject: 'VI_1', faults: ['script chk_nginx fails on lb1'], startUs: 5_000_000, durationUs: 12_000_000 });
    expect(Number.isInteger(doc.findings[1].durationUs) && Number.isInteger(doc.windowUs)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['01-no-failover-VI_1.yaml', '02-split-brain-VI_1.yaml']);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<div class="badge" id="verdict" data-problems="1">1 PROBLEM</div>');
    expect(html.match(/<tr class="(problem|limit)" id="finding-\d+">/g)).toHaveLength(2);

    // Each written scenario loads, runs on sim, and fails its expectation the way the finding says.
    for (const [file, why] of [
      ['01-no-failover-VI_1.yaml', "lb2 never became MASTER of VI_1 after 'script chk_nginx on lb1 fails' at 5.00s"],
      ['02-split-brain-VI_1.yaml', 'lb1 and lb2 were all MASTER of VRID 51 (VI_1) from 8.02s to 17.02s'],
    ]) {
      const { scenario, diagnostics } = loadScenario(join(out, file));
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const result = finish(scenario!, await runSim(scenario!));
      expect(result.passed).toBe(false);
      expect(result.expectations[0].why).toContain(why);
    }
    expect(result0(out)).toContain("lb1's priority fell to 130, still above lb2's 100");
    expect(loadScenario(join(out, '01-no-failover-VI_1.yaml')).scenario!.expectations[0]).toMatchObject({ kind: 'failover', to: 'lb2', within: 12 * S });
  }, 300_000);

  it('prints the ranked table and exits 0 on a correct pair of configs', () => {
    const r = cli(join(LAB, 'explore/two-checks/lb1.conf'), join(LAB, 'explore/two-checks/lb2.conf'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^1 +limit +two MASTERs +VI_1 +partition lan: \[lb1\] \| \[lb2\]$/m);
    expect(r.out).toMatch(/^no problems found; 1 limit of VRRP shown .* 165 fault sets \(13 single faults and their ordered pairs\)/m);
  }, 300_000);

  it('refuses an --out that is a symlink, and bad bounds, before running anything', { timeout: 120_000 }, () => {
    const link = join(tmp, 'link');
    symlinkSync(tmp, link);
    const r = cli(join(LAB, 'weight-too-small.yaml'), '--out', link);
    expect(r.code).toBe(2);
    expect(r.err).toContain('it is a symbolic link');
    expect(cli(join(LAB, 'weight-too-small.yaml'), '--max-runs', '0').err).toContain('--max-runs must be a whole number from 1 to 100000');
    expect(cli(join(LAB, 'weight-too-small.yaml'), '--max-time', '2h').code).toBe(2);
    expect(cli(join(LAB, 'pair/lb1.conf')).err).toContain('--explore takes one scenario (.yaml) or two or more keepalived.conf files');
  });
});
