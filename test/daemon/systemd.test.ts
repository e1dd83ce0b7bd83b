// systemd's Type=notify protocol, as systemd would see it: a real AF_UNIX datagram socket at
// NOTIFY_SOCKET, the real daemon started, reloaded and stopped by signals.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { phaseMessage, watchdogUsec } from '../../src/daemon/systemd.js';

const CLI = join(__dirname, '../../dist/keepalived-ts.mjs');
const dir = mkdtempSync(join(tmpdir(), 'kt-systemd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Listener {
  on(event: 'message', cb: (buf: Buffer) => void): void;
  bind(path: string): void;
  close(): void;
}
const unixDgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): Listener };

const until = async (what: string, ok: () => boolean, ms = 30_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('systemd notifications', () => {
  it('maps lifecycle phases to sd_notify messages', () => {
    expect(phaseMessage('starting', 'running', 5n)).toBe('READY=1');
    expect(phaseMessage('running', 'reloading', 1234n)).toBe('RELOADING=1\nMONOTONIC_USEC=1234');
    expect(phaseMessage('reloading', 'running', 5n, 'two\nlines')).toBe('READY=1\nSTATUS=two lines');
    expect(phaseMessage('running', 'stopping', 5n)).toBe('STOPPING=1');
    expect(phaseMessage('stopping', 'stopped', 5n)).toBeUndefined();
    expect(phaseMessage('starting', 'stopped', 5n)).toBeUndefined();
  });

  it('enables the watchdog as sd_watchdog_enabled does', () => {
    expect(watchdogUsec({ WATCHDOG_USEC: '2000000' }, 7)).toBe(2_000_000);
    expect(watchdogUsec({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '7' }, 7)).toBe(2_000_000);
    expect(watchdogUsec({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '8' }, 7)).toBeUndefined();
    expect(watchdogUsec({ WATCHDOG_USEC: 'x' }, 7)).toBeUndefined();
    expect(watchdogUsec({}, 7)).toBeUndefined();
  });

  it('sends READY=1, RELOADING=1 and READY=1 around a SIGHUP, STOPPING=1, and watchdog pings', async () => {
    const sockPath = join(dir, 'notify');
    const got: { at: number; msg: string }[] = [];
    const listener = unixDgram.createSocket('unix_dgram');
    listener.on('message', (buf) => got.push({ at: Date.now(), msg: buf.toString() }));
    listener.bind(sockPath);
    const conf = join(dir, 'k.conf');
    // A notify script would inherit NOTIFY_SOCKET unless the daemon removed it: the checker's
    // MISC_CHECK writes what it sees.
    const seen = join(dir, 'seen');
    const script = join(dir, 'check.sh');
    writeFileSync(script, `#!/bin/sh\necho "[$NOTIFY_SOCKET]" > ${seen}\n`, { mode: 0o755 });
    writeFileSync(
      conf,
      `global_defs {\n router_id lb1\n}\nvirtual_server 127.0.0.1 18431 {\n delay_loop 1\n protocol TCP\n real_server 127.0.0.1 18432 {\n  MISC_CHECK {\n   misc_path ${script}\n  }\n }\n}\n`,
    );
    const child = spawn(process.execPath, [CLI, '-n', '-C', '-l', '-p', join(dir, 'k.pid'), '-f', conf], {
      env: { ...process.env, TMPDIR: dir, NOTIFY_SOCKET: sockPath, WATCHDOG_USEC: '200000' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const messages = (): string[] => got.map((g) => g.msg).filter((m) => m !== 'WATCHDOG=1');
    try {
      await until('READY=1', () => messages().includes('READY=1'));
      expect(out).toContain('Starting keepalived-ts');
      child.kill('SIGHUP');
      await until('the reload', () => messages().length >= 3);
      const pings = got.filter((g) => g.msg === 'WATCHDOG=1').length;
      await new Promise((r) => setTimeout(r, 1000));
      // 100 ms apart: at least a few more in a second, even on a loaded machine.
      expect(got.filter((g) => g.msg === 'WATCHDOG=1').length - pings).toBeGreaterThanOrEqual(4);
      await until('the MISC_CHECK', () => {
        try {
          return readFileSync(seen, 'utf8').length > 0;
        } catch {
          return false;
        }
      });
      expect(readFileSync(seen, 'utf8')).toBe('[]\n');
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      const m = messages();
      expect(m[0]).toBe('READY=1');
      expect(m[1]).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+$/);
      expect(m.slice(2)).toEqual(['READY=1', 'STOPPING=1']);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      listener.close();
    }
  });
});
