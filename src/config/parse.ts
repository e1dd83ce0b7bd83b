// Text to syntax tree: preprocess (reader), split into statement tokens, run the nearley grammar.
import nearley from 'nearley';
import { hostname } from 'node:os';
import { Diagnostics } from './diagnostics.js';
import grammar from './grammar.generated.js';
import { ConfigReader, type ReaderOptions } from './reader.js';
import { TokenStream, toList, type Cons, type Statement } from './syntax.js';
import { Tokenizer } from './tokens.js';

export interface ParseOptions extends Partial<ReaderOptions> {}

export interface ParseResult {
  statements: Statement[];
  diagnostics: Diagnostics;
  /** Every file read, main file first, in include order. */
  files: string[];
  lines: number;
}

const compiled = nearley.Grammar.fromCompiled(grammar);

/** keepalived's default config id: the host name up to its first dot. */
export function defaultConfigId(): string {
  return hostname().split('.')[0];
}

export function parseFile(path: string, opts: ParseOptions = {}): ParseResult {
  return run(opts, (r) => r.readFile(path));
}

/** Parse text as if it were the file `name` (includes resolve against its directory). */
export function parseText(text: string, name = 'keepalived.conf', opts: ParseOptions = {}): ParseResult {
  return run(opts, (r) => r.readText(text, name));
}

function run(opts: ParseOptions, read: (r: ConfigReader) => void): ParseResult {
  const diagnostics = new Diagnostics();
  const tokenizer = new Tokenizer(diagnostics);
  const reader = new ConfigReader({ configId: opts.configId ?? defaultConfigId(), ...opts }, diagnostics, (text, file, line, col, cols) =>
    tokenizer.line(text, file, line, col, cols),
  );
  read(reader);
  const tokens = tokenizer.finish();
  let statements: Statement[] = [];
  try {
    const parser = new nearley.Parser(compiled, { lexer: new TokenStream() as unknown as nearley.Lexer });
    parser.feed(tokens as unknown as string);
    if (parser.results.length !== 1) throw new Error(`${parser.results.length} parses`);
    statements = toList(parser.results[0] as Cons | null);
  } catch (e) {
    // The tokenizer balances braces, so the grammar accepts every stream; reaching this is a bug,
    // reported as a diagnostic so a config test still answers.
    const first = { file: reader.files[0] ?? '-', line: 1, col: 1 };
    diagnostics.error(first, 'internal', `grammar rejected the token stream: ${(e as Error).message.split('\n')[0]}`, { exit: 4 });
  }
  return { statements, diagnostics, files: reader.files, lines: reader.lines };
}
