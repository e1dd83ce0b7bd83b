// The line-level preprocessor keepalived runs before its keyword parser (lib/parser.c): include
// files, `@id` conditional lines, `$NAME=` definitions (multi-line with `\`), lazy `$NAME` and
// `${NAME}` expansion with the predefined `_`-names, and `~SEQ`/`~SEQx`/`~LST` line generators.
// It yields logical lines that still carry where every character came from.
import { realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readBounded, sizeText } from '../core/files.js';
import { Diagnostics, type Span } from './diagnostics.js';
import { globSync } from './glob.js';

/**
 * Where the reader hands each logical line, as it goes (nothing is kept per line): text[start,
 * end), where text[start] came from (col, 1-based), and per-character source columns when
 * expansion rewrote it (then start is 0: cols[k] is text[k]'s).
 */
export type LineSink = (text: string, start: number, end: number, file: string, line: number, col: number, cols: number[] | undefined) => void;

export interface ReaderOptions {
  /** `-i`: config id for `@id` lines; keepalived defaults to the short hostname. */
  configId: string;
  /** `-e`: every include must match a readable file. */
  allConfig?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Seeded `${_RANDOM}` so config tests are reproducible (keepalived: random_seed). */
  random?: () => number;
  /** Stop after this many lines after expansion (default 1,000,000): a runaway ~SEQ must not hang. */
  maxLines?: number;
  /** Refuse files larger than this (default 16 MiB): a config is text, and one this large a mistake. */
  maxFileBytes?: number;
  /** In-memory files, for tests and the lab's inline configs; fall back to disk. */
  files?: ReadonlyMap<string, string>;
}

interface Definition {
  lines: string[];
  at: Span;
}

const INCLUDE_RE = /^(include[rmwba]?)(?:\s+|$)(.*)$/;
const DEF_RE = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const COND_RE = /^@(\^?)(\S+)\s*(.*)$/;
const GEN_RE = /^~(SEQx?|LST)\(/;
/**
 * keepalived substitutes definitions until none is left, however deep (a definition that uses
 * itself is caught as a cycle, below); this bounds our recursion, far beyond real chains.
 */
const MAX_EXPANSION_DEPTH = 1000;
const MAX_INCLUDE_DEPTH = 64;
const MAX_GENERATED_LINES = 1_000_000;
/**
 * The characters one line may expand to. keepalived's line buffer is 1024 bytes (MAXBUF); 64 KiB
 * is far past any line it can hold, and keeps a runaway expansion to a few milliseconds.
 */
const MAX_EXPANDED_CHARS = 64 << 10;
const MAX_FILE_BYTES = 16 << 20;

/** Includes that fail on a missing match regardless of `-e` (observed with keepalived 2.2.7: exit 6). */
const STRICT_INCLUDES = new Set(['includem', 'includew', 'includea']);

/** How many white-space characters (as String.prototype.trimStart counts them) a line starts with. */
function leadOf(text: string): number {
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Space and tab first: the common case; anything else non-ASCII asks the full definition.
    if (c === 32 || c === 9) continue;
    if (c > 32 && c < 127) break;
    if (!/\s/.test(text[i])) break;
  }
  return i;
}

export class ConfigReader {
  private readonly defs = new Map<string, Definition>();
  private readonly stack: string[] = [];
  readonly files: string[] = [];
  private generated = 0;
  private expandedChars = 0;
  private expansionCapped = false;
  /** The definitions being expanded, outermost first: a name met again is a cycle. */
  private readonly expanding: string[] = [];

  constructor(
    private readonly opts: ReaderOptions,
    private readonly diags: Diagnostics,
    private readonly sink: LineSink,
  ) {}

  /** Logical lines handed over (at most maxLines). */
  get lines(): number {
    return Math.min(this.generated, this.maxLines);
  }

  /** Read a file from disk (or the in-memory set) and everything it includes. */
  readFile(path: string, from?: Span): void {
    const text = this.load(path, from);
    if (text !== undefined) this.readText(text, path);
  }

