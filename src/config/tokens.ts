// Splits logical lines into words and braces (moo), then groups them into the tokens the grammar
// reads: `open` (a statement followed by `{`), `close` (`}`), `leaves` (a run of statements that
// open nothing) and `flat` (a whole block with no block inside). keepalived's reader splits a line at every unquoted `{` or `}`;
// quotes keep spaces and comment characters; adjacent quoted and unquoted pieces join into one
// word. nearley's cost is per token, so runs of plain statements and innermost blocks travel as
// one token each.
import moo from 'moo';
import type { Diagnostics, Span } from './diagnostics.js';
import type { LogicalLine } from './reader.js';
import type { Statement, Token, Word } from './syntax.js';

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

/** Builds the token stream; unbalanced braces are repaired here, with a diagnostic each, so the
 * grammar always sees a well-formed stream. */
class Tokenizer {
  readonly out: Token[] = [];
  /** Open braces: their position, and whether a statement opened them (orphans are dropped). */
  private readonly open: { at: Span; real: boolean }[] = [];
  private leaves: Statement[] = [];
  /** The last statement, held back until we know whether a `{` (maybe on a later line) follows. */
  private pending: Statement | undefined;

  constructor(private readonly diags: Diagnostics) {}

  statement(words: Word[]): void {
    this.settle();
    const head = words[0];
    this.pending = { keyword: head.text, head, args: words.slice(1), file: head.file, line: head.line, col: head.col };
  }

  lbrace(at: Span): void {
    if (this.pending) {
      this.flushLeaves();
      this.out.push({ type: 'open', statement: this.pending });
      this.pending = undefined;
      this.open.push({ at, real: true });
      return;
    }
    // A `{` with no keyword before it has nothing to open; keepalived ignores it too.
    this.diags.error(at, 'brace-orphan', "'{' with no keyword before it", { hint: 'put the block keyword before the brace' });
    this.open.push({ at, real: false });
  }

  rbrace(at: Span): void {
    this.settle();
    const o = this.open.pop();
    if (!o) {
      this.diags.error(at, 'brace-extra', "Extra '}' found", { hint: 'remove it, or open the block it closes' });
      return;
    }
    if (!o.real) return;
    const end = { file: at.file, line: at.line, col: at.col };
    // An innermost block (its opener is the last token, only leaves since) becomes one token.
    const last = this.out[this.out.length - 1];
    if (last?.type === 'open') {
      last.statement.children = this.leaves;
      last.statement.end = end;
      this.leaves = [];
      this.out[this.out.length - 1] = { type: 'flat', statement: last.statement };
      return;
    }
    this.flushLeaves();
    this.out.push({ type: 'close', ...end });
  }

  finish(end: Span | undefined): Token[] {
    this.settle();
    if (this.open.length) {
      this.diags.error(this.open[0].at, 'brace-missing', `There are ${this.open.length} missing '}'s or extra '{'s`, {
        hint: 'the block opened here is never closed',
      });
      const at = end ?? this.open[0].at;
      for (let k = this.open.length - 1; k >= 0; k--) if (this.open[k].real) this.rbrace(at);
      this.open.length = 0;
    }
    this.flushLeaves();
    return this.out;
  }

  /** The held statement turned out not to open a block. */
  private settle(): void {
    if (this.pending) {
      this.leaves.push(this.pending);
      this.pending = undefined;
    }
  }

  private flushLeaves(): void {
    if (this.leaves.length) {
      this.out.push({ type: 'leaves', statements: this.leaves });
      this.leaves = [];
    }
  }
}

export function tokenize(lines: readonly LogicalLine[], diags: Diagnostics): Token[] {
  const t = new Tokenizer(diags);
  for (const ln of lines) {
    const { file, line, cols } = ln;
    lineLexer.reset(ln.text);
    let words: Word[] = [];
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
        const col = cols ? (cols[tok.offset] ?? cols[cols.length - 1] ?? ln.col) : ln.col + tok.offset;
        if (type === 'lbrace' || type === 'rbrace') {
          cur = undefined;
          if (words.length) {
            t.statement(words);
            words = [];
          }
          if (type === 'lbrace') t.lbrace({ file, line, col });
          else t.rbrace({ file, line, col });
          continue;
        }
        let text = tok.value;
        let quoted = false;
        if (type === 'dquote' || type === 'squote') {
          quoted = true;
          text = text.slice(1, -1);
        } else if (type === 'dquoteOpen' || type === 'squoteOpen') {
          quoted = true;
          diags.warning({ file, line, col }, 'quote-unterminated', 'unterminated quote: the string runs to the end of the line', {
            hint: `close it with ${text[0]}`,
          });
          text = text.slice(1);
        } else if (type === 'escaped') text = text.slice(1);
        if (cur && prevEnd === tok.offset) {
          cur.text += text;
          cur.quoted ||= quoted;
        } else {
          cur = { text, quoted, file, line, col };
          words.push(cur);
        }
        prevEnd = tok.offset + tok.value.length;
      }
    } catch (e) {
      // moo throws on input none of its rules match; the rules above cover every character, so
      // this is a bug, but a config test must report it rather than die.
      diags.error({ file, line, col: ln.col }, 'lexer', `cannot read this line: ${(e as Error).message.split('\n')[0]}`);
    }
    if (words.length) t.statement(words);
  }
  const last = lines[lines.length - 1];
  return t.finish(last ? { file: last.file, line: last.line, col: last.col + last.text.length } : undefined);
}
