// Splits logical lines into words and braces, then groups them into the tokens the grammar reads:
// `open` (a top-level statement followed by `{` whose block holds blocks), `close` (its `}`) and
// `leaves` (a run of complete statements: plain ones, and blocks already closed). keepalived's
// reader splits a line at every unquoted `{` or `}`; quotes keep spaces and comment characters;
// adjacent quoted and unquoted pieces join into one word.
//
// nearley's cost is per token (microseconds each), so the grammar sees the top level's structure
// only: a block nested in another, and a top-level block with none inside, arrive built, inside a
// run. Lines are scanned by hand; a line holding a quote or a backslash goes to the moo lexer,
// which knows quoting. Lines arrive one at a time from the reader (nothing is kept per line).
import moo from 'moo';
import type { Diagnostics, Span } from './diagnostics.js';
import type { BlockEnd, Statement, Token, Word } from './syntax.js';

const lineLexer = moo.compile({
  ws: /[ \t\v\f]+/,
  comment: /[#!].*/,
  lbrace: '{',
  rbrace: '}',
  dquote: /"(?:[^"\\]|\\.)*"/,
  squote: /'[^']*'/,
  // moo tries rules in order, so these match only when the closing quote is missing.
  dquoteOpen: /"(?:[^"\\]|\\.)*/,
  squoteOpen: /'[^']*/,
  escaped: /\\[#!]/,
  // Only ASCII white space separates words, as C's isspace() does for keepalived: a no-break
  // space (or any other byte) is part of a word.
  word: /(?:[^ \t\n\r\v\f"'{}#!\\]|\\(?![#!]))+/,
});

/** What a character is to the hand scanner: 0 word, 1 white space, 2 `{`, 3 `}`, 4 comment, 5 for moo. */
const CLASS = new Uint8Array(128);
for (const c of ' \t\v\f') CLASS[c.charCodeAt(0)] = 1;
CLASS[123] = 2;
CLASS[125] = 3;
CLASS[35] = CLASS[33] = 4;
for (const c of '"\'\\\n\r') CLASS[c.charCodeAt(0)] = 5;

/** Top-level statements per `leaves` token, at most. */
const RUN_BATCH = 256;

interface Open {
  at: Span;
  /** The statement that opened it; none for an orphan brace (dropped). */
  st: Statement | undefined;
  /** Statements read inside so far. */
  body: Statement[];
  /** A block was closed inside it. */
  nested: boolean;
}

/** Builds the token stream; unbalanced braces are repaired here, with a diagnostic each, so the
 * grammar always sees a well-formed stream. */
export class Tokenizer {
  private readonly open: Open[] = [];
  /** The top level's run of complete statements, not yet a token. */
  private run: Statement[] = [];
  /** The last statement, held back until we know whether a `{` (maybe on a later line) follows. */
  private pending: Statement | undefined;
  /** The current statement's words: a scratch array reused for every statement (`nw` in use),
   * so that each statement allocates only its exact-size argument list. */
  private readonly words: Word[] = [];
  private nw = 0;
  /** Where the last line ended, for the braces `finish` adds. */
  private lastFile: string | undefined;
  private lastLine = 0;
  private lastEnd = 0;

  /** @param emit takes each token as soon as it is complete (the grammar's feed). */
  constructor(
    private readonly diags: Diagnostics,
    private readonly emit: (token: Token) => void,
  ) {}

  private word(w: Word): void {
    this.words[this.nw++] = w;
  }

  /** The words read so far make a statement. */
  private statement(): void {
    this.settle();
    const words = this.words;
    const head = words[0];
    const args = words.slice(1, this.nw);
    this.nw = 0;
    // Every field set at once, so all statements share one shape.
    this.pending = { keyword: head.text, head, args, file: head.file, line: head.line, col: head.col, children: undefined, end: undefined };
  }

  private lbrace(at: Span): void {
    if (this.pending) {
      this.open.push({ at, st: this.pending, body: [], nested: false });
      this.pending = undefined;
      return;
    }
    // A `{` with no keyword before it has nothing to open; keepalived ignores it too.
    this.diags.error(at, 'brace-orphan', "'{' with no keyword before it", { hint: 'put the block keyword before the brace' });
    this.open.push({ at, st: undefined, body: [], nested: false });
  }

  private rbrace(at: BlockEnd): void {
    this.settle();
    const o = this.open.pop();
    if (!o) {
      this.stray(at);
      return;
    }
    const st = o.st;
    if (!st) {
      // An orphan brace's lines belong to whatever encloses it.
      this.into(o.body, o.nested);
      return;
    }
    st.children = o.body;
    st.end = at;
    const parent = this.open.length ? this.open[this.open.length - 1] : undefined;
    if (parent) {
      parent.body.push(st);
      parent.nested = true;
    } else if (!o.nested) this.toRun(st);
    else {
      // A top-level block holding blocks: the grammar sees it open, its body and its close.
      st.children = undefined;
      st.end = undefined;
      this.flushRun();
      this.emit({ type: 'open', statement: st });
      if (o.body.length) this.emit({ type: 'leaves', statements: o.body });
      this.emit(
        at.eof ? { type: 'close', file: at.file, line: at.line, col: at.col, eof: true } : { type: 'close', file: at.file, line: at.line, col: at.col },
      );
    }
  }

  /** A '}' that closes nothing. keepalived then reads it as a line of the top level (an unknown
   * keyword '}'), and a block still reading there (builder.ts feedOpen) takes it as its end. */
  private stray(at: BlockEnd): void {
    this.diags.error(at, 'brace-extra', "Extra '}' found", { hint: 'remove it, or open the block it closes' });
    const head: Word = { text: '}', quoted: false, file: at.file, line: at.line, col: at.col };
    this.toRun({ keyword: '}', head, args: [], file: at.file, line: at.line, col: at.col, children: undefined, end: undefined });
  }

  /** Statements read inside an orphan brace go to the enclosing block, or the top level. */
  private into(body: Statement[], nested: boolean): void {
    const parent = this.open.length ? this.open[this.open.length - 1] : undefined;
    if (parent) {
      for (const s of body) parent.body.push(s);
      parent.nested ||= nested;
    } else for (const s of body) this.toRun(s);
  }

  /** The held statement turned out not to open a block. */
  private settle(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    if (this.open.length) this.open[this.open.length - 1].body.push(p);
    else this.toRun(p);
  }

  /** A complete top-level statement. Runs go out in batches: one token per statement would cost
   * the grammar's per-token time each, one run for the whole file would hold every statement. */
  private toRun(st: Statement): void {
    this.run.push(st);
    if (this.run.length >= RUN_BATCH) this.flushRun();
  }

  private flushRun(): void {
    if (this.run.length) {
      this.emit({ type: 'leaves', statements: this.run });
      this.run = [];
    }
  }

  /** One logical line, text[start, end); `cols` maps offsets to source columns when expansion
   * rewrote it (start is then 0). */
  line(text: string, start: number, end: number, file: string, line: number, col: number, cols: number[] | undefined): void {
    this.lastFile = file;
    this.lastLine = line;
    this.lastEnd = col + (end - start);
    let i = start;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 128 && CLASS[c] === 5) break;
    }
    if (i < end) this.quoted(start === 0 && end === text.length ? text : text.slice(start, end), file, line, col, cols);
    else this.plain(text, start, end, file, line, col, cols);
  }

  /** A line with no quote or backslash: words, braces and a comment, scanned by hand. */
  private plain(text: string, start: number, n: number, file: string, line: number, col: number, cols: number[] | undefined): void {
    let i = start;
    const base = col - start;
    while (i < n) {
      const c = text.charCodeAt(i);
      const k = c < 128 ? CLASS[c] : 0;
      if (k === 1) {
        i++;
        continue;
      }
      if (k === 4) break;
      const at = cols ? (cols[i] ?? cols[cols.length - 1] ?? col) : base + i;
      if (k === 2 || k === 3) {
        if (this.nw) this.statement();
        if (k === 2) this.lbrace({ file, line, col: at });
        else this.rbrace({ file, line, col: at });
        i++;
        continue;
      }
      let j = i + 1;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d < 128 && CLASS[d] !== 0) break;
      }
      this.word({ text: text.slice(i, j), quoted: false, file, line, col: at });
      i = j;
    }
    if (this.nw) this.statement();
  }

  /** A line with quotes or backslashes: moo, which knows quoting and escapes. */
  private quoted(text: string, file: string, line: number, lineCol: number, cols: number[] | undefined): void {
    const diags = this.diags;
    lineLexer.reset(text);
    let cur: Word | undefined;
    let prevEnd = -1;
    let tok: moo.Token | undefined;
    try {
      while ((tok = lineLexer.next())) {
        const type = tok.type;
        if (type === 'ws' || type === 'comment') {
          cur = undefined;
          continue;
        }
        const col = cols ? (cols[tok.offset] ?? cols[cols.length - 1] ?? lineCol) : lineCol + tok.offset;
        if (type === 'lbrace' || type === 'rbrace') {
          cur = undefined;
          if (this.nw) this.statement();
          if (type === 'lbrace') this.lbrace({ file, line, col });
          else this.rbrace({ file, line, col });
          continue;
        }
        let value = tok.value;
        let quoted = false;
        if (type === 'dquote' || type === 'squote') {
          quoted = true;
          value = value.slice(1, -1);
        } else if (type === 'dquoteOpen' || type === 'squoteOpen') {
          quoted = true;
          diags.warning({ file, line, col }, 'quote-unterminated', 'unterminated quote: the string runs to the end of the line', {
            hint: `close it with ${value[0]}`,
          });
          value = value.slice(1);
        } else if (type === 'escaped') value = value.slice(1);
        if (cur && prevEnd === tok.offset) {
          cur.text += value;
          cur.quoted ||= quoted;
        } else {
          cur = { text: value, quoted, file, line, col };
          this.word(cur);
        }
        prevEnd = tok.offset + tok.value.length;
      }
    } catch (e) {
      // moo throws on input none of its rules match; the rules above cover every character, so
      // this is a bug, but a config test must report it rather than die.
      diags.error({ file, line, col: lineCol }, 'lexer', `cannot read this line: ${(e as Error).message.split('\n')[0]}`);
    }
    if (this.nw) this.statement();
  }

  /** The end of input: close what is still open (with a diagnostic), and hand over the rest. */
  finish(): void {
    this.settle();
    if (this.open.length) {
      this.diags.error(this.open[0].at, 'brace-missing', `There are ${this.open.length} missing '}'s or extra '{'s`, {
        hint: 'the block opened here is never closed',
      });
      const last = this.lastFile !== undefined ? { file: this.lastFile, line: this.lastLine, col: this.lastEnd } : this.open[0].at;
      const at: BlockEnd = { file: last.file, line: last.line, col: last.col, eof: true };
      while (this.open.length) this.rbrace(at);
    }
    this.flushRun();
  }
}
