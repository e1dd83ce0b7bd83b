// keepalived's notify FIFOs (global_defs notify_fifo, vrrp_notify_fifo, lvs_notify_fifo), as
// keepalived 2.2.7 opens and writes them:
// - which: VRRP lines (vrrp_notify.c notify_fifo) go to notify_fifo and vrrp_notify_fifo, checker
//   lines (check/ipwrapper.c notify_fifo_vs/_rs) to notify_fifo and lvs_notify_fifo. A vrrp or
//   lvs FIFO named as the global one is ignored, with keepalived's log line; when the vrrp and lvs
//   FIFOs are one file with a script each, the lvs script is ignored (core/global_data.c).
// - open (lib/notify.c fifo_open): mkfifo with mode 0644 under the umask (keepalived's default 0177),
//   so 0600, chowned to the FIFO's USER [GROUP] (default: the script user); an existing path is
//   used as it is; open(O_RDWR | O_NONBLOCK | O_NOFOLLOW): a symlink planted at the path is
//   refused ("Unable to open ... - errno 40"), and as we hold the read side too, no write ever
//   waits for a reader. Then the FIFO's script runs with the FIFO name as its last argument and
//   no timeout. Safer than keepalived: a path that is not a FIFO (a regular file, a hard link to
//   one) is refused before anything is written to it, the chown is an fchown of what we opened,
//   and the script only runs once the FIFO is open.
// - write: one line per event; a full FIFO (nobody reads) drops the line, as keepalived ignores
//   write()'s EAGAIN, here counted and logged once per run of drops.
// - close (fifo_close, at stop and at each reload): the FIFO we created is unlinked first, so a
//   script that reopens it cannot, then closed; the reader sees end of file. We unlink only the
//   FIFO we made (same device and inode), never what replaced it.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, fchownSync, fstatSync, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { ScriptRef } from '../config/values.js';
import type { GlobalDefs } from '../config/model/global.js';
import { underUmask } from './umask.js';

/** keepalived's type prefix in its FIFO messages: notify_fifo, vrrp_notify_fifo, lvs_notify_fifo. */
export type FifoType = '' | 'vrrp_' | 'lvs_';

export interface FifoPlan {
  name: string;
  /** The keywords that named it (one file may be the vrrp and the lvs FIFO). */
  types: FifoType[];
  /** `notify_fifo NAME [USER [GROUP]]`: USER and GROUP. */
  user?: string;
  group?: string;
  script?: ScriptRef;
  /** Which part's "notify fifo script terminated" keepalived logs when the script ends. */
  scriptOwner?: 'vrrp' | 'lvs';
  /** Lines of these parts go to it. */
  vrrp: boolean;
  lvs: boolean;
}

/**
 * The FIFOs to open for the running parts (VRRP, checkers), with keepalived's rules on FIFOs
 * that share a name. `log` gets keepalived's messages about the ones it ignores.
 */
