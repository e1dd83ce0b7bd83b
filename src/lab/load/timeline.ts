// `timeline:`: the faults, each an entry `{at: TIME, KIND: ..., label: NAME}`, checked against
// the nodes' configs and sorted by time (stably, so entries at one time keep their order).
import type { Span } from '../../config/diagnostics.js';
import { suggest } from '../../config/suggest.js';
import { factsOf, inConfig, type LabContext } from './context.js';
import type { YMap } from './fields.js';
import { configSource, interfacesOf } from './nodes.js';
import type { Fault, Micros } from '../model/scenario.js';
import type { Y } from './yaml-tree.js';
import type { Config } from '../../config/model/index.js';
import { processFaultNames, standInsNamed } from '../model/processes.js';
import { LIMITS } from './limits.js';

export const FAULT_KINDS = ['kill', 'stop', 'start', 'partition', 'heal', 'link', 'script', 'file', 'interface', 'process', 'server', 'reload'] as const;
type Kind = (typeof FAULT_KINDS)[number];
const ENTRY_KEYS = ['at', 'label', ...FAULT_KINDS];

export interface Timeline {
  faults: Fault[];
  /** label → index into `faults` (-1: the entry had errors). */
  labels: Map<string, number>;
  /** Index as written in the YAML → index into `faults`. */
  written: number[];
}

export function loadTimeline(y: Y | undefined, ctx: LabContext): Timeline {
  const { f } = ctx;
  const entries: { fault: Fault; label?: string; i: number }[] = [];
  const labelSpans = new Map<string, Span>();
  const items = (y && f.seq(y, 'timeline')) ?? [];
  const errors = (): number => f.diags.items.filter((d) => d.severity === 'error').length;
  let complete = true;
  items.forEach((item, i) => {
    const before = errors();
    const fault = entry(item, i);
    if (!fault || errors() > before) complete = false;
  });
  function entry(item: Y, i: number): Fault | undefined {
    const m = f.map(item, 'a timeline entry', ENTRY_KEYS);
    if (!m) return undefined;
    const labelY = f.get(m, 'label');
    const label = labelY && f.string(labelY, 'label');
    if (label !== undefined && labelSpans.has(label))
      f.diags.error(labelY!.span, 'lab-duplicate', `label '${label}' is already used at line ${labelSpans.get(label)!.line}`);
    else if (label !== undefined) labelSpans.set(label, labelY!.span);
    const kinds = m.entries.filter((e) => (FAULT_KINDS as readonly string[]).includes(e.key));
    if (kinds.length !== 1) {
      if (!f.unknown(m, ENTRY_KEYS))
        f.diags.error(
          m.span,
          'lab-entry-kind',
          kinds.length ? `one fault per timeline entry, got ${kinds.map((k) => k.key).join(' and ')}` : 'a timeline entry needs a fault',
          { hint: `one of: ${FAULT_KINDS.join(', ')}` },
        );
      return undefined;
    }
    const atY = f.required(m, 'at', `${kinds[0].key} entry`);
    const at = atY && f.time(atY, 'at');
    const fault = at === undefined ? undefined : build(kinds[0].key as Kind, kinds[0].value, at, kinds[0].keySpan, ctx);
    if (fault) entries.push({ fault, label, i });
    return fault;
  }
  // Entries that failed keep their written index, so `after: 3` still means the fourth entry.
  const sorted = [...entries].sort((a, b) => a.fault.at - b.fault.at);
  const written = new Array<number>(items.length).fill(-1);
  // A label of an entry with errors maps to -1: expectations after it are skipped quietly.
  const labels = new Map<string, number>([...labelSpans.keys()].map((l) => [l, -1]));
  sorted.forEach((e, k) => {
    written[e.i] = k;
    if (e.label !== undefined) labels.set(e.label, k);
  });
  const faults = sorted.map((e) => e.fault);
  // With an entry dropped, which node runs when is unknown: its error is the one to fix first,
  // not a "cannot start" it causes further down.
  if (complete) checkSequence(faults, ctx);
  return { faults, labels, written };
}

/**
 * Faults that make no sense where the timeline has got to, most likely a slip in a time: an
 * error for a daemon's start, kill or stop (the netns backend cannot do them), else a warning.
 */
function checkSequence(faults: readonly Fault[], ctx: LabContext): void {
  const down = new Set<string>();
  const cut = new Set<string>();
  const say = (x: Fault, severity: 'error' | 'warning', message: string) =>
    ctx.f.diags.add(x.span, severity, 'lab-sequence', message, { hint: 'check the times of the entries' });
  for (const x of faults) {
    if (x.kind === 'kill' || x.kind === 'stop') {
      if (down.has(x.node)) say(x, 'error', `${x.node} is not running here: it cannot ${x.kind === 'kill' ? 'be killed' : 'stop'}`);
      down.add(x.node);
    } else if (x.kind === 'start') {
      if (!down.has(x.node)) say(x, 'error', `${x.node} is already running here: it cannot start`);
      down.delete(x.node);
    } else if (x.kind === 'partition') cut.add(x.segment);
    else if (x.kind === 'heal') {
      if (!cut.has(x.segment)) say(x, 'warning', `${x.segment} is not partitioned here: this heal does nothing`);
      cut.delete(x.segment);
    }
  }
}

