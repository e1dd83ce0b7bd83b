// What the timeline and expectation loaders check names against: the nodes (with their
// configs), the wiring, the real servers and clients, as loaded so far.
import { suggest } from '../../config/suggest.js';
import type { Fields } from './fields.js';
import type { NodeFacts } from './nodes.js';
import type { Segment } from '../model/scenario.js';
import type { Y } from './yaml-tree.js';

export interface LabContext {
  f: Fields;
  file: string;
  dir: string;
  facts: NodeFacts[];
  /** Every node's config loaded: only then is a scenario checked against the configs. */
  configsKnown: boolean;
  /** The nodes' names as declared; null when `nodes` is missing or not a map: then nothing
   * can be checked against them, and references to nodes are not reported (that one error is). */
  nodes: string[] | null;
  segments: Segment[];
  servers: string[];
  clients: string[];
}

export function factsOf(ctx: LabContext, node: string): NodeFacts | undefined {
  return ctx.facts.find((n) => n.node.name === node);
}

/** A name the node's keepalived.conf must define (a vrrp_script, an instance...). */
export function inConfig(
  ctx: LabContext,
  y: Y,
  node: string,
  what: string,
  names: readonly string[],
  rule: 'lab-unknown-tracker' | 'lab-unknown-interface' | 'lab-unknown-instance',
): string | undefined {
  const v = ctx.f.string(y, what);
  if (v === undefined || names.includes(v)) return v;
  const near = suggest(v, names);
  const hint = near ? `did you mean '${near}'?` : names.length ? `${node} has: ${names.join(', ')}` : `${node}'s config has none`;
  ctx.f.diags.error(y.span, rule, `${node}'s keepalived.conf has no ${what} '${v}'`, { hint });
  return undefined;
}
