// `keepalived-ts lab --explore`: every single fault and every ordered pair of faults a director
// pair's configs make possible, each run on the sim backend from a settled start and judged for
// what matters to an operator (judge.ts). Enumeration (space.ts) and judging are pure; this
// module runs the sim, bounds the search, folds pairs that only repeat a single fault's
// finding, and ranks what is left.
import { performance } from 'node:perf_hooks';
import { refusal } from '../../config/diagnostics.js';
import { finish } from '../expect/index.js';
import type { Micros, Scenario } from '../model/scenario.js';
import { formatTime } from '../model/times.js';
import { loadNodeConfig, runSim } from '../sim/index.js';
import { instanceFacts, judgeRun, type Finding, type FindingKind } from './judge.js';
import { countFaultSets, faultChoices, faultSets, layOut, reactionWindow, scenarioOf, type ExplorePlan, type FaultRun, type NodeConfig } from './space.js';

export interface ExploreOptions {
  /** At most this many fault sets are run (singles first); the two runs without faults come on top. */
  maxRuns: number;
  /** Each run lasts at most this much virtual time. */
  maxTime: Micros;
}

export const EXPLORE_DEFAULTS: ExploreOptions = { maxRuns: 2000, maxTime: 600_000_000 };

export interface RankedFinding extends Finding {
  rank: number;
  /** The fault set, as people read it ("kill lb1", "script chk_nginx fails on lb1"). */
  faults: string[];
  /** Other fault pairs that showed the same (kind, subject, nodes), folded into this row. */
  alsoIn: number;
  run: FaultRun;
}

export interface Exploration {
  scenario: string;
  file: string;
  nodes: string[];
  /** Every single fault the configs make possible. */
  choices: string[];
  plan: ExplorePlan;
  /** Fault sets in the space (singles and ordered pairs) and how many were run. */
  space: number;
  explored: number;
  /** Runs made, the settled start included. */
  runs: number;
  /** Faults applied over all runs (undos not counted) and the virtual time covered. */
  faultsApplied: number;
  virtual: Micros;
  wallMs: number;
  findings: RankedFinding[];
  /** What the search could not do as asked ("explored 500 of 3,200 fault sets (--max-runs 500)"). */
  notes: string[];
}

const KIND_ORDER: FindingKind[] = ['split-brain', 'no-master', 'clients-failing', 'no-failover', 'flapping'];
const SEC = 1_000_000;

/** The nodes' configs as the sim loads them (the scenario loader has checked them). */
export function nodeConfigs(sc: Scenario): NodeConfig[] {
  return sc.nodes.map((n) => {
    const loaded = loadNodeConfig(n.name, n.config, n.configId ?? n.name);
    const refused = refusal(loaded.diagnostics, false);
    if (refused) throw new Error(`${n.name}: configuration cannot be run (${refused})`);
    return { name: n.name, config: loaded.config };
  });
}

