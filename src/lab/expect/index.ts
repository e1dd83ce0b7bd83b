// Judging a lab run, whatever the backend: split brains derived from the recorded transitions,
// and a verdict per expectation whose `why` names the times (and priorities) that decided it.
// Pure: a LabRun in, a LabResult out.
import { faultText } from '../model/fault-text.js';
import type { LabResult, LabRun, LabState, LabVerdict } from '../model/result.js';
import type { Expectation, Micros, Scenario } from '../model/scenario.js';

type SplitBrain = LabResult['splitBrains'][number];

export function finish(scenario: Scenario, run: LabRun): LabResult {
  const h = new History(scenario, run);
  const splitBrains = findSplitBrains(h);
  const expectations = scenario.expectations.map((e, index): LabVerdict => {
    const v = judge(e, h, splitBrains);
    return { index, text: describe(e, scenario), ...v, where: `${e.span.file}:${e.span.line}:${e.span.col}` };
  });
  return { ...run, splitBrains, expectations, passed: expectations.every((v) => v.passed) };
}

/** "5.00s": a moment of the run. */
export function at(t: Micros): string {
  return `${(t / 1e6).toFixed(2)}s`;
}

/** "2.84s", "250ms", "100µs": a length of time. */
export function dur(us: Micros): string {
  const a = Math.abs(us);
  if (a < 1e3) return `${+us.toFixed(1)}µs`;
  if (a < 1e6) return `${+(us / 1e3).toFixed(2)}ms`;
  return `${+(us / 1e6).toFixed(2)}s`;
}

const list = (xs: string[]): string => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

function lastMatch<T>(xs: readonly T[], ok: (x: T) => boolean): T | undefined {
  for (let i = xs.length - 1; i >= 0; i--) if (ok(xs[i])) return xs[i];
  return undefined;
}

/** The run as queries: states and priorities of each node's instance at any time. */
class History {
  /** Transitions in time order (stable), per node/instance. */
  readonly byKey = new Map<string, LabRun['transitions']>();
  readonly times: Micros[];
  readonly transitions: LabRun['transitions'];

  constructor(
    readonly scenario: Scenario,
    readonly run: LabRun,
  ) {
    this.transitions = [...run.transitions].sort((a, b) => a.at - b.at);
    for (const t of this.transitions) {
      const k = `${t.node}/${t.instance}`;
      if (!this.byKey.has(k)) this.byKey.set(k, []);
      this.byKey.get(k)!.push(t);
    }
    this.times = [...new Set(this.transitions.map((t) => t.at))];
  }

  /** The state at `t`, after everything recorded at `t` (or just before `t` with `before`). */
  state(node: string, instance: string, t: Micros, before = false): LabState | undefined {
    return lastMatch(this.byKey.get(`${node}/${instance}`) ?? [], (x) => (before ? x.at < t : x.at <= t))?.to;
  }

  masters(instance: string, t: Micros, before = false): string[] {
    return this.nodesOf(instance).filter((n) => this.state(n, instance, t, before) === 'MASTER');
  }

  nodesOf(instance: string): string[] {
    return this.run.nodes.filter((n) => n.instances.some((i) => i.name === instance)).map((n) => n.name);
  }

  /** The effective priority at `t` (strictly before it with `before`), from transitions and priority changes. */
  priority(node: string, instance: string, t: Micros, before = false): number | undefined {
    let best: { at: Micros; priority: number } | undefined;
    const consider = (x: { at: Micros; priority: number }): void => {
      if ((before ? x.at < t : x.at <= t) && (!best || x.at >= best.at)) best = x;
    };
    for (const x of this.byKey.get(`${node}/${instance}`) ?? []) if (x.to !== 'STOPPED') consider(x);
    for (const x of this.run.priorities ?? []) if (x.node === node && x.instance === instance) consider(x);
    return best?.priority;
  }

  fault(index: number): { at: Micros; text: string } {
    const f = this.scenario.faults[index];
    return { at: this.run.faults.find((r) => r.index === index)?.at ?? f.at, text: faultText(f) };
  }

  segmentOf(node: string, ifname: string): string {
    return this.scenario.segments.find((s) => s.members.some((m) => m.node === node && m.interface === ifname))?.name ?? `${node}:${ifname}`;
  }
}

