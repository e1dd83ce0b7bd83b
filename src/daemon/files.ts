// Files the daemon writes, often as root, in directories others can write to (/tmp for the dumps,
// wherever -p points): never through a symlink or hard link someone planted there, and with the
// mode we ask for whatever the umask.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A new file beside `path` under an unguessable name holding `text`. O_EXCL never follows a
 * symlink and never opens an existing file; fchmod makes the mode exact. Returns its path. */
export function writeTemp(path: string, text: string, mode: number): string {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, text);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  return tmp;
}

/** Put a file holding `text` at `path`: a temporary file renamed over it, so a symlink or hard
 * link found at `path` is replaced and what it points to is left alone. */
export function replaceFile(path: string, text: string, mode: number): void {
  const tmp = writeTemp(path, text, mode);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The start of the regular file at `path`, or why there is none: 'absent', 'symlink' (not
 * followed), 'other' (anything else that is not a regular file). */
export type NoFollowRead = { text: string } | { missing: 'absent' | 'symlink' | 'other' };

export function readNoFollow(path: string, max = 4096): NoFollowRead {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted there must not hang us.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { missing: 'absent' };
    if (code === 'ELOOP') return { missing: 'symlink' };
    return { missing: 'other' };
  }
  try {
    if (!fstatSync(fd).isFile()) return { missing: 'other' };
    const buf = Buffer.alloc(max);
    const n = readSync(fd, buf, 0, max, 0);
    return { text: buf.subarray(0, n).toString('utf8') };
  } finally {
    closeSync(fd);
  }
}
