// Reading a file a user named, with the answers a user can act on: it is missing, a directory,
// binary (a NUL byte: an executable or an archive given by mistake), or larger than the caller
// reads. Reads stop at the limit, so /dev/zero or a runaway generated file cannot exhaust memory.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type ReadProblem =
  { kind: 'missing' } | { kind: 'directory' } | { kind: 'too-large'; limit: number } | { kind: 'binary' } | { kind: 'unreadable'; code: string };

export type BoundedRead = { ok: true; data: Buffer } | ({ ok: false } & ReadProblem);

const CHUNK = 64 * 1024;

/** The bytes of `path`, at most `maxBytes` of them, or why not. */
export function readBounded(path: string, maxBytes: number): BoundedRead {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    if (code === 'ENOENT') return { ok: false, kind: 'missing' };
    if (code === 'EISDIR') return { ok: false, kind: 'directory' };
    return { ok: false, kind: 'unreadable', code };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { ok: false, kind: 'directory' };
    if (st.isFile() && st.size > maxBytes) return { ok: false, kind: 'too-large', limit: maxBytes };
    const chunks: Buffer[] = [];
    let total = 0;
    // A regular file is read into one buffer of its size (one byte more shows it grew): no copy
    // to join chunks. Anything else, or a file that grew, goes on in chunks.
    let size = st.isFile() ? Math.min(st.size + 1, maxBytes + 1) : Math.min(CHUNK, maxBytes + 1);
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > maxBytes) return { ok: false, kind: 'too-large', limit: maxBytes };
      size = Math.min(CHUNK, maxBytes + 1 - total);
    }
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
    if (data.includes(0)) return { ok: false, kind: 'binary' };
    return { ok: true, data };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return code === 'EISDIR' ? { ok: false, kind: 'directory' } : { ok: false, kind: 'unreadable', code };
  } finally {
    closeSync(fd);
  }
}

/** A size for messages: "1 MiB", "512 KiB", "100 bytes". */
export function sizeText(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} bytes`;
}

/** What an errno code means, in words. */
export function errnoText(code: string): string {
  const words: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    ELOOP: 'too many symbolic links',
    ENAMETOOLONG: 'file name too long',
  };
  return words[code] ?? code;
}
