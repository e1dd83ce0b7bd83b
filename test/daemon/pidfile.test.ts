// keepalived's pid files, one daemon per file: a second daemon refuses as keepalived 2.2.7 does
// ("daemon is already running", exit 0), a stale file is taken over, the file is mode 0644
// whatever the umask, never written through a symlink, and removed on exit only if still ours.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { daemonDir, mode } from './harness.js';

const h = daemonDir('kt-pid-');

describe('one daemon per pid file', () => {
  it('a second daemon on the same pid file says "daemon is already running" and exits 0; the first keeps running with its pid file', async () => {
    const a = h.daemon('one');
    await a.waitFor(/Control socket /);
    expect(readFileSync(h.pidPath('one'), 'utf8')).toBe(`${a.pid}\n`);
    const b = h.runOnce('one');
    expect(b.status).toBe(0);
    expect(b.stdout).toContain(`daemon is already running (pid ${a.pid} holds ${h.pidPath('one')})`);
    expect(b.stdout).not.toMatch(/Starting keepalived-ts/);
    expect(readFileSync(h.pidPath('one'), 'utf8')).toBe(`${a.pid}\n`);
    expect(h.ipvsadm('one').status).toBe(0);
    expect(await a.stop()).toBe(0);
    expect(existsSync(h.pidPath('one'))).toBe(false);
  }, 20_000);

  it('a second daemon whose -c pid file is held refuses too, and gives back the -p file it had claimed', async () => {
    const a = h.daemon('first', ['-c', h.pidPath('shared-checkers')]);
    await a.waitFor(/Control socket /);
    const b = h.runOnce('second', ['-c', h.pidPath('shared-checkers')]);
    expect(b.status).toBe(0);
    expect(b.stdout).toContain(`daemon is already running (pid ${a.pid} holds ${h.pidPath('shared-checkers')})`);
    expect(existsSync(h.pidPath('second'))).toBe(false);
    expect(readFileSync(h.pidPath('shared-checkers'), 'utf8')).toBe(`${a.pid}\n`);
    expect(await a.stop()).toBe(0);
  }, 20_000);

  it('a pid file whose process is gone is taken over', async () => {
    const gone = spawnSync('/bin/true').pid;
    writeFileSync(h.pidPath('stale'), `${gone}\n`);
    const a = h.daemon('stale');
    await a.waitFor(/Control socket /);
    expect(a.output()).toContain(`Remove a zombie pid file ${h.pidPath('stale')}`);
    expect(readFileSync(h.pidPath('stale'), 'utf8')).toBe(`${a.pid}\n`);
    expect(await a.stop()).toBe(0);
  }, 20_000);

  it('on exit a pid file is removed only while it holds our pid', async () => {
    const a = h.daemon('moved');
    await a.waitFor(/Control socket /);
    writeFileSync(h.pidPath('moved'), '1\n');
    expect(await a.stop()).toBe(0);
    expect(readFileSync(h.pidPath('moved'), 'utf8')).toBe('1\n');
  }, 20_000);

  for (const umask of ['000', '077']) {
    it(`umask ${umask}: pid files are mode 0644`, async () => {
      const a = h.daemon(`mode-${umask}`, ['-c', h.pidPath(`mode-${umask}-checkers`)], { umask });
      await a.waitFor(/Control socket /);
      expect(mode(h.pidPath(`mode-${umask}`))).toBe('644');
      expect(mode(h.pidPath(`mode-${umask}-checkers`))).toBe('644');
      expect(await a.stop()).toBe(0);
    }, 20_000);
  }

  it('a symlink planted at a pid file is replaced, not followed', async () => {
    const targets = [h.victim(), h.victim()];
    symlinkSync(targets[0], h.pidPath('planted'));
    symlinkSync(targets[1], h.pidPath('planted-checkers'));
    const a = h.daemon('planted', ['-c', h.pidPath('planted-checkers')]);
    await a.waitFor(/Control socket /);
    expect(a.output()).toContain(`pid file ${h.pidPath('planted')} is a symbolic link: replacing the link, not following it`);
    for (const f of [h.pidPath('planted'), h.pidPath('planted-checkers')]) {
      expect(lstatSync(f).isFile()).toBe(true);
      expect(readFileSync(f, 'utf8')).toBe(`${a.pid}\n`);
    }
    expect(await a.stop()).toBe(0);
    for (const v of targets) expect(readFileSync(v, 'utf8')).toBe('victim\n');
  }, 20_000);
});
