// The lab's promise: a scenario gives the same verdict on sim and on netns, and the simulated
// timeline matches the one real daemons produce within the timers' tolerance. Shipped scenarios
// on both backends, and a mixed pair with the real keepalived. Needs root for netns.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { finish } from '../../src/lab/expect/index.js';
import { loadScenario, loadScenarioText } from '../../src/lab/load/index.js';
import { runNetns } from '../../src/lab/netns/index.js';
import { keepalivedCapability, netnsCapability } from '../../src/lab/netns/host.js';
import type { LabResult, LabRun, LabTransition } from '../../src/lab/model/result.js';
import type { Scenario } from '../../src/lab/model/scenario.js';
import { runSim } from '../../src/lab/sim/index.js';

const DIR = fileURLToPath(new URL('../../conf-examples/lab/', import.meta.url));
const S = 1_000_000;

/**
 * How far a netns change may be from sim's, once sim replays what the netns run measured: each
 * daemon's VRRP start (the start gates open together, but each daemon then needs its own few ms
 * to 100 ms under load to its first state), each fault when it took effect, a restarted daemon
 * when it was up, a stop when the daemon acted on it. The advert phase then follows from the same
 * instants on both, and netns changes are compared where the daemon made them (decided()). The
 * goal is 50 ms (TARGET, printed with every difference): at load 10 on 2 cores, 19 of 19
 * changes were within it (worst 45 ms). What is left is the machine's: a timer that fires late,
 * an advert read late by a busy peer, a fault's effect stamped after the `ip` command returns.
 * Those grow with the load without bound, so the assertion keeps a margin that holds on a busy
 * box and the distribution is printed.
 */
const TOLERANCE = 500_000;
const TARGET = 50_000;
/** Start-up is left out: at load 10-18 one daemon may reach its first state 100-200 ms after the
 * other (the start spread, printed), and a close start-up election can then go either way. */
const SETTLE = 5 * S;
const cap = netnsCapability();
if (!cap.ok) console.warn(`skipping the sim/netns equivalence tests: ${cap.reason}`);
const ka = keepalivedCapability();
if (cap.ok && !ka.ok) console.warn(`skipping the mixed-pair equivalence test: ${ka.reason}`);

function load(file: string, edit?: (text: string) => string): Scenario {
  const path = join(DIR, file);
  const r = edit ? loadScenarioText(edit(readFileSync(path, 'utf8')), path) : loadScenario(path);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.scenario!;
}

/** Where the daemon made a change: `logAt` when the wire timed it otherwise (our log's ms stamp,
 * keepalived's line as read), but a STOPPED moved to its priority 0 at the wire's (its log is the
 * process's exit; neither daemon logs a state at its stop). */
const decided = (t: LabTransition): number => (t.to === 'STOPPED' ? t.at : (t.logAt ?? t.at));

/** Each node × instance: its MASTER/BACKUP/FAULT changes (what a peer or an operator sees), timed
 * where the daemon made them. */
function timeline(r: LabResult): Map<string, { to: string; at: number }[]> {
  const out = new Map<string, { to: string; at: number }[]>();
  for (const t of r.transitions) {
    const key = `${t.node} ${t.instance}`;
    const list = out.get(key) ?? [];
    const to = t.to === 'INIT' ? 'STOPPED' : t.to;
    const at = decided(t);
    if (list.at(-1)?.to !== to) list.push({ to, at });
    out.set(key, list);
  }
  return out;
}

/**
 * How long each `start` fault's daemon took to come up (its first state after the fault), by fault
 * index. sim starts a daemon at once. On netns the fault spawns a process that needs Node's (or
 * keepalived's) start-up before its VRRP timers run: 0.15-0.25 s on this 2-core machine at load
 * 6-8, and more as the load grows (`node dist/keepalived-ts.mjs --version` alone: 0.4 s, 1.1 s
 * beside three busy loops). That time is the machine's, not the protocol's.
 */
function startUpLags(s: Scenario, run: LabRun): Map<number, number> {
  const lags = new Map<number, number>();
  for (const f of run.faults) {
    const fault = s.faults[f.index];
    if (fault.kind !== 'start') continue;
    const up = run.transitions.find((t) => t.node === fault.node && t.at >= f.at && t.to !== 'STOPPED');
    lags.set(f.index, up ? up.at - f.at : 0);
  }
  return lags;
}

/** Same verdict per expectation: sim on the scenario, netns on the scenario as it ran it (each
 * fault when it took effect, a restart from when its daemon was up). */
function sameVerdicts(sim: LabResult, net: LabResult): void {
  const verdicts = (r: LabResult) => r.expectations.map((e) => `${e.passed ? 'pass' : 'FAIL'} ${e.text}`);
  expect(
    verdicts(net),
    net.expectations
      .filter((e) => !e.passed)
      .map((e) => e.why)
      .join('\n'),
  ).toEqual(verdicts(sim));
}

/**
 * Same sequence of states per node and instance, each change within `toleranceUs` of sim's
 * replay of the run; every difference printed, the worst last.
 */
