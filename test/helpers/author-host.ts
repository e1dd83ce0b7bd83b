// The host a real-world config was written for, as test/fixtures/broken/record-keepalived.sh
// --corpus made it for keepalived: the interfaces the config names, stub scripts where its
// scripts are missing here, and its script users. Our config test gets the same host, through
// the probes it already takes (interfaces, file system, user database, PATH).
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { HostProbe } from '../../src/config/resolve-host.js';
import { realFs, scriptProbe, type FsProbe, type StatInfo } from '../../src/proc/script-security.js';
import { readUserDb, type UserDb } from '../../src/proc/users.js';

/** What the recorder made exist for one file (expected.json's `host`). */
export interface AuthorHost {
  interfaces: string[];
  /** Absolute paths created as root-owned 0755 executable stubs. */
  scripts: string[];
  /** [user] or [user, group] appended to passwd/group, ids from 61000 in order. */
  users: string[][];
  /** Script paths left missing (their deepest existing directory is /). */
  unstubbed: string[];
}

/** The recorder's fixed PATH (CORPUS_PATH there): bare script names are looked up on it. */
export const CORPUS_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `p` with its deepest existing directory canonicalised (where the recorder's stub really lands). */
function canonical(p: string): string {
  let d = p;
  while (!existsSync(d)) d = dirname(d);
  return join(realpathSync(d), relative(d, p));
}

/** This machine's file system with the stubs (and the directories above them) added. */
export function stubbedFs(stubs: readonly string[]): FsProbe {
  const files = new Set(stubs.map(canonical));
  const dirs = new Set<string>();
  for (const f of files) for (let d = dirname(f); d !== '/' && !existsSync(d); d = dirname(d)) dirs.add(d);
  const made = (p: string): StatInfo | undefined => {
    if (!p.startsWith('/') || existsSync(p)) return undefined;
    const c = canonical(p);
    if (files.has(c)) return { mode: 0o100755, uid: 0, gid: 0 };
    if (dirs.has(c)) return { mode: 0o040755, uid: 0, gid: 0 };
    return undefined;
  };
  return {
    stat: (p) => made(p) ?? realFs.stat(p),
    lstat: (p) => made(p) ?? realFs.lstat(p),
    realpath: (p) => (made(p) ? canonical(p) : realFs.realpath(p)),
    ...(realFs.realpathError ? { realpathError: realFs.realpathError } : {}),
  };
}

/** This machine's users and groups with the recorder's additions. */
export function usersWith(added: readonly string[][], base: UserDb = readUserDb()): UserDb {
  const db: UserDb = { users: [...base.users], groups: [...base.groups] };
  added.forEach(([user, group], n) => {
    const gid = 61000 + n;
    if (group && !db.groups.some((g) => g.name === group)) db.groups.push({ name: group, gid, members: [] });
    if (!db.users.some((u) => u.name === user)) db.users.push({ name: user, uid: 61000 + n, gid, home: '/nonexistent', shell: '/usr/sbin/nologin' });
    if (!group && !db.groups.some((g) => g.name === user)) db.groups.push({ name: user, gid, members: [] });
  });
  return db;
}

/** The author's host for our config test: only its own interfaces (and lo) exist, as in the recorder's namespace. */
export function authorHostProbe(host: AuthorHost): HostProbe {
  const links = new Set(['lo', ...host.interfaces]);
  return { interfaceExists: (name) => links.has(name), ...scriptProbe({ fs: stubbedFs(host.scripts), db: usersWith(host.users), pathEnv: CORPUS_PATH }) };
}
