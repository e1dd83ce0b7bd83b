// The syntax tree the grammar builds: statements with words and, for blocks, children. It knows
// no keywords; the builder (src/config/builder.ts) gives it meaning through the keyword table.
import type { Span } from './diagnostics.js';
import type { Token, Word } from './tokens.js';

export interface Statement extends Span {
  keyword: string;
  /** The keyword's arguments (words after the first). */
  args: Word[];
  /** The keyword word itself, for precise positions. */
  head: Word;
  /** Present when the statement opens a block (`keyword args {`). */
  children?: Statement[];
  /** Where the block's closing brace is. */
  end?: Span;
}

export interface Cons {
  head: Statement;
  tail: Cons | null;
}

export function toList(c: Cons | null): Statement[] {
  const out: Statement[] = [];
  for (let p = c; p; p = p.tail) out.push(p.head);
  return out.reverse();
}

type StmtToken = Extract<Token, { type: 'stmt' }>;

export function leaf(t: StmtToken): Statement {
  const [head, ...args] = t.words;
  return { keyword: head.text, head, args, file: t.file, line: t.line, col: t.col };
}

export function block(t: StmtToken, children: Statement[], close: Span): Statement {
  const s = leaf(t);
  s.children = children;
  s.end = { file: close.file, line: close.line, col: close.col };
  return s;
}

const TYPES = new Set(['stmt', 'lbrace', 'rbrace']);

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
    return `unexpected ${token.type} at ${token.file}:${token.line}:${token.col}`;
  }

  has(type: string): boolean {
    return TYPES.has(type);
  }
}

/** The grammar file's `@lexer`; parsers get a fresh TokenStream each (see parse.ts). */
export const tokenStream = new TokenStream();