/** Periods with more than one MASTER per VRID on one segment; every change at one instant counts together. */
function findSplitBrains(h: History): SplitBrain[] {
  const keyOf = new Map<string, { key: string; vrid: number }>();
  for (const n of h.run.nodes)
    for (const i of n.instances) keyOf.set(`${n.name}/${i.name}`, { key: `${h.segmentOf(n.name, i.interface)}/${i.vrid}`, vrid: i.vrid });
  const masters = new Map<string, Map<string, string>>(); // key → node → instance
  const open = new Map<string, SplitBrain>();
  const out: SplitBrain[] = [];
  const ts = h.transitions;
  for (let i = 0; i < ts.length;) {
    const t = ts[i].at;
    const touched = new Set<string>();
    for (; i < ts.length && ts[i].at === t; i++) {
      const x = ts[i];
      const k = keyOf.get(`${x.node}/${x.instance}`);
      if (!k) continue;
      if (!masters.has(k.key)) masters.set(k.key, new Map());
      if (x.to === 'MASTER') masters.get(k.key)!.set(x.node, x.instance);
      else masters.get(k.key)!.delete(x.node);
      touched.add(k.key);
    }
    for (const key of touched) {
      const m = masters.get(key)!;
      const sb = open.get(key);
      if (m.size > 1) {
        if (sb) for (const n of m.keys()) if (!sb.nodes.includes(n)) sb.nodes.push(n);
        if (!sb) {
          const s: SplitBrain = { vrid: Number(key.slice(key.lastIndexOf('/') + 1)), instance: [...m.values()][0], nodes: [...m.keys()], start: t, end: null };
          open.set(key, s);
          out.push(s);
        }
      } else if (sb) {
        sb.end = t;
        open.delete(key);
      }
    }
  }
  return out;
}

function describe(e: Expectation, sc: Scenario): string {
  switch (e.kind) {
    case 'master':
      return `${e.node ?? 'nobody'} is MASTER of ${e.instance} at ${at(e.at)}`;
    case 'single-master':
      return `at most one MASTER per VRID (overlaps up to ${dur(e.window)})`;
    case 'failover':
      return `${e.instance} fails over to ${e.to} within ${dur(e.within)} after ${faultText(sc.faults[e.after])}`;
    case 'no-failover':
      return `${e.instance} keeps its MASTER for ${dur(e.for)} after ${faultText(sc.faults[e.after])}`;
    case 'requests':
      return `${e.client ? `${e.client}'s requests` : 'every request'} succeed${e.client ? '' : 's'} outside ${dur(e.window)} after each fault`;
    case 'vip':
      return `${e.address} ${e.reachable ? 'answers' : 'does not answer'} at ${at(e.at)}`;
    case 'notify':
      return `${e.node} notifies ${e.instance}: ${e.states.join(', ')}`;
  }
}

type Judged = Pick<LabVerdict, 'passed' | 'why' | 'at'>;

function judge(e: Expectation, h: History, sbs: SplitBrain[]): Judged {
  switch (e.kind) {
    case 'master':
      return master(e, h);
    case 'single-master':
      return singleMaster(e, h, sbs);
    case 'failover':
      return failover(e, h);
    case 'no-failover':
      return noFailover(e, h);
    case 'requests':
      return requests(e, h);
    case 'vip':
      return vip(e, h);
    case 'notify':
      return notify(e, h);
  }
}

/** "lb1 (since 3.61s)": who is MASTER, and since when. */
function mastersText(h: History, instance: string, t: Micros): string {
  const ms = h.masters(instance, t);
  if (!ms.length) return 'nobody';
  return list(ms.map((n) => `${n} (since ${at(lastMatch(h.byKey.get(`${n}/${instance}`)!, (x) => x.at <= t && x.to === 'MASTER')!.at)})`));
}

function master(e: Extract<Expectation, { kind: 'master' }>, h: History): Judged {
  const ms = h.masters(e.instance, e.at);
  const passed = e.node === null ? ms.length === 0 : ms.length === 1 && ms[0] === e.node;
  const who = ms.length
    ? `${mastersText(h, e.instance, e.at)} ${ms.length > 1 ? 'were' : 'was'} MASTER of ${e.instance}`
    : `nobody was MASTER of ${e.instance}`;
  const expected = passed ? '' : e.node === null ? '; expected nobody' : `; expected ${e.node} alone`;
  return { passed, why: `at ${at(e.at)} ${who}${expected}`, ...(passed ? {} : { at: e.at }) };
}

