// Text to syntax tree: preprocess (reader), split into statement tokens, run the nearley grammar.
// A pipeline, not stages: each line goes to the tokenizer as the reader produces it, each token
// to the grammar as the tokenizer completes it, and each top-level statement to the caller as the
// grammar completes it, so a million generated blocks are never held as trees at once.
import nearley from 'nearley';
import { hostname } from 'node:os';
import { Diagnostics } from './diagnostics.js';
import grammar from './grammar.generated.js';
import { ConfigReader, type ReaderOptions } from './reader.js';
import { TokenStream, toList, type Cons, type Statement, type Token } from './syntax.js';
import { Tokenizer } from './tokens.js';

export interface ParseOptions extends Partial<ReaderOptions> {}

export interface ParseResult {
  statements: Statement[];
  diagnostics: Diagnostics;
  /** Every file read, main file first, in include order. */
  files: string[];
  lines: number;
}

/** What a streamed parse leaves behind: everything but the statements, which went to the sink. */
export type StreamResult = Omit<ParseResult, 'statements'>;

/** Takes the top-level statements in order, each as soon as it is complete. */
export type StatementSink = (statements: readonly Statement[]) => void;

const compiled = nearley.Grammar.fromCompiled(grammar);

/** keepalived's default config id: the host name up to its first dot. */
export function defaultConfigId(): string {
  return hostname().split('.')[0];
}

export function parseFile(path: string, opts: ParseOptions = {}): ParseResult {
  return collect((sink) => streamFile(path, opts, sink));
}

/** Parse text as if it were the file `name` (includes resolve against its directory). */
export function parseText(text: string, name = 'keepalived.conf', opts: ParseOptions = {}): ParseResult {
  return collect((sink) => streamText(text, name, opts, sink));
}

export function streamFile(path: string, opts: ParseOptions, sink: StatementSink): StreamResult {
  return run(opts, (r) => r.readFile(path), sink);
}

export function streamText(text: string, name: string, opts: ParseOptions, sink: StatementSink): StreamResult {
  return run(opts, (r) => r.readText(text, name), sink);
}

function collect(stream: (sink: StatementSink) => StreamResult): ParseResult {
  const statements: Statement[] = [];
  const r = stream((s) => {
    for (const st of s) statements.push(st);
  });
  return { statements, ...r };
}

function run(opts: ParseOptions, read: (r: ConfigReader) => void, sink: StatementSink): StreamResult {
  const diagnostics = new Diagnostics();
  const parser = new nearley.Parser(compiled, { lexer: new TokenStream() as unknown as nearley.Lexer });
  // The chart's first column, before any token: restoring it starts the parser afresh without
  // building a new one (a column is never changed once the next one exists).
  const start = parser.save();
  const one: Token[] = [];
  let failed = false;
  // Whenever the top level is complete, its statements go to the sink and the parser starts
  // afresh: parsing the rest from there gives the same tree (the top level is a list), and
  // nearley's chart would otherwise keep every earlier state, and so every statement, reachable.
  const feed = (token: Token): void => {
    if (failed) return;
    try {
      one[0] = token;
      parser.feed(one as unknown as string);
      const results = parser.results as (Cons | null)[];
      if (results.length > 1) throw new Error(`${results.length} parses`);
      if (results.length === 1) {
        parser.restore(start);
        if (results[0]) sink(toList(results[0]));
      }
    } catch (e) {
      // The tokenizer balances braces, so the grammar accepts every stream; reaching this is a bug,
      // reported as a diagnostic so a config test still answers.
      failed = true;
      const first = { file: reader.files[0] ?? '-', line: 1, col: 1 };
      diagnostics.error(first, 'internal', `grammar rejected the token stream: ${(e as Error).message.split('\n')[0]}`, { exit: 4 });
    }
  };
  const tokenizer = new Tokenizer(diagnostics, feed);
  const reader = new ConfigReader({ configId: opts.configId ?? defaultConfigId(), ...opts }, diagnostics, (text, start, end, file, line, col, cols) =>
    tokenizer.line(text, start, end, file, line, col, cols),
  );
  read(reader);
  tokenizer.finish();
  const parses = failed ? 1 : parser.finish().length;
  if (parses !== 1) {
    const first = { file: reader.files[0] ?? '-', line: 1, col: 1 };
    diagnostics.error(first, 'internal', `grammar rejected the token stream: ${parses} parses`, { exit: 4 });
  }
  return { diagnostics, files: reader.files, lines: reader.lines };
}
