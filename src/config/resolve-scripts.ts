// keepalived's script checks at load time, against this machine: every configured script goes
// through check_script_secure() (lib/notify.c; proc/script-security.ts is ours), and each
// subsystem then decides what a failed check means (vrrp.c check_vrrp_script_security,
// check_misc.c / check_data.c check_check_script_security, main.c for startup/shutdown):
// - a vrrp_script that is refused ("Disabling track script X due to insecure") or missing
//   ("... since not found/accessible") is a config error (-t exit 5) and is removed with every
//   track_script that names it; one its user cannot execute is removed without a word;
// - a MISC_CHECK is removed (logged only), and so is a notify, quorum or FIFO script (silently);
// - a script counts for the SECURITY VIOLATION (-t exit 6, without enable_script_security) once
//   its file is found: a missing script is not a security finding, a non-executable one is.
// Only a part that runs checks its scripts: VRRP ones when there is a vrrp_instance, checker
// ones when there is a virtual_server.
import { kept } from '../core/records.js';
import { blockEndOf } from './builder.js';
import type { BuildContext } from './schema.js';
import { spanOf, type Span } from './diagnostics.js';
import type { ScriptRef, WrittenConfig } from './model/index.js';
import type { GlobalDefs } from './model/global.js';
import { NOTIFY_KEYS } from './resolve-vrrp.js';

/** check_script_secure()'s result flags (keepalived lib/notify.h). */
export const SC_INSECURE = 0x01;
export const SC_ISSCRIPT = 0x02;
export const SC_INHIBIT = 0x04;
export const SC_NOTFOUND = 0x08;
export const SC_EXECUTABLE = 0x10;
export const SC_SYSTEM = 0x40;

export interface ScriptVerdict {
  flags: number;
  /** What to execute: found through PATH, symlinks resolved (keepalived rewrites argv[0]). */
  path?: string;
  /** What keepalived logs about the script, in its words. */
  messages: string[];
  /** For an unsafe script: which part of its path others can change, and how. */
  detail?: string;
  /**
   * The script's user could not be settled; keepalived drops the script while reading the
   * config. `defaultUser`: the script has no user of its own and the default one cannot be set
   * (script_user names a user or group that does not exist, or enable_script_security without
   * script_user or keepalived_script).
   */
  userError?: { message: string; defaultUser: boolean };
}

/** A script's own user, for the scripts that set it apart from the command (vrrp_script, MISC_CHECK). */
export type ScriptUser = { user: string; group?: string };

export interface ScriptProbe {
  /** `user`, when given, is the script's own user in place of the one on `ref`. */
  script(ref: ScriptRef, global: GlobalDefs, user?: ScriptUser): ScriptVerdict;
  /** Why global_defs script_user cannot be set on this host (undefined: it can, or none is given). */
  scriptUserError(global: GlobalDefs): string | undefined;
}

/**
 * lib/notify.c get_default_script_user: why the default script user cannot be set is said once
 * per process, at the first script that needs it (`first`). A failed script_user has already
 * said it at its own line (checkScriptUser), so then nothing more is said here.
 */
function defaultUserFailed(cfg: WrittenConfig, ctx: BuildContext, first: boolean, at: Span, message: string): void {
  if (first && !cfg.globalDefs.scriptUser) ctx.error(at, 'script-user', message, 'add script_user to global_defs, or create the keepalived_script user');
}

/**
 * global_parser.c script_user_handler: a script_user naming a user or group this host does not
 * have is reported at its line; keepalived then sets no default script user, so the scripts
 * without their own user are dropped (dropScriptsWithoutUser).
 */
export function checkScriptUser(cfg: WrittenConfig, ctx: BuildContext, probe: ScriptProbe): void {
  const g = cfg.globalDefs;
  const why = probe.scriptUserError(g);
  if (why !== undefined)
    ctx.error(g.spans.scriptUser ?? g.span, 'script-user', 'Error setting global script uid/gid', `${why}: create it, or name one that exists`);
}

/** check_notify_script_secure(): notify scripts must be executable (a "</dev/tcp" test is not). */
const notifyUsable = (f: number): boolean => !(f & (SC_INHIBIT | SC_NOTFOUND)) && (f & SC_EXECUTABLE) !== 0;
/** Track, MISC_CHECK and startup/shutdown scripts may also be a "</dev/tcp/..." test. */
const usable = (f: number): boolean => !(f & (SC_INHIBIT | SC_NOTFOUND)) && (f & (SC_EXECUTABLE | SC_SYSTEM)) !== 0;

