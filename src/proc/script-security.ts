// Whether a script may run, as keepalived decides when it loads a config (lib/notify.c
// check_script_secure / check_security):
// - a bare name is looked up in PATH ("Cannot find script X in path - disabling"); the path is
//   canonicalised and run as found, keeping the configured file name when a symlink's target is
//   called something else; both with the script's user, who must be able to reach the file;
// - a file that is found is a script (it counts for "SECURITY VIOLATION"), even when its user
//   cannot execute it ("WARNING - script 'X' is not executable for uid:gid U:G - disabling.");
// - a script that runs with root powers (uid or gid 0, or a setuid/setgid-root executable) must
//   have every component of its path owned by root and not writable by a non-root group or by
//   others (a sticky directory such as /tmp may be), else "Unsafe permissions found for script
//   'X'" — and " - disabling" with enable_script_security, which refuses it. Without
//   enable_script_security keepalived runs it anyway and only logs;
// - a path component of the wrong type ("Wrong file type found in script path 'X'.") is refused
//   either way.
// What each kind of script does after a refusal is config/resolve-scripts.ts; scriptProbe() is
// the probe the config layer calls, with users from users.ts.
import { lstatSync, realpathSync, statSync } from 'node:fs';
import type { GlobalDefs } from '../config/model/global.js';
import type { ScriptRef } from '../config/model/index.js';
import {
  SC_EXECUTABLE,
  SC_INHIBIT,
  SC_INSECURE,
  SC_ISSCRIPT,
  SC_NOTFOUND,
  SC_SYSTEM,
  type ScriptProbe,
  type ScriptUser,
  type ScriptVerdict,
} from '../config/resolve-scripts.js';
import { realHost, type HostProbe } from '../config/resolve-host.js';
import { currentIdentity, defaultScriptUser, readUserDb, scriptIdentity, type UserDb } from './users.js';
import { memo } from '../core/records.js';

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
  /** Why realpath failed, as strerror() says it (default "No such file or directory"). */
  realpathError?: (path: string) => string;
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
  return (
    uid === 0 ||
    gid === 0 ||
    (st.uid === 0 && (st.mode & 0o100) !== 0 && (st.mode & S_ISUID) !== 0) ||
    (st.gid === 0 && (st.mode & 0o010) !== 0 && (st.mode & S_ISGID) !== 0)
  );
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
  /** check_script_secure()'s flags: SC_ISSCRIPT, SC_EXECUTABLE, SC_INSECURE, SC_INHIBIT... */
  flags: number;
  /** May the script be run? (keepalived frees the script when false.) */
  allowed: boolean;
  /** The path to execute: PATH-resolved and canonicalised (keepalived rewrites argv[0]). */
  path: string;
  /** Runs as root from a non-root-writable path (only refused with enable_script_security). */
  insecure: boolean;
  /** Why the script is refused or flagged, in keepalived's words. */
  reason?: string;
  /** For an unsafe path: the component and what is wrong with it (ours; keepalived says nothing). */
  detail?: string;
  /** Everything keepalived logs about the script, in order (the PATH search warning too). */
  messages: string[];
}

export interface ScriptSecurityInput {
  /** argv[0] as configured. */
  command: string;
  uid: number;
  gid: number;
  enableScriptSecurity: boolean;
  /** PATH for bare command names (default: process.env.PATH, else glibc's "/bin:/usr/bin"). */
  pathEnv?: string;
}

/**
 * Can uid:gid reach `path` (search permission on every directory above it)? keepalived looks the
 * script up with the script's uid and gid as its effective ids, so a directory its user cannot
 * enter hides the script ("Permission denied"). Supplementary groups are not considered.
 */
export function reachableBy(fs: FsProbe, path: string, uid: number, gid: number): boolean {
  if (uid === 0 || !path.startsWith('/')) return true;
  const dirs = pathPrefixes(path).slice(0, -1);
  for (const d of dirs) {
    const st = fs.stat(d);
    if (!st) return true; // missing: realpath says so
    if (isDir(st.mode) && !isExecutableBy(st, uid, gid)) return false;
  }
  return true;
}

/** keepalived counts a check like "</dev/tcp/host/port" (bash redirection) as a system() test. */
export const isRedirectionTest = (command: string): boolean => /^<[ \t]*\//.test(command);

/**
 * keepalived's check_script_secure() against an injected file system: find the script (PATH
 * search for bare names), canonicalise it, check it is executable by uid:gid, and when it runs
 * as root check every component of its path (and of the real file's path when it is a symlink
 * with another name).
 */
