// The scenario loader: YAML text in, a validated Scenario (src/lab/model/scenario.ts) or diagnostics
// out, in the linter's FILE:LINE:COL format. It never throws on bad input; a scenario with any
// error is not returned, so no backend ever runs half a scenario.
import { errnoText, readBounded } from '../../core/files.js';
import { basename, dirname, extname, resolve } from 'node:path';
import type { ResolvedVirtualServer } from '../../config/model/index.js';
import { Diagnostics, orderDiagnostics, type Diagnostic, type Span } from '../../config/diagnostics.js';
import type { LabContext } from './context.js';
import { Fields, type YMap } from './fields.js';
import { EXPECT_KINDS, loadExpectations } from './expectations.js';
import { loadNodes } from './nodes.js';
import { loadTimeline } from './timeline.js';
import type { Expectation, Fault, LabRealServer, Micros, Scenario } from '../model/scenario.js';
import { formatTime } from '../model/times.js';
import { checkSegments, defaultSegments, loadClients, loadRealServers, loadSegments, segmentFor } from './topology.js';
import { parseYaml } from './yaml-tree.js';
import { suggest } from '../../config/suggest.js';
import { COUNTED, LIMITS, TOO_LARGE } from './limits.js';

export interface ScenarioLoad {
  scenario?: Scenario;
  diagnostics: Diagnostic[];
}

const TOP_KEYS = ['name', 'description', 'duration', 'seed', 'nodes', 'segments', 'real-servers', 'clients', 'timeline', 'expect'] as const;
/** Common slips: the singular, or the Scenario field names. */
const TOP_HINTS: Record<string, string> = {
  faults: "the faults go under 'timeline'",
  expectations: "did you mean 'expect'?",
  realServers: "did you mean 'real-servers'?",
  real_servers: "did you mean 'real-servers'?",
  ...Object.fromEntries(EXPECT_KINDS.map((k) => [k, `expectations go in a list under 'expect:', e.g. expect: [{${k}: ...}]`])),
};
/** How long a run goes on after its last fault or expectation when `duration` is not given. */
const SETTLE: Micros = 10e6;

const UNREADABLE: Record<string, { message: string; hint?: string }> = {
  missing: { message: 'the scenario file does not exist', hint: 'check the path' },
  directory: { message: 'the scenario is a directory, not a file', hint: 'name the .yaml file in it' },
  binary: { message: 'the scenario is a binary file (it holds NUL bytes), not YAML' },
  'too-large': { message: TOO_LARGE, hint: 'split it into several scenarios' },
};

export function loadScenario(file: string): ScenarioLoad {
  const r = readBounded(file, LIMITS.fileBytes);
  if (!r.ok) {
    const diags = new Diagnostics();
    const { message, hint } = UNREADABLE[r.kind] ?? { message: `cannot read the scenario: ${r.kind === 'unreadable' ? errnoText(r.code) : r.kind}` };
    diags.error({ file, line: 1, col: 1 }, r.kind === 'too-large' ? 'lab-limit' : 'lab-file', message, hint ? { hint } : {});
    return { diagnostics: diags.items };
  }
  return loadScenarioText(r.data.toString('utf8'), file);
}

export function loadScenarioText(text: string, file: string): ScenarioLoad {
  const diags = new Diagnostics();
  if (Buffer.byteLength(text) > LIMITS.fileBytes) {
    diags.error({ file, line: 1, col: 1 }, 'lab-limit', TOO_LARGE, { hint: 'split it into several scenarios' });
    return { diagnostics: diags.items };
  }
  const scenario = build(text, file, diags);
  const diagnostics = orderDiagnostics(diags.items, [file]);
  const failed = diagnostics.some((d) => d.severity === 'error');
  return failed || !scenario ? { diagnostics } : { scenario, diagnostics };
}

/** Reports every top-level list or map longer than its bound; false when there was one. */
function checkCounts(m: YMap, f: Fields): boolean {
  let ok = true;
  for (const c of COUNTED) {
    const y = f.get(m, c.key);
    const n = y?.kind === 'map' ? y.entries.length : y?.kind === 'seq' ? y.items.length : 0;
    if (y && n > c.max) {
      f.diags.error(y.span, 'lab-limit', `${n} ${c.what}: a scenario has at most ${c.max}`, { hint: 'split it into several scenarios' });
      ok = false;
    }
  }
  return ok;
}

