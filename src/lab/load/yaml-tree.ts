// The scenario YAML as a small tree where every node knows its FILE:LINE:COL, read with the
// `yaml` package (which also reports syntax errors with positions). Validation walks this tree
// instead of the package's AST so that it stays independent of the package's node classes.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostics, Span } from '../../config/diagnostics.js';

export type Y =
  | { kind: 'map'; span: Span; entries: { key: string; keySpan: Span; value: Y }[] }
  | { kind: 'seq'; span: Span; items: Y[] }
  | { kind: 'scalar'; span: Span; value: unknown; block?: { line: number; indent: number } };

/** Parse `text`; syntax errors go to `diags` and yield no tree. */
export function parseYaml(text: string, file: string, diags: Diagnostics): Y | undefined {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: true, prettyErrors: false });
  const at = (offset: number): Span => ({ file, ...lc.linePos(offset) });
  for (const e of doc.errors) diags.error(at(e.pos[0]), 'lab-yaml', e.message.split('\n')[0]);
  if (doc.errors.length) return undefined;
  const empty: Y = { kind: 'scalar', span: at(0), value: null };
  return doc.contents ? convert(doc.contents, { doc, at, diags, open: new Set() }) : empty;
}

interface Walk {
  doc: Document;
  at: (offset: number) => Span;
  diags: Diagnostics;
  /** Collections being converted: an alias to one of them would never end (`&x [*x]`). */
  open: Set<Node>;
}

function convert(node: Node, w: Walk): Y {
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
      const entries = node.items.map((p) => {
        const key = p.key as Node | null;
        const value: Y = p.value ? convert(p.value as Node, w) : { kind: 'scalar', span: w.at(key?.range?.[1] ?? 0), value: null };
        return { key: String(isScalar(key) ? key.value : key), keySpan: w.at(key?.range?.[0] ?? 0), value };
      });
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
