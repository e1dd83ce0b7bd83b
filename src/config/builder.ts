// Syntax tree → typed model, driven only by the keyword table. Like keepalived it reports and
// carries on: an unknown keyword is skipped (with its block), a bad value keeps the default.
import type { Diagnostics, Span } from './diagnostics.js';
import { SKIP_BLOCK, type BlockSpec, type BuildContext, type KeywordSpec } from './schema.js';
import { ABORTS_WITHOUT_VALUE } from './missing-value.js';
import { PassMap, passesOf, passesWithin, type Pass } from './passes.js';
import { compareVersions } from './version.js';
import { suggest } from './suggest.js';
import type { RuleId } from './rules.js';
import type { BlockEnd, Statement } from './syntax.js';

interface Index {
  byName: Map<string, Hit>;
}

/**
 * A keyword as fill() reads it, once per statement: every option present, in one shape. The
 * keyword table's entries each set only their own options, so they come in dozens of shapes,
 * and reading them line after line was a megamorphic load each time.
 */
class Hit {
  readonly name: string;
  readonly field: string;
  readonly type: KeywordSpec['type'];
  readonly block: KeywordSpec['block'];
  readonly multiple: boolean;
  readonly keepFirst: boolean;
  readonly deprecatedIsError: boolean;
  readonly default: unknown;
  readonly since: string | undefined;
  readonly notImplemented: string | undefined;
  readonly apply: KeywordSpec['apply'];
  readonly check: KeywordSpec['check'];
  readonly seen: KeywordSpec['seen'];
  /** A block that is only a list: the field holds the array itself. */
  readonly pureList: boolean;
  /** How keepalived names a block kind whose duplicate names it skips. */
  readonly dup: string | undefined;
  constructor(
    readonly kw: KeywordSpec,
    readonly spelling: 'name' | 'alias' | 'deprecated',
  ) {
    this.name = kw.name;
    this.field = kw.field;
    this.type = kw.type;
    this.block = kw.block;
    this.multiple = kw.multiple === true;
    this.keepFirst = kw.keepFirst === true;
    this.deprecatedIsError = kw.deprecatedIsError === true;
    this.default = kw.default;
    this.since = kw.since;
    this.notImplemented = kw.notImplemented;
    this.apply = kw.apply;
    this.check = kw.check;
    this.seen = kw.seen;
    this.pureList = isPureList(kw);
    this.dup = DUPLICATE_SKIPPED[kw.name];
  }
}

/** The span of a block (a model object's, or the one recorded for a block keyword), which also
 * knows where the block was closed. The end is private: the span still compares and prints as
 * file, line and col. (A WeakMap from span to end cost a hash entry and GC work per block.) */
class BlockSpan implements Span {
  // The end's fields, not the tokenizer's end object: a million-block ~SEQ keeps one of these
  // per block, and an object of its own costs 48 bytes more than two numbers. The end is in the
  // block's file unless an include ended it elsewhere.
  readonly #endFile: string | undefined;
  readonly #endLine: number;
  readonly #endCol: number;
  constructor(
    public file: string,
    public line: number,
    public col: number,
    end: Span,
  ) {
    this.#endFile = end.file === file ? undefined : end.file;
    this.#endLine = end.line;
    this.#endCol = end.col;
  }
  endsAt(end: Span): boolean {
    return this.#endLine === end.line && this.#endCol === end.col && (this.#endFile ?? this.file) === end.file;
  }
  static endOf(span: Span): Span | undefined {
    return #endLine in span ? { file: span.#endFile ?? span.file, line: span.#endLine, col: span.#endCol } : undefined;
  }
}

/**
 * Where the block that starts at `span` (a model object's span, or the span recorded for a block
 * keyword) is closed: keepalived reports its block-end checks at that '}'.
 */
export function blockEndOf(span: Span | undefined): Span | undefined {
  return span && BlockSpan.endOf(span);
}

/** Slots in each table of Positions. */
const POSITION_SLOTS = 256;

/**
 * The spans one load hands out, equal ones as one object: the rows of a `~SEQ` or `~LST` line
 * (a million blocks from one line) all sit at that line's positions, and a span is read-only. A
 * direct-mapped table: a miss costs a compare, and a config without generators misses.
 */
class Positions {
  private readonly spans: (Span | undefined)[] = new Array<Span | undefined>(POSITION_SLOTS).fill(undefined);
  private readonly blocks: (BlockSpan | undefined)[] = new Array<BlockSpan | undefined>(POSITION_SLOTS).fill(undefined);

