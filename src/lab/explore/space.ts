// The fault space of a director pair (or more nodes): every single fault its configs make
// possible, and every ordered pair of them, each laid out as a lab timeline from a settled start.
// Pure: the nodes' loaded configs and the scenario in, fault choices and timelines out.
//
// A fault is held for one reaction window (long enough for the slowest tracker to count it and
// a backup to time out the master), then undone, so each run also shows the recovery:
//   single  A at T0, undo A at T0+R, end at T0+2R
//   pair    A at T0, B at T0+R, undo A at T0+2R, undo B at T0+3R, end at T0+4R
import type { Config, ResolvedVrrpInstance } from '../../config/model/index.js';
import type { Fault, Micros, Scenario } from '../model/scenario.js';

const SEC = 1_000_000;

export type ChoiceKind = 'kill' | 'stop' | 'link' | 'partition' | 'script' | 'file' | 'interface' | 'server' | 'reload';

/** One fault the configs make possible, with how to undo it. */
export interface FaultChoice {
  /** "kill lb1", "script chk_nginx fails on lb1": stable, one per choice. */
  id: string;
  kind: ChoiceKind;
  /** The node it strikes (none for a partition or a real server). */
  node?: string;
  /** Instances of `node` the fault should take mastership away from (a tracked object failing,
   * its own interface down): the judge checks that it does. */
  impairs: string[];
  apply(at: Micros): Fault;
  undo?(at: Micros): Fault;
}

/** What a node runs, as the explorer needs it. */
export interface NodeConfig {
  name: string;
  config: Config;
}

/** A fault set laid out in time: the faults (sorted), a label for each, the windows they open. */
export interface FaultRun {
  choices: FaultChoice[];
  faults: Fault[];
  labels: string[];
  /** When each choice is applied and undone (or the end of the run). */
  windows: { choice: FaultChoice; from: Micros; to: Micros }[];
  duration: Micros;
}

/** The timing every run of one exploration shares. */
export interface ExplorePlan {
  /** When the first fault strikes: after the start-up election has settled. */
  settle: Micros;
  /** How long each fault is held, and the gap between two faults. */
  window: Micros;
}

/** Master_Down_Interval of an instance for a priority (RFC 3768 / 5798). */
export function masterDownInterval(advertInt: number, version: 2 | 3, priority: number): Micros {
  const adv = advertInt * SEC;
  const skew = version === 3 ? ((256 - priority) * adv) / 256 : ((256 - priority) * SEC) / 256;
  return Math.round(3 * adv + skew);
}

/** The reaction window: the slowest tracker counting a change (either way), plus the slowest
 * backup's Master_Down_Interval, plus an advert, rounded up to a whole second. */
export function reactionWindow(nodes: readonly NodeConfig[]): Micros {
  let mdi = 0;
  let adv = 0;
  let tracker = 0.5 * SEC; // track_file reads, interface polls
  for (const n of nodes) {
    for (const i of n.config.resolved.vrrpInstances) {
      mdi = Math.max(mdi, masterDownInterval(i.advertInt, i.version, 1));
      adv = Math.max(adv, i.advertInt * SEC);
    }
    for (const s of n.config.resolved.vrrpScripts) tracker = Math.max(tracker, (s.interval * Math.max(s.fall, s.rise) + s.timeout) * SEC);
  }
  return Math.ceil((mdi + adv + tracker + SEC) / SEC) * SEC;
}

