// The directory `lab --explore --out DIR` writes the findings' scenarios to: created if missing
// (its parent must exist), never through a symlink, and each file opened with O_NOFOLLOW so that
// a link planted at a finding's name is not followed (the lab runs as root for netns).
import { closeSync, constants, lstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Creates or checks `dir`; the errno code and a sentence when it cannot be used. */
export function prepareOutDir(dir: string): { ok: true } | { ok: false; code: string; why: string } {
  try {
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) return { ok: false, code: 'ELOOP', why: 'it is a symbolic link: give the directory itself' };
    if (st && !st.isDirectory()) return { ok: false, code: 'ENOTDIR', why: 'it exists and is not a directory' };
    if (!st) mkdirSync(dir, { mode: 0o755 });
    return { ok: true };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return { ok: false, code, why: code === 'ENOENT' ? 'its parent directory does not exist' : (e as Error).message };
  }
}

/** Writes `name` in `dir` (replacing a file of that name, never following a link). */
export function writeInDir(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** "03-no-failover-VI_1.yaml": a finding's file name, sortable by rank. */
export function findingFileName(rank: number, kind: string, subject: string): string {
  const safe = subject.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  return `${String(rank).padStart(2, '0')}-${kind}-${safe}.yaml`;
}