  span(at: Span): Span {
    const i = (at.line * 31 + at.col) & (POSITION_SLOTS - 1);
    const s = this.spans[i];
    if (s !== undefined && s.line === at.line && s.col === at.col && s.file === at.file) return s;
    return (this.spans[i] = { file: at.file, line: at.line, col: at.col });
  }

  block(at: Span, end: Span): BlockSpan {
    const i = (at.line * 31 + at.col + end.line * 7) & (POSITION_SLOTS - 1);
    const s = this.blocks[i];
    if (s !== undefined && s.line === at.line && s.col === at.col && s.file === at.file && s.endsAt(end)) return s;
    return (this.blocks[i] = new BlockSpan(at.file, at.line, at.col, end));
  }
}

/** What fill() returns when nothing escaped its block: shared, so never mutated. */
const NONE: readonly Item[] = [];

/** `items` with `more` inserted at `at`; copied first unless `owned` (the caller's own copy). */
function insert(items: Item[], owned: boolean, at: number, more: readonly Item[]): Item[] {
  const out = owned ? items : items.slice();
  out.splice(at, 0, ...more);
  return out;
}

/** Adds what a list block's line parsed to (nothing, an item, or with `words` one per word). */
function pushItem(listOf: NonNullable<BlockSpec<any>['item']>, obj: Record<string, unknown>, item: unknown): void {
  if (item === undefined) return;
  const list = obj[listOf.field] as unknown[];
  if (listOf.words) for (const w of item as unknown[]) list.push(w);
  else list.push(item);
}

/** A statement, or the '}' that closed a block (kept apart when a '{' is ignored). */
type Item = Statement | { eob: Span };

/** keepalived ignores a '{' it did not expect: the block's lines and its '}' belong to the enclosing block. */
function ignoredBrace(st: Statement): Item[] {
  const inner: Item[] = [...st.children!];
  if (st.end) inner.push({ eob: st.end });
  return inner;
}

/**
 * A block still reading when its lines ran out: a list block written without '{' read the '}'
 * that was to close it (keepalived reads lines, not a tree: alloc_value_block takes the lines up
 * to the first '}'). `resume` reads on in the lines that follow, `eof` when they are the last of
 * the input; it returns what follows the '}' that finally closes the block, or a further Open.
 */
class Open {
  constructor(readonly resume: (more: readonly Item[], eof: boolean) => readonly Item[] | Open) {}
}

/** The end of a block that the end of the input closed. */
const EOF_END: BlockEnd = { file: '', line: 0, col: 0, eof: true };

/** Every pass, in keepalived's order (passes.ts). */
const ALL_PASSES: readonly Pass[] = ['parent', 'checker', 'vrrp', 'bfd'];

/** Named blocks keepalived skips whole when the name is taken (vrrp_parser.c). */
const DUPLICATE_SKIPPED: Record<string, string> = { vrrp_instance: 'vrrp instance', vrrp_sync_group: 'vrrp sync group', track_group: 'track_group' };

const indexes = new WeakMap<BlockSpec<any>, Index>();

function indexOf(spec: BlockSpec<any>): Index {
  let idx = indexes.get(spec);
  if (!idx) {
    const byName: Index['byName'] = new Map();
    for (const kw of spec.keywords) {
      byName.set(kw.name, new Hit(kw, 'name'));
      for (const a of kw.aliases ?? []) byName.set(a, new Hit(kw, 'alias'));
      for (const a of kw.deprecated ?? []) byName.set(a, new Hit(kw, 'deprecated'));
    }
    idx = { byName };
    indexes.set(spec, idx);
  }
  return idx;
}

/** Every block reachable from `root`, for "belongs in X" hints. */
function allBlocks(root: BlockSpec<any>): BlockSpec<any>[] {
  const seen = new Set<BlockSpec<any>>();
  const walk = (b: BlockSpec<any>): void => {
    if (seen.has(b)) return;
    seen.add(b);
    for (const kw of b.keywords) if (kw.block) walk(kw.block);
  };
  walk(root);
  return [...seen];
}

/** One message per (block, keyword): the daemon groups its log lines by it. */
export function notImplementedMessage(spec: BlockSpec<any>, kw: KeywordSpec): string {
  return `'${kw.name}' (${spec.name}) is not implemented in keepalived-ts: ${kw.notImplemented}`;
}

/** A keyword offered as a correction: never a not-implemented one without saying so. */
function offer(kw: KeywordSpec): string {
  return kw.notImplemented !== undefined ? `'${kw.name}' (accepted, but not implemented in keepalived-ts)` : `'${kw.name}'`;
}

