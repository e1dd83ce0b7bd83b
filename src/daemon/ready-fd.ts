// The word a forked daemon sends its starter (src/cli/daemonize.ts) once it is up: one line on an
// inherited pipe, named by an environment variable that is removed at once, so no script the
// daemon runs sees it; the fd is closed after the word, or with the process.
import { closeSync, writeSync } from 'node:fs';

export const READY_FD_ENV = 'KEEPALIVED_TS_READY_FD';

/** Takes the fd out of `env`; the returned function says "ready" once (later calls do nothing). */
export function readyFd(env: NodeJS.ProcessEnv): () => void {
  const raw = env[READY_FD_ENV];
  delete env[READY_FD_ENV];
  const fd = raw !== undefined && /^\d{1,4}$/.test(raw) ? Number(raw) : undefined;
  if (fd === undefined || fd < 3) return () => undefined;
  let open = true;
  return () => {
    if (!open) return;
    open = false;
    try {
      writeSync(fd, 'ready\n');
    } catch {
      // the starter has gone: nobody to tell
    }
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  };
}
