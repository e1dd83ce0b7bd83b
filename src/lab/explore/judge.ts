// Judging one run of the explorer: what an operator needs to know, found in the recorded
// transitions, VIPs and requests rather than in expectations somebody wrote. Pure: a finished
// LabResult and the fault run in, findings out, each with the expectation that fails when the
// finding's scenario is run again.
import { dur, at as moment } from '../expect/index.js';
import type { LabResult, LabState } from '../model/result.js';
import type { Micros } from '../model/scenario.js';
import { formatTime } from '../model/times.js';
import { masterDownInterval, type FaultRun, type NodeConfig } from './space.js';

export type FindingKind = 'split-brain' | 'no-master' | 'clients-failing' | 'no-failover' | 'flapping';

export interface Finding {
  kind: FindingKind;
  /** problem: the configs' doing; limit: what VRRP cannot avoid (two MASTERs while partitioned). */
  severity: 'problem' | 'limit';
  /** The instance (or, for clients-failing, the client) concerned. */
  subject: string;
  nodes: string[];
  /** When the bad period began and how long it lasted (to the end of the run when `open`). */
  start: Micros;
  length: Micros;
  open: boolean;
  /** One sentence with the times and priorities that decided it. */
  why: string;
  /** The expectation that fails when the finding's scenario runs: one `expect:` entry. */
  expect: Record<string, unknown>;
}

/** Per instance name: what the judge needs of it, from the nodes' configs. */
export interface InstanceFacts {
  name: string;
  advertInt: number;
  version: 2 | 3;
  nodes: string[];
  vips: string[];
}

export function instanceFacts(nodes: readonly NodeConfig[]): InstanceFacts[] {
  const byName = new Map<string, InstanceFacts>();
  for (const n of nodes) {
    for (const i of n.config.resolved.vrrpInstances) {
      let f = byName.get(i.name);
      if (!f) byName.set(i.name, (f = { name: i.name, advertInt: i.advertInt, version: i.version, nodes: [], vips: [] }));
      f.advertInt = Math.max(f.advertInt, i.advertInt);
      f.nodes.push(n.name);
      for (const v of i.virtualIpaddress) if (!f.vips.includes(v.address)) f.vips.push(v.address);
    }
  }
  return [...byName.values()];
}

/** More MASTER elections than this in one window (between two faults) is flapping. */
export const FLAP_ELECTIONS = 3;
/** Requests may fail this long after a VIP moves (ARP caches, checkers) before it counts. */
export const CLIENT_GRACE: Micros = 2_000_000;
/** A no-MASTER gap may exceed Master_Down_Interval by this much (timer rounding). */
const GAP_SLACK: Micros = 10_000;

const list = (xs: readonly string[]): string => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

class Run {
  readonly byKey = new Map<string, LabResult['transitions']>();
  /** Fault times, ascending, with the run's start and end: the windows' edges. */
  readonly edges: Micros[];

  constructor(
    readonly r: LabResult,
    readonly faults: FaultRun,
  ) {
    for (const t of [...r.transitions].sort((a, b) => a.at - b.at)) {
      const k = `${t.node}/${t.instance}`;
      if (!this.byKey.has(k)) this.byKey.set(k, []);
      this.byKey.get(k)!.push(t);
    }
    this.edges = [...new Set([0, ...faults.faults.map((f) => f.at), r.duration])].sort((a, b) => a - b);
  }

  state(node: string, inst: string, t: Micros, before = false): LabState | undefined {
    let s: LabState | undefined;
    for (const x of this.byKey.get(`${node}/${inst}`) ?? []) if (before ? x.at < t : x.at <= t) s = x.to;
    return s;
  }

  priority(node: string, inst: string, t: Micros): number | undefined {
    let best: { at: Micros; priority: number } | undefined;
    const consider = (x: { at: Micros; priority: number }): void => {
      if (x.at <= t && (!best || x.at >= best.at)) best = x;
    };
    for (const x of this.byKey.get(`${node}/${inst}`) ?? []) if (x.to !== 'STOPPED') consider(x);
    for (const x of this.r.priorities ?? []) if (x.node === node && x.instance === inst) consider(x);
    return best?.priority;
  }

