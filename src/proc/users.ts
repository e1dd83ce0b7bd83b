// Who scripts run as (keepalived lib/notify.c):
// - `script_user USER [GROUP]` / a script's own `USER [GROUP]` → uid/gid from /etc/passwd and
//   /etc/group (names only, as getpwnam/getgrnam; no native deps, no NSS);
// - the default user is `keepalived_script` if it exists, else the user we run as; with
//   enable_script_security a missing keepalived_script is a config error.
// Whether a script may run at all (script security) is script-security.ts.
import { readFileSync } from 'node:fs';

// ---------------------------------------------------------------------------------------------
// passwd / group

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface UserDb {
  users: PasswdEntry[];
  groups: GroupEntry[];
}

const isId = (s: string | undefined) => s !== undefined && /^\d+$/.test(s);

/** /etc/passwd lines `name:pw:uid:gid:gecos:home:shell`; comments, NIS `+`/`-` and junk skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    if (f.length < 4 || !f[0] || !isId(f[2]) || !isId(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '', shell: (f[6] ?? '').trim() });
  }
  return out;
}

/** /etc/group lines `name:pw:gid:member,member`. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const f = line.split(':');
    if (f.length < 3 || !f[0] || !isId(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').trim().split(',').filter(Boolean) });
  }
  return out;
}

/** Read the user database; a missing file reads as empty. */
export function readUserDb(paths: { passwd?: string; group?: string } = {}): UserDb {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return { users: parsePasswd(read(paths.passwd ?? '/etc/passwd')), groups: parseGroup(read(paths.group ?? '/etc/group')) };
}

// ---------------------------------------------------------------------------------------------
// Resolution

export interface ScriptIdentity {
  uid: number;
  gid: number;
  /** User name, when known. */
  user?: string;
  group?: string;
}

export type IdentityResult = ({ ok: true } & ScriptIdentity) | { ok: false; error: string };

/** `USER [GROUP]` → uid/gid; the group defaults to the user's primary group. */
export function resolveScriptUser(db: UserDb, user: string, group?: string): IdentityResult {
  const pw = db.users.find((u) => u.name === user);
  if (!pw) return { ok: false, error: `Script user '${user}' does not exist` };
  if (group === undefined || group === '') {
    const primary = db.groups.find((g) => g.gid === pw.gid);
    return { ok: true, uid: pw.uid, gid: pw.gid, user: pw.name, ...(primary ? { group: primary.name } : {}) };
  }
  const gr = db.groups.find((g) => g.name === group);
  if (!gr) return { ok: false, error: `Script group '${group}' does not exist` };
  return { ok: true, uid: pw.uid, gid: gr.gid, user: pw.name, group: gr.name };
}

export const DEFAULT_SCRIPT_USER = 'keepalived_script';

/** The user we run as. */
export function currentIdentity(): { uid: number; gid: number } {
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

/**
 * The user for scripts that name none: `script_user` from global_defs if given, else
 * keepalived_script if it exists, else the running user (an error with enable_script_security,
 * as keepalived: "Unable to set default user keepalived_script for script").
 */
export function defaultScriptUser(
  db: UserDb,
  global: { scriptUser?: { user: string; group?: string }; enableScriptSecurity?: boolean },
  self: { uid: number; gid: number } = currentIdentity(),
): IdentityResult {
  if (global.scriptUser) return resolveScriptUser(db, global.scriptUser.user, global.scriptUser.group);
  const ks = resolveScriptUser(db, DEFAULT_SCRIPT_USER);
  if (ks.ok) return ks;
  if (global.enableScriptSecurity) return { ok: false, error: `Unable to set default user ${DEFAULT_SCRIPT_USER} for script` };
  const me = db.users.find((u) => u.uid === self.uid);
  const myGroup = db.groups.find((g) => g.gid === self.gid);
  return { ok: true, uid: self.uid, gid: self.gid, ...(me ? { user: me.name } : {}), ...(myGroup ? { group: myGroup.name } : {}) };
}

/** The identity one script runs as: its own `user [group]`, else the default script user. */
export function scriptIdentity(
  db: UserDb,
  script: { user?: string; group?: string },
  global: { scriptUser?: { user: string; group?: string }; enableScriptSecurity?: boolean },
  self: { uid: number; gid: number } = currentIdentity(),
): IdentityResult {
  if (script.user) return resolveScriptUser(db, script.user, script.group);
  return defaultScriptUser(db, global, self);
}

/** What a script runner takes: uid/gid to run as, or why the script must not run. */
export type RunAs = { uid?: number; gid?: number } | { error: string };

/** scriptIdentity as runners want it, under the global_defs `global()` returns when asked. */
export function identityFor(db: UserDb, global: () => Parameters<typeof scriptIdentity>[2]): (who?: { user?: string; group?: string }) => RunAs {
  return (who = {}) => {
    const id = scriptIdentity(db, who, global());
    return id.ok ? { uid: id.uid, gid: id.gid } : { error: id.error };
  };
}
