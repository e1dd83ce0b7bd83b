// keepalived's pid files, one daemon per file: a second daemon given a pid file that names a
// running process says "daemon is already running" and exits 0, as keepalived 2.2.7 does; a pid
// file whose process is gone is taken over ("Remove a zombie pid file"). The file is created
// mode 0644 whatever the umask, by a hard link from a temporary file, so two daemons starting at
// once cannot both claim it and a symlink found there is never followed. On exit it is removed
// only while it still holds our pid.
import { linkSync, renameSync, rmSync } from 'node:fs';
import { processAlive } from '../proc/script-runner.js';
import { readNoFollow, writeTemp } from './files.js';

interface Log {
  info(msg: string): void;
  warn(msg: string): void;
}

export type PidClaim = { ok: true } | { ok: false; pid: number };

/** The pid a pid file names, or why it names none. */
export function pidIn(path: string): number | 'absent' | 'symlink' | 'unreadable' {
  const read = readNoFollow(path, 64);
  if ('missing' in read) return read.missing === 'other' ? 'unreadable' : read.missing;
  const m = /^\s*(\d+)\s*$/.exec(read.text);
  return m && Number(m[1]) > 0 ? Number(m[1]) : 'unreadable';
}

/** Write `pid` to `path` unless another running process holds it. */
export function claimPidFile(path: string, pid: number, log: Log): PidClaim {
  const tmp = writeTemp(path, `${pid}\n`, 0o644);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        return { ok: true };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // No hard links on this file system: claim it by rename, which is not exclusive.
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
          renameSync(tmp, path);
          return { ok: true };
        }
        if (code !== 'EEXIST' || attempt === 3) throw e;
      }
      const holder = pidIn(path);
      if (typeof holder === 'number' && holder !== pid && processAlive(holder)) return { ok: false, pid: holder };
      if (holder === 'symlink') log.warn(`pid file ${path} is a symbolic link: replacing the link, not following it`);
      else if (holder === 'unreadable') log.warn(`Error reading pid file ${path}: replacing it`);
      else if (typeof holder === 'number') log.info(`Remove a zombie pid file ${path}`);
      rmSync(path, { force: true });
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Remove `path` if it still holds `pid`: a daemon that took it over keeps its file. */
export function releasePidFile(path: string, pid: number): boolean {
  if (pidIn(path) !== pid) return false;
  rmSync(path, { force: true });
  return true;
}
