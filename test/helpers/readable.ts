// What a test runs as another user (setpriv as nobody) must not live in the clone: the clone may
// be in a directory other users cannot enter (a home directory, a `mktemp -d`). These helpers
// copy what such a process loads to a directory every user can read.
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Copies the packages the product needs at run time (package-lock.json's non-dev ones) to `to`,
 * and makes `to`'s parent and everything in it readable by every user. */
export function copyRuntimePackages(to: string): void {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
  mkdirSync(to, { recursive: true });
  for (const [path, entry] of Object.entries(lock.packages)) {
    // Top-level packages only: a nested node_modules comes along with the package that holds it.
    if (entry.dev || !/^node_modules\/(@[^/]+\/)?[^/]+$/.test(path)) continue;
    // An optional package for another platform (koffi's binaries) is not installed here.
    if (entry.optional && !existsSync(join(REPO_ROOT, path))) continue;
    cpSync(join(REPO_ROOT, path), join(to, path.slice('node_modules/'.length)), { recursive: true, dereference: true });
  }
  const open = (p: string): void => {
    const st = statSync(p);
    chmodSync(p, st.mode | (st.isDirectory() || st.mode & 0o100 ? 0o555 : 0o444));
    if (st.isDirectory()) for (const e of readdirSync(p)) open(join(p, e));
  };
  open(dirname(to));
}

const copies = new Map<string, string>();

/** dist/keepalived-ts.mjs copied, with its chunks (dist/chunks/), the one-shot bundle and the packages it loads, into
 * `under` (made readable by every user; the caller removes it), once per directory; the path of the copy. */
export function readableCli(under: string): string {
  const known = copies.get(under);
  if (known) return known;
  const dir = join(under, 'cli');
  // Before the packages: copying them makes everything under `dir` readable.
  cpSync(join(REPO_ROOT, 'dist/chunks'), join(dir, 'chunks'), { recursive: true });
  copyRuntimePackages(join(dir, 'node_modules'));
  chmodSync(under, 0o755);
  const copy = join(dir, 'keepalived-ts.mjs');
  copyFileSync(join(REPO_ROOT, 'dist/keepalived-ts.mjs'), copy);
  chmodSync(copy, 0o755);
  // -t and lint's bundle and its code cache (src/cli/one-shot.ts), beside the entry.
  for (const f of ['one-shot.cjs', 'one-shot.cache']) copyFileSync(join(REPO_ROOT, 'dist', f), join(dir, f));
  copies.set(under, copy);
  return copy;
}
