// The scenario YAML as a small tree where every node knows its FILE:LINE:COL, read with the
// `yaml` package (which also reports syntax errors with positions). Validation walks this tree
// instead of the package's AST so that it stays independent of the package's node classes.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { Diagnostics, Span } from '../../config/diagnostics.js';
import { LIMITS } from './limits.js';

export type Y =
  | { kind: 'map'; span: Span; entries: { key: string; keySpan: Span; value: Y }[] }
  | { kind: 'seq'; span: Span; items: Y[] }
  | { kind: 'scalar'; span: Span; value: unknown; block?: { line: number; indent: number } };

/** Parse `text`; syntax errors go to `diags` and yield no tree. */
export function parseYaml(text: string, file: string, diags: Diagnostics): Y | undefined {
  if (tokens(text) > LIMITS.yamlTokens) {
    diags.error({ file, line: 1, col: 1 }, 'lab-limit', `the scenario has more than ${LIMITS.yamlTokens} lines and flow separators ([ ] { } ,)`, {
      hint: 'split it into several scenarios',
    });
    return undefined;
  }
  const lc = new LineCounter();
  // uniqueKeys off: the package checks each key against every other (quadratic: minutes for a
  // map of 100,000 keys); convert() checks with a set.
  const doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: true, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number): Span => ({ file, ...lc.linePos(offset) });
  for (const e of doc.errors) diags.error(at(e.pos[0]), 'lab-yaml', e.message.split('\n')[0]);
  if (doc.errors.length) return undefined;
  if (aliasBomb(doc)) {
    diags.error(at(firstAlias(doc)), 'lab-limit', `too many alias expansions: the YAML would grow beyond ${LIMITS.aliases} uses of its anchors`, {
      hint: 'write the repeated parts out, or use fewer aliases',
    });
    return undefined;
  }
  const empty: Y = { kind: 'scalar', span: at(0), value: null };
  if (!doc.contents) return empty;
  const w: Walk = { doc, at, diags, open: new Set(), checked: new WeakSet(), left: LIMITS.yamlNodes };
  try {
    return convert(doc.contents, w);
  } catch (e) {
    if (e !== TOO_MANY) throw e;
    diags.error(at(0), 'lab-limit', `the scenario has more than ${LIMITS.yamlNodes} values once its aliases are expanded`, {
      hint: 'split it into several scenarios',
    });
    return undefined;
  }
}

function tokens(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // \n , [ ] { }
    if (c === 10 || c === 44 || c === 91 || c === 93 || c === 123 || c === 125) n++;
  }
  return n;
}

/** The yaml package's own guard against "billion laughs" (maxAliasCount), which counts alias
 * uses weighted by the aliases inside what they refer to, without expanding them. */
function aliasBomb(doc: Document): boolean {
  try {
    doc.toJS({ maxAliasCount: LIMITS.aliases });
    return false;
  } catch (e) {
    return e instanceof ReferenceError && /alias count/i.test(e.message);
  }
}

function firstAlias(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

const TOO_MANY = new Error('too many values');

interface Walk {
  doc: Document;
  at: (offset: number) => Span;
  diags: Diagnostics;
  /** Collections being converted: an alias to one of them would never end (`&x [*x]`). */
  open: Set<Node>;
  /** Maps whose keys were checked (a map behind an alias is converted once per use). */
  checked: WeakSet<Node>;
  /** Values still allowed (LIMITS.yamlNodes): aliases the yaml package allows still multiply. */
  left: number;
}

function convert(node: Node, w: Walk): Y {
  if (--w.left < 0) throw TOO_MANY;
  const span = w.at(node.range?.[0] ?? 0);
  if (isAlias(node)) {
    const target = node.resolve(w.doc) as Node | undefined;
    if (target && !w.open.has(target)) return convert(target, w);
    w.diags.error(span, 'lab-yaml', `alias *${node.source} refers to ${target ? 'a collection that contains it' : 'no anchor'}`);
    return { kind: 'scalar', span, value: null };
  }
  if (isMap(node) || isSeq(node)) {
    w.open.add(node);
    try {
      if (isSeq(node)) return { kind: 'seq', span, items: node.items.map((n) => convert(n as Node, w)) };
      const seen = new Set<string>();
      const entries = node.items.map((p) => {
        const key = p.key as Node | null;
        const value: Y = p.value ? convert(p.value as Node, w) : { kind: 'scalar', span: w.at(key?.range?.[1] ?? 0), value: null };
        const name = String(isScalar(key) ? key.value : key);
        const keySpan = w.at(key?.range?.[0] ?? 0);
        if (seen.has(name) && !w.checked.has(node)) w.diags.error(keySpan, 'lab-yaml', `Map keys must be unique: '${name}' is there twice`);
        seen.add(name);
        return { key: name, keySpan, value };
      });
      w.checked.add(node);
      return { kind: 'map', span, entries };
    } finally {
      w.open.delete(node);
    }
  }
  const scalar = node as Node & { value: unknown };
  return { kind: 'scalar', span, value: scalar.value, block: blockOf(node, span) };
}

/**
 * Where the text of a `|` or `>` scalar starts: its first line follows the header line, and
 * every line is indented by the same amount. Inline keepalived.conf text needs this to report
 * its own errors at their place in the YAML file.
 */
function blockOf(node: Node, span: Span): { line: number; indent: number } | undefined {
  const tok = node.srcToken;
  if (tok?.type !== 'block-scalar') return undefined;
  const first = /^( *)\S/m.exec(tok.source);
  return { line: span.line + 1, indent: first ? first[1].length : 0 };
}
