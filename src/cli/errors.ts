// How the CLI tells a user what went wrong: one line, `keepalived-ts[ CMD]: WHAT: WHERE (WHAT TO
// DO)`, with whatever the user typed made printable. Config and scenario findings have their own
// one-line form (FILE:LINE:COL: error: ... [rule]). Anything else reaching the top is a bug in
// keepalived-ts, and says so: one line, and the stack only when KEEPALIVED_TS_DEBUG is set.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoText } from '../core/files.js';
import { printable } from '../core/text.js';

/** Exit status for an internal error (sysexits' EX_SOFTWARE): never one a user error gives. */
export const EXIT_INTERNAL = 70;

/** The one line of a user error, newline included. `cmd` is the sub-command ('' for the daemon's). */
export function userError(cmd: string, what: string, where: string, todo?: string): string {
  const prog = cmd ? `keepalived-ts ${cmd}` : 'keepalived-ts';
  return `${prog}: ${printable(what)}: ${printable(where)}${todo ? ` (${printable(todo)})` : ''}\n`;
}

/** What to do about a file that cannot be written, by errno code. */
function writeAdvice(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'create the directory first, or give another path';
    case 'EISDIR':
      return 'give a file name, not a directory';
    case 'ENOTDIR':
      return 'a part of the path is a file; give another path';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'give a path you may write to';
    default:
      return 'give another path';
  }
}

/** Why `path` cannot be written, as a user error line for `cmd`, or undefined when it looks writable.
 * Checked before long work (a lab run) so that it does not end in a failed write. */
export function unwritable(cmd: string, what: string, path: string): string | undefined {
  const code = writeCheck(path);
  return code && writeFailure(cmd, what, path, code);
}

/** The errno code writing `path` would fail with, as far as stat and access can tell. */
function writeCheck(path: string): string | undefined {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory()) return 'EISDIR';
    const dir = statSync(dirname(path), { throwIfNoEntry: false });
    if (!dir) return 'ENOENT';
    if (!dir.isDirectory()) return 'ENOTDIR';
    accessSync(st ? path : dirname(path), constants.W_OK);
    return undefined;
  } catch (e) {
    return errnoOf(e);
  }
}

/** The user error line for a failed write of `path`. */
export function writeFailure(cmd: string, what: string, path: string, code: string): string {
  return userError(cmd, `cannot write ${what}`, `${path}: ${errnoText(code)}`, writeAdvice(code));
}

export const errnoOf = (e: unknown): string => (e as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';

/**
 * The last resort: an error nobody classified is a bug. One line with the message and where it
 * was thrown; the stack with KEEPALIVED_TS_DEBUG=1. Returns the exit status.
 */
export function reportInternalError(e: unknown, env: Record<string, string | undefined>, write: (s: string) => void): number {
  const err = e instanceof Error ? e : new Error(String(e));
  const debug = !!env.KEEPALIVED_TS_DEBUG && env.KEEPALIVED_TS_DEBUG !== '0';
  const frame = /\n\s+at (?:.* \()?([^()\n]+?)\)?$/m.exec(err.stack ?? '')?.[1];
  const where = frame ? ` (at ${frame})` : '';
  write(
    `keepalived-ts: internal error: ${printable(`${err.name}: ${err.message}`)}${where}: this is a bug in keepalived-ts, please report it${debug ? '' : '; KEEPALIVED_TS_DEBUG=1 shows the stack'}\n`,
  );
  if (debug && err.stack) write(`${err.stack}\n`);
  return EXIT_INTERNAL;
}
