// What a daemon claims before it touches the network: its pid files and its control socket. A
// second daemon on the same pid file stops here ("daemon is already running", exit 0, as
// keepalived); one whose runtime directory cannot be trusted, or whose control socket another
// daemon answers on, stops with a one-line reason (exit 1, keepalived's fatal code).
import { lstatSync, type Stats } from 'node:fs';
import { controlInUse, sweepStaleControls } from './control.js';
import { claimPidFile, releasePidFile } from './pidfile.js';
import { controlPath, preparePrivateDir, runtimeDir } from './runtime.js';

interface Log {
  info(msg: string): void;
  warn(msg: string): void;
  fatal(msg: string): void;
}

export interface Owned {
  /** The control socket path to listen on. */
  control: string;
  /** Remove the pid files that still hold our pid. */
  release(): void;
}

/** Claim `pidFiles`, and the control socket of the daemon with pid file `mainPidFile` (-p), or
 * return the exit code. */
export async function claimRuntime(pidFiles: string[], mainPidFile: string | undefined, log: Log): Promise<Owned | number> {
  const claimed: string[] = [];
  const release = (): void => {
    for (const f of claimed) releasePidFile(f, process.pid);
  };
  for (const f of pidFiles) {
    try {
      const c = claimPidFile(f, process.pid, log);
      if (!c.ok) {
        log.info(`daemon is already running (pid ${c.pid} holds ${f})`);
        release();
        return 0;
      }
      claimed.push(f);
    } catch (e) {
      log.fatal(`Cannot write pid file ${f}: ${(e as Error).message}`);
      release();
      return 1;
    }
  }
  const control = controlPath(mainPidFile);
  const problem = process.env.KEEPALIVED_TS_CONTROL ? undefined : preparePrivateDir(runtimeDir());
  if (problem) {
    log.fatal(`${problem}; not starting`);
    release();
    return 1;
  }
  if (!process.env.KEEPALIVED_TS_CONTROL) await sweepStaleControls(runtimeDir());
  let there: Stats | undefined;
  try {
    there = lstatSync(control, { throwIfNoEntry: false });
  } catch (e) {
    log.fatal(`control socket path ${control}: ${(e as Error).message}; not starting`);
    release();
    return 1;
  }
  if (there && !there.isSocket() && !there.isSymbolicLink()) {
    log.fatal(`control socket path ${control} holds something else than a socket; not starting`);
    release();
    return 1;
  }
  if (await controlInUse(control)) {
    log.fatal(`control socket ${control} is in use by another daemon; give this one its own pid file (-p) or KEEPALIVED_TS_CONTROL; not starting`);
    release();
    return 1;
  }
  return { control, release };
}