export function planFifos(g: GlobalDefs, parts: { vrrp: boolean; lvs: boolean }, log: (msg: string) => void): FifoPlan[] {
  const out: FifoPlan[] = [];
  const entry = (words: string[] | undefined, type: FifoType, script: ScriptRef | undefined, vrrp: boolean, lvs: boolean): void => {
    if (!words?.[0]) return;
    out.push({ name: words[0], types: [type], user: words[1], group: words[2], script, vrrp, lvs });
  };
  const global = g.notifyFifo?.[0];
  if (global && (parts.vrrp || parts.lvs)) {
    entry(g.notifyFifo, '', g.notifyFifoScript, true, true);
    // keepalived runs the global script in the checker process when there is one (vrrp.c).
    if (out[0].script) out[0].scriptOwner = parts.lvs ? 'lvs' : 'vrrp';
  }
  /** A part's FIFO, unless it runs not or its FIFO is the global one (then ignored, with its script). */
  const own = (run: boolean, words: string[] | undefined, script: ScriptRef | undefined, what: string): [string[] | undefined, ScriptRef | undefined] => {
    if (!run || !words?.[0]) return [undefined, undefined];
    if (words[0] !== global) return [words, script];
    log(`notify FIFO ${words[0]} has been specified for global and ${what} FIFO - ignoring ${what} FIFO`);
    return [undefined, undefined];
  };
  const [vrrp, vrrpScript] = own(parts.vrrp, g.vrrpNotifyFifo, g.vrrpNotifyFifoScript, 'vrrp');
  const [lvs, lvsScript] = own(parts.lvs, g.lvsNotifyFifo, g.lvsNotifyFifoScript, 'LVS');
  entry(vrrp, 'vrrp_', vrrpScript, true, false);
  if (lvs?.[0] && lvs[0] === vrrp?.[0]) {
    // One file for both: keepalived opens it in each process; here it is opened once.
    const shared = out[out.length - 1];
    if (lvsScript && shared.script) log('LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script');
    else if (lvsScript) shared.script = lvsScript;
    shared.types.push('lvs_');
    shared.lvs = true;
  } else entry(lvs, 'lvs_', lvsScript, false, true);
  for (const p of out) if (p.script && !p.scriptOwner) p.scriptOwner = p.types[0] === 'lvs_' ? 'lvs' : 'vrrp';
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lines

/** keepalived's FMT_VS/FMT_RS service address: `[192.168.201.15]:tcp:80`. */
export const trio = (address: string, protocol: string | undefined, port: number | undefined): string =>
  `[${address}]:${protocol ? protocol.toLowerCase() : 'none'}:${port ?? 0}`;

/** `VS [192.168.201.15]:tcp:80 UP` (ipwrapper.c notify_fifo_vs). */
export const vsLine = (vs: string, up: boolean): string => `VS ${vs} ${up ? 'UP' : 'DOWN'}`;

/** `RS [1.2.3.4]:tcp:80 [192.168.201.15]:tcp:80 DOWN` (ipwrapper.c notify_fifo_rs). */
export const rsLine = (rs: string, vs: string, up: boolean): string => `RS ${rs} ${vs} ${up ? 'UP' : 'DOWN'}`;

// ---------------------------------------------------------------------------------------------
// One FIFO

export interface FifoLog {
  (level: 'info' | 'warn', message: string): void;
}

const errnoNumber = (code: string | undefined): number | string => (code && (osConstants.errno as Record<string, number>)[code]) || (code ?? '?');

/** An open FIFO: lines written without ever waiting, drops counted. */
export class NotifyFifo {
  written = 0;
  dropped = 0;
  private dropping = 0;
  private fd: number | undefined;

  constructor(
    readonly name: string,
    fd: number,
    /** Device and inode of the FIFO we created, to unlink at close; undefined for one that was there. */
    private readonly created: { dev: number; ino: number } | undefined,
    private readonly log: FifoLog,
  ) {
    this.fd = fd;
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Writes one line (a newline is added); false when it was dropped. Never blocks or throws. */
  write(line: string): boolean {
    if (this.fd === undefined) return false;
    const buf = Buffer.from(`${line}\n`);
    try {
      // Lines are shorter than PIPE_BUF: each goes in whole or not at all.
      writeSync(this.fd, buf);
      this.written++;
      if (this.dropping) this.log('info', `notify fifo ${this.name}: written again after ${this.dropping} line(s) dropped`);
      this.dropping = 0;
      return true;
    } catch (e) {
      this.dropped++;
      if (!this.dropping++) {
        const code = (e as NodeJS.ErrnoException).code;
        this.log('warn', `notify fifo ${this.name}: ${code === 'EAGAIN' ? 'full (is anything reading it?)' : code}: dropping lines`);
      }
      return false;
    }
  }

  /** keepalived's fifo_close: unlink what we created, then close. Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    if (this.created) {
      try {
        const st = lstatSync(this.name);
        if (st.dev === this.created.dev && st.ino === this.created.ino) unlinkSync(this.name);
      } catch {
        // gone already
      }
    }
    try {
      closeSync(this.fd);
    } catch {
      // closed is closed
    }
    this.fd = undefined;
  }
}

export interface OpenFifoOptions {
  /** keepalived's type prefix for its messages. */
  type: FifoType;
  /** Owner for a FIFO we create (keepalived: the FIFO's user, else the default script user). */
  owner?: { uid: number; gid: number };
  log: FifoLog;
}

/** mkfifo(2) is not in Node: mkfifo(1), which makes the FIFO with exactly the mode asked, here
 * keepalived's mkfifo(0644) under the umask in force (0600 under its default 0177). */
function mkfifo(name: string): { ok: true } | { ok: false; exists: boolean } {
  const r = spawnSync('mkfifo', ['-m', underUmask(0o644).toString(8), '--', name], { stdio: 'ignore', timeout: 5000 });
  if (r.status === 0) return { ok: true };
  try {
    lstatSync(name);
    return { ok: false, exists: true };
  } catch {
    return { ok: false, exists: false };
  }
}

/** keepalived's fifo_open, without the script: the FIFO open for writing, or undefined (logged). */
export function openFifo(name: string, opts: OpenFifoOptions): NotifyFifo | undefined {
  const { type, log } = opts;
  let exists: boolean;
  try {
    lstatSync(name);
    exists = true;
  } catch {
    exists = false;
  }
  let made = false;
  if (!exists) {
    const r = mkfifo(name);
    if (!r.ok && !r.exists) {
      log('info', `Unable to create ${type}notify fifo ${name}`);
      return undefined;
    }
    made = r.ok;
  }
  let fd: number;
  try {
    fd = openSync(name, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    log('info', `Unable to open ${type}notify fifo ${name} - errno ${errnoNumber((e as NodeJS.ErrnoException).code)}`);
    if (made) unlinkSync(name);
    return undefined;
  }
  const st = fstatSync(fd);
  if (!st.isFIFO()) {
    // keepalived would write to whatever is there; we write only to a FIFO.
    closeSync(fd);
    log('info', `Unable to open ${type}notify fifo ${name} - not a FIFO`);
    return undefined;
  }
  const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  if (made && opts.owner && (opts.owner.uid !== me.uid || opts.owner.gid !== me.gid)) {
    try {
      fchownSync(fd, opts.owner.uid, opts.owner.gid);
    } catch {
      log('info', `Failed to set uid:gid for fifo ${name}`);
    }
  }
  return new NotifyFifo(name, fd, made ? { dev: st.dev, ino: st.ino } : undefined, log);
}

// ---------------------------------------------------------------------------------------------
// The FIFOs of one configuration

export interface FifosEnv {
  log: FifoLog;
  /** uid/gid of a FIFO's USER [GROUP], or of the default script user without them. */
  owner(user?: string, group?: string): { uid: number; gid: number } | { error: string };
  /** Starts a FIFO script (argv with the FIFO name appended, no timeout) that `stop` kills;
   * resolves when it ends. */
  runScript(script: ScriptRef, argv: string[], stop: AbortSignal): Promise<unknown>;
}

/** notify_fifo, vrrp_notify_fifo and lvs_notify_fifo of the running configuration. */
export class NotifyFifos {
  private constructor(
    private readonly open: { fifo: NotifyFifo; plan: FifoPlan }[],
    private readonly scripts: AbortController,
  ) {}

  /** Opens the FIFOs and starts their scripts, as keepalived at start and after each reload. */
  static start(g: GlobalDefs, parts: { vrrp: boolean; lvs: boolean }, env: FifosEnv): NotifyFifos {
    const open: { fifo: NotifyFifo; plan: FifoPlan }[] = [];
    const scripts = new AbortController();
    for (const plan of planFifos(g, parts, (m) => env.log('info', m))) {
      const type = plan.types[0];
      const owner = env.owner(plan.user, plan.group);
      if ('error' in owner) {
        env.log(
          'info',
          plan.user ? `Invalid user/group for ${type} fifo ${plan.name} - ignoring` : `Failed to set default user for ${type} fifo ${plan.name} - ignoring`,
        );
        continue;
      }
      const fifo = openFifo(plan.name, { type, owner, log: env.log });
      if (!fifo) continue;
      open.push({ fifo, plan });
      if (plan.script) {
        const who = plan.scriptOwner;
        void env.runScript(plan.script, [...plan.script.argv, plan.name], scripts.signal).then(() => env.log('info', `${who} notify fifo script terminated`));
      }
    }
    return new NotifyFifos(open, scripts);
  }

  /** An instance or sync group line (notify.ts fifoLine). */
  vrrp(line: string): void {
    for (const o of this.open) if (o.plan.vrrp) o.fifo.write(line);
  }

  /** A VS or RS line. */
  lvs(line: string): void {
    for (const o of this.open) if (o.plan.lvs) o.fifo.write(line);
  }

  /** Written and dropped lines, by FIFO. */
  stats(): { name: string; written: number; dropped: number }[] {
    return this.open.map(({ fifo }) => ({ name: fifo.name, written: fifo.written, dropped: fifo.dropped }));
  }

  /** Closes the FIFOs (their readers see end of file); their scripts are killed `scriptsAfterMs`
   * later if still running, so scripts that outlive their FIFO cannot pile up over reloads
   * (keepalived leaves them be until it exits). */
  close(scriptsAfterMs = 0): void {
    for (const o of this.open) o.fifo.close();
    if (!scriptsAfterMs) this.scripts.abort();
    else setTimeout(() => this.scripts.abort(), scriptsAfterMs).unref();
  }
}
