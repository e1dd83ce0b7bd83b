// The config front end in one call: read, parse, build the typed model, collect diagnostics.
import { Builder, makeContext } from './builder.js';
import type { Diagnostic } from './diagnostics.js';
import { rootBlock } from './keywords/root.js';
import type { Config } from './model/index.js';
import { parseFile, parseText, type ParseOptions, type ParseResult } from './parse.js';
import { resolveConfig } from './resolve.js';

export interface LoadResult {
  config: Config;
  diagnostics: Diagnostic[];
  files: string[];
  lines: number;
}

function build(parsed: ParseResult, main: string): LoadResult {
  const ctx = makeContext(parsed.diagnostics);
  const config = new Builder(rootBlock, ctx).buildRoot(parsed.statements, { file: main, line: 1, col: 1 }) as unknown as Config;
  resolveConfig(config, ctx);
  return { config, diagnostics: parsed.diagnostics.items, files: parsed.files, lines: parsed.lines };
}

export function loadConfig(path: string, opts: ParseOptions = {}): LoadResult {
  return build(parseFile(path, opts), path);
}

export function loadConfigText(text: string, name = 'keepalived.conf', opts: ParseOptions = {}): LoadResult {
  return build(parseText(text, name, opts), name);
}

export type { Config } from './model/index.js';
export type { Diagnostic } from './diagnostics.js';
