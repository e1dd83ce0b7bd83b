// A private rsyslogd for the tests of what reaches syslog: its own socket, work directory and pid
// file in a directory the caller owns, no rate limit, and a template that prints what the tests
// check: `FACILITY.SEVERITY IDENT[PID]: MESSAGE`, one line each. The daemon under test is pointed
// at the socket with KEEPALIVED_TS_SYSLOG_SOCKET (a path socket: reachable from any network
// namespace). The package's own service is never used.
//
//   const rs = new PrivateRsyslog(dir);   // skip when !rsyslogCapability().ok
//   await rs.start();
//   env.KEEPALIVED_TS_SYSLOG_SOCKET = rs.sock;
//   await poll(() => rs.lines().find(...));
//   await rs.stop();                      // also removes the socket
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { poll, type Capability } from './netns.js';

/** rsyslogd is installed and runs. */
export function rsyslogCapability(): Capability {
  const r = spawnSync('rsyslogd', ['-v'], { encoding: 'utf8' });
  return !r.error && r.status === 0 ? { ok: true } : { ok: false, reason: 'rsyslogd is not installed (apt-get install rsyslog)' };
}

export class PrivateRsyslog {
  readonly sock: string;
  readonly out: string;
  private proc: ChildProcess | undefined;

  constructor(private readonly dir: string) {
    this.sock = join(dir, 'log.sock');
    this.out = join(dir, 'syslog.out');
  }

  /** Starts rsyslogd and waits for its socket. */
  async start(): Promise<void> {
    const conf = join(this.dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      [
        `global(workDirectory="${this.dir}")`,
        'module(load="imuxsock" SysSock.Use="off")',
        `input(type="imuxsock" Socket="${this.sock}" CreatePath="on" RateLimit.Interval="0")`,
        'template(name="kt" type="string" string="%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\\n")',
        `*.* action(type="omfile" file="${this.out}" template="kt")`,
        '',
      ].join('\n'),
    );
    this.proc = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(this.dir, 'rsyslog.pid')], { stdio: 'ignore' });
    await poll(() => existsSync(this.sock) || undefined, { timeoutMs: 10_000, what: 'rsyslogd to create its socket' });
  }

  /** The lines written so far. */
  lines(): string[] {
    return existsSync(this.out) ? readFileSync(this.out, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** SIGTERM, waits for the exit, and removes the socket (rsyslogd may leave it). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
    rmSync(this.sock, { force: true });
  }
}