function singleMaster(e: Extract<Expectation, { kind: 'single-master' }>, h: History, sbs: SplitBrain[]): Judged {
  const end = h.run.duration;
  const len = (s: SplitBrain): Micros => (s.end ?? end) - s.start;
  const bad = sbs.find((s) => len(s) > e.window);
  const where = (s: SplitBrain): string =>
    `${list(s.nodes)} were all MASTER of VRID ${s.vrid} (${s.instance}) from ${at(s.start)} ${s.end === null ? `until the end of the run (${at(end)})` : `to ${at(s.end)}`}`;
  if (bad) return { passed: false, why: `${where(bad)}: ${dur(len(bad))}, longer than the ${dur(e.window)} window`, at: bad.start + e.window };
  if (!sbs.length) return { passed: true, why: 'never more than one MASTER per VRID' };
  const longest = sbs.reduce((a, b) => (len(b) > len(a) ? b : a));
  return {
    passed: true,
    why: `${sbs.length} overlap(s), the longest ${dur(len(longest))} (${list(longest.nodes)}, VRID ${longest.vrid} at ${at(longest.start)}), within the ${dur(e.window)} window`,
  };
}

/** "lb1's priority fell to 70, still above lb2's 90": the priorities behind a (non-)failover. */
function priorityText(h: History, instance: string, master: string, f: Micros, t: Micros): string {
  const p0 = h.priority(master, instance, f, true);
  const p1 = h.priority(master, instance, t);
  if (p1 === undefined) return '';
  const moved = p0 === undefined || p0 === p1 ? `${master}'s priority was ${p1}` : `${master}'s priority ${p1 < p0 ? 'fell' : 'rose'} to ${p1}`;
  const others = h
    .nodesOf(instance)
    .filter((n) => n !== master && h.state(n, instance, t) !== undefined && !['STOPPED', 'INIT', 'FAULT'].includes(h.state(n, instance, t)!));
  const ps = others.map((n) => ({ n, p: h.priority(n, instance, t) })).filter((x): x is { n: string; p: number } => x.p !== undefined);
  if (!ps.length) return moved;
  const top = ps.reduce((a, b) => (b.p > a.p ? b : a));
  const rel = p1 > top.p ? 'still above' : p1 === top.p ? 'equal to' : 'below';
  return `${moved}, ${rel} ${list(ps.map((x) => `${x.n}'s ${x.p}`))}`;
}

function failover(e: Extract<Expectation, { kind: 'failover' }>, h: History): Judged {
  const f = h.fault(e.after);
  const after = `'${f.text}' at ${at(f.at)}`;
  if (h.state(e.to, e.instance, f.at) === 'MASTER') return { passed: true, why: `${e.to} was already MASTER of ${e.instance} at ${after}` };
  const became = h.byKey.get(`${e.to}/${e.instance}`)?.find((x) => x.at >= f.at && x.to === 'MASTER');
  const deadline = f.at + e.within;
  if (became && became.at <= deadline) {
    return { passed: true, why: `${e.to} became MASTER at ${at(became.at)}, ${dur(became.at - f.at)} after ${after} (bound ${dur(e.within)})` };
  }
  if (became)
    return { passed: false, why: `${e.to} became MASTER at ${at(became.at)}, ${dur(became.at - f.at)} after ${after} (bound ${dur(e.within)})`, at: deadline };
  const t = Math.min(deadline, h.run.duration);
  const st = h.state(e.to, e.instance, t) ?? 'INIT';
  const prio = h.priority(e.to, e.instance, t);
  const ms = h.masters(e.instance, t);
  const why = `${e.to} never became MASTER of ${e.instance} after ${after}: at ${at(t)} it was ${st}${prio !== undefined && st !== 'STOPPED' ? ` (priority ${prio})` : ''}, MASTER: ${mastersText(h, e.instance, t)}`;
  return { passed: false, why: ms.length ? `${why}; ${priorityText(h, e.instance, ms[0], f.at, t)}` : why, at: deadline };
}

function noFailover(e: Extract<Expectation, { kind: 'no-failover' }>, h: History): Judged {
  const f = h.fault(e.after);
  const after = `'${f.text}' at ${at(f.at)}`;
  const end = Math.min(f.at + e.for, h.run.duration);
  // Mastership as it was when the fault struck, compared with every change during the period.
  const before = h.masters(e.instance, f.at, true);
  const same = (xs: string[]): boolean => xs.length === before.length && xs.every((x) => before.includes(x));
  for (const t of h.times) {
    if (t < f.at || t > end) continue;
    const now = h.masters(e.instance, t);
    if (same(now)) continue;
    const gained = now.filter((n) => !before.includes(n));
    const lost = before.filter((n) => !now.includes(n));
    const what = gained.length ? `${list(gained)} became MASTER` : `${list(lost)} stopped being MASTER (now ${h.state(lost[0], e.instance, t)})`;
    const prio = before.length && h.state(before[0], e.instance, t) !== 'STOPPED' ? `; ${priorityText(h, e.instance, before[0], f.at, t)}` : '';
    return { passed: false, why: `${what} of ${e.instance} at ${at(t)}, ${dur(t - f.at)} after ${after}${prio}`, at: t };
  }
  if (!before.length) return { passed: true, why: `nobody was or became MASTER of ${e.instance} from ${at(f.at)} to ${at(end)}, after ${after}` };
  return {
    passed: true,
    why: `${list(before)} stayed MASTER of ${e.instance} from ${at(f.at)} to ${at(end)}, after ${after}: ${priorityText(h, e.instance, before[0], f.at, end)}`,
  };
}

