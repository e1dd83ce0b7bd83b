// The layering the README's layout section states: a folder of src/ imports only from folders
// below it, and no set of files imports itself round in a cycle.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Bottom first. A folder may import from itself and from any folder earlier in this list. */
export const LAYERS = ['core', 'config', 'proc', 'bfd', 'vrrp', 'net', 'lvs', 'check', 'daemon', 'lint', 'lab', 'cli'];

/** Imports that still run upward, each to be removed by the change that fixes it; the test fails
 * when one of them is gone, so the list only shrinks. */
const KNOWN_UPWARD: string[] = [];

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.generated.ts') ? [p] : [];
  });
}

/** Relative imports of a file (static, dynamic and type-only), as paths of src/ files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)) {
    out.push(resolve(dirname(file), m[1]).replace(/\.js$/, '.ts'));
  }
  return out;
}

const folderOf = (file: string): string => relative(SRC, file).split('/')[0];
const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('src/ layering', () => {
  it('every top-level folder of src/ has a place in the layer list', () => {
    const folders = new Set(files.map(folderOf).filter((f) => !f.endsWith('.ts')));
    expect([...folders].filter((f) => !LAYERS.includes(f))).toEqual([]);
  });

  it('imports run down the layers only', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph) {
      const from = LAYERS.indexOf(folderOf(file));
      for (const dep of deps) {
        const to = LAYERS.indexOf(folderOf(dep));
        if (to > from) upward.push(`${relative(SRC, file)} -> ${relative(SRC, dep)}`);
      }
    }
    expect(upward.sort()).toEqual([...KNOWN_UPWARD].sort());
  });

  it('no file imports itself through a cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (!graph.has(d)) continue;
        if (state.get(d) === 'open')
          cycles.push(
            stack
              .slice(stack.indexOf(d))
              .map((p) => relative(SRC, p))
              .join(' -> '),
          );
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('the core reads no clock and sets no timer: time comes through the Clock it is given', () => {
    const found = files
      .filter((f) => folderOf(f) === 'core')
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${relative(SRC, f)}:${i + 1}` }))
          .filter(
            ({ line }) => !/^\s*(\/\/|\*)/.test(line) && /\b(setTimeout|setInterval|setImmediate|Date\.now|performance\.now|process\.hrtime)\b/.test(line),
          )
          .map(({ at, line }) => `${at}: ${line.trim()}`),
      );
    expect(found).toEqual([]);
  });
});
