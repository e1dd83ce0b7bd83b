// Typed access to the scenario tree: each accessor either returns a value or reports why not,
// at the value's position, and returns undefined. Callers skip what is undefined and go on, so
// one run of the loader lists every problem in the file.
import { isIP } from 'node:net';
import type { Diagnostics } from '../../config/diagnostics.js';
import { suggest } from '../../config/suggest.js';
import { parseProbability, parseTime } from '../model/times.js';
import type { Micros } from '../model/scenario.js';
import type { Y } from './yaml-tree.js';

export type YMap = Extract<Y, { kind: 'map' }>;

/** What the scalar looks like, for messages ("got [1, 2]"). */
function shown(y: Y): string {
  if (y.kind === 'map') return 'a map';
  if (y.kind === 'seq') return 'a list';
  return y.value === null ? 'nothing' : JSON.stringify(y.value);
}

export class Fields {
  constructor(readonly diags: Diagnostics) {}

  /** A map whose keys are all in `allowed`; unknown keys are reported with a did-you-mean. */
  map(y: Y, what: string, allowed: readonly string[], hints: Record<string, string> = {}): YMap | undefined {
    if (y.kind !== 'map') {
      this.diags.error(y.span, 'lab-value', `${what} must be a map, got ${shown(y)}`);
      return undefined;
    }
    for (const e of y.entries) {
      if (allowed.includes(e.key)) continue;
      const near = suggest(e.key, allowed);
      const hint = hints[e.key] ?? (near ? `did you mean '${near}'?` : `expected one of: ${allowed.join(', ')}`);
      this.diags.error(e.keySpan, 'lab-unknown-key', `unknown key '${e.key}' in ${what}`, { hint });
    }
    return y;
  }

  /** A map keyed by names the author chooses (nodes, real servers...). */
  dict(y: Y, what: string): YMap | undefined {
    if (y.kind === 'map') return y;
    this.diags.error(y.span, 'lab-value', `${what} must be a map of names, got ${shown(y)}`);
    return undefined;
  }

  /** The unknown keys of `m` (after map() has reported them). */
  unknown(m: YMap, allowed: readonly string[]): boolean {
    return m.entries.some((e) => !allowed.includes(e.key));
  }

  get(m: YMap, key: string): Y | undefined {
    return m.entries.find((e) => e.key === key)?.value;
  }

  required(m: YMap, key: string, what: string): Y | undefined {
    const v = this.get(m, key);
    if (!v) this.diags.error(m.span, 'lab-missing-key', `${what} needs '${key}'`);
    return v;
  }

  seq(y: Y, what: string): Y[] | undefined {
    if (y.kind === 'seq') return y.items;
    this.diags.error(y.span, 'lab-value', `${what} must be a list, got ${shown(y)}`);
    return undefined;
  }

  string(y: Y, what: string): string | undefined {
    if (y.kind === 'scalar' && (typeof y.value === 'string' || typeof y.value === 'number') && String(y.value) !== '') return String(y.value);
    this.diags.error(y.span, 'lab-value', `${what} must be a word or text, got ${shown(y)}`);
    return undefined;
  }

  bool(y: Y, what: string): boolean | undefined {
    if (y.kind === 'scalar' && typeof y.value === 'boolean') return y.value;
    this.diags.error(y.span, 'lab-value', `${what} must be true or false, got ${shown(y)}`);
    return undefined;
  }

  int(y: Y, what: string, min: number, max: number): number | undefined {
    if (y.kind === 'scalar' && Number.isInteger(y.value) && (y.value as number) >= min && (y.value as number) <= max) return y.value as number;
    this.diags.error(y.span, 'lab-value', `${what} must be a whole number from ${min} to ${max}, got ${shown(y)}`);
    return undefined;
  }

  /** A positive number (rates). */
  positive(y: Y, what: string): number | undefined {
    if (y.kind === 'scalar' && typeof y.value === 'number' && y.value > 0 && Number.isFinite(y.value)) return y.value;
    this.diags.error(y.span, 'lab-value', `${what} must be a number above 0, got ${shown(y)}`);
    return undefined;
  }

  time(y: Y, what: string): Micros | undefined {
    const t = y.kind === 'scalar' ? parseTime(y.value) : undefined;
    if (t === undefined)
      this.diags.error(y.span, 'lab-value', `${what} is not a time: ${shown(y)}`, { hint: 'write e.g. 5s, 250ms, 1.5s, 2m or a number of seconds' });
    return t;
  }

  probability(y: Y, what: string): number | undefined {
    const p = y.kind === 'scalar' ? parseProbability(y.value) : undefined;
    if (p === undefined) this.diags.error(y.span, 'lab-value', `${what} is not a probability: ${shown(y)}`, { hint: 'write e.g. 30% or 0.3' });
    return p;
  }

  oneOf<T extends string>(y: Y, what: string, values: readonly T[]): T | undefined {
    const v = y.kind === 'scalar' && typeof y.value === 'string' ? y.value : undefined;
    if (v !== undefined && (values as readonly string[]).includes(v)) return v as T;
    const near = v === undefined ? undefined : suggest(v, values);
    this.diags.error(y.span, 'lab-value', `${what} must be ${values.join(' or ')}, got ${shown(y)}`, near ? { hint: `did you mean '${near}'?` } : {});
    return undefined;
  }

  address(y: Y, what: string): string | undefined {
    const v = y.kind === 'scalar' && typeof y.value === 'string' ? y.value : undefined;
    if (v !== undefined && isIP(v)) return v;
    this.diags.error(y.span, 'lab-value', `${what} must be an IP address, got ${shown(y)}`);
    return undefined;
  }

  /** A reference to one of `names` (nodes, segments...); reports the unknown ones with a did-you-mean.
   * `names` null: the list itself is missing (already reported), so the reference is dropped quietly. */
  ref(y: Y, what: string, names: readonly string[] | null, rule: 'lab-unknown-node' | 'lab-unknown-name'): string | undefined {
    const v = this.string(y, what);
    if (v === undefined || !names) return names ? v : undefined;
    if (names.includes(v)) return v;
    const near = suggest(v, names);
    const hint = near ? `did you mean '${near}'?` : names.length ? `known: ${names.join(', ')}` : undefined;
    this.diags.error(y.span, rule, `${what} '${v}' is not defined`, hint ? { hint } : {});
    return undefined;
  }
}