function compare(replay: LabResult, net: LabResult, toleranceUs: number, settleUs: number): void {
  const a = timeline(replay);
  const b = timeline(net);
  const diffs: string[] = [];
  let worst = 0;
  let over = 0;
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [key, list] of a) {
    const later = (l: { to: string; at: number }[]) => l.filter((e) => e.at >= settleUs);
    const [x, y] = [later(list), later(b.get(key)!)];
    const show = (l: { to: string; at: number }[]) => l.map((e) => `${e.to}@${(e.at / S).toFixed(3)}`).join(' ');
    expect(
      y.map((e) => e.to),
      `${key}: sim ${show(x)} / netns ${show(y)}`,
    ).toEqual(x.map((e) => e.to));
    x.forEach((e, i) => {
      const d = y[i].at - e.at;
      worst = Math.max(worst, Math.abs(d));
      if (Math.abs(d) >= TARGET) over++;
      diffs.push(`${key} ${e.to}@${(e.at / S).toFixed(3)}s ${d >= 0 ? '+' : ''}${(d / 1000).toFixed(1)}`);
      expect(Math.abs(d), `${key} ${e.to}: sim ${show(x)} / netns ${show(y)}`).toBeLessThan(toleranceUs);
    });
  }
  const within = diffs.length - over;
  console.log(
    `${net.scenario}: netns - sim, ms: ${diffs.join(', ')}; at most ${(worst / 1000).toFixed(1)} ms; ${within}/${diffs.length} within ${TARGET / 1000} ms`,
  );
}

/** The netns run's log-vs-wire differences, and its start spread, printed. */
function printMeasured(net: LabRun): void {
  const start = net.start!;
  const starts = start.nodes.map((n) => `${n.node} ${(n.at / 1000).toFixed(1)}`).join(', ');
  console.log(`${net.scenario}: start spread ${(start.spread / 1000).toFixed(1)} ms (VRRP starts, ms: ${starts})`);
  const wire = net.transitions.filter((t) => t.logAt !== undefined);
  const d = wire.map((t) => `${t.node} ${t.to}@${(t.at / S).toFixed(3)}s ${(((t.logAt ?? 0) - t.at) / 1000).toFixed(1)}`);
  console.log(`${net.scenario}: log - wire, ms: ${d.join(', ')}; ${net.transitions.length - wire.length} transitions not on the wire`);
  const faults = net.faults.map((f) => `${f.text} ${((f.requestedAt ?? f.at) / S).toFixed(3)}s -> ${(f.at / S).toFixed(3)}s`);
  console.log(`${net.scenario}: faults requested -> in effect: ${faults.join(', ')}`);
}

/**
 * The scenario as netns ran it: every fault when it took effect, a restart once its daemon was
 * up, a stop when the daemon acted on it (sim stops a daemon at once; a
 * real one first has to take the signal: 0.1-0.2 s at load 10 here, ours and keepalived alike).
 */
function asRun(s: Scenario, run: LabRun, lags: Map<number, number>): Scenario {
  const faults = s.faults.map((f, i) => {
    const rec = run.faults.find((r) => r.index === i)!;
    if (f.kind === 'stop') {
      const stop = run.transitions.find((t) => t.node === f.node && (t.to === 'INIT' || t.to === 'STOPPED') && decided(t) >= rec.at);
      if (stop) console.log(`${s.name}, fault ${i} (stop ${f.node}): acted on ${((decided(stop) - rec.at) / 1000).toFixed(1)} ms after the signal`);
      return { ...f, at: stop ? decided(stop) : rec.at };
    }
    return { ...f, at: rec.at + (lags.get(i) ?? 0) };
  });
  return { ...s, faults };
}

/** Start-up of a restarted daemon beyond this is not load any more: the daemon is stuck. */
const START_UP_LIMIT = 10 * S;

/** Both backends: sim on the scenario, and sim replaying the netns run's measured starts and
 * fault times; the netns run judged from when its faults took effect. */
async function both(s: Scenario): Promise<{ sim: LabResult; net: LabResult; replay: LabResult }> {
  const sim = finish(s, await runSim(s));
  const run = await runNetns(s);
  const lags = startUpLags(s, run);
  for (const [index, l] of lags) {
    const what = `${s.name}, fault ${index} (${s.faults[index].kind})`;
    console.log(`${what}: on netns the daemon took ${(l / 1000).toFixed(0)} ms to come up`);
    expect(l, `${what}: start-up`).toBeLessThan(START_UP_LIMIT);
  }
  printMeasured(run);
  const starts = new Map(run.start!.nodes.map((n) => [n.node, Math.max(0, n.at)]));
  // Judged from when each fault took effect (a stop from its signal: an operator's "within 1s"),
  // a restart from when its daemon was up: verdicts read the run's fault records.
  const net = finish(s, { ...run, faults: run.faults.map((f) => ({ ...f, at: f.at + (lags.get(f.index) ?? 0) })) });
  const replayed = asRun(s, run, lags);
  const replay = finish(replayed, await runSim(replayed, { starts }));
  return { sim, net, replay };
}

describe.skipIf(!cap.ok)('sim and netns agree', () => {
  for (const file of ['master-killed.yaml', 'graceful-stop.yaml', 'partition-split-brain.yaml', 'weight-too-small.yaml']) {
    it(`${file}: same verdicts, same timeline within 0.5 s (50 ms the goal, printed)`, async () => {
      const s = load(file);
      const { sim, net, replay } = await both(s);
      expect(sim.passed).toBe(true);
      compare(replay, net, TOLERANCE, SETTLE);
      sameVerdicts(sim, net);
    }, 120_000);
  }

  it.skipIf(!ka.ok)(
    'a mixed pair: lb2 is the real keepalived 2.2.7, and the lab still tells the same story',
    async () => {
      // Without clients: this kernel has no IPVS, so a keepalived director cannot serve here.
      const s = load('master-killed.yaml', (t) =>
        t
          .replace('  lb2: pair/lb2.conf', '  lb2: {config: pair/lb2.conf, impl: keepalived}')
          .replace(/^clients:\n.*\n/m, '')
          .replace(/^ {2}- \{requests:.*\n/m, ''),
      );
      expect(s.nodes.find((n) => n.name === 'lb2')!.impl).toBe('keepalived');
      const { sim, net, replay } = await both(s);
      expect(sim.passed).toBe(true);
      compare(replay, net, TOLERANCE, SETTLE);
      sameVerdicts(sim, net);
    },
    120_000,
  );
});
