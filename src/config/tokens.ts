// Splits logical lines into words and braces (moo), then groups words into statement tokens for
// the grammar. keepalived's reader splits a line at every unquoted `{` or `}`; quotes keep spaces
// and comment characters; adjacent quoted and unquoted pieces join into one word.
import moo from 'moo';
import type { Diagnostics, Span } from './diagnostics.js';
import type { LogicalLine } from './reader.js';

export interface Word extends Span {
  text: string;
  /** Any part of the word was quoted: script keywords keep such words as one argument. */
  quoted: boolean;
}

export type Token =
  | ({ type: 'stmt'; words: Word[] } & Span)
  | ({ type: 'lbrace' } & Span)
  | ({ type: 'rbrace' } & Span);

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
  word: /(?:[^\s"'{}#!\\]|\\(?![#!]))+/,
});

/** Turns the reader's lines into statement and brace tokens; unbalanced braces are repaired here,
 * with a diagnostic each, so the grammar always sees a well-formed stream. */
export function tokenize(lines: readonly LogicalLine[], diags: Diagnostics): Token[] {
  const out: Token[] = [];
  const open: Span[] = [];
  for (const ln of lines) {
    const colAt = (offset: number): number => (ln.cols ? ln.cols[offset] ?? ln.cols[ln.cols.length - 1] ?? ln.col : ln.col + offset);
    lineLexer.reset(ln.text);
    let words: Word[] = [];
    let cur: Word | undefined;
    let prevEnd = -1;
    const flush = (): void => {
      if (words.length) {
        out.push({ type: 'stmt', words, file: ln.file, line: ln.line, col: words[0].col });
        words = [];
      }
    };
    let tok: moo.Token | undefined;
    try {
      while ((tok = lineLexer.next())) {
        const at = { file: ln.file, line: ln.line, col: colAt(tok.offset) };
        switch (tok.type) {
          case 'ws':
            cur = undefined;
            continue;
          case 'comment':
            cur = undefined;
            break;
          case 'lbrace':
          case 'rbrace':
            cur = undefined;
            flush();
            if (tok.type === 'lbrace') {
              // A `{` with no keyword before it has nothing to open; keepalived ignores it too.
              if (out.length === 0 || out[out.length - 1].type !== 'stmt') {
                diags.error(at, 'brace-orphan', "'{' with no keyword before it", { hint: 'put the block keyword before the brace' });
                open.push({ ...at, col: -at.col }); // negative col marks an orphan: its '}' is dropped too
                continue;
              }
              open.push(at);
              out.push({ type: 'lbrace', ...at });
            } else {
              const o = open.pop();
              if (!o) {
                diags.error(at, 'brace-extra', "Extra '}' found", { hint: 'remove it, or open the block it closes' });
                continue;
              }
              if (o.col > 0) out.push({ type: 'rbrace', ...at });
            }
            continue;
          default: {
            let text = tok.value;
            let quoted = false;
            if (tok.type === 'dquote' || tok.type === 'squote') {
              quoted = true;
              text = text.slice(1, -1);
            } else if (tok.type === 'dquoteOpen' || tok.type === 'squoteOpen') {
              quoted = true;
              diags.warning(at, 'quote-unterminated', 'unterminated quote: the string runs to the end of the line', { hint: `close it with ${text[0]}` });
              text = text.slice(1);
            } else if (tok.type === 'escaped') text = text.slice(1);
            if (cur && prevEnd === tok.offset) {
              cur.text += text;
              cur.quoted ||= quoted;
            } else {
              cur = { text, quoted, ...at };
              words.push(cur);
            }
            prevEnd = tok.offset + tok.value.length;
          }
        }
      }
    } catch (e) {
      // moo throws on input none of its rules match; the rules above cover every character, so
      // this is a bug, but a config test must report it rather than die.
      diags.error({ file: ln.file, line: ln.line, col: ln.col }, 'lexer', `cannot read this line: ${(e as Error).message.split('\n')[0]}`);
    }
    flush();
  }
  if (open.length) {
    const last = lines[lines.length - 1];
    const at = last ? { file: last.file, line: last.line, col: last.col + last.text.length } : open[0];
    const real = open.filter((o) => o.col > 0);
    diags.error({ ...open[0], col: Math.abs(open[0].col) }, 'brace-missing', `There are ${open.length} missing '}'s or extra '{'s`, { hint: `the block opened here is never closed` });
    for (let k = real.length - 1; k >= 0; k--) out.push({ type: 'rbrace', ...at });
  }
  return out;
}
