// The daemon's private runtime directory, home of its control socket: /run/keepalived-ts for
// root, $XDG_RUNTIME_DIR/keepalived-ts or $TMPDIR/keepalived-ts-UID for anyone else,
// KEEPALIVED_TS_RUNTIME_DIR to choose another. It is created mode 0700; one that exists is used
// only if it is a real directory (not a symlink), owned by us, and nobody else may write to it
// (0755, systemd's default RuntimeDirectoryMode, will do: the socket itself is 0600).
//
// The control socket is named after the daemon's pid file (-p), so daemons with their own pid
// files have their own sockets: `/run/keepalived.pid` (the default) gives `keepalived.ctl`,
// `-p /run/lb2.pid` gives `lb2.ctl`. A pid file outside /run adds 8 hex digits of a hash of its
// path (`-p /tmp/lab1/lb.pid`: `lb-49c7f6b9.ctl`), as several directories may hold a `lb.pid`.
// KEEPALIVED_TS_CONTROL names the socket outright.
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

type Env = Record<string, string | undefined>;

const myUid = (): number => process.getuid?.() ?? 0;

export function runtimeDir(env: Env = process.env, uid = myUid()): string {
  if (env.KEEPALIVED_TS_RUNTIME_DIR) return env.KEEPALIVED_TS_RUNTIME_DIR;
  if (uid === 0) return '/run/keepalived-ts';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'keepalived-ts');
  return join(tmpdir(), `keepalived-ts-${uid}`);
}

/** The control socket of the daemon that runs with this pid file (-p), without one: keepalived.ctl. */
export function controlPath(pidFile?: string, env: Env = process.env): string {
  if (env.KEEPALIVED_TS_CONTROL) return env.KEEPALIVED_TS_CONTROL;
  const file = resolve(pidFile ?? '/run/keepalived.pid');
  let name = basename(file).replace(/\.pid$/, '') || 'keepalived';
  if (!['/run', '/var/run'].includes(dirname(file))) name += `-${createHash('sha256').update(file).digest('hex').slice(0, 8)}`;
  return join(runtimeDir(env), `${name}.ctl`);
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;

/** Why `st` (of `path`) is no private directory of `uid`, or undefined when it is one. */
function notPrivate(path: string, st: Stats, uid: number): string | undefined {
  if (st.isSymbolicLink()) return `runtime directory ${path} is a symbolic link; remove it or set KEEPALIVED_TS_RUNTIME_DIR`;
  if (!st.isDirectory()) return `runtime directory ${path} exists and is not a directory; remove it or set KEEPALIVED_TS_RUNTIME_DIR`;
  if (st.uid !== uid) return `runtime directory ${path} is owned by uid ${st.uid}, not by us (uid ${uid}); remove it or set KEEPALIVED_TS_RUNTIME_DIR`;
  if (st.mode & 0o022) return `runtime directory ${path} is writable by others (mode ${octal(st.mode)}); chmod 0700 it`;
  return undefined;
}

/** Create the runtime directory (mode 0700) or check the one there. Returns why it cannot be
 * used, or undefined. */
export function preparePrivateDir(path: string, uid = myUid()): string | undefined {
  try {
    mkdirSync(path, { mode: 0o700 });
    chmodSync(path, 0o700);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') return `cannot create runtime directory ${path}: ${(e as Error).message}`;
  }
  try {
    return notPrivate(path, lstatSync(path), uid);
  } catch (e) {
    return `runtime directory ${path}: ${(e as Error).message}`;
  }
}

/** Why a client should not talk to the socket at `path`, or undefined when it may: the socket
 * must be owned by root or by the caller, and sit in a directory nobody else can swap it in. */
export function untrustedSocket(path: string, uid = myUid()): string | undefined {
  const ok = (id: number): boolean => id === 0 || id === uid;
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return undefined; // nothing there: connecting says so
  }
  if (st.isSymbolicLink()) return `${path} is a symbolic link`;
  if (!st.isSocket()) return `${path} is not a socket`;
  if (!ok(st.uid)) return `${path} is owned by uid ${st.uid}, neither root nor you`;
  const dir = lstatSync(dirname(path));
  if (!ok(dir.uid)) return `${dirname(path)} is owned by uid ${dir.uid}, neither root nor you`;
  if (dir.mode & 0o022 && !(dir.mode & 0o1000)) return `${dirname(path)} is writable by others (mode ${octal(dir.mode)})`;
  return undefined;
}
