// The config front end in one call: read, parse, build the typed model, collect diagnostics.
import { Builder, makeContext } from './builder.js';
import { Diagnostics, type Diagnostic } from './diagnostics.js';
import { rootBlock } from './keywords/root.js';
import type { Config, WrittenConfig } from './model/index.js';
import { untilStop } from './passes.js';
import { streamFile, streamText, type ParseOptions, type StatementSink, type StreamResult } from './parse.js';
import { realHost, type HostProbe } from './resolve-host.js';
import { resolveConfig } from './resolve.js';
import type { ScriptParts, ScriptProbe } from './resolve-scripts.js';

export interface LoadResult {
  config: Config;
  diagnostics: Diagnostic[];
  files: string[];
  lines: number;
}

export interface LoadOptions extends ParseOptions {
  /** Also check this machine (interfaces, script files), as keepalived -t does; `true` probes the real host. */
  host?: boolean | HostProbe;
  /**
   * Check the scripts on this machine as keepalived does at load (users, file types, script
   * security) and drop the ones it would disable; defaults to the host probe when there is one.
   */
  scripts?: ScriptProbe;
  /** Which processes check their scripts (default both; the daemon's -P and -C run one). */
  scriptParts?: ScriptParts;
  /**
   * Judge as this keepalived version does (`-t` and lint: DEFAULT_TARGET_VERSION unless told): a
   * keyword newer than it is an unknown keyword (exit 5). Unset (the daemon): such a keyword is
   * read, with a warning.
   */
  targetVersion?: string;
}

/**
 * Read, parse and build as one pipeline: each top-level statement is built as soon as the grammar
 * completes it, then dropped. The builder reports into its own list, after the reader's, so the
 * findings keep the order the stages had when they ran one after the other.
 */
function load(main: string, opts: LoadOptions, stream: (sink: StatementSink) => StreamResult): LoadResult {
  const built = new Diagnostics();
  const ctx = makeContext(built);
  const builder = new Builder(rootBlock, ctx, opts.targetVersion);
  const root = builder.startRoot({ file: main, line: 1, col: 1 });
  const parsed = stream((statements) => root.add(statements));
  const written = root.finish() as unknown as WrittenConfig;
  const building = built.items.length;
  built.pass = undefined;
  const config = resolveConfig(written, ctx, opts.host === true ? realHost : opts.host || undefined, opts.scripts, opts.scriptParts);
  const diagnostics = untilStop(parsed.diagnostics.items, built.items.slice(0, building), built.passes, built.items.slice(building), builder.passMap);
  return { config, diagnostics, files: parsed.files, lines: parsed.lines };
}

export function loadConfig(path: string, opts: LoadOptions = {}): LoadResult {
  return load(path, opts, (sink) => streamFile(path, opts, sink));
}

export function loadConfigText(text: string, name = 'keepalived.conf', opts: LoadOptions = {}): LoadResult {
  return load(name, opts, (sink) => streamText(text, name, opts, sink));
}

export type { Config } from './model/index.js';
export type { Diagnostic } from './diagnostics.js';