export function makeContext(diags: Diagnostics): BuildContext {
  return {
    diags,
    error: (at, rule, message, hint) => diags.error(at, rule, message, { hint }),
    warning: (at, rule, message, hint) => diags.warning(at, rule, message, { hint }),
  };
}

/** A block that is only a list (virtual_ipaddress...): its field holds the array itself. */
function isPureList(kw: KeywordSpec): boolean {
  return !!kw.block?.item && kw.block.keywords.length === 0 && !kw.block.header && !kw.multiple;
}

const templates = new WeakMap<BlockSpec<any>, { plain: Record<string, unknown>; fresh: [string, () => unknown][] }>();

function templateOf(spec: BlockSpec<any>): { plain: Record<string, unknown>; fresh: [string, () => unknown][] } {
  let t = templates.get(spec);
  if (!t) {
    const plain: Record<string, unknown> = {};
    const fresh: [string, () => unknown][] = [];
    const seen = new Set<string>();
    for (const kw of spec.keywords) {
      if (seen.has(kw.field)) continue;
      if (kw.multiple || isPureList(kw)) {
        fresh.push([kw.field, () => []]);
        seen.add(kw.field);
      } else if (kw.default !== undefined) {
        const d = kw.default;
        if (d !== null && typeof d === 'object') fresh.push([kw.field, () => copyData(d)]);
        else plain[kw.field] = d;
        seen.add(kw.field);
      }
    }
    if (spec.item && !seen.has(spec.item.field)) fresh.push([spec.item.field, () => []]);
    t = { plain, fresh };
    templates.set(spec, t);
  }
  return t;
}

/** A deep copy of a default (arrays and plain objects of plain values), as structuredClone makes,
 * without its serialisation cost: blocks are made by the ten thousand. */
function copyData(d: unknown): unknown {
  if (Array.isArray(d)) return d.map(copyData);
  if (d === null || typeof d !== 'object') return d;
  if (Object.getPrototypeOf(d) !== Object.prototype) return structuredClone(d);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(d)) out[k] = copyData((d as Record<string, unknown>)[k]);
  return out;
}

/** The value a fresh block object starts with: every keyword's documented default. Computed
 * once per block type; only array and object defaults are copied per object. */
export function defaultsOf(spec: BlockSpec<any>): Record<string, unknown> {
  const t = templateOf(spec);
  const obj: Record<string, unknown> = { ...t.plain };
  for (const [k, make] of t.fresh) obj[k] = make();
  return obj;
}

/** Block-end findings are about the whole block: they cover it up to its closing brace
 * (keepalived reports them at the `}` line, we at the keyword that opened the block). */
class BlockEndContext implements BuildContext {
  constructor(
    readonly diags: Diagnostics,
    private readonly st: Statement,
  ) {}
  private endLine(at: Span): number | undefined {
    const st = this.st;
    return at.line === st.line && at.file === st.file ? st.end?.line : undefined;
  }
  error(at: Span, rule: RuleId, message: string, hint?: string): void {
    this.diags.error(at, rule, message, { hint, endLine: this.endLine(at) });
  }
  warning(at: Span, rule: RuleId, message: string, hint?: string): void {
    this.diags.warning(at, rule, message, { hint, endLine: this.endLine(at) });
  }
}

export class Builder {
  private readonly blocks: BlockSpec<any>[];

  /**
   * @param target keepalived version to judge as (`-t`, lint): a keyword added later is unknown to
   * it, as that keepalived reports it. Without one, such a keyword only gets a warning.
   */
  constructor(
    private readonly root: BlockSpec<any>,
    private readonly ctx: BuildContext,
    private readonly target?: string,
  ) {
    this.blocks = allBlocks(root);
  }

  buildRoot(statements: Statement[], at: Span): Record<string, unknown> {
    const root = this.startRoot(at);
    root.add(statements);
    return root.finish();
  }