  /** The lowest priority any node had for the instance (for the slowest Master_Down_Interval). */
  lowestPriority(inst: InstanceFacts): number {
    let p = 255;
    for (const x of this.r.transitions) if (x.instance === inst.name && x.priority > 0) p = Math.min(p, x.priority);
    for (const x of this.r.priorities ?? []) if (x.instance === inst.name && x.priority > 0) p = Math.min(p, x.priority);
    return p;
  }

  /** The last fault at or before `t`, with its label (for `after:`). */
  faultBefore(t: Micros): { at: Micros; label: string } | undefined {
    let out: { at: Micros; label: string } | undefined;
    this.faults.faults.forEach((f, i) => {
      if (f.at <= t) out = { at: f.at, label: this.faults.labels[i] };
    });
    return out;
  }

  windowEnd(t: Micros): Micros {
    return this.edges.find((e) => e > t) ?? this.r.duration;
  }
}

export function judgeRun(result: LabResult, faults: FaultRun, instances: readonly InstanceFacts[]): Finding[] {
  const run = new Run(result, faults);
  return [...splitBrains(run, instances), ...noMaster(run, instances), ...clientsFailing(run), ...noFailover(run, instances), ...flapping(run, instances)];
}

/** Two MASTERs for longer than one advert interval, unless the directors were partitioned. */
function splitBrains(run: Run, instances: readonly InstanceFacts[]): Finding[] {
  const out: Finding[] = [];
  for (const sb of run.r.splitBrains) {
    const inst = instances.find((i) => i.name === sb.instance);
    const window = (inst?.advertInt ?? 1) * 1e6;
    const end = sb.end ?? run.r.duration;
    const length = end - sb.start;
    if (length <= window) continue;
    // The partitions that kept these nodes apart, each until its heal plus one advert.
    const cut = run.faults.windows.filter(
      (w) => w.choice.kind === 'partition' && w.from <= sb.start && w.to + window >= end && separates(w.choice.apply(0), sb.nodes),
    );
    const limit = cut.length > 0;
    const span = sb.end === null ? `from ${moment(sb.start)} to the end of the run` : `from ${moment(sb.start)} to ${moment(sb.end)}`;
    const why = limit
      ? `${list(sb.nodes)} were ${sb.nodes.length === 2 ? 'both' : 'all'} MASTER of ${sb.instance} (VRID ${sb.vrid}) ${span}, ${dur(length)}, while '${cut[0].choice.id}' kept them apart: VRRP cannot tell a lost link from a dead peer`
      : `${list(sb.nodes)} were ${sb.nodes.length === 2 ? 'both' : 'all'} MASTER of ${sb.instance} (VRID ${sb.vrid}) ${span}, ${dur(length)}, longer than one advert interval (${dur(window)})`;
    out.push({
      kind: 'split-brain',
      severity: limit ? 'limit' : 'problem',
      subject: sb.instance,
      nodes: [...sb.nodes].sort(),
      start: sb.start,
      length,
      open: sb.end === null,
      why,
      expect: { 'single-master': { window: formatTime(window) } },
    });
  }
  return out;
}

function separates(f: ReturnType<FaultRun['choices'][number]['apply']>, nodes: readonly string[]): boolean {
  if (f.kind !== 'partition') return false;
  const group = (n: string): number => f.groups.findIndex((g) => g.includes(n));
  return nodes.some((a) => nodes.some((b) => group(a) !== group(b)));
}

