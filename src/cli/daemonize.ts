// keepalived forks unless -n: it reads the config and checks no other instance runs, then the
// parent exits 0 and the daemon goes on in its own session with /dev/null for stdio (xdaemon()).
// Here the daemon is a copy of this process started with --dont-fork in a new session; the parent
// relays its stderr until the copy says it is up (or has ended), so what keepalived's parent would
// have refused before forking (a bad config, a pid file in use, a missing interface) still reaches
// the terminal with its exit status. The copy keeps the working directory, so relative -f and -p
// paths mean what they mean with -n (keepalived moves to / and they break).
import { spawn } from 'node:child_process';
import { READY_FD_ENV } from '../daemon/ready-fd.js';
/** How long the parent waits for the copy's word before leaving it to run on. */
const READY_WAIT_MS = 60_000;

export function daemonize(argv: readonly string[], script: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...argv, '--dont-fork'], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, [READY_FD_ENV]: '3' },
    });
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      clearTimeout(wait);
      child.stderr?.destroy();
      child.stdio[3]?.destroy();
      child.unref();
      resolve(code);
    };
    const wait = setTimeout(() => {
      process.stderr.write(`keepalived-ts: the daemon (pid ${child.pid}) has not said it is up after ${READY_WAIT_MS / 1000} s; leaving it to run\n`);
      finish(0);
    }, READY_WAIT_MS);
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
    child.stdio[3]?.on('data', (d: Buffer) => {
      if (d.includes('ready')) finish(0);
    });
    child.on('error', (e) => {
      process.stderr.write(`keepalived-ts: cannot start the daemon: ${e.message}\n`);
      finish(1);
    });
    child.on('exit', (code, signal) => finish(code ?? (signal ? 1 : 0)));
  });
}
