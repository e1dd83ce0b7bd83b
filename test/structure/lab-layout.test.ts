// The lab's own direction: model/ holds what a scenario and a run are; the loader writes a
// scenario, the backends (sim/, netns/) read it and write a run, expect/ and report/ read runs.
// So every folder of src/lab/ imports from model/ and from itself, never from a sibling, and
// model/ imports no other part of the lab. explore/ (lab --explore) is the one driver above them:
// it loads, runs on sim, judges and reports, so it may import any folder, and none imports it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const LAB = resolve(import.meta.dirname, '../../src/lab');
const FOLDERS = ['model', 'load', 'sim', 'netns', 'expect', 'report', 'explore'];
const DRIVER = 'explore';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a file (static, dynamic and type-only), as paths of src/ files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1]).replace(/\.js$/, '.ts'));
}

const folderOf = (file: string): string => relative(LAB, file).split('/')[0];
const files = sourceFiles(LAB);

describe('src/lab/ layout', () => {
  it('every file of the lab is in one of its folders', () => {
    expect(files.map(folderOf).filter((f) => !FOLDERS.includes(f))).toEqual([]);
  });

  it('a folder imports from model/ and itself only; model/ from itself only', () => {
    const sideways: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      for (const dep of importsOf(file)) {
        if (relative(LAB, dep).startsWith('..')) continue;
        const to = folderOf(dep);
        if (to !== from && to !== 'model' && from !== DRIVER) sideways.push(`${relative(LAB, file)} -> ${relative(LAB, dep)}`);
      }
    }
    expect(sideways).toEqual([]);
  });
});
