// SIGUSR1 and SIGUSR2 dumps at keepalived's paths in the temp directory: mode 0600 whatever the
// umask the daemon was started under (keepalived sets its own, 0177, unless told otherwise), and a symlink planted there (in /tmp anyone can) is replaced, its target left alone.
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonDir, mode, type RunningDaemon } from './harness.js';

const h = daemonDir('kt-dumps-');

describe('SIGUSR1 and SIGUSR2 dumps', () => {
  for (const umask of ['000', '077']) {
    it(`umask ${umask}: keepalived.data and keepalived.stats are written mode 0600`, async () => {
      const a = h.daemon(`mode-${umask}`, [], { umask });
      await a.waitFor(/Control socket /);
      a.signal('SIGUSR1');
      await a.waitFor(/Wrote .*keepalived\.data/);
      a.signal('SIGUSR2');
      await a.waitFor(/Wrote .*keepalived\.stats/);
      for (const f of ['keepalived.data', 'keepalived.stats']) expect(mode(join(h.tmp, f))).toBe('600');
      expect(readFileSync(join(h.tmp, 'keepalived.data'), 'utf8')).toContain('------< VRRP Topology >------');
      // keepalived's global definitions come first: the harness config's router_id.
      expect(readFileSync(join(h.tmp, 'keepalived.data'), 'utf8')).toMatch(/^------< Global definitions >------\n Router ID = own\n/);
      expect(await a.stop()).toBe(0);
    }, 20_000);
  }

  it("global_defs umask gives the dumps keepalived's fopen() mode under it; -u on the command line wins", async () => {
    const conf = join(h.dir, 'umask.conf');
    writeFileSync(conf, 'global_defs {\n router_id own\n umask IWGRP | IWOTH\n}\n');
    const dump = async (name: string, args: string[]): Promise<RunningDaemon> => {
      const a = h.daemon(name, args, { conf, umask: '077' });
      await a.waitFor(/Control socket /);
      a.signal('SIGUSR1');
      await a.waitFor(/Wrote .*keepalived\.data/);
      expect(await a.stop()).toBe(0);
      return a;
    };
    await dump('umask-config', []);
    expect(mode(join(h.tmp, 'keepalived.data'))).toBe('644');
    const cli = await dump('umask-cli', ['-u', '0007']);
    expect(mode(join(h.tmp, 'keepalived.data'))).toBe('660');
    expect(cli.output()).toContain('umask command line option specified, ignoring config option');
  }, 30_000);

  it('a symlink planted at a dump path is replaced, not written through', async () => {
    const targets = { data: h.victim(), stats: h.victim() };
    const tmp = join(h.dir, 'tmp-planted');
    mkdirSync(tmp);
    const env = { ...h.env, TMPDIR: tmp };
    symlinkSync(targets.data, join(tmp, 'keepalived.data'));
    symlinkSync(targets.stats, join(tmp, 'keepalived.stats'));
    const a = h.daemon('planted', [], { env });
    await a.waitFor(/Control socket /);
    a.signal('SIGUSR1');
    await a.waitFor(/Wrote .*keepalived\.data/);
    a.signal('SIGUSR2');
    await a.waitFor(/Wrote .*keepalived\.stats/);
    for (const v of Object.values(targets)) expect(readFileSync(v, 'utf8')).toBe('victim\n');
    for (const f of ['keepalived.data', 'keepalived.stats']) {
      expect(lstatSync(join(tmp, f)).isFile()).toBe(true);
      expect(mode(join(tmp, f))).toBe('600');
    }
    expect(await a.stop()).toBe(0);
  }, 20_000);
});