export async function explore(base: Scenario, options: Partial<ExploreOptions> = {}): Promise<Exploration> {
  const opts = { ...EXPLORE_DEFAULTS, ...options };
  const wall = performance.now();
  const nodes = nodeConfigs(base);
  const instances = instanceFacts(nodes);
  const window = reactionWindow(nodes);
  const notes: string[] = [];
  const unsupported = nodes.flatMap((n) => n.config.trackProcesses.map((p) => `${n.name}: track_process ${p.name}`));
  if (unsupported.length)
    notes.push(`not explored yet (a scenario can fail a tracked process with a 'process' fault; the explorer does not try it): ${unsupported.join(', ')}`);

  let runs = 0;
  let virtual = 0;
  let faultsApplied = 0;
  const cut = (fr: FaultRun): FaultRun => {
    if (fr.duration <= opts.maxTime) return fr;
    return { ...fr, duration: opts.maxTime };
  };
  const play = async (fr: FaultRun): Promise<Finding[]> => {
    const sc = scenarioOf(base, fr);
    const result = finish(sc, await runSim(sc));
    runs++;
    virtual += sc.duration;
    faultsApplied += fr.choices.length;
    return judgeRun(result, fr, instances);
  };

  // The settled start: where the start-up election ends, from a run without faults.
  const settle = await settledStart(base, window, opts.maxTime);
  runs++;
  virtual += settle.duration;
  const plan: ExplorePlan = { settle: settle.at, window };
  if (!settle.settled) notes.push(`the pair had not settled ${formatTime(2 * window)} after the start: faults start at ${formatTime(settle.at)} anyway`);
  const baseRun = cut(layOut([], plan));
  const baseFindings = await play(baseRun);

  const choices = faultChoices(base, nodes);
  const space = countFaultSets(choices);
  const sets = faultSets(choices).slice(0, opts.maxRuns);
  if (sets.length < space) notes.push(`explored ${sets.length} of ${space} fault sets (--max-runs ${opts.maxRuns}): raise it to explore the rest`);
  const longest = layOut(sets[sets.length - 1] ?? [], plan).duration;
  if (longest > opts.maxTime)
    notes.push(
      `a run needs ${formatTime(longest)} of virtual time and --max-time is ${formatTime(opts.maxTime)}: runs were cut there, so later faults were not applied`,
    );

  const keyOf = (f: Finding): string => `${f.kind}/${f.subject}/${f.nodes.join(',')}`;
  const rows: Omit<RankedFinding, 'rank'>[] = baseFindings.map((f) => ({ ...f, faults: [], alsoIn: 0, run: baseRun }));
  const baseKeys = new Set(baseFindings.map(keyOf));
  const singleKeys = new Map<string, Set<string>>();
  const pairRows = new Map<string, Omit<RankedFinding, 'rank'>>();
  for (const set of sets) {
    const fr = cut(layOut(set, plan));
    const found = (await play(fr)).filter((f) => !baseKeys.has(keyOf(f)));
    if (set.length === 1) {
      singleKeys.set(set[0].id, new Set(found.map(keyOf)));
      for (const f of found) rows.push({ ...f, faults: [set[0].id], alsoIn: 0, run: fr });
      continue;
    }
    // A pair's finding that one of its faults shows alone is that fault's: not repeated.
    for (const f of found) {
      const k = keyOf(f);
      if (set.some((c) => singleKeys.get(c.id)?.has(k))) continue;
      const seen = pairRows.get(k);
      if (seen) {
        seen.alsoIn++;
        if (f.length > seen.length) Object.assign(seen, { ...f, faults: set.map((c) => c.id), run: fr, alsoIn: seen.alsoIn });
      } else pairRows.set(k, { ...f, faults: set.map((c) => c.id), alsoIn: 0, run: fr });
    }
  }
  rows.push(...pairRows.values());
  const findings = rank(rows);
  return {
    scenario: base.name,
    file: base.file,
    nodes: base.nodes.map((n) => n.name),
    choices: choices.map((c) => c.id),
    plan,
    space,
    explored: sets.length,
    runs,
    faultsApplied,
    virtual,
    wallMs: Math.round(performance.now() - wall),
    findings,
    notes,
  };
}

/** Problems before limits; then by kind, by how long it lasted, single faults before pairs. */
export function rank<T extends Finding & { faults: string[] }>(rows: readonly T[]): (T & { rank: number })[] {
  return [...rows]
    .sort(
      (a, b) =>
        (a.severity === b.severity ? 0 : a.severity === 'problem' ? -1 : 1) ||
        KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
        b.length - a.length ||
        a.faults.length - b.faults.length ||
        a.start - b.start,
    )
    .map((r, i) => ({ ...r, rank: i + 1 }));
}

/** The first moment after the start-up election: the last transition of a run without faults,
 * plus an advert's worth, rounded up to a whole second. */
async function settledStart(base: Scenario, window: Micros, maxTime: Micros): Promise<{ at: Micros; settled: boolean; duration: Micros }> {
  const duration = Math.min(3 * window, maxTime);
  const run = await runSim({ ...base, faults: [], expectations: [], duration });
  const last = Math.max(0, ...run.transitions.map((t) => t.at));
  if (last > 2 * window) return { at: window, settled: false, duration };
  return { at: Math.max(SEC, Math.ceil((last + SEC) / SEC) * SEC), settled: true, duration };
}