  /**
   * Build the top level as its statements arrive (parse.ts streams them): each is built and
   * dropped, except the newest, held until the next arrives because a block keyword without its
   * '{' is reported at the line after it.
   */
  startRoot(at: Span): { add(statements: readonly Statement[]): void; finish(): Record<string, unknown> } {
    const obj = this.fresh(this.root, at, undefined)!;
    let held: readonly Item[] = NONE;
    return {
      add: (statements) => {
        if (statements.length === 0) return;
        const items = this.rootOpens.length ? this.feedOpen(statements, false) : statements;
        held = this.fill(this.root, obj, held.length ? [...held, ...items] : items, true, undefined, true) as readonly Item[];
      },
      finish: () => {
        this.fill(this.root, obj, held);
        held = NONE;
        // A block still reading on is closed by the end of the input.
        while (this.rootOpens.length) this.fill(this.root, obj, this.feedOpen(NONE, true));
        this.root.finish?.(obj, { keyword: '', args: [], head: { text: '', quoted: false, ...at }, ...at }, this.ctx);
        return obj;
      },
    };
  }

  /** A new block object, or undefined when its header says keepalived skips the block. */
  private fresh(spec: BlockSpec<any>, at: Span, st: Statement | undefined): Record<string, unknown> | undefined {
    const header = st && spec.header ? spec.header(st, this.ctx) : undefined;
    if (header === SKIP_BLOCK) return undefined;
    // As { span, spans, ...defaultsOf(spec) }, without the intermediate object.
    const t = templateOf(spec);
    const end = st?.end;
    const span = end ? this.positions.block(at, end) : this.positions.span(at);
    const obj: Record<string, unknown> = { span, spans: {}, ...t.plain };
    for (let k = 0; k < t.fresh.length; k++) obj[t.fresh[k][0]] = t.fresh[k][1]();
    if (header) Object.assign(obj, header);
    return obj;
  }

  /**
   * Build one block. Returns what escaped it: when an unknown keyword (or a leaf keyword) opens a
   * block, keepalived ignores the '{' ("Unexpected '{' - ignoring"), reads the lines inside as
   * keywords of the enclosing block, and the '}' meant for the ignored block closes the enclosing
   * one. What followed is then read one level up, and so on to the top level, where a '}' is an
   * unknown keyword.
   */
  private block(
    spec: BlockSpec<any>,
    st: Statement,
    into?: Record<string, unknown>,
  ): { obj: Record<string, unknown> | undefined; escaped: readonly Item[] | Open } {
    const obj = into ?? this.fresh(spec, st, st);
    // A skipped block is skipped by counting its braces: nothing in it is read, nothing escapes.
    if (!obj) return { obj, escaped: NONE };
    const escaped = this.fill(spec, obj, st.children ?? NONE, false, st.end);
    if (escaped instanceof Open) return { obj, escaped: this.closing(spec, obj, st, escaped) };
    if (spec.finish) spec.finish(obj, st, new BlockEndContext(this.ctx.diags, st));
    return { obj, escaped };
  }

  /** Runs the block-end checks once the block is closed: now, or when the Open it reads on in is. */
  private closing(spec: BlockSpec<any>, obj: Record<string, unknown>, st: Statement, r: readonly Item[] | Open, closed?: () => void): readonly Item[] | Open {
    if (r instanceof Open) return new Open((more, eof) => this.closing(spec, obj, st, r.resume(more, eof), closed));
    closed?.();
    if (spec.finish) spec.finish(obj, st, new BlockEndContext(this.ctx.diags, st));
    return r;
  }

  /** `spec`'s block, open because the Open `inner` within it read its '}': when `inner` closes, the
   * block reads on in what follows. */
  private reopen(inner: Open, spec: BlockSpec<any>, obj: Record<string, unknown>): Open {
    return new Open((more, eof) => {
      const r = inner.resume(more, eof);
      return r instanceof Open ? this.reopen(r, spec, obj) : this.fill(spec, obj, r, false, eof ? EOF_END : undefined);
    });
  }

  /**
   * keepalived's alloc_value_block for a list block written without '{': every line that follows
   * is an item, a block's opening line included, up to the first '}', whichever block it was
   * written for. Returns what follows that '}', or undefined when the lines ran out first.
   */
  private valueLines(
    listOf: NonNullable<BlockSpec<any>['item']>,
    obj: Record<string, unknown>,
    head: Statement,
    items: readonly Item[],
  ): readonly Item[] | undefined {
    const work = items.slice();
    for (let j = 0; j < work.length; j++) {
      const it = work[j];
      if ('eob' in it) {
        // Its end-of-block findings (an empty list) are keepalived's at this '}'.
        head.end = it.eob;
        return work.slice(j + 1);
      }
      if (it.children) {
        const inner: Item[] = [...it.children];
        if (it.end && !it.end.eof) inner.push({ eob: it.end });
        work.splice(j + 1, 0, ...inner);
      }
      pushItem(listOf, obj, listOf.parse(it.children ? { ...it, children: undefined, end: undefined } : it, this.ctx, obj));
    }
    return undefined;
  }