function build(kind: Kind, y: Y, at: Micros, span: Span, ctx: LabContext): Fault | undefined {
  const { f } = ctx;
  const node = (v: Y) => f.ref(v, 'node', ctx.nodes, 'lab-unknown-node');
  switch (kind) {
    case 'kill':
    case 'stop':
    case 'start': {
      const n = node(y);
      return n === undefined ? undefined : { at, kind, node: n, span };
    }
    case 'heal': {
      const segment =
        y.kind === 'scalar' && y.value === true
          ? onlySegment(ctx, y.span, 'heal: true')
          : f.ref(
              y,
              'segment',
              ctx.segments.map((s) => s.name),
              'lab-unknown-name',
            );
      return segment === undefined ? undefined : { at, kind, segment, span };
    }
    case 'partition':
      return partition(y, at, span, ctx);
    case 'server': {
      const m = f.map(y, 'server', ['name', 'state']);
      const name = m && req(m, 'name', ctx, (v) => f.ref(v, 'real server', ctx.servers, 'lab-unknown-name'));
      const state = m && req(m, 'state', ctx, (v) => f.oneOf(v, 'state', ['down', 'up'] as const));
      return name && state ? { at, kind, server: name, up: state === 'up', span } : undefined;
    }
  }
  // The rest act on one node and its config.
  const keys = {
    link: ['node', 'segment', 'loss', 'delay', 'duplicate'],
    script: ['node', 'name', 'result'],
    file: ['node', 'name', 'value'],
    interface: ['node', 'name', 'state'],
    process: ['node', 'name', 'state', 'count'],
    reload: ['node', 'config'],
  }[kind];
  const m = f.map(y, kind, keys);
  const n = m && req(m, 'node', ctx, node);
  const facts = n === undefined ? undefined : factsOf(ctx, n);
  if (!m || !facts || n === undefined) return undefined;
  switch (kind) {
    case 'script': {
      const name = req(m, 'name', ctx, (v) =>
        inConfig(
          ctx,
          v,
          n,
          'vrrp_script',
          facts.config.vrrpScripts.map((s) => s.name),
          'lab-unknown-tracker',
        ),
      );
      const result = req(m, 'result', ctx, (v) => f.oneOf(v, 'result', ['fail', 'ok'] as const));
      return name && result ? { at, kind, node: n, script: name, ok: result === 'ok', span } : undefined;
    }
    case 'file': {
      const name = req(m, 'name', ctx, (v) =>
        inConfig(
          ctx,
          v,
          n,
          'track_file',
          facts.config.trackFiles.map((t) => t.name),
          'lab-unknown-tracker',
        ),
      );
      const value = req(m, 'value', ctx, (v) => f.int(v, 'value', -(2 ** 31), 2 ** 31 - 1));
      return name !== undefined && value !== undefined ? { at, kind, node: n, file: name, value, span } : undefined;
    }
    case 'interface': {
      const known = [
        ...new Set([...interfacesOf(facts.config), ...ctx.segments.flatMap((s) => s.members.filter((x) => x.node === n).map((x) => x.interface))]),
      ];
      const name = req(m, 'name', ctx, (v) => inConfig(ctx, v, n, 'interface', known, 'lab-unknown-interface'));
      const state = req(m, 'state', ctx, (v) => f.oneOf(v, 'state', ['down', 'up'] as const));
      return name && state ? { at, kind, node: n, interface: name, up: state === 'up', span } : undefined;
    }
    case 'process':
      return processFault(m, n, facts.config, at, span, ctx);
    case 'reload': {
      // The new config is not loaded: a broken one is what some scenarios are about.
      const config = req(m, 'config', ctx, (v) => configSource(v, f, ctx.file, ctx.dir, `${n}'s new config`, 'warning'));
      return config ? { at, kind, node: n, config, span } : undefined;
    }
    case 'link':
      return link(m, n, at, span, ctx);
  }
}

/** `{node, name, state: down|up}` or `{node, name, count: N}`: how many of the processes run. */
function processFault(m: YMap, node: string, config: Config, at: Micros, span: Span, ctx: LabContext): Fault | undefined {
  const { f } = ctx;
  const name = req(m, 'name', ctx, (v) => inConfig(ctx, v, node, 'vrrp_track_process', processFaultNames(config), 'lab-unknown-tracker'));
  const stateY = f.get(m, 'state');
  const countY = f.get(m, 'count');
  if (!stateY === !countY) {
    f.diags.error(
      m.span,
      stateY ? 'lab-entry-kind' : 'lab-missing-key',
      stateY ? 'a process fault has state or count, not both' : 'a process fault needs state or count',
      {
        hint: 'state: down (none run), state: up (as many as at the start) or count: N',
      },
    );
    return undefined;
  }
  const state = stateY && f.oneOf(stateY, 'state', ['down', 'up'] as const);
  const written = countY && f.int(countY, 'count', 0, LIMITS.processes);
  if (name === undefined || (state === undefined && written === undefined)) return undefined;
  const kinds = standInsNamed(config, name);
  const count = state === 'down' ? 0 : state === 'up' ? Math.max(...kinds.map((k) => k.atStart)) : written!;
  const processes = [...new Set(kinds.flatMap((k) => k.trackers))];
  return { at, kind: 'process', node, name, processes, count, ...(state ? { state } : {}), span };
}

