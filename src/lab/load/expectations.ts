// `expect:`: what must hold, each entry `{KIND: ..., at: TIME}` (`at` only where a moment is
// meant: master, vip). Instances are checked against the nodes' configs, `after` against the
// timeline's labels and indexes.
import type { Span } from '../../config/diagnostics.js';
import { suggest } from '../../config/suggest.js';
import { factsOf, inConfig, type LabContext } from './context.js';
import type { YMap } from './fields.js';
import { instanceNames } from './nodes.js';
import type { Timeline } from './timeline.js';
import type { Expectation, Micros } from '../model/scenario.js';
import type { Y } from './yaml-tree.js';

export const EXPECT_KINDS = ['master', 'single-master', 'failover', 'no-failover', 'requests', 'vip', 'notify'] as const;
type Kind = (typeof EXPECT_KINDS)[number];
const TIMED: readonly Kind[] = ['master', 'vip'];
/** What keepalived passes to notify scripts as the state. */
const NOTIFY_STATES = ['MASTER', 'BACKUP', 'FAULT', 'STOP', 'DELETED'] as const;

export function loadExpectations(y: Y | undefined, ctx: LabContext, timeline: Timeline): Expectation[] {
  const { f } = ctx;
  const out: Expectation[] = [];
  for (const item of (y && f.seq(y, 'expect')) ?? []) {
    const keys = ['at', ...EXPECT_KINDS];
    const kinds = item.kind === 'map' ? item.entries.filter((e) => (EXPECT_KINDS as readonly string[]).includes(e.key)) : [];
    const timed = kinds.length === 1 && TIMED.includes(kinds[0].key as Kind);
    const m = f.map(item, 'an expectation', timed ? keys : EXPECT_KINDS, {
      at: `${kinds[0]?.key ?? 'this expectation'} has its own timing; 'at' is for master and vip`,
    });
    if (!m) continue;
    if (kinds.length !== 1) {
      if (!f.unknown(m, keys))
        f.diags.error(
          m.span,
          'lab-entry-kind',
          kinds.length ? `one expectation per entry, got ${kinds.map((k) => k.key).join(' and ')}` : 'an expectation needs a kind',
          { hint: `one of: ${EXPECT_KINDS.join(', ')}` },
        );
      continue;
    }
    const atY = timed ? f.required(m, 'at', kinds[0].key) : undefined;
    const at = atY && f.time(atY, 'at');
    if (timed && at === undefined) continue;
    out.push(...build(kinds[0].key as Kind, kinds[0].value, kinds[0].keySpan, at ?? 0, ctx, timeline));
  }
  return out;
}

function build(kind: Kind, y: Y, span: Span, at: Micros, ctx: LabContext, timeline: Timeline): Expectation[] {
  const { f } = ctx;
  const one = (e: Expectation | undefined): Expectation[] => (e ? [e] : []);
  switch (kind) {
    case 'master':
      return master(y, at, ctx);
    case 'single-master': {
      if (y.kind === 'scalar' && y.value === true) return [{ kind, window: 0, span }];
      if (y.kind === 'scalar') {
        f.diags.error(y.span, 'lab-value', 'single-master must be true or {window: TIME}');
        return [];
      }
      const m = f.map(y, kind, ['window']);
      const w = m && req(m, 'window', kind, ctx, (v) => f.time(v, 'window'));
      return w === undefined ? [] : [{ kind, window: w, span }];
    }
    case 'vip': {
      // `vip: 192.168.1.100` is `vip: {address: 192.168.1.100, reachable: true}`.
      const m = y.kind === 'scalar' ? undefined : f.map(y, kind, ['address', 'reachable']);
      if (y.kind !== 'scalar' && !m) return [];
      const address = m ? req(m, 'address', kind, ctx, (v) => f.address(v, 'address')) : f.address(y, 'vip');
      const rY = m && f.get(m, 'reachable');
      const reachable = rY ? f.bool(rY, 'reachable') : true;
      if (address === undefined || reachable === undefined) return [];
      if (ctx.configsKnown && !ctx.facts.some((n) => n.config.vrrpInstances.some((i) => i.virtualIpaddress.some((v) => v.address === address)))) {
        f.diags.warning(m ? f.get(m, 'address')!.span : y.span, 'lab-not-in-config', `${address} is not a virtual_ipaddress of any node`);
      }
      return [{ kind, at, address, reachable, span }];
    }
    case 'requests': {
      const m = f.map(y, kind, ['client', 'window']);
      if (!m) return [];
      if (!ctx.clients.length) f.diags.error(span, 'lab-unknown-name', 'requests expectation without clients: add one under `clients`');
      const cY = f.get(m, 'client');
      const client = cY && f.ref(cY, 'client', ctx.clients, 'lab-unknown-name');
      const wY = f.get(m, 'window');
      const window = wY ? f.time(wY, 'window') : 0;
      if ((cY && client === undefined) || window === undefined || !ctx.clients.length) return [];
      const e: Expectation = { kind, window, span };
      if (client !== undefined) e.client = client;
      return [e];
    }
  }
  const keys = { failover: ['after', 'instance', 'to', 'within'], 'no-failover': ['after', 'instance', 'for'], notify: ['node', 'instance', 'states'] }[kind];
  const m = f.map(y, kind, keys);
  if (!m) return [];
  switch (kind) {
    case 'failover': {
      const after = req(m, 'after', kind, ctx, (v) => afterRef(v, ctx, timeline));
      const to = req(m, 'to', kind, ctx, (v) => f.ref(v, 'to', ctx.nodes, 'lab-unknown-node'));
      const instY = f.required(m, 'instance', kind);
      const instance = instY && to !== undefined ? instanceOn(instY, to, ctx) : undefined;
      const within = req(m, 'within', kind, ctx, (v) => f.time(v, 'within'));
      return one(
        after !== undefined && to !== undefined && instance !== undefined && within !== undefined ? { kind, after, instance, to, within, span } : undefined,
      );
    }
    case 'no-failover': {
      const after = req(m, 'after', kind, ctx, (v) => afterRef(v, ctx, timeline));
      const instance = req(m, 'instance', kind, ctx, (v) => anyInstance(v, ctx));
      const period = req(m, 'for', kind, ctx, (v) => f.time(v, 'for'));
      return one(after !== undefined && instance !== undefined && period !== undefined ? { kind, after, instance, for: period, span } : undefined);
    }
    case 'notify': {
      const node = req(m, 'node', kind, ctx, (v) => f.ref(v, 'node', ctx.nodes, 'lab-unknown-node'));
      const instY = f.required(m, 'instance', kind);
      const instance = instY && node !== undefined ? instanceOn(instY, node, ctx, true) : undefined;
      const sY = f.required(m, 'states', kind);
      const list = sY && f.seq(sY, 'states');
      const states = list?.map((s) => f.oneOf(s, 'a notify state', NOTIFY_STATES));
      if (node === undefined || instance === undefined || !states || states.some((s) => s === undefined)) return [];
      return [{ kind, node, instance, states: states as string[], span }];
    }
  }
  return [];
}

