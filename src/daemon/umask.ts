// The process umask as keepalived keeps it (lib/utils.c umask_val): 0177 from the start, else -u
// from the command line, else global_defs umask at each config read (keepalived's umask_handler
// runs whenever the config is read). Scripts inherit it; the files keepalived leaves to the umask
// (the dumps, the notify FIFOs) take their mode from it here.

/** keepalived's umask_val before any option: S_IXUSR | S_IRWXG | S_IRWXO. */
export const DEFAULT_UMASK = 0o177;

let current = DEFAULT_UMASK;
let fromCommandLine = false;

/** -u: set now, and global_defs umask is ignored from then on. */
export function setCommandLineUmask(bits: number): void {
  fromCommandLine = true;
  current = bits;
  process.umask(bits);
}

/** At start and at each reload: the config's umask unless -u gave one; none given keeps the one
 * in force (keepalived does not reset umask_val when the keyword goes away). */
export function applyConfigUmask(bits: number | undefined, log: { info(msg: string): void }): void {
  if (bits !== undefined && fromCommandLine) log.info('umask command line option specified, ignoring config option');
  else if (bits !== undefined) current = bits;
  process.umask(current);
}

/** `mode` as open(2) or mkfifo(3) would create it under the umask in force. */
export const underUmask = (mode: number): number => mode & ~current;