function req<T>(m: YMap, key: string, ctx: LabContext, read: (y: Y) => T | undefined): T | undefined {
  const y = ctx.f.required(m, key, `this fault`);
  return y && read(y);
}

function onlySegment(ctx: LabContext, span: Span, what: string): string | undefined {
  if (ctx.segments.length === 1) return ctx.segments[0].name;
  ctx.f.diags.error(span, 'lab-missing-key', `${what} needs a segment name when there are ${ctx.segments.length} segments`, {
    hint: `one of: ${ctx.segments.map((s) => s.name).join(', ')}`,
  });
  return undefined;
}

function link(m: YMap, node: string, at: Micros, span: Span, ctx: LabContext): Fault | undefined {
  const { f } = ctx;
  const on = ctx.segments.filter((s) => s.members.some((x) => x.node === node)).map((s) => s.name);
  const segY = f.get(m, 'segment');
  let segment: string | undefined;
  if (segY) {
    segment = f.ref(
      segY,
      'segment',
      ctx.segments.map((s) => s.name),
      'lab-unknown-name',
    );
    if (segment !== undefined && !on.includes(segment)) {
      f.diags.error(segY.span, 'lab-unknown-name', `${node} is not on segment ${segment}`, { hint: on.length ? `it is on ${on.join(', ')}` : undefined });
      segment = undefined;
    }
  } else if (on.length === 1) segment = on[0];
  else
    f.diags.error(
      m.span,
      'lab-missing-key',
      `${node} is on ${on.length} segments: name one with 'segment'`,
      on.length ? { hint: `one of: ${on.join(', ')}` } : {},
    );
  // The entry is the link's whole condition: what it leaves out is 0, so `{node: lb1}` clears it.
  const values: { loss?: number; duplicate?: number; delay?: Micros } = {};
  let ok = true;
  for (const key of ['loss', 'duplicate', 'delay'] as const) {
    const v = f.get(m, key);
    if (!v) continue;
    const x = key === 'delay' ? f.time(v, key) : f.probability(v, key);
    if (x === undefined) ok = false;
    else values[key] = x;
  }
  return ok && segment !== undefined ? { at, kind: 'link', node, segment, ...values, span } : undefined;
}

function partition(y: Y, at: Micros, span: Span, ctx: LabContext): Fault | undefined {
  const { f } = ctx;
  // `partition: [[lb1], [lb2]]` is `partition: {segment: <the only one>, groups: [[lb1], [lb2]]}`.
  let segment: string | undefined;
  let groupsY: Y | undefined;
  if (y.kind === 'seq') {
    segment = onlySegment(ctx, y.span, 'partition: [...]');
    groupsY = y;
  } else {
    const m = f.map(y, 'partition', ['segment', 'groups']);
    if (!m) return undefined;
    const segY = f.required(m, 'segment', 'partition');
    segment =
      segY &&
      f.ref(
        segY,
        'segment',
        ctx.segments.map((s) => s.name),
        'lab-unknown-name',
      );
    groupsY = f.required(m, 'groups', 'partition');
  }
  const seg = ctx.segments.find((s) => s.name === segment);
  const lists = groupsY && f.seq(groupsY, 'partition groups');
  if (!seg || !lists) return undefined;
  const members = [...new Set(seg.members.map((x) => x.node))];
  const placed = new Set<string>();
  const groups: string[][] = [];
  let ok = true;
  for (const g of lists) {
    const names: string[] = [];
    for (const n of (g.kind === 'scalar' ? [g] : f.seq(g, 'a partition group')) ?? []) {
      const v = f.ref(n, 'node', ctx.nodes, 'lab-unknown-node');
      if (v === undefined) ok = false;
      else if (!members.includes(v)) {
        f.diags.error(n.span, 'lab-unknown-node', `${v} is not on segment ${seg.name}`, { hint: suggestHint(v, members) });
        ok = false;
      } else if (placed.has(v)) {
        f.diags.error(n.span, 'lab-duplicate', `${v} is in two groups`);
        ok = false;
      } else {
        names.push(v);
        placed.add(v);
      }
    }
    if (names.length) groups.push(names);
  }
  // Members named nowhere stay together: `[[lb1]]` cuts lb1 off from the rest.
  const rest = members.filter((n) => !placed.has(n));
  if (rest.length) groups.push(rest);
  if (ok && groups.length < 2)
    f.diags.warning(span, 'lab-value', `this partition leaves all of ${seg.name} together`, { hint: 'name the groups to separate, e.g. [[lb1], [lb2]]' });
  return ok && segment ? { at, kind: 'partition', segment, groups, span } : undefined;
}

function suggestHint(v: string, names: readonly string[]): string {
  const near = suggest(v, names);
  return near ? `did you mean '${near}'?` : `members: ${names.join(', ')}`;
}
