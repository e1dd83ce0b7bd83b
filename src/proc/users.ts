// Who scripts run as, and whether they may run at all (keepalived lib/notify.c):
// - `script_user USER [GROUP]` / a script's own `USER [GROUP]` → uid/gid from /etc/passwd and
//   /etc/group (names only, as getpwnam/getgrnam; no native deps, no NSS);
// - the default user is `keepalived_script` if it exists, else the user we run as; with
//   enable_script_security a missing keepalived_script is a config error;
// - script security: a script that runs as root (uid or gid 0, or setuid/setgid root) must not
//   be writable by non-root anywhere along its path; keepalived disables it when
//   enable_script_security is set ("Unsafe permissions found for script ...").
import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';

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

// ---------------------------------------------------------------------------------------------
// Script security

/** The parts of a stat result the check needs; `mode` includes the S_IFMT type bits. */
export interface StatInfo {
  mode: number;
  uid: number;
  gid: number;
  dev?: number;
  ino?: number;
}

/** File system access for the security check; each returns undefined where the call fails. */
export interface FsProbe {
  stat: (path: string) => StatInfo | undefined;
  lstat: (path: string) => StatInfo | undefined;
  realpath: (path: string) => string | undefined;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const isDir = (m: number) => (m & S_IFMT) === S_IFDIR;
const isReg = (m: number) => (m & S_IFMT) === S_IFREG;
const isLnk = (m: number) => (m & S_IFMT) === S_IFLNK;

/** keepalived's is_executable(): may uid:gid execute this file? */
export function isExecutableBy(st: StatInfo, uid: number, gid: number): boolean {
  const m = st.mode;
  if (uid === 0) return (m & 0o111) !== 0;
  if (uid === st.uid) return (m & 0o100) !== 0;
  return gid === st.gid ? (m & 0o010) !== 0 : (m & 0o001) !== 0;
}

/** Does the script run with root powers (uid or gid 0, or a setuid/setgid-root executable)? */
export function needsScriptProtection(st: StatInfo, uid: number, gid: number): boolean {
  return uid === 0 || gid === 0 ||
    (st.uid === 0 && (st.mode & 0o100) !== 0 && (st.mode & S_ISUID) !== 0) ||
    (st.gid === 0 && (st.mode & 0o010) !== 0 && (st.mode & S_ISGID) !== 0);
}

/**
 * Why this path component lets non-root change what runs, or undefined if it does not.
 * keepalived's rule: owner not root; or (a directory without the sticky bit, or a regular file)
 * writable by a non-root group or by others. A root group with write access is fine, and so is
 * a sticky world-writable directory such as /tmp.
 */
export function unsafeReason(st: StatInfo): string | undefined {
  if (st.uid !== 0) return `owned by uid ${st.uid}`;
  if ((isDir(st.mode) && !(st.mode & S_ISVTX)) || isReg(st.mode)) {
    if (st.mode & 0o002) return 'writable by others';
    if (st.gid !== 0 && st.mode & 0o020) return `writable by group ${st.gid}`;
  }
  return undefined;
}

/** "/", "/a", "/a/b", ... "/a/b/c" for an absolute path (repeated slashes collapsed). */
export function pathPrefixes(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const out = ['/'];
  for (let i = 0; i < parts.length; i++) out.push('/' + parts.slice(0, i + 1).join('/'));
  return out;
}

export type PathVerdict = { ok: true } | { ok: false; component: string; why: string; wrongType?: boolean };

/**
 * keepalived's check_security(): every component of `path` (lstat, not following links) must be
 * safe; all but the last must be directories, the last a file or symlink.
 */
export function checkPathComponents(path: string, lstat: (p: string) => StatInfo | undefined): PathVerdict {
  const prefixes = pathPrefixes(path);
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i];
    const last = i === prefixes.length - 1;
    const st = lstat(p);
    if (!st) return { ok: false, component: p, why: 'cannot be accessed' };
    if ((!last && !isDir(st.mode)) || (last && !isReg(st.mode) && !isLnk(st.mode))) {
      return { ok: false, component: p, why: 'wrong file type', wrongType: true };
    }
    const why = unsafeReason(st);
    if (why) return { ok: false, component: p, why };
  }
  return { ok: true };
}

export interface ScriptSecurityResult {
  /** May the script be run? (keepalived frees the script when false.) */
  allowed: boolean;
  /** The path to execute: PATH-resolved and canonicalised (keepalived rewrites argv[0]). */
  path: string;
  /** Runs as root from a non-root-writable path (only refused with enable_script_security). */
  insecure: boolean;
  /** Why the script is refused or flagged, in keepalived's words. */
  reason?: string;
  /** Non-fatal notes (PATH search). */
  warnings: string[];
}