  readText(text: string, file: string): void {
    let real: string;
    try {
      real = this.opts.files?.has(file) ? resolve(file) : realpathSync(file);
    } catch {
      real = resolve(file);
    }
    this.stack.push(real);
    this.files.push(file);
    // The text is scanned in place, line by line: an ordinary line goes to the sink as a range of
    // it, without a string of its own (a split would hold every line's string until the end).
    const n = text.length;
    // Where the next '$' is, found once per file rather than per line.
    let dollar = text.indexOf('$');
    let pos = 0;
    let lineNo = 0;
    while (pos <= n) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = n;
      lineNo++;
      const from = pos;
      let end = nl;
      if (end > from && text.charCodeAt(end - 1) === 13 /* \r */) end--;
      pos = nl + 1;
      let s = from;
      for (let c = text.charCodeAt(s); s < end && (c === 32 || c === 9); c = text.charCodeAt(++s));
      if (s === end) continue;
      const c = text.charCodeAt(s);
      if (c === 35 /* # */ || c === 33 /* ! */) continue;
      if (dollar >= 0 && dollar < s) dollar = text.indexOf('$', s);
      // Printable ASCII that is none of the reader's own line starts, and no '$' to expand.
      if (
        c > 32 &&
        c < 127 &&
        c !== 64 /* @ */ &&
        c !== 36 /* $ */ &&
        c !== 126 /* ~ */ &&
        (dollar < 0 || dollar >= end) &&
        (c !== 105 /* i */ || !text.startsWith('include', s))
      ) {
        this.push(text, s, end, file, lineNo, s - from + 1, undefined);
        continue;
      }
      const line = text.slice(from, end);
      // Multi-line definitions: `$NAME=... \` continues while lines end with a backslash.
      const def = line.charCodeAt(leadOf(line)) === 36 /* $ */ ? DEF_RE.exec(line.trimStart()) : null;
      if (def && def[2].trimEnd().endsWith('\\')) {
        const name = def[1];
        const at = { file, line: lineNo, col: line.length - line.trimStart().length + 1 };
        const body: string[] = [];
        let cur = def[2].trimEnd();
        for (;;) {
          const piece = cur.slice(0, -1).trim();
          if (piece) body.push(piece);
          if (pos > n) break;
          let next = text.indexOf('\n', pos);
          if (next < 0) next = n;
          cur = text.slice(pos, next).replace(/\r$/, '').trimEnd();
          pos = next + 1;
          lineNo++;
          if (!cur.endsWith('\\')) {
            if (cur.trim()) body.push(cur.trim());
            break;
          }
        }
        this.define(name, body, at);
        continue;
      }
      this.processLine(line, file, lineNo, 1, undefined);
    }
    this.stack.pop();
  }

  private load(path: string, from?: Span): string | undefined {
    const mem = this.opts.files?.get(path);
    if (mem !== undefined) return mem;
    const at = from ?? { file: path, line: 0, col: 0 };
    // keepalived 2.2.7 (check_glob_file) skips a directory, an executable or anything but a regular
    // file, main config or include alike, and -t still exits 0. Checked before opening: a FIFO
    // would block the open.
    const skipped = skipReason(path);
    if (skipped) {
      this.diags.error(at, 'file-skipped', `Configuration file '${path}' ${skipped} - skipping`, {
        exit: 0,
        hint: 'keepalived reads only regular files without execute permission',
      });
      return undefined;
    }
    const r = readBounded(path, this.opts.maxFileBytes ?? MAX_FILE_BYTES);
    if (r.ok) return r.data.toString('latin1');
    switch (r.kind) {
      case 'missing':
        // keepalived 2.2.7: a missing main file is only reported, unless -e makes it fatal (exit 4).
        this.diags.add(at, this.opts.allConfig ? 'error' : 'warning', 'file-missing', `Config files missing '${path}'.`, { exit: this.opts.allConfig ? 4 : 0 });
        break;
      case 'directory':
        this.diags.error(at, 'file-skipped', `Configuration file '${path}' is a directory - skipping`, { exit: 0 });
        break;
      case 'binary':
        this.diags.error(at, 'file-unreadable', `'${path}' is a binary file (it holds NUL bytes), not a config file`, { exit: 4 });
        break;
      case 'too-large':
        this.diags.error(at, 'file-unreadable', `'${path}' is larger than ${sizeText(r.limit)}, too large for a config file`, { exit: 4 });
        break;
      default:
        this.diags.error(at, 'file-unreadable', `cannot read '${path}': ${r.code}`, { exit: 4 });
    }
    return undefined;
  }

  private define(name: string, lines: string[], at: Span): void {
    if (name.startsWith('_')) {
      this.diags.warning(at, 'definition-reserved', `definition names starting with '_' are reserved for keepalived's own ($${name})`);
    }
    this.defs.set(name, { lines, at });
  }

  /** One source line (or a generated one): conditionals, definitions, generators, expansion. */
  private processLine(text: string, file: string, line: number, col: number, cols: number[] | undefined): void {
    const lead = leadOf(text);
    if (lead === text.length) return;
    const body = lead ? text.slice(lead) : text;
    const c0 = col + lead;
    const map = lead ? cols?.slice(lead) : cols;
    const first = body.charCodeAt(0);
    if (first === 35 /* # */ || first === 33 /* ! */) return;

    if (first === 105 /* i */) {
      const inc = INCLUDE_RE.exec(body);
      if (inc) {
        this.include(inc[1], inc[2], { file, line, col: c0 });
        return;
      }
    }
    if (first === 64 /* @ */) {
      const cond = COND_RE.exec(body);
      if (!cond) return;
      const matches = cond[2] === this.opts.configId;
      if (cond[1] === '^' ? matches : !matches) return;
      const skip = body.length - cond[3].length;
      return this.processLine(cond[3], file, line, map ? map[skip] : c0 + skip, map?.slice(skip));
    }
    if (first === 36 /* $ */) {
      const def = DEF_RE.exec(body);
      if (def) {
        this.define(def[1], [this.stripComment(def[2]).trim()], { file, line, col: c0 });
        return;
      }
    }
    if (first === 126 /* ~ */ && GEN_RE.test(body)) {
      this.generate(body, { file, line, col: c0 }, map);
      return;
    }
    if (body.indexOf('$') >= 0) {
      const out = this.expand(body, map, c0, { file, line, col: c0 }, 0, true);
      if (out.length === 1 && out[0].text === body) {
        this.push(body, 0, body.length, file, line, c0, map);
        return;
      }
      for (const piece of out) {
        // Expanded text may itself hold definitions, generators or several lines of a block.
        const t = piece.text.trimStart();
        const d = t.charCodeAt(0) === 36 /* $ */ ? DEF_RE.exec(t) : null;
        if (d) {
          this.define(d[1], [d[2].trim()], { file, line, col: piece.cols[0] ?? c0 });
        } else if (t.charCodeAt(0) === 126 /* ~ */ && GEN_RE.test(t)) {
          this.generate(t, { file, line, col: piece.cols[0] ?? c0 }, piece.cols);
        } else {
          this.push(piece.text, 0, piece.text.length, file, line, piece.cols[0] ?? c0, piece.cols);
        }
      }
      return;
    }
    this.push(body, 0, body.length, file, line, c0, map);
  }

  private get maxLines(): number {
    return this.opts.maxLines ?? MAX_GENERATED_LINES;
  }

  /** Hands over text[start, end), whose first character is at `col` (or cols[0]). */
  private push(text: string, start: number, end: number, file: string, line: number, col: number, cols: number[] | undefined): void {
    if (++this.generated > this.maxLines) {
      if (this.generated === this.maxLines + 1) {
        this.diags.error({ file, line, col }, 'expansion-limit', `more than ${this.maxLines} lines after expansion; stopping here`, { exit: 4 });
      }
      return;
    }
    this.sink(text, start, end, file, line, col, cols);
  }

  private stripComment(s: string): string {
    let q = '';
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (q) {
        if (c === q) q = '';
        continue;
      }
      if (c === '"' || c === "'") q = c;
      else if (c === '\\') i++;
      else if (c === '#' || c === '!') return s.slice(0, i);
    }
    return s;
  }

  private include(kind: string, rest: string, at: Span): void {
    const pattern = this.stripComment(rest)
      .trim()
      .replace(/^(["'])(.*)\1$/, '$2');
    if (!pattern) {
      this.diags.error(at, 'include-empty', `'${kind}' needs a file name or glob`, { hint: `write: ${kind} /etc/keepalived/conf.d/*.conf` });
      return;
    }
    const base = dirname(at.file);
    const matches = this.opts.files ? [...this.opts.files.keys()].filter((k) => k === resolve(base, pattern) || k === pattern) : [];
    const found = matches.length ? matches : globSync(pattern, base);
    if (found.length === 0) {
      const strict = this.opts.allConfig || STRICT_INCLUDES.has(kind);
      this.diags.add(at, strict ? 'error' : 'warning', 'include-missing', `Config files missing '${pattern}'.`, { exit: strict ? 6 : 0 });
      return;
    }
    if (this.stack.length >= MAX_INCLUDE_DEPTH) {
      this.diags.error(at, 'include-depth', `includes nested more than ${MAX_INCLUDE_DEPTH} deep; not following '${pattern}'`);
      return;
    }
    for (const path of found) {
      let real: string;
      try {
        real = this.opts.files?.has(path) ? resolve(path) : realpathSync(path);
      } catch {
        real = resolve(path);
      }
      const cycle = this.stack.indexOf(real);
      if (cycle >= 0) {
        const chain = [...this.stack.slice(cycle), real].join(' -> ');
        this.diags.error(at, 'include-cycle', `include cycle not followed: ${chain}`);
        continue;
      }
      this.readFile(path, at);
    }
  }

  // ---- ~SEQ / ~SEQx / ~LST ------------------------------------------------------------------

  private generate(body: string, at: Span, cols: number[] | undefined): void {
    const m = GEN_RE.exec(body)!;
    const close = body.indexOf(')', m[0].length);
    if (close < 0) {
      this.diags.error(at, 'seq-syntax', `unterminated ~${m[1]}(`, { hint: 'write: ~SEQ(var, start, step, end) rest-of-line' });
      return;
    }
    const argText = this.expand(body.slice(m[0].length, close), [], 0, at, 0, false)
      .map((p) => p.text)
      .join(' ');
    let restStart = close + 1;
    while (restStart < body.length && /\s/.test(body[restStart])) restStart++;
    const rest = body.slice(restStart);
    const restCols = cols ? cols.slice(restStart) : undefined;
    const restCol = cols ? (cols[restStart] ?? at.col) : at.col + restStart;
    const sets = m[1] === 'LST' ? this.parseLst(argText, at) : this.parseSeq(argText, m[1] === 'SEQx', at);
    if (!sets) return;
    const saved = new Map(sets.names.map((n) => [n, this.defs.get(n)]));
    for (const values of sets.rows) {
      sets.names.forEach((n, k) => this.defs.set(n, { lines: [values[k]], at }));
      this.processLine(rest, at.file, at.line, restCol, restCols);
      if (this.generated > this.maxLines) break;
    }
    for (const [n, d] of saved)
      if (d) this.defs.set(n, d);
      else this.defs.delete(n);
  }

  private parseSeq(args: string, hex: boolean, at: Span): { names: string[]; rows: Iterable<string[]> } | undefined {
    const parts = args.split(',').map((s) => s.trim());
    const name = parts[0];
    const nums = parts.slice(1).map(Number);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name ?? '') || nums.length < 1 || nums.length > 3 || nums.some((n) => !Number.isInteger(n))) {
      this.diags.error(at, 'seq-syntax', `invalid ~SEQ arguments '${args}'`, {
        hint: 'write: ~SEQ(var, end), ~SEQ(var, start, end) or ~SEQ(var, start, step, end) with integers',
      });
      return undefined;
    }
    const [start, step, end] = nums.length === 1 ? [1, 1, nums[0]] : nums.length === 2 ? [nums[0], nums[0] <= nums[1] ? 1 : -1, nums[1]] : nums;
    if (step === 0 || (step > 0 && start > end) || (step < 0 && start < end)) {
      this.diags.error(at, 'seq-syntax', `~SEQ(${args}) never reaches its end`);
      return undefined;
    }
    // Streamed, not materialised: a million-row ~SEQ holds one value at a time.
    const cap = this.maxLines;
    function* rows(): Generator<string[]> {
      let n = 0;
      for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
        yield [hex ? v.toString(16) : String(v)];
        if (++n > cap) break;
      }
    }
    return { names: [name], rows: rows() };
  }

  private parseLst(args: string, at: Span): { names: string[]; rows: string[][] } | undefined {
    // ~LST(var, a, b, c) or ~LST({v1,v2}, {a1,a2}, {b1,b2}): zip the tuples.
    const groups: string[][] = [];
    const re = /\s*(\{[^}]*\}|[^,]+)\s*(?:,|$)/g;
    let g: RegExpExecArray | null;
    while ((g = re.exec(args)) && g[0] !== '') {
      const item = g[1].trim();
      groups.push(
        item.startsWith('{')
          ? item
              .slice(1, -1)
              .split(',')
              .map((s) => s.trim())
          : [item],
      );
    }
    const names = groups[0] ?? [];
    if (
      names.length === 0 ||
      groups.length < 2 ||
      names.some((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) ||
      groups.slice(1).some((r) => r.length !== names.length)
    ) {
      this.diags.error(at, 'seq-syntax', `invalid ~LST arguments '${args}'`, { hint: 'write: ~LST(var, v1, v2, ...) or ~LST({a,b}, {1,2}, {3,4})' });
      return undefined;
    }
    return { names, rows: groups.slice(1) };
  }

  // ---- $NAME / ${NAME} expansion ------------------------------------------------------------

  /**
   * Expand definitions; the result may be several lines when a multi-line definition is used.
   * Character k of `text` came from column cols[k] (at.col past its end), or base + k without
   * cols; the result maps its characters likewise when `wantCols` (a definition's text maps to
   * the `$` that named it).
   */
  private expand(text: string, cols: number[] | undefined, base: number, at: Span, depth: number, wantCols: boolean): { text: string; cols: number[] }[] {
    if (depth === 0) this.expandedChars = 0;
    // Definitions that use each other twice double at every level: cap the work, not just depth.
    if ((this.expandedChars += text.length) > MAX_EXPANDED_CHARS) {
      // keepalived stops substituting at its line length (1024 bytes), logs that, and reads the
      // line as it stands: not a config error.
      if (!this.expansionCapped)
        this.diags.warning(at, 'expansion-limit', `a line expands to more than ${MAX_EXPANDED_CHARS} characters; not expanding further`, {
          hint: 'keepalived stops at its maximum line length too ("Parameter substitution ... would exceed maximum line length"): shorten the definitions',
        });
      this.expansionCapped = true;
      return [{ text, cols: wantCols ? literalCols(text.length, cols, base, at.col) : [] }];
    }
    if (depth > MAX_EXPANSION_DEPTH) {
      this.diags.error(at, 'definition-recursive', `definitions nested more than ${MAX_EXPANSION_DEPTH} deep; not expanding further`, {
        hint: 'keepalived-ts expands chains of definitions up to this depth: shorten the chain',
      });
      return [{ text, cols: wantCols ? literalCols(text.length, cols, base, at.col) : [] }];
    }
    const lines: { text: string; cols: number[] }[] = [];
    const n = text.length;
    let out = '';
    let outCols: number[] = [];
    let i = 0;
    let quote = 0;
    while (i < n) {
      // A run of literal text up to the next `$`, copied whole; quotes are tracked through it.
      let j = i;
      for (; j < n; j++) {
        const c = text.charCodeAt(j);
        if (c === 36 /* $ */) break;
        if (quote) {
          if (c === quote) quote = 0;
        } else if (c === 34 || c === 39) quote = c;
      }
      if (j > i) {
        out += text.slice(i, j);
        if (wantCols) for (let k = i; k < j; k++) outCols.push(cols ? (cols[k] ?? at.col) : base + k);
        i = j;
        if (i >= n) break;
      }
      const here = cols ? (cols[i] ?? at.col) : base + i;
      let name: string | undefined;
      let args = '';
      let end = i;
      if (text.charCodeAt(i + 1) === 123 /* { */) {
        const close = text.indexOf('}', i + 2);
        if (close > 0) {
          const inner = text.slice(i + 2, close).trim();
          const sp = inner.search(/\s/);
          name = sp < 0 ? inner : inner.slice(0, sp);
          args = sp < 0 ? '' : inner.slice(sp + 1).trim();
          end = close + 1;
        }
      } else {
        let e = i + 1;
        if (e < n && isNameStart(text.charCodeAt(e))) {
          e++;
          while (e < n && isNameChar(text.charCodeAt(e))) e++;
          // `$NAME` only counts when whitespace or the end of line follows it (keepalived's rule).
          if (e === n || /\s/.test(text[e])) {
            name = text.slice(i + 1, e);
            end = e;
          }
        }
      }
      let value = name === undefined ? undefined : this.lookup(name, args, at, quote !== 0);
      if (value !== undefined && this.expanding.includes(name!)) {
        this.cycle(name!, at);
        value = undefined;
      }
      if (value === undefined) {
        out += '$';
        if (wantCols) outCols.push(here);
        i++;
        continue;
      }
      const v0 = value.length === 1 ? value[0] : undefined;
      if (v0 !== undefined && v0.indexOf('$') < 0 && depth < MAX_EXPANSION_DEPTH && this.expandedChars + v0.length <= MAX_EXPANDED_CHARS) {
        // A one-line value with nothing to expand (a ~SEQ variable's): what expanding it would
        // give, without the pieces.
        this.expandedChars += v0.length;
        out += v0;
        if (wantCols) for (let c = 0; c < v0.length; c++) outCols.push(here);
        i = end;
        continue;
      }
      this.expanding.push(name!);
      const expanded =
        value.length === 1 ? this.expand(value[0], [], 0, at, depth + 1, false) : value.flatMap((v) => this.expand(v, [], 0, at, depth + 1, false));
      this.expanding.pop();
      for (let k = 0; k < expanded.length; k++) {
        const piece = expanded[k];
        if (k > 0) {
          lines.push({ text: out, cols: outCols });
          out = '';
          outCols = [];
        }
        out += piece.text;
        if (wantCols) for (let c = 0; c < piece.text.length; c++) outCols.push(here);
      }
      i = end;
    }
    lines.push({ text: out, cols: outCols });
    return lines;
  }

  /** A definition's lines, or a predefined name's value; `#` and `!` stay literal (escaped outside quotes). */
  /**
   * `name` met inside its own expansion. keepalived substitutes on: a cycle that adds text stops
   * at its maximum line length (logged, not an error), one that only renames (`$A=$B`, `$B=$A`)
   * never ends, and keepalived never finishes reading. The reference is left as it is.
   */
  private cycle(name: string, at: Span): void {
    const loop = this.expanding.slice(this.expanding.lastIndexOf(name));
    const through =
      loop.length > 1
        ? ` through ${loop
            .slice(1)
            .map((n) => `$${n}`)
            .join(', ')}`
        : '';
    const renamesOnly = loop.every((n) => /^\$(\{\s*)?[A-Za-z_][A-Za-z0-9_]*(\s*\})?$/.test((this.defs.get(n)?.lines ?? []).join('\n').trim()));
    if (renamesOnly)
      this.diags.error(at, 'definition-recursive', `definition $${name} names itself${through}: keepalived substitutes it forever and never finishes reading`, {
        hint: 'give one of them a value',
      });
    else
      this.diags.warning(at, 'definition-recursive', `definition $${name} uses itself${through}: not expanding it further`, {
        hint: 'keepalived substitutes it until the line exceeds its maximum length, then reads the line as it stands',
      });
  }

  private lookup(name: string, args: string, at: Span, quoted: boolean): string[] | undefined {
    const def = this.defs.get(name);
    if (def) return def.lines;
    switch (name) {
      case '_PWD':
        return [dirname(resolve(at.file))];
      case '_INSTANCE':
        return [this.opts.configId];
      case '_HASH':
        return [quoted ? '#' : '\\#'];
      case '_BANG':
        return [quoted ? '!' : '\\!'];
      case '_ENV':
        return [(this.opts.env ?? process.env)[args] ?? ''];
      case '_RANDOM': {
        const [lo, hi] = args ? args.split(/\s+/).map(Number) : [0, 32767];
        const min = Number.isFinite(lo) ? lo : 0;
        const max = Number.isFinite(hi) ? hi : 32767;
        const r = this.opts.random ?? Math.random;
        return [String(min + Math.floor(r() * (max - min + 1)))];
      }
      default:
        return undefined;
    }
  }
}

/** Source columns of `len` characters read verbatim: cols[k], or base + k without cols. */
function literalCols(len: number, cols: number[] | undefined, base: number, fallback: number): number[] {
  const out = new Array<number>(len);
  for (let k = 0; k < len; k++) out[k] = cols ? (cols[k] ?? fallback) : base + k;
  return out;
}

const isNameStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isNameChar = (c: number): boolean => isNameStart(c) || (c >= 48 && c <= 57);

/** Why keepalived's check_glob_file would skip this path, or undefined (also when stat fails: the read reports that). */
function skipReason(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  if (st.isDirectory()) return 'is a directory';
  if (!st.isFile() || (st.mode & 0o111) !== 0) return 'is not a regular non-executable file';
  return undefined;
}