function req<T>(m: YMap, key: string, what: string, ctx: LabContext, read: (y: Y) => T | undefined): T | undefined {
  const y = ctx.f.required(m, key, what);
  return y && read(y);
}

/** `master: {VI_1: lb1, VI_2: none}`: one expectation per instance. */
function master(y: Y, at: Micros, ctx: LabContext): Expectation[] {
  const { f } = ctx;
  if (y.kind !== 'map') {
    f.diags.error(y.span, 'lab-value', 'master must map instances to nodes', { hint: 'e.g. {VI_1: lb1}, or {VI_1: none} for no MASTER' });
    return [];
  }
  const out: Expectation[] = [];
  for (const e of y.entries) {
    const none = e.value.kind === 'scalar' && (e.value.value === 'none' || e.value.value === null);
    const node = none ? null : f.ref(e.value, 'node', ctx.nodes && [...ctx.nodes, 'none'], 'lab-unknown-node');
    if (node === undefined) continue;
    const instance =
      node === null
        ? anyInstance({ kind: 'scalar', span: e.keySpan, value: e.key }, ctx)
        : instanceOn({ kind: 'scalar', span: e.keySpan, value: e.key }, node, ctx);
    if (instance !== undefined) out.push({ kind: 'master', at, instance, node, span: e.keySpan });
  }
  return out;
}

/** An instance `node` has (or, for notify, one of its sync groups). */
function instanceOn(y: Y, node: string, ctx: LabContext, groups = false): string | undefined {
  const c = factsOf(ctx, node)?.config;
  if (!c) return undefined;
  const names = [...c.vrrpInstances.map((i) => i.name), ...(groups ? c.syncGroups.map((g) => g.name) : [])];
  return inConfig(ctx, y, node, groups ? 'vrrp_instance or vrrp_sync_group' : 'vrrp_instance', names, 'lab-unknown-instance');
}

function anyInstance(y: Y, ctx: LabContext): string | undefined {
  const names = instanceNames(ctx.facts);
  const v = ctx.f.string(y, 'instance');
  if (v === undefined || names.includes(v)) return v;
  if (!ctx.nodes) return undefined; // no nodes to look in: that is the error
  const near = suggest(v, names);
  ctx.f.diags.error(y.span, 'lab-unknown-instance', `no node has a vrrp_instance '${v}'`, near ? { hint: `did you mean '${near}'?` } : {});
  return undefined;
}

/** `after:` a label, or the 0-based index of an entry as written in `timeline`. */
function afterRef(y: Y, ctx: LabContext, timeline: Timeline): number | undefined {
  if (y.kind === 'scalar' && typeof y.value === 'number') {
    const k = Number.isInteger(y.value) ? timeline.written[y.value] : undefined;
    if (k === undefined)
      ctx.f.diags.error(y.span, 'lab-unknown-label', `there is no timeline entry ${y.value}`, {
        hint: `entries are numbered from 0 to ${timeline.written.length - 1}`,
      });
    return k === undefined || k < 0 ? undefined : k;
  }
  const v = ctx.f.string(y, 'after');
  if (v === undefined) return undefined;
  const k = timeline.labels.get(v);
  if (k !== undefined) return k < 0 ? undefined : k;
  const near = suggest(v, [...timeline.labels.keys()]);
  ctx.f.diags.error(y.span, 'lab-unknown-label', `no timeline entry has label '${v}'`, {
    hint: near ? `did you mean '${near}'?` : 'add label: NAME to the fault, or use its 0-based index',
  });
  return undefined;
}