function build(text: string, file: string, diags: Diagnostics): Scenario | undefined {
  const f = new Fields(diags);
  const root = parseYaml(text, file, diags);
  const m = root && f.map(root, 'the scenario', TOP_KEYS, TOP_HINTS);
  // Counted before any config is loaded: 10,000 nodes must not mean 10,000 configs read first.
  if (!m || !checkCounts(m, f)) return undefined;
  const span: Span = { file, line: 1, col: 1 };
  const dir = dirname(resolve(file));
  const opt = <T>(key: string, read: (y: NonNullable<ReturnType<Fields['get']>>) => T | undefined): T | undefined => {
    const y = f.get(m, key);
    return y && read(y);
  };

  const name = opt('name', (y) => f.string(y, 'name')) ?? basename(file, extname(file));
  const description = opt('description', (y) => f.string(y, 'description'));
  const duration = opt('duration', (y) => f.time(y, 'duration'));
  const seed = opt('seed', (y) => f.int(y, 'seed', 0, 2 ** 32 - 1)) ?? 1;

  // `node:` for `nodes:` is reported once, as an unknown key with its did-you-mean.
  const misspelt = m.entries.some((e) => !(TOP_KEYS as readonly string[]).includes(e.key) && suggest(e.key, TOP_KEYS) === 'nodes');
  const nodesY = misspelt ? f.get(m, 'nodes') : f.required(m, 'nodes', 'a scenario');
  const facts = nodesY ? loadNodes(nodesY, f, file, dir) : [];
  // Checks against the nodes' configs only when every node's config loaded: with `nodes` missing
  // or a config in error, that error is the one to fix, not what follows from it.
  const configsKnown = nodesY?.kind === 'map' && facts.length > 0 && facts.length === nodesY.entries.length;
  const pending = opt('real-servers', (y) => loadRealServers(y, f)) ?? [];
  const segmentsY = f.get(m, 'segments');
  const segments = segmentsY ? loadSegments(segmentsY, f, facts) : defaultSegments(facts, pending, f, nodesY?.span ?? span);
  checkSegments(segments, facts, f, !!segmentsY);
  const realServers: LabRealServer[] = [];
  for (const { segmentSpan, ...s } of pending) {
    const segment = segmentFor(s.address, s.segment, segmentSpan, segments, f, `real server ${s.name}`, s.span, configsKnown || !!segmentsY);
    if (segment) realServers.push({ ...s, segment });
    if (configsKnown && !facts.some((n) => n.config.resolved.virtualServers.some((vs) => servedBy(vs, s.address, s.port)))) {
      diags.warning(s.span, 'lab-not-in-config', `no node has real_server or sorry_server ${s.address} ${s.port}: no virtual server sends ${s.name} anything`);
    }
  }
  const clients = opt('clients', (y) => loadClients(y, f, segments, configsKnown ? facts : undefined, !!segmentsY)) ?? [];
  checkNames(
    facts.map((n) => n.node),
    realServers,
    clients,
    f,
  );

  // Names as declared, including entries with errors, so that references to them do not add noise.
  const declared = (key: string): string[] => {
    const y = f.get(m, key);
    return y?.kind === 'map' ? y.entries.map((e) => e.key) : [];
  };
  const nodes = nodesY?.kind === 'map' ? declared('nodes') : null;
  const ctx: LabContext = { f, file, dir, facts, configsKnown, nodes, segments, servers: declared('real-servers'), clients: declared('clients') };
  const timeline = loadTimeline(f.get(m, 'timeline'), ctx);
  const expectations = loadExpectations(f.get(m, 'expect'), ctx, timeline);
  const { faults } = timeline;

  const last = Math.max(0, ...faults.map((x) => x.at), ...expectations.map((e) => momentOf(e, faults)));
  const total = duration ?? last + SETTLE;
  if (total > LIMITS.duration) {
    // At the duration when it is given, else at the entry that looks furthest ahead.
    const latest = [...faults, ...expectations].reduce<{ span: Span; at: Micros } | undefined>((best, x) => {
      const at = 'at' in x ? x.at : momentOf(x, faults);
      return best && best.at >= at ? best : { span: x.span, at };
    }, undefined);
    const where = duration !== undefined ? (f.get(m, 'duration')?.span ?? span) : (latest?.span ?? span);
    const length = Number.isFinite(total) ? formatTime(total) : 'for ever';
    diags.error(where, 'lab-limit', `the run would last ${length}: a scenario lasts at most ${formatTime(LIMITS.duration)} of virtual time`, {
      hint: 'check the unit: ms, s, m or h',
    });
    return undefined;
  }
  for (const x of [...faults, ...expectations]) {
    const at = 'at' in x ? x.at : momentOf(x, faults);
    if (at > total)
      diags.warning(x.span, 'lab-after-end', `this is at ${formatTime(at)}, after the end of the run (${formatTime(total)})`, { hint: 'raise duration' });
  }
  const scenario: Scenario = { name, file, duration: total, seed, nodes: facts.map((n) => n.node), segments, realServers, clients, faults, expectations, span };
  if (description !== undefined) scenario.description = description;
  return scenario;
}

/** The latest moment an expectation looks at. */
function momentOf(e: Expectation, faults: readonly Fault[]): Micros {
  switch (e.kind) {
    case 'master':
    case 'vip':
      return e.at;
    case 'failover':
      return faults[e.after].at + e.within;
    case 'no-failover':
      return faults[e.after].at + e.for;
    default:
      return 0;
  }
}

function servedBy(vs: ResolvedVirtualServer, address: string, port: number): boolean {
  const sorry = vs.sorryServer;
  return vs.realServers.some((r) => r.address === address && r.port === port) || (sorry?.address === address && sorry.port === port);
}

/** Nodes, real servers and clients share one namespace: on netns each is a host. */
function checkNames(
  nodes: readonly { name: string; span: Span }[],
  servers: readonly { name: string; span: Span }[],
  clients: readonly { name: string; span: Span }[],
  f: Fields,
): void {
  const seen = new Map<string, Span>();
  for (const x of [...nodes, ...servers, ...clients]) {
    const first = seen.get(x.name);
    if (first)
      f.diags.error(x.span, 'lab-duplicate', `'${x.name}' already names a host at line ${first.line}`, {
        hint: 'nodes, real servers and clients need distinct names',
      });
    else seen.set(x.name, x.span);
  }
}
