// How the commands that read a config and exit (-t, lint) are loaded. Such a run is over in a
// fraction of a second, so its start-up counts:
// - The build bundles them into one CommonJS file (dist/one-shot.cjs) and leaves V8's code cache
//   for it beside it (dist/one-shot.cache), made after a config test of the shipped examples, so
//   that it holds every function such a test compiles. Loading through it skips parsing and
//   compiling them, and the ES module loader's per-module work. V8 checks the cache against the
//   source, its own version and its flags, and compiles afresh when any differs (another Node).
// - V8's TurboFan inlining budget is lowered: the parser and builder are optimised while the file
//   is being read, and the default budget makes each optimisation larger, slower to compile and
//   costlier to throw away when a new block kind deoptimises it.
// The daemon keeps V8's defaults and its ES modules: its hot paths run for days, where inlining
// pays, and its start is not measured in milliseconds.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

type Commands = typeof import('./one-shot-commands.js');

/** Where the commands came from: the bundle with its code cache accepted, the bundle compiled
 * afresh (no cache, or one V8 refused), or the ES modules (a source tree: no bundle). */
export type LoadedFrom = 'cache' | 'compiled' | 'modules';

/** Bytecode bytes TurboFan may inline into one optimised function (V8's default: 920). */
const ONE_SHOT_INLINE_BUDGET = 200;

const BUNDLE = 'one-shot.cjs';

/** Beside the entry (dist/keepalived-ts.mjs), or one level up from a chunk or dist/cli/. */
function bundlePath(): string | undefined {
  for (const rel of ['./', '../']) {
    const path = fileURLToPath(new URL(rel + BUNDLE, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** The flag is part of what V8 checks a cache against: set before compiling, both when the cache
 * is made and when it is used. */
function tune(): void {
  setFlagsFromString(`--max-inlined-bytecode-size-cumulative=${ONE_SHOT_INLINE_BUDGET}`);
}

const cacheOf = (bundle: string): string => bundle.replace(/\.cjs$/, '.cache');

/** CommonJS's module wrapper: the cache is keyed on this exact text. */
const wrap = (source: string): string => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;

function compile(bundle: string, cachedData: Buffer | undefined): { script: Script; commands: Commands } {
  tune();
  const script = new Script(wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
  const module = { exports: {} as Commands };
  const run = script.runInThisContext() as (this: unknown, ...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return { script, commands: module.exports };
}

export async function loadOneShot(): Promise<{ commands: Commands; from: LoadedFrom }> {
  const bundle = bundlePath();
  if (!bundle) {
    tune();
    return { commands: await import('./one-shot-commands.js'), from: 'modules' };
  }
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheOf(bundle));
  } catch {
    // No cache (not built, or removed): compiled from the source.
  }
  const { script, commands } = compile(bundle, cachedData);
  return { commands, from: cachedData && !script.cachedDataRejected ? 'cache' : 'compiled' };
}

/**
 * The build's last step: config-test the `.conf` files under `examples` through the bundle, so
 * that the functions a test runs are compiled, then write V8's code cache for it. Returns the
 * cache's path and size, and how many configs were tested.
 */
export function writeOneShotCache(examples: string): { path: string; bytes: number; configs: number } {
  const configs = readdirSync(examples, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.conf'))
    .sort()
    .map((f) => join(examples, f));
  const bundle = bundlePath();
  if (!bundle) throw new Error(`no ${BUNDLE} beside ${fileURLToPath(import.meta.url)}: bundle it first`);
  const { script, commands } = compile(bundle, undefined);
  for (const file of configs)
    commands.configTest(
      new Map([
        ['use-file', file],
        ['config-test', '/dev/null'],
      ]),
    );
  const data = script.createCachedData();
  writeFileSync(cacheOf(bundle), data);
  return { path: cacheOf(bundle), bytes: data.length, configs: configs.length };
}