function requests(e: Extract<Expectation, { kind: 'requests' }>, h: History): Judged {
  const buckets = h.run.requests.filter((b) => !e.client || b.client === e.client);
  const who = e.client ?? 'the clients';
  if (!buckets.reduce((a, b) => a + b.ok + b.failed, 0)) return { passed: false, why: `no requests of ${who} were recorded`, at: 0 };
  // Buckets are whole seconds: one that overlaps a fault's window is excused whole.
  const excused = (s: number): boolean => h.run.faults.some((f) => s * 1e6 <= f.at + e.window && (s + 1) * 1e6 > f.at);
  let total = 0;
  let inWindows = 0;
  const bad: typeof buckets = [];
  for (const b of buckets) {
    total += b.ok + b.failed;
    if (!b.failed) continue;
    if (excused(b.second)) inWindows += b.failed;
    else bad.push(b);
  }
  if (!bad.length)
    return {
      passed: true,
      why: `all ${total - inWindows} request(s) of ${who} outside the ${dur(e.window)} fault windows succeeded${inWindows ? ` (${inWindows} failed within them)` : ''}`,
    };
  const failed = bad.reduce((a, b) => a + b.failed, 0);
  const reasons = new Map<string, number>();
  for (const b of bad) for (const [r, n] of Object.entries(b.failures ?? {})) reasons.set(r, (reasons.get(r) ?? 0) + n);
  const seconds = [...new Set(bad.map((b) => b.second))].sort((a, b) => a - b);
  const span = seconds.length === 1 ? `in second ${seconds[0]}` : `in seconds ${seconds[0]}–${seconds[seconds.length - 1]}`;
  const top = [...reasons]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([r, n]) => `${r} ×${n}`);
  return {
    passed: false,
    why: `${failed} of ${total} request(s) of ${who} failed outside the ${dur(e.window)} fault windows, ${span}${top.length ? `: ${top.join('; ')}` : ''}`,
    at: seconds[0] * 1e6,
  };
}

function vip(e: Extract<Expectation, { kind: 'vip' }>, h: History): Judged {
  const samples = h.run.vips;
  if (!samples) return { passed: false, why: `the ${h.run.backend} backend did not record the VIPs`, at: e.at };
  const mine = samples.filter((v) => v.address === e.address && v.at <= e.at);
  const last = mine[mine.length - 1];
  const reachable = last?.reachable ?? false;
  const passed = reachable === e.reachable;
  // Since when it has been as it is: the first sample of the current run of equal ones.
  let since = mine.length - 1;
  while (since > 0 && mine[since - 1].reachable === reachable && mine[since - 1].holders.join() === last.holders.join()) since--;
  const state = !last
    ? `nothing was known of ${e.address} yet`
    : `${e.address} ${reachable ? 'answered' : 'did not answer'}${last.holders.length ? `, held by ${list(last.holders)}` : ', held by nobody'} (since ${at(mine[since].at)})`;
  return { passed, why: `at ${at(e.at)} ${state}`, ...(passed ? {} : { at: e.at }) };
}

function notify(e: Extract<Expectation, { kind: 'notify' }>, h: History): Judged {
  const ran = h.run.notifies.filter((n) => n.node === e.node && n.name === e.instance);
  const got = ran.map((n) => n.state);
  const passed = got.length === e.states.length && got.every((s, i) => s === e.states[i]);
  const seq = got.length ? ran.map((n) => `${n.state} (${at(n.at)})`).join(', ') : 'nothing';
  if (passed) return { passed, why: `${e.node} notified ${e.instance}: ${seq}` };
  const i = got.findIndex((s, k) => s !== e.states[k]);
  const when = i >= 0 ? ran[i].at : (ran[ran.length - 1]?.at ?? h.run.duration);
  return { passed, why: `${e.node} notified ${e.instance}: ${seq}; expected ${e.states.join(', ')}`, at: when };
}
