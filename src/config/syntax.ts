// The syntax tree the grammar builds: statements with words and, for blocks, children. It knows
// no keywords; the builder (src/config/builder.ts) gives it meaning through the keyword table.
import type { Span } from './diagnostics.js';

export interface Word extends Span {
  text: string;
  /** Any part of the word was quoted: script keywords keep such words as one argument. */
  quoted: boolean;
}

export type Token =
  /** A run of complete statements: plain ones, and blocks the tokenizer has already closed. */
  { type: 'leaves'; statements: Statement[] } | { type: 'open'; statement: Statement } | ({ type: 'close' } & BlockEnd);

/** Where a block ends: its '}', or the end of the input when it was never closed. */
export interface BlockEnd extends Span {
  /** No '}': the input ended inside the block, which keepalived just stops reading. */
  eof?: boolean;
}

export interface Statement extends Span {
  keyword: string;
  /** The keyword's arguments (words after the first). */
  args: Word[];
  /** The keyword word itself, for precise positions. */
  head: Word;
  /** Present when the statement opens a block (`keyword args {`). */
  children?: Statement[];
  /** Where the block's closing brace is. */
  end?: BlockEnd;
}

/** A list under construction: a block statement or a run of leaf statements, newest first. */
export interface Cons {
  head: Statement | Statement[];
  tail: Cons | null;
}

export function toList(c: Cons | null): Statement[] {
  const parts: (Statement | Statement[])[] = [];
  for (let p = c; p; p = p.tail) parts.push(p.head);
  const out: Statement[] = [];
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i];
    if (Array.isArray(part)) for (const s of part) out.push(s);
    else out.push(part);
  }
  return out;
}

/** Completes a block statement. The grammar is unambiguous, so each opener completes once and
 * can be filled in place (parse.ts insists on exactly one parse). */
export function block(open: Statement, children: Statement[], close: BlockEnd): Statement {
  open.children = children;
  open.end = close.eof ? { file: close.file, line: close.line, col: close.col, eof: true } : { file: close.file, line: close.line, col: close.col };
  return open;
}

const TYPES = new Set(['leaves', 'open', 'close']);

/** nearley's lexer interface over an array of ready-made tokens. */
export class TokenStream {
  private tokens: Token[] = [];
  private i = 0;

  reset(chunk: Token[]): void {
    this.tokens = chunk;
    this.i = 0;
  }

  next(): Token | undefined {
    return this.tokens[this.i++];
  }

  save(): Record<string, never> {
    return {};
  }

  formatError(token: Token): string {
    const at = token.type === 'close' ? token : token.type === 'leaves' ? token.statements[0] : token.statement;
    return `unexpected ${token.type} at ${at.file}:${at.line}:${at.col}`;
  }

  has(type: string): boolean {
    return TYPES.has(type);
  }
}

/** The grammar file's `@lexer`; parsers get a fresh TokenStream each (see parse.ts). */
export const tokenStream = new TokenStream();