  /**
   * Top-level blocks (or lists) reading on past their '}', each with the passes that read it, in
   * the order they opened. The passes of each later one are among the others of the earlier ones.
   */
  private readonly rootOpens: { open: Open; passes: readonly Pass[] }[] = [];

  /**
   * Top-level lines while blocks read on (`rootOpens`, from `from`): the passes that read such a
   * block read the lines inside it; the other passes, still skipping it by its braces, read them
   * as before. Returns what the top level reads: the others' copy of the lines (each line's own
   * passes less the block's), then what follows each block that closed, in the input's order.
   */
  private feedOpen(items: readonly Item[], eof: boolean, from = 0): Item[] {
    let cur = items;
    let after: Item[] = [];
    for (let k = from; k < this.rootOpens.length;) {
      const o = this.rootOpens[k];
      this.ctx.diags.pass = o.passes[0];
      // A '}' that closed nothing (tokens.ts keeps it as a line '}') closes the block reading on.
      const r = o.open.resume(
        cur.map((it) => ('keyword' in it && it.keyword === '}' && !it.children ? { eob: it } : it)),
        eof,
      );
      const closed = r instanceof Open ? undefined : r;
      const rest = new Set<Item>(closed);
      const others: Item[] = [];
      for (const it of cur) {
        if (rest.has(it)) continue;
        const passes = (this.escapedFrom.get(it) ?? ALL_PASSES).filter((p) => !o.passes.includes(p));
        if (passes.length) others.push(...this.escaping(['eob' in it ? { eob: it.eob } : { ...it }], passes));
      }
      if (closed) {
        // Lines it was given keep their passes; lines from inside a block it read are its own.
        const given = new Set<Item>(cur);
        after = [...closed.map((it) => (given.has(it) ? it : this.escaping([it], o.passes)[0])), ...after];
        this.rootOpens.splice(k, 1);
      } else {
        o.open = r as Open;
        k++;
      }
      cur = others;
    }
    return [...cur, ...after];
  }