export function checkScriptSecurityWith(fs: FsProbe, input: ScriptSecurityInput): ScriptSecurityResult {
  const { command, uid, gid, enableScriptSecurity } = input;
  const messages: string[] = [];
  const result = (flags: number, path: string, reason?: string, detail?: string): ScriptSecurityResult => {
    if (reason) messages.push(reason);
    const allowed = !(flags & (SC_INHIBIT | SC_NOTFOUND)) && (flags & (SC_EXECUTABLE | SC_SYSTEM)) !== 0;
    return { flags, allowed, path, insecure: (flags & SC_INSECURE) !== 0, ...(reason ? { reason } : {}), ...(detail ? { detail } : {}), messages };
  };
  if (isRedirectionTest(command)) return result(SC_SYSTEM, command);

  let path = command;
  if (!command.includes('/')) {
    const dirs = (input.pathEnv ?? process.env.PATH ?? '/bin:/usr/bin').split(':');
    let found: string | undefined;
    let denied = false;
    for (const d of dirs) {
      const cand = `${d}${d ? '/' : ''}${command}`;
      const st = reachableBy(fs, cand, uid, gid) ? fs.stat(cand) : undefined;
      if (!st) continue;
      if (!isReg(st.mode) || !isExecutableBy(st, uid, gid)) {
        denied = true;
        continue;
      }
      found = cand;
      break;
    }
    if (!found)
      return result(
        SC_NOTFOUND,
        command,
        denied ? `Permissions failure for script ${command} in path - disabling` : `Cannot find script ${command} in path - disabling`,
      );
    messages.push(`WARNING - script \`${command}\` resolved by path search to \`${found}\`. Please specify full path.`);
    path = found;
  }

  if (!reachableBy(fs, path, uid, gid)) return result(SC_NOTFOUND, path, `Script ${path} cannot be accessed - Permission denied`);
  const real = fs.realpath(path);
  if (!real) return result(SC_NOTFOUND, path, `Script ${path} cannot be accessed - ${fs.realpathError?.(path) ?? 'No such file or directory'}`);
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
  if (!st) return result(SC_NOTFOUND, execPath, `Unable to access script \`${execPath}\` - disabling`);
  let flags = SC_ISSCRIPT;
  if (!isExecutableBy(st, uid, gid)) return result(flags, execPath, `WARNING - script '${execPath}' is not executable for uid:gid ${uid}:${gid} - disabling.`);
  flags |= SC_EXECUTABLE;
  if (!needsScriptProtection(st, uid, gid)) return result(flags, execPath);

  for (const p of realFile ? [execPath, realFile] : [execPath]) {
    const v = checkPathComponents(p, fs.lstat);
    if (v.ok) continue;
    if (v.wrongType) return result(flags | SC_INHIBIT, execPath, `Wrong file type found in script path '${p}'.`, `${v.component} is not a directory`);
    if (v.why === 'cannot be accessed') return result(flags | SC_NOTFOUND, execPath, `check_script_secure could not find script '${p}' - disabling`);
    flags |= SC_INSECURE | (enableScriptSecurity ? SC_INHIBIT : 0);
    return result(flags, execPath, `Unsafe permissions found for script '${p}'${enableScriptSecurity ? ' - disabling' : ''}.`, `${v.component} is ${v.why}`);
  }
  return result(flags, execPath);
}

const toInfo = (s: { mode: number; uid: number; gid: number; dev: number; ino: number }): StatInfo => ({
  mode: s.mode,
  uid: s.uid,
  gid: s.gid,
  dev: s.dev,
  ino: s.ino,
});

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
};

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
  realpathError: (p) => {
    try {
      realpathSync.native(p);
      return 'Success';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      return STRERROR[code] ?? code;
    }
  },
};

/** checkScriptSecurityWith() on the real file system. */
export function checkScriptSecurity(input: ScriptSecurityInput): ScriptSecurityResult {
  return checkScriptSecurityWith(realFs, input);
}

export interface ScriptProbeOptions {
  /** The user database (default: /etc/passwd and /etc/group, read once per probe). */
  db?: UserDb;
  fs?: FsProbe;
  /** Who we run as (the default script user when keepalived_script does not exist). */
  self?: { uid: number; gid: number };
  pathEnv?: string;
}

/**
 * The config layer's script probe: each script's user (its own, else script_user, else
 * keepalived_script, else ours), then check_script_secure() on this machine. Make one per load,
 * so that a reload sees today's users and files.
 */
export function scriptProbe(opts: ScriptProbeOptions = {}): ScriptProbe {
  const db = opts.db ?? readUserDb();
  const fs = cachedFs(opts.fs ?? realFs);
  const self = opts.self ?? currentIdentity();
  // One check per command and user within a load: a config names the same few scripts in
  // thousands of places, and keepalived's answer for each is the same.
  const checked = new Map<string, ScriptSecurityResult>();
  return {
    scriptUserError(global: GlobalDefs): string | undefined {
      if (!global.scriptUser) return undefined;
      const id = defaultScriptUser(db, global, self);
      return id.ok ? undefined : id.error;
    },
    script(ref: ScriptRef, global: GlobalDefs, user?: ScriptUser): ScriptVerdict {
      const who = user ?? ref;
      const id = scriptIdentity(db, who, global, self);
      if (!id.ok) return { flags: 0, messages: [], userError: { message: id.error, defaultUser: !who.user } };
      const command = ref.argv[0];
      const key = `${id.uid}:${id.gid}:${global.enableScriptSecurity ? 1 : 0}:${command}`;
      let r = checked.get(key);
      if (!r) {
        r = checkScriptSecurityWith(fs, {
          command,
          uid: id.uid,
          gid: id.gid,
          enableScriptSecurity: global.enableScriptSecurity,
          ...(opts.pathEnv !== undefined ? { pathEnv: opts.pathEnv } : {}),
        });
        checked.set(key, r);
      }
      return { flags: r.flags, path: r.path, messages: [...r.messages], ...(r.detail ? { detail: r.detail } : {}) };
    },
  };
}

/**
 * `fs` with each path's answer kept: a probe lives for one load, and the PATH search and the
 * path-component checks of many scripts look at the same directories.
 */
function cachedFs(fs: FsProbe): FsProbe {
  const realpathError = fs.realpathError;
  return { stat: memo(fs.stat), lstat: memo(fs.lstat), realpath: memo(fs.realpath), ...(realpathError ? { realpathError: memo(realpathError) } : {}) };
}

/** This machine for `-t` and `lint --host`: its interfaces, and scripts checked as keepalived does. */
export function hostProbe(opts: ScriptProbeOptions = {}): HostProbe {
  return { interfaceExists: realHost.interfaceExists, igmpReportsWritable: realHost.igmpReportsWritable, ...scriptProbe(opts) };
}
