// Without -n the daemon forks, as keepalived does: the command returns once the daemon is up, the
// daemon runs on in its own session with /dev/null for stdin and stdout, and what would have kept
// it from starting still reaches the terminal with keepalived's exit status.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pidExists, poll } from '../helpers/netns.js';

const CLI = join(import.meta.dirname, '../../dist/keepalived-ts.mjs');
const dir = mkdtempSync(join(tmpdir(), 'kt-fork-'));
const started: number[] = [];
afterAll(() => {
  for (const pid of started) if (pidExists(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
const conf = join(dir, 'ok.conf');
writeFileSync(conf, 'global_defs {\n router_id lb1\n}\n');
// -C: no VRRP, so no interface is needed; -G: nothing to syslog.
const run = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, '-C', '-G', ...args], { encoding: 'utf8', timeout: 90_000, env: { ...process.env, TMPDIR: dir } });

describe('forking by default (no -n)', () => {
  it('returns 0 once the daemon is up; the daemon runs on in its own session, stdio on /dev/null', async () => {
    const pidFile = join(dir, 'a.pid');
    const seenFile = join(dir, 'seen');
    const script = join(dir, 'check.sh');
    writeFileSync(script, `#!/bin/sh\necho "[$KEEPALIVED_TS_READY_FD]" > ${seenFile}\n`, { mode: 0o755 });
    const vsConf = join(dir, 'vs.conf');
    writeFileSync(
      vsConf,
      `global_defs {\n router_id lb1\n}\nvirtual_server 127.0.0.1 18441 {\n delay_loop 1\n protocol TCP\n real_server 127.0.0.1 18442 {\n  MISC_CHECK {\n   misc_path ${script}\n  }\n }\n}\n`,
    );
    const r = run('-p', pidFile, '-f', vsConf);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    started.push(pid);
    expect(pidExists(pid)).toBe(true);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [, , , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // setsid(): the daemon leads a session of its own, apart from the shell that started it.
    expect(Number(session)).toBe(pid);
    expect(readlinkSync(`/proc/${pid}/fd/0`)).toBe('/dev/null');
    expect(readlinkSync(`/proc/${pid}/fd/1`)).toBe('/dev/null');
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain('--dont-fork');
    // The word to the starter is not passed on to the scripts the daemon runs (a MISC_CHECK here).
    // The shell creates the file before it writes the line: wait for the whole line.
    const line = (): string | false => existsSync(seenFile) && readFileSync(seenFile, 'utf8').endsWith('\n') && readFileSync(seenFile, 'utf8');
    const seen = await poll(line, { timeoutMs: 30_000, what: 'the MISC_CHECK to run' });
    expect(seen).toBe('[]\n');
    process.kill(pid, 'SIGTERM');
    await poll(() => !pidExists(pid) && !existsSync(pidFile), { timeoutMs: 20_000, what: 'the forked daemon to stop' });
  }, 120_000);

  it('a config it cannot read is exit 6 with the line on stderr, before anything runs in the background', () => {
    const missing = join(dir, 'missing.conf');
    const pidFile = join(dir, 'b.pid');
    const r = run('-p', pidFile, '-f', missing);
    expect(r.status).toBe(6);
    expect(r.stderr).toContain(`Config files missing '${missing}'`);
    expect(existsSync(pidFile)).toBe(false);
    mkdirSync(join(dir, 'a-dir'));
    const d = run('-p', pidFile, '-f', join(dir, 'a-dir'));
    expect(d.status).toBe(6);
    expect(d.stderr).toContain('is a directory - skipping');
  }, 120_000);

  it('-n stays in the foreground: the command is the daemon', async () => {
    const pidFile = join(dir, 'c.pid');
    const r = spawnSync(process.execPath, [CLI, '-n', '-C', '-G', '-p', pidFile, '-f', join(dir, 'missing.conf')], { encoding: 'utf8', timeout: 90_000 });
    // The same refusal as forked, from the one process.
    expect(r.status).toBe(6);
    expect(r.stderr).toContain('Config files missing');
  }, 120_000);
});