/** No MASTER while some node was BACKUP, for longer than the slowest Master_Down_Interval. */
function noMaster(run: Run, instances: readonly InstanceFacts[]): Finding[] {
  const out: Finding[] = [];
  for (const inst of instances) {
    const bound = masterDownInterval(inst.advertInt, inst.version, run.lowestPriority(inst)) + GAP_SLACK;
    const times = [...new Set(run.r.transitions.filter((t) => t.instance === inst.name).map((t) => t.at))].sort((a, b) => a - b);
    let from: Micros | undefined;
    let waiting: string[] = [];
    const close = (to: Micros, open: boolean): void => {
      if (from === undefined) return;
      const length = to - from;
      if (length > bound) {
        const next = inst.nodes.find((n) => run.state(n, inst.name, to) === 'MASTER');
        out.push({
          kind: 'no-master',
          severity: 'problem',
          subject: inst.name,
          nodes: [...waiting].sort(),
          start: from,
          length,
          open,
          why: `nobody was MASTER of ${inst.name} from ${moment(from)} ${open ? 'to the end of the run' : `to ${moment(to)}`} (${dur(length)}) while ${list(waiting)} ${waiting.length > 1 ? 'were' : 'was'} BACKUP; Master_Down_Interval is ${dur(bound - GAP_SLACK)}${next ? `; then ${next} became MASTER` : ''}`,
          expect: { master: { [inst.name]: next ?? waiting[0] }, at: formatTime(from + bound + Math.min(500_000, Math.floor((length - bound) / 2))) },
        });
      }
      from = undefined;
    };
    for (const t of times) {
      const masters = inst.nodes.filter((n) => run.state(n, inst.name, t) === 'MASTER');
      const backups = inst.nodes.filter((n) => run.state(n, inst.name, t) === 'BACKUP');
      if (!masters.length && backups.length) {
        if (from === undefined) {
          from = t;
          waiting = backups;
        } else for (const b of backups) if (!waiting.includes(b)) waiting.push(b);
      } else close(t, false);
    }
    close(run.r.duration, true);
  }
  return out;
}

/** A VIP moved (a new holder answers for it) and the clients' requests kept failing after it. */
function clientsFailing(run: Run): Finding[] {
  const out: Finding[] = [];
  const clients = [...new Set(run.r.requests.map((b) => b.client))];
  const vips = run.r.vips ?? [];
  for (const client of clients) {
    const buckets = run.r.requests.filter((b) => b.client === client);
    // The address the client's requests go to: every VIP whose samples changed holder.
    const addresses = [...new Set(vips.map((v) => v.address))];
    for (const address of addresses) {
      let holder = '';
      for (const v of vips.filter((x) => x.address === address)) {
        const now = v.holders.length === 1 ? v.holders[0] : '';
        if (!now || now === holder) continue;
        const moved = holder !== '';
        holder = now;
        if (!moved) continue;
        const from = v.at + CLIENT_GRACE;
        const to = run.windowEnd(v.at);
        const bad = buckets.filter((b) => b.failed > 0 && b.second * 1e6 >= from && (b.second + 1) * 1e6 <= to && !run.edges.includes(b.second * 1e6));
        if (!bad.length) continue;
        const failed = bad.reduce((a, b) => a + b.failed, 0);
        const total = bad.reduce((a, b) => a + b.failed + b.ok, 0);
        const reasons = new Map<string, number>();
        for (const b of bad) for (const [r, n] of Object.entries(b.failures ?? {})) reasons.set(r, (reasons.get(r) ?? 0) + n);
        const top = [...reasons].sort((a, b) => b[1] - a[1])[0];
        const first = bad[0].second;
        const last = bad[bad.length - 1].second;
        const prior = run.faultBefore(first * 1e6);
        // Short of the first bad second by a millisecond (times are written to the ms).
        const window = Math.max(0, Math.floor((first * 1e6 - (prior?.at ?? 0) - 1000) / 1000) * 1000);
        out.push({
          kind: 'clients-failing',
          severity: 'problem',
          subject: client,
          nodes: [now],
          start: first * 1e6,
          length: (last + 1 - first) * 1e6,
          open: false,
          why: `${address} moved to ${now} at ${moment(v.at)}, and ${failed} of ${total} of ${client}'s requests still failed from ${first}s to ${last + 1}s${top ? ` (${top[0]})` : ''}`,
          expect: { requests: { client, window: formatTime(window) } },
        });
      }
    }
  }
  return out;
}

