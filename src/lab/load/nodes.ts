// `nodes:`: each node's keepalived.conf (a file next to the scenario, or inline text), loaded
// with the config front end so that the rest of the scenario can be checked against it. The
// config's own findings are passed on unchanged; inline text gets them at its place in the YAML.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Diagnostic, Span } from '../../config/diagnostics.js';
import { loadConfig, loadConfigText, type Config } from '../../config/index.js';
import type { Fields, YMap } from './fields.js';
import type { LabNode } from '../model/scenario.js';
import type { Y } from './yaml-tree.js';

/** A node with what its config says, for checking names against it. */
export interface NodeFacts {
  node: LabNode;
  config: Config;
}

const NODE_KEYS = ['config', 'impl', 'config-id'] as const;
/** Node names become network namespace and interface name parts on netns (IFNAMSIZ is 16). */
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

export function loadNodes(y: Y, f: Fields, file: string, dir: string): NodeFacts[] {
  const m = f.dict(y, 'nodes');
  if (!m) return [];
  const out: NodeFacts[] = [];
  for (const e of m.entries) {
    if (!NODE_NAME.test(e.key) || e.key === 'none') {
      f.diags.error(e.keySpan, 'lab-value', `node name '${e.key}' is not usable`, {
        hint: "letters, digits, '_', '.', '-', at most 15 characters, not 'none'",
      });
      continue;
    }
    const facts = loadNode(e.key, e.keySpan, e.value, f, file, dir);
    if (facts) out.push(facts);
  }
  if (!m.entries.length) f.diags.error(m.span, 'lab-missing-key', 'nodes is empty: name at least one node and its keepalived.conf');
  return out;
}

function loadNode(name: string, span: Span, y: Y, f: Fields, file: string, dir: string): NodeFacts | undefined {
  // `lb1: lb1.conf` is `lb1: {config: lb1.conf}`.
  const m: YMap | undefined =
    y.kind === 'scalar' ? { kind: 'map', span: y.span, entries: [{ key: 'config', keySpan: y.span, value: y }] } : f.map(y, `node ${name}`, NODE_KEYS);
  if (!m) return undefined;
  const cy = f.required(m, 'config', `node ${name}`);
  const implY = f.get(m, 'impl');
  const impl = implY ? f.oneOf(implY, 'impl', ['keepalived-ts', 'keepalived'] as const) : 'keepalived-ts';
  // Default: the node's name, as if each node's host name were its name (both backends use it).
  const idY = f.get(m, 'config-id');
  const configId = idY ? f.string(idY, 'config-id') : name;
  const source = cy && configSource(cy, f, file, dir, `${name}'s config`);
  if (!source || !impl || configId === undefined) return undefined;

  const loaded = source.text === undefined ? loadConfig(shown(source.file), { configId }) : loadInline(source.text, cy, file, name, configId);
  for (const d of loaded.diagnostics) f.diags.items.push(d);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors)
    f.diags.error(
      cy.span,
      'lab-node-config',
      `${name}'s keepalived.conf has ${errors} error${errors > 1 ? 's' : ''}: the lab does not run a config keepalived -t rejects`,
    );
  return { node: { name, config: source, impl, configId, span }, config: loaded.config };
}

/** A config file's name as the user would write it from here, for its diagnostics. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/**
 * A config value: text with a newline is inline keepalived.conf (`config: |`), anything else a
 * path relative to the scenario file. Only files that cannot be read are reported here.
 */
export function configSource(
  y: Y,
  f: Fields,
  file: string,
  dir: string,
  what: string,
  severity: 'error' | 'warning' = 'error',
): { file: string; text?: string } | undefined {
  const v = f.string(y, what);
  if (v === undefined) return undefined;
  if (v.includes('\n')) return { file, text: v };
  const path = resolve(dir, v);
  const problem = !existsSync(path) ? 'does not exist' : statSync(path).isDirectory() ? 'is a directory' : undefined;
  if (!problem) return { file: path };
  f.diags.add(y.span, severity, 'lab-file', `${what} ${v} ${problem} (looked for ${path})`);
  return severity === 'error' ? undefined : { file: path };
}

/** Inline text: its diagnostics are moved to where the text sits in the scenario file. */
function loadInline(text: string, y: Y, file: string, node: string, configId: string) {
  const name = `${file}#${node}`;
  const loaded = loadConfigText(text, name, { configId });
  const block = y.kind === 'scalar' ? y.block : undefined;
  const moved = (d: Diagnostic): Diagnostic => {
    if (d.file !== name) return d;
    if (!block) return { ...d, file, line: y.span.line, col: y.span.col };
    const m: Diagnostic = { ...d, file, line: block.line + d.line - 1, col: d.col + block.indent };
    if (d.endLine !== undefined) m.endLine = block.line + d.endLine - 1;
    return m;
  };
  return { ...loaded, diagnostics: loaded.diagnostics.map(moved) };
}

/** Interfaces a node's config uses: instances' first (in order), then tracked ones. */
export function interfacesOf(config: Config): string[] {
  const names = config.resolved.vrrpInstances.map((i) => i.interface);
  if (!names.length) names.push(config.globalDefs.defaultInterface);
  for (const t of [...config.vrrpInstances, ...config.syncGroups]) for (const ti of t.trackInterface) names.push(ti.name);
  return [...new Set(names)];
}

export function instanceNames(facts: readonly NodeFacts[]): string[] {
  return [...new Set(facts.flatMap((n) => n.config.vrrpInstances.map((i) => i.name)))];
}