type Slot = Record<string, ScriptRef | true | undefined>;

/** Which of keepalived's processes run, and so check their scripts: -P runs VRRP only, -C the checkers. */
export interface ScriptParts {
  vrrp?: boolean;
  checker?: boolean;
}

/**
 * vrrp_parser.c's vrrp_script end handler: a script without its own `user` takes the default one
 * (get_default_script_user(), lib/notify.c). When that cannot be set (enable_script_security, no
 * script_user and no keepalived_script user) keepalived says so at the block's '}' and removes the
 * script while still reading, so every track_script naming it is then "not found". Run before the
 * track lists are resolved; returns the names removed (empty when the VRRP process does not run).
 */
export function dropScriptsWithoutUser(cfg: WrittenConfig, ctx: BuildContext, probe: ScriptProbe, parts: ScriptParts = {}): Set<string> {
  const removed = new Set<string>();
  if (!cfg.vrrpInstances.length || parts.vrrp === false) return removed;
  let reported = false;
  cfg.vrrpScripts = cfg.vrrpScripts.filter((s) => {
    if (!s.script || s.user) return true;
    const e = probe.script(s.script, cfg.globalDefs).userError;
    if (!e?.defaultUser) return true;
    const end = blockEndOf(s.span) ?? s.span;
    const at = spanOf(end);
    defaultUserFailed(cfg, ctx, !reported, at, e.message);
    reported = true;
    ctx.error(
      at,
      'script-user',
      `Unable to set default user for vrrp script ${s.name} - removing`,
      cfg.globalDefs.scriptUser
        ? `give vrrp_script ${s.name} a user, or name an existing user in script_user`
        : `give vrrp_script ${s.name} a user, or add script_user to global_defs`,
    );
    removed.add(s.name);
    return false;
  });
  return removed;
}