/** A tracked object failed on the MASTER, a healthy BACKUP was there, and mastership stayed. */
function noFailover(run: Run, instances: readonly InstanceFacts[]): Finding[] {
  const out: Finding[] = [];
  const windows = run.faults.windows;
  for (const w of windows) {
    const x = w.choice.node;
    if (!x || !w.choice.impairs.length) continue;
    // Judged at the end of the fault's window: the next fault, its undo, or the end.
    const end = run.windowEnd(w.from) - 1;
    for (const name of w.choice.impairs) {
      const inst = instances.find((i) => i.name === name);
      if (!inst || run.state(x, name, w.from, true) !== 'MASTER' || run.state(x, name, end) !== 'MASTER') continue;
      // A peer fit to take over: BACKUP all along, struck by no fault of its own meanwhile.
      const struck = (n: string): boolean => windows.some((o) => o !== w && o.choice.node === n && o.from <= end && o.to > w.from);
      const partitioned = windows.some((o) => o.choice.kind === 'partition' && o.from <= end && o.to > w.from);
      if (partitioned) continue;
      const peers = inst.nodes.filter((n) => n !== x && !struck(n) && run.state(n, name, w.from) === 'BACKUP' && run.state(n, name, end) === 'BACKUP');
      if (!peers.length) continue;
      const before = run.priority(x, name, w.from - 1);
      const after = run.priority(x, name, end);
      const theirs = peers.map((n) => `${n}'s ${run.priority(n, name, end) ?? '?'}`);
      const fell =
        before !== undefined && after !== undefined && after !== before
          ? `${x}'s priority fell from ${before} to ${after}`
          : `${x}'s priority stayed ${after ?? '?'}`;
      const label = run.faults.labels[run.faults.faults.findIndex((f) => f.at === w.from)];
      out.push({
        kind: 'no-failover',
        severity: 'problem',
        subject: name,
        nodes: [x, ...peers],
        start: w.from,
        length: end + 1 - w.from,
        open: false,
        why: `after '${w.choice.id}' at ${moment(w.from)}, ${x} stayed MASTER of ${name} for ${dur(end + 1 - w.from)}: ${fell}, still above ${list(theirs)}`,
        expect: { failover: { after: label, instance: name, to: peers[0], within: formatTime(end - w.from) } },
      });
    }
  }
  return out;
}

/** More than FLAP_ELECTIONS - 1 new MASTERs of one instance between two faults. */
function flapping(run: Run, instances: readonly InstanceFacts[]): Finding[] {
  const out: Finding[] = [];
  for (const inst of instances) {
    for (let i = 0; i + 1 < run.edges.length; i++) {
      const [from, to] = [run.edges[i], run.edges[i + 1]];
      const elections = run.r.transitions.filter((t) => t.instance === inst.name && t.to === 'MASTER' && t.at >= from && t.at < to);
      if (elections.length < FLAP_ELECTIONS) continue;
      const nodes = [...new Set(elections.map((e) => e.node))].sort();
      const first = elections[0];
      const other = elections.find((e) => e.node !== first.node) ?? elections[1];
      out.push({
        kind: 'flapping',
        severity: 'problem',
        subject: inst.name,
        nodes,
        start: first.at,
        length: elections[elections.length - 1].at - first.at,
        open: false,
        why: `${elections.length} MASTER elections of ${inst.name} from ${moment(first.at)} to ${moment(elections[elections.length - 1].at)} with no fault in between (${elections.map((e) => `${e.node} ${moment(e.at)}`).join(', ')})`,
        // Whoever was elected first is expected to still be MASTER when another one is.
        expect: { master: { [inst.name]: first.node }, at: formatTime(other.at) },
      });
    }
  }
  return out;
}
