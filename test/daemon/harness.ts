// The built CLI as a -C daemon (checkers only: no namespaces, no VRRP, a config with nothing to
// check) in a private directory, for the tests of what a daemon owns on the host: its pid files,
// runtime directory, control socket and dumps.
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';

export const CLI = join(__dirname, '../../dist/keepalived-ts.mjs');
export const root = process.getuid?.() === 0;

/** Permission bits of `p` in octal, as `ls -l` shows them. */
export const mode = (p: string): string => (lstatSync(p).mode & 0o7777).toString(8);

export interface RunningDaemon {
  pid: number;
  output(): string;
  exited: Promise<number | null>;
  /** Wait up to 5 s for output matching `re`, and fail the test without it. */
  waitFor(re: RegExp): Promise<void>;
  signal(sig: NodeJS.Signals | number): void;
  /** SIGTERM; resolves to the exit code. */
  stop(): Promise<number | null>;
}

export function daemonDir(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Called at a test file's top level: the directory goes when the file's tests are done.
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'k.conf');
  writeFileSync(conf, 'global_defs {\n router_id own\n}\n');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const rt = join(dir, 'rt');
  /** The daemon's environment: its own runtime directory, and TMPDIR for the dumps. */
  const env = { ...process.env, KEEPALIVED_TS_RUNTIME_DIR: rt, TMPDIR: tmp } as NodeJS.ProcessEnv;
  delete env.KEEPALIVED_TS_CONTROL;
  const pidPath = (name: string): string => join(dir, `${name}.pid`);
  return {
    dir,
    conf,
    tmp,
    rt,
    env,
    pidPath,
    /** A file holding 'victim\n', for symlinks to point at. */
    victim(): string {
      const v = join(dir, `victim-${Math.random().toString(36).slice(2)}`);
      writeFileSync(v, 'victim\n');
      return v;
    },
    /** `keepalived-ts -n -l -G -C -f k.conf -p NAME.pid ARGS` under `umask` (-G: the host's
     * syslog gets nothing, and stderr holds only what the test is about). */
    daemon(name: string, args: string[] = [], opts: { umask?: string; env?: NodeJS.ProcessEnv; conf?: string } = {}): RunningDaemon {
      const argv = [CLI, '-n', '-l', '-G', '-C', '-f', opts.conf ?? conf, '-p', pidPath(name), ...args];
      // sh execs node: the pid is the daemon's.
      const d = spawn('/bin/sh', ['-c', `umask ${opts.umask ?? '022'}; exec "$@"`, 'sh', process.execPath, ...argv], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: opts.env ?? env,
      });
      let out = '';
      d.stdout.on('data', (c) => (out += c));
      d.stderr.on('data', (c) => (out += c));
      const exited = new Promise<number | null>((r) => d.on('exit', (code) => r(code)));
      return {
        pid: d.pid!,
        output: () => out,
        exited,
        async waitFor(re: RegExp): Promise<void> {
          for (let i = 0; i < 100 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
          expect(out).toMatch(re);
        },
        signal: (sig) => void d.kill(sig),
        stop: () => {
          d.kill('SIGTERM');
          return exited;
        },
      };
    },
    /** A daemon run to its end (one that refuses to start). */
    runOnce: (name: string, args: string[] = [], runEnv = env) =>
      spawnSync(process.execPath, [CLI, '-n', '-l', '-G', '-C', '-f', conf, '-p', pidPath(name), ...args], { encoding: 'utf8', env: runEnv, timeout: 10_000 }),
    /** `keepalived-ts ipvsadm -Ln` against the daemon with pid file NAME.pid. */
    ipvsadm: (name: string, runEnv = env) => spawnSync(process.execPath, [CLI, 'ipvsadm', '-Ln', `--pid=${pidPath(name)}`], { encoding: 'utf8', env: runEnv }),
  };
}