  /**
   * Read `items`, then the '}' at `end`, as keywords of `spec`; returns what comes after the '}'
   * that closed the block. `items` is copied only when an ignored '{' splices lines into it. With
   * `holdLast` (the streamed top level) the last item is left unread and returned.
   */
  private fill(
    spec: BlockSpec<any>,
    obj: Record<string, unknown>,
    children: readonly Item[],
    root = true,
    end?: BlockEnd,
    holdLast = false,
  ): readonly Item[] | Open {
    const idx = indexOf(spec);
    const listOf = spec.item;
    const spans = obj.spans as Record<string, Span>;
    let items = children as Item[];
    let owned = false;
    // A block the input ended in has no '}' to close it, nor to close an enclosing one with.
    let eob: Item | undefined = end && !end.eof ? { eob: end } : undefined;
    for (let i = 0; i < items.length || (eob && i === items.length); i++) {
      if (holdLast && i === items.length - 1) return [items[i]];
      const it = i < items.length ? items[i] : eob!;
      if ('eob' in it) {
        if (!root) return i < items.length ? [...items.slice(i + 1), ...(eob ? [eob] : [])] : [];
        this.ctx.diags.error(it.eob, 'unknown-keyword', "Unknown keyword '}'", { hint: "a '}' closed a block early: an earlier '{' was ignored" });
        continue;
      }
      const st = it;
      // The top level: which of keepalived's passes read this line (passes.ts).
      let passes: readonly Pass[] | undefined;
      if (spec === this.root) {
        const from = this.escapedFrom.get(st);
        passes = from ? passesWithin(st.keyword, from) : passesOf(st.keyword);
        // A block of another pass, met where that pass is still skipping an escaped-from block.
        if (passes.length === 0) continue;
        this.ctx.diags.pass = passes[0];
        if (!from) this.passMap.note(st, passes[0]);
      }
      if (listOf) {
        if (st.children) this.ctx.error(st, 'block-unexpected', `'${st.keyword}' cannot open a block inside ${spec.name}`, `list one ${listOf.usage} per line`);
        pushItem(listOf, obj, listOf.parse(st, this.ctx, obj));
        continue;
      }
      const hit = idx.byName.get(st.keyword);
      if (!hit) {
        this.unknown(spec, st);
        if (st.children) {
          items = insert(items, owned, i + 1, this.escaping(ignoredBrace(st), passes));
          owned = true;
        }
        continue;
      }
      if (hit.spelling === 'deprecated') {
        const msg = `'${st.keyword}' is deprecated; use '${hit.name}'`;
        if (hit.deprecatedIsError) this.ctx.error(st.head, 'deprecated-keyword', msg, `write ${hit.name}`);
        else this.ctx.warning(st.head, 'deprecated-keyword', msg, `write ${hit.name}`);
      }
      if (hit.since && this.target === undefined) {
        this.ctx.warning(st.head, 'keyword-newer', `'${hit.name}' needs keepalived ${hit.since} or later; older keepalived reports it as unknown`);
      } else if (hit.since && compareVersions(this.target!, hit.since) < 0) {
        // keepalived of the target version does not have the keyword: an unknown keyword there,
        // with an unknown keyword's '{' handling.
        this.ctx.diags.error(st.head, 'keyword-newer', `Unknown keyword '${st.keyword}': keepalived ${this.target} does not have it (added in ${hit.since})`, {
          hint: `remove it, or judge for a newer keepalived with --target-version ${hit.since}`,
        });
        if (st.children) {
          items = insert(items, owned, i + 1, this.escaping(ignoredBrace(st), passes));
          owned = true;
        }
        continue;
      }
      if (hit.notImplemented !== undefined) {
        this.ctx.warning(st.head, 'keyword-not-implemented', notImplementedMessage(spec, hit.kw), 'see docs/compatibility.md');
      }
      if (hit.block) {
        if (!st.children && hit.block.item) {
          // Read as keepalived reads it: the lines after it are its items, up to the first '}'.
          const list = this.valueBlock(hit, st, obj);
          if (list === undefined) continue;
          const next = this.readOn(spec, obj, list, eob ? [...items.slice(i + 1), eob] : items.slice(i + 1), root, passes, end);
          if (next instanceof Open) return next;
          items = next;
          eob = undefined;
          owned = true;
          i = -1;
          continue;
        }
        if (!st.children) {
          // keepalived (lib/parser.c process_stream, need_bob) looks for the '{' on the next line
          // it reads and reports its absence there; a list block reads that line as an item.
          const next = hit.block.item ? undefined : items[i + 1];
          const at = next ? ('eob' in next ? next.eob : next.head) : st;
          const write = `write ${st.keyword}${st.args.length ? ' ' + st.args.map((a) => a.text).join(' ') : ''} { ... }`;
          if (next) this.ctx.error(at, 'block-expected', "Missing '{' at beginning of configuration block", `line ${st.line}: ${write}`);
          else this.ctx.error(st, 'block-expected', `'${st.keyword}' opens a block`, write);
          continue;
        }
        const dup = hit.dup;
        if (dup && hit.multiple && st.args.length > 0 && this.nameTaken(obj, hit.name, st.args[0].text)) {
          // keepalived: "vrrp instance X already defined", and the whole block is skipped.
          this.ctx.diags.error(st.args[0], 'name-duplicate', `${dup} ${st.args[0].text} already defined`, {
            hint: 'give each one its own name; this block is skipped',
            endLine: st.end?.line,
          });
          continue;
        }
        let built: { obj: Record<string, unknown> | undefined; escaped: readonly Item[] | Open };
        if (hit.pureList) {
          // A pure list block (virtual_ipaddress...): the field is the array itself; a second
          // block of the same name adds to it, as keepalived does.
          const list = (obj[hit.field] ??= []) as unknown[];
          built = this.block(hit.block, st);
          if (built.obj) list.push(...(built.obj[hit.block.item!.field] as unknown[]));
        } else if (hit.multiple) {
          built = this.block(hit.block, st);
          if (built.obj) (obj[hit.field] as unknown[]).push(built.obj);
        } else {
          built = this.block(hit.block, st, obj[hit.field] as Record<string, unknown> | undefined);
          if (built.obj) obj[hit.field] = built.obj;
        }
        if (!spans[hit.field]) {
          const h = st.head;
          spans[hit.field] = st.end ? this.positions.block(h, st.end) : this.positions.span(h);
        }
        const escaped = built.escaped;
        if (escaped instanceof Open) {
          // Its '}' was read as a list's end: it reads on in our lines, our '}' included.
          const next = this.readOn(spec, obj, escaped, eob ? [...items.slice(i + 1), eob] : items.slice(i + 1), root, passes, end);
          if (next instanceof Open) return next;
          items = next;
          eob = undefined;
          owned = true;
          i = -1;
        } else if (escaped.length) {
          items = insert(items, owned, i + 1, this.escaping(escaped, passes));
          owned = true;
        }
        continue;
      }
      if (st.children) {
        this.ctx.diags.error(st, 'block-unexpected', `'${st.keyword}' does not open a block: Unexpected '{' - ignoring`, {
          hint: "keepalived reads the lines inside as this block's keywords, and the '}' closes this block",
        });
        items = insert(items, owned, i + 1, this.escaping(ignoredBrace(st), passes));
        owned = true;
      }
      this.setValue(spec, hit, st, obj, spans);
    }
    // Out of lines. The top level, and a block the input ended in, are done; a block whose '}' a
    // list read (or that reads on already) reads on in the lines after it.
    if (root || end?.eof) return NONE;
    return new Open((more, eof) => this.fill(spec, obj, more, false, eof ? EOF_END : undefined));
  }

