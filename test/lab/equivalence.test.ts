// The lab's promise: a scenario gives the same verdict on sim and on netns, and the simulated
// timeline matches the one real daemons produce within the timers' tolerance. Shipped scenarios
// on both backends, and a mixed pair with the real keepalived. Needs root for netns.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { finish } from '../../src/lab/expect.js';
import { loadScenario, loadScenarioText } from '../../src/lab/load.js';
import { runNetns } from '../../src/lab/netns.js';
import { keepalivedCapability, netnsCapability } from '../../src/lab/netns-host.js';
import type { LabResult } from '../../src/lab/result.js';
import type { Scenario } from '../../src/lab/scenario.js';
import { runSim } from '../../src/lab/sim.js';

const DIR = fileURLToPath(new URL('../../conf-examples/lab/', import.meta.url));
const S = 1_000_000;
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

/** Each node × instance: its MASTER/BACKUP/FAULT changes (what a peer or an operator sees), timed. */
function timeline(r: LabResult): Map<string, { to: string; at: number }[]> {
  const out = new Map<string, { to: string; at: number }[]>();
  for (const t of r.transitions) {
    const key = `${t.node} ${t.instance}`;
    const list = out.get(key) ?? [];
    const to = t.to === 'INIT' ? 'STOPPED' : t.to;
    if (list.at(-1)?.to !== to) list.push({ to, at: t.at });
    out.set(key, list);
  }
  return out;
}

/**
 * Compare both runs: same verdict per expectation, same sequence of states per node and instance,
 * each change within `toleranceUs` (start-up order on netns varies by a few 100 ms; timers are
 * whole advert intervals). Start-up (before `settleUs`) is left out: the daemons do not start at
 * the same instant on netns.
 */
function compare(sim: LabResult, net: LabResult, toleranceUs: number, settleUs: number): void {
  const verdicts = (r: LabResult) => r.expectations.map((e) => `${e.passed ? 'pass' : 'FAIL'} ${e.text}`);
  expect(verdicts(net), net.expectations.filter((e) => !e.passed).map((e) => e.why).join('\n')).toEqual(verdicts(sim));
  const a = timeline(sim);
  const b = timeline(net);
  let worst = 0;
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [key, list] of a) {
    const later = (l: { to: string; at: number }[]) => l.filter((x) => x.at >= settleUs);
    const [x, y] = [later(list), later(b.get(key)!)];
    const show = (l: { to: string; at: number }[]) => l.map((e) => `${e.to}@${(e.at / S).toFixed(2)}`).join(' ');
    expect(y.map((e) => e.to), `${key}: sim ${show(x)} / netns ${show(y)}`).toEqual(x.map((e) => e.to));
    x.forEach((e, i) => {
      const d = Math.abs(y[i].at - e.at);
      worst = Math.max(worst, d);
      expect(d, `${key} ${e.to}: sim ${show(x)} / netns ${show(y)}`).toBeLessThan(toleranceUs);
    });
  }
  console.log(`${sim.scenario}: sim and netns timelines differ by at most ${(worst / 1000).toFixed(0)} ms`);
}

async function both(s: Scenario): Promise<{ sim: LabResult; net: LabResult }> {
  const sim = finish(s, await runSim(s));
  const net = finish(s, await runNetns(s));
  return { sim, net };
}

describe.skipIf(!cap.ok)('sim and netns agree', () => {
  for (const file of ['master-killed.yaml', 'graceful-stop.yaml', 'partition-split-brain.yaml', 'weight-too-small.yaml']) {
    it(`${file}: same verdicts, same timeline within 1 s`, async () => {
      const s = load(file);
      const { sim, net } = await both(s);
      expect(sim.passed).toBe(true);
      compare(sim, net, S, 5 * S);
    }, 120_000);
  }

  it.skipIf(!ka.ok)('a mixed pair: lb2 is the real keepalived 2.2.7, and the lab still tells the same story', async () => {
    // Without clients: this kernel has no IPVS, so a keepalived director cannot serve here.
    const s = load('master-killed.yaml', (t) =>
      t.replace('  lb2: pair/lb2.conf', '  lb2: {config: pair/lb2.conf, impl: keepalived}')
        .replace(/^clients:\n.*\n/m, '')
        .replace(/^ {2}- \{requests:.*\n/m, ''));
    expect(s.nodes.find((n) => n.name === 'lb2')!.impl).toBe('keepalived');
    const { sim, net } = await both(s);
    expect(sim.passed).toBe(true);
    compare(sim, net, S, 5 * S);
  }, 120_000);
});