export interface ScriptSecurityInput {
  /** argv[0] as configured. */
  command: string;
  uid: number;
  gid: number;
  enableScriptSecurity: boolean;
  /** PATH for bare command names (default: process.env.PATH). */
  pathEnv?: string;
}

/**
 * keepalived's check_script_secure() against an injected file system: find the script (PATH
 * search for bare names), canonicalise it, check it is executable by uid:gid, and when it runs
 * as root check every component of its path (and of the real file's path when it is a symlink
 * with another name).
 */
export function checkScriptSecurityWith(fs: FsProbe, input: ScriptSecurityInput): ScriptSecurityResult {
  const { command, uid, gid, enableScriptSecurity } = input;
  const warnings: string[] = [];
  const refuse = (path: string, reason: string, insecure = false): ScriptSecurityResult => ({ allowed: false, path, insecure, reason, warnings });

  let path = command;
  if (!command.includes('/')) {
    const dirs = (input.pathEnv ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':');
    let found: string | undefined;
    let denied = false;
    for (const d of dirs) {
      const cand = `${d || '.'}/${command}`;
      const st = fs.stat(cand);
      if (!st) continue;
      if (!isReg(st.mode) || !isExecutableBy(st, uid, gid)) {
        denied = true;
        continue;
      }
      found = cand;
      break;
    }
    if (!found) return refuse(command, denied ? `Permissions failure for script ${command} in path - disabling` : `Cannot find script ${command} in path - disabling`);
    warnings.push(`WARNING - script \`${command}\` resolved by path search to \`${found}\`. Please specify full path.`);
    path = found;
  }

  const real = fs.realpath(path);
  if (!real) return refuse(path, `Script ${path} cannot be accessed`);
  // Keep the configured file name when the real file is called something else (programs may act
  // on argv[0]), provided that name in the real directory is the same file.
  let execPath = real;
  let realFile: string | undefined;
  const origName = path.slice(path.lastIndexOf('/') + 1);
  const realName = real.slice(real.lastIndexOf('/') + 1);
  if (real !== path && origName !== realName) {
    const alt = real.slice(0, real.lastIndexOf('/') + 1) + origName;
    const a = fs.stat(alt);
    const r = fs.stat(real);
    if (a && r && a.dev === r.dev && a.ino === r.ino) {
      execPath = alt;
      realFile = real;
    }
  }

  const st = fs.stat(realFile ?? execPath);
  if (!st) return refuse(execPath, `Unable to access script \`${execPath}\` - disabling`);
  if (!isExecutableBy(st, uid, gid)) return refuse(execPath, `WARNING - script '${execPath}' is not executable for uid:gid ${uid}:${gid} - disabling.`);
  if (!needsScriptProtection(st, uid, gid)) return { allowed: true, path: execPath, insecure: false, warnings };

  for (const p of realFile ? [execPath, realFile] : [execPath]) {
    const v = checkPathComponents(p, fs.lstat);
    if (v.ok) continue;
    if (v.wrongType) return refuse(execPath, `Wrong file type found in script path '${p}' (${v.component}).`);
    if (v.why === 'cannot be accessed') return refuse(execPath, `check_script_secure could not find script '${p}' - disabling`);
    const reason = `Unsafe permissions found for script '${p}'${enableScriptSecurity ? ' - disabling' : ''} (${v.component} is ${v.why})`;
    return { allowed: !enableScriptSecurity, path: execPath, insecure: true, reason, warnings };
  }
  return { allowed: true, path: execPath, insecure: false, warnings };
}

const toInfo = (s: { mode: number; uid: number; gid: number; dev: number; ino: number }): StatInfo => ({ mode: s.mode, uid: s.uid, gid: s.gid, dev: s.dev, ino: s.ino });

/** The real file system. */
export const realFs: FsProbe = {
  stat: (p) => {
    try {
      return toInfo(statSync(p));
    } catch {
      return undefined;
    }
  },
  lstat: (p) => {
    try {
      return toInfo(lstatSync(p));
    } catch {
      return undefined;
    }
  },
  realpath: (p) => {
    try {
      return realpathSync.native(p);
    } catch {
      return undefined;
    }
  },
};

/** checkScriptSecurityWith() on the real file system. */
export function checkScriptSecurity(input: ScriptSecurityInput): ScriptSecurityResult {
  return checkScriptSecurityWith(realFs, input);
}
