// What a daemon claims before it touches the network: its pid files. A second daemon on the same
// pid file stops here ("daemon is already running", exit 0, as keepalived); one that cannot write
// its pid file stops with a one-line reason (exit 1, keepalived's fatal code).
import { claimPidFile, releasePidFile } from './pidfile.js';

interface Log {
  info(msg: string): void;
  warn(msg: string): void;
  fatal(msg: string): void;
}

export interface Owned {
  /** Remove the pid files that still hold our pid. */
  release(): void;
}

/** Claim `pidFiles`, or return the exit code. */
export async function claimRuntime(pidFiles: string[], log: Log): Promise<Owned | number> {
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
  return { release };
}