/** Every single fault the nodes' configs and the scenario's topology make possible, in a stable order. */
export function faultChoices(sc: Scenario, nodes: readonly NodeConfig[]): FaultChoice[] {
  const span = sc.span;
  const out: FaultChoice[] = [];
  const instancesOf = (n: NodeConfig): ResolvedVrrpInstance[] => n.config.resolved.vrrpInstances;
  for (const n of nodes) {
    const node = n.name;
    out.push({
      id: `kill ${node}`,
      kind: 'kill',
      node,
      impairs: [],
      apply: (at) => ({ at, kind: 'kill', node, span }),
      undo: (at) => ({ at, kind: 'start', node, span }),
    });
    out.push({
      id: `stop ${node}`,
      kind: 'stop',
      node,
      impairs: [],
      apply: (at) => ({ at, kind: 'stop', node, span }),
      undo: (at) => ({ at, kind: 'start', node, span }),
    });
  }
  // Each node's link on each segment: its interface there goes down (carrier lost).
  const linkIfs = new Set<string>();
  for (const seg of sc.segments) {
    for (const m of seg.members) {
      const n = nodes.find((x) => x.name === m.node);
      if (!n) continue;
      linkIfs.add(`${m.node}/${m.interface}`);
      out.push(
        interfaceChoice(
          'link',
          `link ${m.interface} of ${m.node} down (${seg.name})`,
          m.node,
          m.interface,
          impairedBy(n, 'interface', m.interface, true),
          span,
        ),
      );
    }
  }
  // Partitions: each node cut off from the others (with two nodes, one partition).
  for (const seg of sc.segments) {
    const members = [...new Set(seg.members.map((m) => m.node))];
    if (members.length < 2) continue;
    const alone = members.length === 2 ? members.slice(0, 1) : members;
    for (const x of alone) {
      const groups = [[x], members.filter((m) => m !== x)];
      out.push({
        id: `partition ${seg.name}: [${groups[0].join(', ')}] | [${groups[1].join(', ')}]`,
        kind: 'partition',
        impairs: [],
        apply: (at) => ({ at, kind: 'partition', segment: seg.name, groups, span }),
        undo: (at) => ({ at, kind: 'heal', segment: seg.name, span }),
      });
    }
  }
  for (const n of nodes) {
    const node = n.name;
    const tracked = (kind: 'script' | 'file' | 'interface'): string[] => [
      ...new Set(instancesOf(n).flatMap((i) => i.tracks.filter((t) => t.kind === kind).map((t) => t.name))),
    ];
    for (const script of tracked('script')) {
      out.push({
        id: `script ${script} fails on ${node}`,
        kind: 'script',
        node,
        impairs: impairedBy(n, 'script', script),
        apply: (at) => ({ at, kind: 'script', node, script, ok: false, span }),
        undo: (at) => ({ at, kind: 'script', node, script, ok: true, span }),
      });
    }
    for (const file of tracked('file')) {
      const tf = n.config.resolved.trackFiles.find((f) => f.name === file);
      const track = instancesOf(n)
        .flatMap((i) => i.tracks)
        .find((t) => t.kind === 'file' && t.name === file)!;
      const value = failingFileValue(track.weight, track.reverse);
      const initial = tf?.initFile?.value ?? 0;
      out.push({
        id: `file ${file} on ${node} = ${value}`,
        kind: 'file',
        node,
        impairs: impairedBy(n, 'file', file),
        apply: (at) => ({ at, kind: 'file', node, file, value, span }),
        undo: (at) => ({ at, kind: 'file', node, file, value: initial, span }),
      });
    }
    for (const ifname of tracked('interface')) {
      if (linkIfs.has(`${node}/${ifname}`)) continue; // already its link
      out.push(interfaceChoice('interface', `interface ${ifname} down on ${node}`, node, ifname, impairedBy(n, 'interface', ifname), span));
    }
  }
  for (const rs of sc.realServers) {
    const server = rs.name;
    out.push({
      id: `real server ${server} down`,
      kind: 'server',
      impairs: [],
      apply: (at) => ({ at, kind: 'server', server, up: false, span }),
      undo: (at) => ({ at, kind: 'server', server, up: true, span }),
    });
  }
  for (const n of sc.nodes) {
    const node = n.name;
    out.push({ id: `reload ${node}`, kind: 'reload', node, impairs: [], apply: (at) => ({ at, kind: 'reload', node, config: n.config, span }) });
  }
  return out;
}

function interfaceChoice(kind: 'link' | 'interface', id: string, node: string, ifname: string, impairs: string[], span: Scenario['span']): FaultChoice {
  return {
    id,
    kind,
    node,
    impairs,
    apply: (at) => ({ at, kind: 'interface', node, interface: ifname, up: false, span }),
    undo: (at) => ({ at, kind: 'interface', node, interface: ifname, up: true, span }),
  };
}

/** The node's instances that track this object (or run on this interface, for a link). */
function impairedBy(n: NodeConfig, kind: 'script' | 'file' | 'interface', name: string, own = false): string[] {
  return n.config.resolved.vrrpInstances
    .filter((i) => i.tracks.some((t) => t.kind === kind && t.name === name) || (own && i.interface === name && !i.dontTrackPrimary))
    .map((i) => i.name);
}

/** A track_file value that fails the instance: non-zero with weight 0 (FAULT), else one whose
 * product with the weight reaches -254 (keepalived's FAULT threshold). */
export function failingFileValue(weight: number, reverse: boolean): number {
  if (weight === 0) return 1;
  const m = reverse ? -weight : weight;
  return m > 0 ? -Math.ceil(254 / m) : Math.ceil(254 / -m);
}

/** Two faults that cannot follow each other as written: both take the same daemon down. */
function clash(a: FaultChoice, b: FaultChoice): boolean {
  const down = (c: FaultChoice): boolean => c.kind === 'kill' || c.kind === 'stop';
  return a.node !== undefined && a.node === b.node && down(a) && down(b);
}

/** Every single fault, then every ordered pair of distinct faults that can follow each other. */
export function faultSets(choices: readonly FaultChoice[]): FaultChoice[][] {
  const out: FaultChoice[][] = choices.map((c) => [c]);
  for (const a of choices) for (const b of choices) if (a !== b && !clash(a, b)) out.push([a, b]);
  return out;
}

/** How many sets faultSets() gives, without building them. */
export function countFaultSets(choices: readonly FaultChoice[]): number {
  let n = choices.length;
  for (const a of choices) for (const b of choices) if (a !== b && !clash(a, b)) n++;
  return n;
}

/** The timeline of a fault set (empty: the settled start alone, for one window). */
export function layOut(set: readonly FaultChoice[], plan: ExplorePlan): FaultRun {
  const { settle, window } = plan;
  const timed: { fault: Fault; label: string }[] = [];
  const windows: FaultRun['windows'] = [];
  const end = settle + (set.length ? 2 * set.length : 1) * window;
  set.forEach((choice, i) => {
    const from = settle + i * window;
    const to = choice.undo ? from + set.length * window : end;
    timed.push({ fault: choice.apply(from), label: `f${i + 1}` });
    if (choice.undo) timed.push({ fault: choice.undo(to), label: `f${i + 1}-undone` });
    windows.push({ choice, from, to });
  });
  // Stable: entries at one time keep their order (a fault before another's undo).
  timed.sort((a, b) => a.fault.at - b.fault.at);
  return { choices: [...set], faults: timed.map((t) => t.fault), labels: timed.map((t) => t.label), windows, duration: end };
}

/** The scenario a fault run is: the base's nodes and wiring, these faults, no expectations. */
export function scenarioOf(base: Scenario, run: FaultRun): Scenario {
  return { ...base, faults: run.faults, expectations: [], duration: run.duration };
}