  /**
   * A block or list within `spec`'s that reads on past its '}' (`open`) takes `rest`: our lines
   * after it, and our '}'. Returns our lines to read after it closes (a fresh array), or an Open
   * when it read our '}' too: then we read on as well. At the top level it reads on as feedOpen()
   * hands it lines.
   */
  private readOn(
    spec: BlockSpec<any>,
    obj: Record<string, unknown>,
    open: Open,
    rest: readonly Item[],
    root: boolean,
    passes: readonly Pass[] | undefined,
    end: BlockEnd | undefined,
  ): Item[] | Open {
    if (root) {
      this.rootOpens.push({ open, passes: passes! });
      return this.feedOpen(rest, false, this.rootOpens.length - 1);
    }
    const r = open.resume(rest, end?.eof === true);
    return r instanceof Open ? this.reopen(r, spec, obj) : r.slice();
  }

  /**
   * A list block written without '{' (keepalived's alloc_value_block): words after the keyword
   * are "extra parameters", and the lines that follow are its items up to the first '}'. Returns
   * the list reading on (readOn hands it those lines), or undefined for a skipped block.
   */
  private valueBlock(hit: Hit, st: Statement, obj: Record<string, unknown>): Open | undefined {
    const block = hit.block!;
    const listOf = block.item!;
    const extra = st.args[block.header ? 1 : 0];
    if (extra) {
      this.ctx.error(
        extra,
        'block-expected',
        `Block ${st.keyword} has extra parameters ${extra.text} ...`,
        `write ${st.keyword} { ... }: without '{' keepalived reads the lines that follow as its items, up to the first '}'`,
      );
    } else {
      this.ctx.warning(
        st.head,
        'block-expected',
        `'{' missing from beginning of block ${st.keyword}`,
        `write ${st.keyword} { ... }: keepalived reads the lines that follow as its items, up to the first '}'`,
      );
    }
    const list = this.fresh(block, st, st);
    if (!list) return undefined;
    if (hit.pureList) list[listOf.field] = obj[hit.field] ??= [];
    else if (hit.multiple) (obj[hit.field] as unknown[]).push(list);
    else obj[hit.field] = list;
    const head: Statement = { ...st, end: undefined };
    // Its span ends at the '}' that ended it, as a block's does.
    const spans = obj.spans as Record<string, Span>;
    // It reads on until a '}' ends it, or the input does.
    const lines: Open = new Open((more, eof) => this.valueLines(listOf, list, head, more) ?? (eof ? NONE : lines));
    // An Open in, an Open out.
    return this.closing(block, list, head, lines, () => {
      spans[hit.field] ??= head.end ? this.positions.block(st.head, head.end) : this.positions.span(st.head);
    }) as Open;
  }