export function resolveScripts(cfg: WrittenConfig, ctx: BuildContext, probe: ScriptProbe, parts: ScriptParts = {}, vrrpDefaultUserReported = false): void {
  const g = cfg.globalDefs;
  const sec = g.enableScriptSecurity;
  let defaultUserReported = false;

  /** Check one script: its findings become diagnostics; undefined when keepalived drops it. */
  const check = (ref: ScriptRef, at: Span, acc: { flags: number; first?: Span }, what: string, user?: ScriptUser): { flags: number; ref?: ScriptRef } => {
    const v = probe.script(ref, g, user);
    if (v.userError) {
      if (v.userError.defaultUser) {
        defaultUserFailed(cfg, ctx, !defaultUserReported, at, v.userError.message);
        defaultUserReported = true;
      } else ctx.warning(at, 'script-user', `${v.userError.message}; ${what} is ignored`);
      return { flags: 0 };
    }
    acc.flags |= v.flags;
    if (v.flags & SC_ISSCRIPT) acc.first ??= at;
    for (const m of v.messages) {
      if (m.startsWith('Unsafe permissions')) ctx.warning(at, 'script-unsafe', m, v.detail);
      else if (!m.startsWith('WARNING - script `')) ctx.warning(at, 'host-script', m);
    }
    const path = v.path && v.path !== ref.argv[0] ? { ...ref, argv: [v.path, ...ref.argv.slice(1)] } : ref;
    return { flags: v.flags, ref: path };
  };
  const violation = (acc: { flags: number; first?: Span }, kind: string): void => {
    if (sec || !(acc.flags & SC_ISSCRIPT)) return;
    const insecure = acc.flags & SC_INSECURE ? ' There are insecure scripts.' : '';
    ctx.diags.error(acc.first ?? g.span, 'script-security', `SECURITY VIOLATION - ${kind} are being executed but script_security not enabled.${insecure}`, {
      hint: 'add enable_script_security (and script_user) to global_defs',
      exit: 6,
    });
  };
  /** A notify-style slot: kept when usable, cleared otherwise. */
  const slot = (o: Slot & { spans: Record<string, Span>; span: Span }, k: string, acc: { flags: number; first?: Span }, what: string): void => {
    const v = o[k];
    if (!v || v === true) return;
    const r = check(v, o.spans[k] ?? o.span, acc, what);
    o[k] = r.ref && notifyUsable(r.flags) ? r.ref : undefined;
  };
  const globalSlot = (k: 'notifyFifoScript' | 'vrrpNotifyFifoScript' | 'lvsNotifyFifoScript', acc: { flags: number; first?: Span }): void =>
    slot(g as unknown as Slot & { spans: Record<string, Span>; span: Span }, k, acc, k);

  // The checker process.
  if (cfg.virtualServers.length && parts.checker !== false) {
    const acc = { flags: 0 };
    for (const vs of cfg.virtualServers) {
      for (const rs of vs.realServers) {
        rs.checkers = kept(rs.checkers, (c) => {
          if (c.type !== 'MISC_CHECK' || !c.miscPath) return true;
          const at = c.spans.miscPath ?? c.span;
          const cmd = c.miscPath.argv.map((a, i) => (i === 0 && /^[<>]/.test(a) ? a : `'${a}'`)).join(' ');
          const r = check(c.miscPath, at, acc, 'MISC_CHECK', c.user);
          if (!r.ref) {
            if (!c.user && defaultUserReported) ctx.error(at, 'script-user', `Unable to set default user for misc script ${cmd} - removing`);
            return false;
          }
          const f = r.flags;
          if (f & SC_INHIBIT) ctx.warning(at, 'script-unsafe', `Disabling misc script ${cmd} due to insecure`);
          else if (f & SC_NOTFOUND) ctx.warning(at, 'host-script', `Disabling misc script ${cmd} since not found/accessible`);
          if (usable(f)) {
            c.miscPath = r.ref;
            return true;
          }
          // keepalived has already counted an alpha checker as failed when it removes the script,
          // so its real server stays out for good; kept without a script, the checker fails each
          // time and does the same. Without alpha the server is in, unchecked.
          if ((c.alpha ?? rs.alpha ?? vs.alpha) === true) {
            c.miscPath = undefined;
            return true;
          }
          return false;
        });
      }
    }
    for (const vs of cfg.virtualServers) {
      const v = vs as unknown as Slot & { spans: Record<string, Span>; span: Span };
      slot(v, 'quorumUp', acc, 'quorum_up');
      slot(v, 'quorumDown', acc, 'quorum_down');
      for (const rs of vs.realServers) {
        const r = rs as unknown as Slot & { spans: Record<string, Span>; span: Span };
        slot(r, 'notifyUp', acc, 'notify_up');
        slot(r, 'notifyDown', acc, 'notify_down');
      }
    }
    globalSlot('notifyFifoScript', acc);
    globalSlot('lvsNotifyFifoScript', acc);
    violation(acc, 'check scripts');
  }

  // The VRRP process: every vrrp_script, tracked or not, then the notify scripts.
  if (cfg.vrrpInstances.length && parts.vrrp !== false) {
    const acc = { flags: 0 };
    defaultUserReported ||= vrrpDefaultUserReported;
    cfg.vrrpScripts = cfg.vrrpScripts.filter((s) => {
      if (!s.script) return true;
      const at = s.spans.script ?? s.span;
      const r = check(s.script, at, acc, `vrrp_script ${s.name}`, s.user);
      if (!r.ref) {
        if (!s.user && defaultUserReported) ctx.error(at, 'script-user', `Unable to set default user for vrrp script ${s.name} - removing`);
        return false;
      }
      if (r.flags & SC_INHIBIT)
        ctx.error(
          at,
          'script-unsafe',
          `Disabling track script ${s.name} due to insecure`,
          'make the script and every directory above it root-owned and writable by root only',
        );
      else if (r.flags & SC_NOTFOUND)
        ctx.error(at, 'host-script', `Disabling track script ${s.name} since not found/accessible`, `install ${s.script.argv[0]} or fix the path`);
      if (!usable(r.flags)) return false;
      s.script = r.ref;
      return true;
    });
    const scripts = new Set(cfg.vrrpScripts.map((s) => s.name));
    for (const o of [...cfg.vrrpInstances, ...cfg.syncGroups]) {
      for (const k of NOTIFY_KEYS) slot(o as unknown as Slot & { spans: Record<string, Span>; span: Span }, k, acc, `${o.name} ${k}`);
      // keepalived drops the tracked references to removed scripts without a word.
      o.trackScript = kept(o.trackScript, (t) => scripts.has(t.name));
    }
    globalSlot('notifyFifoScript', acc);
    globalSlot('vrrpNotifyFifoScript', acc);
    violation(acc, 'scripts');
  }

  // The parent: startup_script and shutdown_script.
  if (g.startupScript || g.shutdownScript) {
    const acc = { flags: 0 };
    for (const k of ['startupScript', 'shutdownScript'] as const) {
      const v = g[k];
      if (!v) continue;
      const r = check(v, g.spans[k] ?? g.span, acc, k);
      g[k] = r.ref && usable(r.flags) ? r.ref : undefined;
    }
    violation(acc, 'start/shutdown scripts');
  }
}
