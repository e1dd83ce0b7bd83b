// The keyword table's shape. keepalived registers a handler per keyword (install_keyword); here a
// block is data: its keywords with their argument types, defaults, aliases, deprecated spellings
// and one-line docs. The builder, the linter, did-you-mean and docs/keywords.md all read it.
import type { Diagnostics, Span } from './diagnostics.js';
import type { Statement } from './syntax.js';
import type { RuleId } from './rules.js';
import type { ValueType } from './values.js';

/** `advert_int` → `advertInt`, at the type level, so the table is checked against the model. */
export type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

export function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Every model object remembers where it was written and where each of its fields was set. */
export interface Located {
  span: Span;
  spans: Record<string, Span>;
}

export interface BuildContext {
  diags: Diagnostics;
  /** Report a problem at a statement or word. */
  error(at: Span, rule: RuleId, message: string, hint?: string): void;
  warning(at: Span, rule: RuleId, message: string, hint?: string): void;
}

export interface KeywordSpec {
  name: string;
  /** Model field that receives the value. */
  field: string;
  /** Leaf keywords: how the arguments are read. */
  type?: ValueType<unknown>;
  /** Block keywords: the block's own table. */
  block?: BlockSpec<any>;
  /** Each occurrence appends to an array (vrrp_instance, real_server, url...). */
  multiple?: boolean;
  /** Other spellings keepalived accepts with the same meaning, silently. */
  aliases?: readonly string[];
  /** Spellings keepalived still accepts but that have a replacement; lint warns. */
  deprecated?: readonly string[];
  /** keepalived keeps the first value and reports later ones (notify_up, digest...). */
  keepFirst?: boolean;
  /** Keepalived reports a config error for the deprecated spelling too (nb_get_retry). */
  deprecatedIsError?: boolean;
  default?: unknown;
  /** The keepalived version that introduced it, when newer than the 2.2 series distros ship. */
  since?: string;
  /**
   * Accepted and checked, but nothing in keepalived-ts acts on the value yet: says what happens
   * instead. `-t`, `lint` and the daemon report each use ([keyword-not-implemented]). Unset: the
   * keyword is implemented (runtime code reads its value: test/config/keyword-status.test.ts).
   */
  notImplemented?: string;
  /** keepalived itself does nothing with it either: says so. Not reported. */
  ignored?: string;
  doc: string;
  /** Store the value some other way than `obj[field] = value` (one keyword, several fields). */
  apply?: (value: any, obj: any) => void;
  /** Run after the value is stored, for checks that need the rest of the block. */
  check?: (value: any, obj: any, at: Statement, ctx: BuildContext) => void;
  /** Run on every use, before the value is read: keepalived sets some flags whether or not the
   * value then parses. */
  seen?: (obj: any, at: Statement) => void;
}

/** What a block's header returns when keepalived skips the block (see BlockSpec.header). */
export const SKIP_BLOCK: unique symbol = Symbol('skip block');

export interface BlockSpec<T> {
  /** The keyword that opens it, for docs and messages. */
  name: string;
  doc: string;
  keywords: KeywordSpec[];
  /** Fields from the header words (`vrrp_instance VI_1 {` → name), or SKIP_BLOCK: keepalived
   * reported the header and skips the block whole (skip_block), reading none of its lines. */
  header?: (st: Statement, ctx: BuildContext) => Partial<T> | undefined | typeof SKIP_BLOCK;
  /**
   * List blocks (virtual_ipaddress, unicast_peer, track_script...) read each line as an item
   * instead of a keyword. Returning undefined drops the line (its error already reported). With
   * `words`, parse returns an array: each word is an item (keepalived's read_value_block).
   */
  item?: { field: string; usage: string; words?: boolean; parse: (st: Statement, ctx: BuildContext, owner: T) => unknown };
  /** Block-end validation and derived defaults (keepalived's install_level_end_handler). */
  finish?: (obj: T, st: Statement, ctx: BuildContext) => void;
}

type Opts<T> = Partial<Omit<KeywordSpec, 'name' | 'type' | 'block'>> & { field?: keyof T & string };

/**
 * Table helpers typed by the model: `k('advert_int', decimal(...))` only compiles if the model has
 * `advertInt` (or the entry names its `field`).
 */
export function keywords<T>() {
  function k<N extends string>(
    name: N,
    type: ValueType<unknown>,
    opts: Opts<T> & (Camel<N> extends keyof T ? unknown : { field: keyof T & string }) & { doc: string },
  ): KeywordSpec {
    return { name, type, field: opts.field ?? camel(name), ...opts };
  }
  function b<N extends string>(
    name: N,
    block: BlockSpec<any>,
    opts: Opts<T> & (Camel<N> extends keyof T ? unknown : { field: keyof T & string }) & { doc?: string },
  ): KeywordSpec {
    return { name, block, field: opts.field ?? camel(name), doc: opts.doc ?? block.doc, ...opts };
  }
  return { k, b };
}

export type KeywordStatus = 'implemented' | 'ignored' | 'not-implemented';

export function statusOf(k: KeywordSpec): KeywordStatus {
  return k.notImplemented !== undefined ? 'not-implemented' : k.ignored !== undefined ? 'ignored' : 'implemented';
}

export function defineBlock<T>(spec: BlockSpec<T>): BlockSpec<T> {
  return spec;
}