  /** A keyword with a value: parse it and set the field (or add to the list). Its own function,
   * apart from fill()'s rarer paths, so that the per-line work is small code V8 optimises early. */
  private setValue(spec: BlockSpec<any>, hit: Hit, st: Statement, obj: Record<string, unknown>, spans: Record<string, Span>): void {
    if (hit.seen) hit.seen(obj, st);
    const parsed = hit.type!.parse(st.args);
    if ('error' in parsed) {
      if (st.args.length === 0 && ABORTS_WITHOUT_VALUE.get(spec.name)?.has(hit.name)) {
        // keepalived's handler reads the missing word and keepalived stops there (exit 2).
        this.ctx.diags.error(
          st.head,
          'value-missing',
          `*** Configuration line starting \`${st.keyword}\` is missing a parameter after keyword \`${st.keyword}\` at word position 2`,
          { hint: `write: ${hit.name} ${hit.type!.usage} (keepalived stops reading here and would not start)`, exit: 2 },
        );
        return;
      }
      const keep = hit.default !== undefined && !hit.multiple ? `; keeping the default ${JSON.stringify(hit.default)}` : '; ignored';
      const at = parsed.word ?? (st.args.length ? st.args[0] : st.head);
      this.ctx.error(at, parsed.rule ?? 'value-invalid', `${hit.name}: ${parsed.error}${keep}`, parsed.hint ?? `write: ${hit.name} ${hit.type!.usage}`);
      return;
    }
    if (parsed.warning) this.ctx.warning(parsed.word ?? st.head, 'value-adjusted', `${hit.name}: ${parsed.warning}`);
    const first = spans[hit.field];
    if (hit.multiple) (obj[hit.field] as unknown[]).push(parsed.value);
    else if (first && hit.keepFirst) {
      this.ctx.error(st.head, 'keyword-repeated', `'${hit.name}' is already set at line ${first.line}; keeping the first`, 'remove one of them');
      return;
    } else if (hit.apply) hit.apply(parsed.value, obj);
    else {
      if (first) this.ctx.warning(st.head, 'keyword-repeated', `'${hit.name}' already set at line ${first.line}; this one wins`);
      obj[hit.field] = parsed.value;
    }
    spans[hit.field] = this.positions.span(st.head);
    hit.check?.(parsed.value, obj, st, this.ctx);
  }

  private readonly names = new WeakMap<object, Map<string, Set<string>>>();

  /** Lines read at the top level after escaping a block: the passes that read that block. */
  private readonly escapedFrom = new WeakMap<Item, readonly Pass[]>();
  private readonly positions = new Positions();

  /** Where the top-level blocks of each pass are, for findings made after reading. */
  readonly passMap = new PassMap();

  /** Marks lines about to be read at the top level with the passes of the block they escaped. */
  private escaping(items: readonly Item[], passes: readonly Pass[] | undefined): readonly Item[] {
    if (passes) for (const it of items) this.escapedFrom.set(it, passes);
    return items;
  }

  /** Whether a block `keyword NAME` was already read in `owner` (and note it if not). */
  private nameTaken(owner: object, keyword: string, name: string): boolean {
    let byKw = this.names.get(owner);
    if (!byKw) this.names.set(owner, (byKw = new Map<string, Set<string>>()));
    let seen = byKw.get(keyword);
    if (!seen) byKw.set(keyword, (seen = new Set<string>()));
    if (seen.has(name)) return true;
    seen.add(name);
    return false;
  }

  private unknown(spec: BlockSpec<any>, st: Statement): void {
    const idx = indexOf(spec);
    const near = suggest(st.keyword, idx.byName.keys());
    let hint: string | undefined;
    if (near) hint = `did you mean ${offer(idx.byName.get(near)!.kw)}?`;
    else {
      const home = this.blocks.filter((b) => b !== spec && indexOf(b).byName.has(st.keyword)).map((b) => b.name);
      if (home.length) hint = `'${st.keyword}' belongs in ${[...new Set(home)].slice(0, 3).join(' or ')}, not ${spec.name}`;
      else {
        // A typo of a keyword of another block: name both the spelling and where it goes.
        for (const b of this.blocks) {
          const far = suggest(st.keyword, indexOf(b).byName.keys());
          if (far) {
            hint = `did you mean ${offer(indexOf(b).byName.get(far)!.kw)}? (a ${b.name} keyword)`;
            break;
          }
        }
      }
    }
    // A no-break space, as a UTF-8 file (read byte for byte) or a latin1 one holds it.
    if (st.keyword === '}') hint = "a '}' that closes nothing: remove it, or open the block it closes";
    else if (/\u00c2\u00a0|\u00a0/.test(st.keyword)) hint = 'a no-break space (U+00A0) is not white space to keepalived: write a plain space';
    if (!st.children) {
      this.ctx.diags.error(st.head, 'unknown-keyword', `Unknown keyword '${st.keyword}'`, { hint });
      return;
    }
    // The '{' may stand on the next line: the finding covers the lines up to the first inner one.
    const upTo = (st.children[0] ?? st.end)?.line;
    this.ctx.diags.error(st.head, 'unknown-keyword', `Unknown keyword '${st.keyword}': Unexpected '{' - ignoring`, {
      hint: hint ?? "keepalived reads the lines inside as keywords of this block, and the '}' closes this block",
      endLine: upTo !== undefined && upTo - 1 > st.line ? upTo - 1 : undefined,
    });
  }
}
