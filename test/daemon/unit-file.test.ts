// The shipped systemd unit and its hardening drop-in, as systemd itself reads them.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/netns.js';

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const why = analyze.error ? 'systemd-analyze is not installed' : '';
if (why) console.log(`unit-file tests skipped: ${why}`);

describe.skipIf(!!why)('systemd/keepalived-ts.service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('systemd-analyze verify reads the unit and the hardening drop-in without a warning', () => {
    // ExecStart must name an executable that exists: the built bundle stands in for /usr/bin/keepalived-ts.
    const unit = readFileSync(join(REPO_ROOT, 'systemd/keepalived-ts.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/keepalived-ts --dont-fork \$DAEMON_ARGS$/m);
    writeFileSync(join(dir, 'keepalived-ts.service'), unit.replace('/usr/bin/keepalived-ts', join(REPO_ROOT, 'dist/keepalived-ts.mjs')));
    mkdirSync(join(dir, 'keepalived-ts.service.d'));
    cpSync(join(REPO_ROOT, 'systemd/keepalived-ts.service.d/hardening.conf'), join(dir, 'keepalived-ts.service.d/hardening.conf'));
    const run = () =>
      spawnSync('systemd-analyze', ['verify', join(dir, 'keepalived-ts.service')], {
        encoding: 'utf8',
        env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
      });
    const r = run();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The drop-in is read: a misspelt directive in it is reported.
    writeFileSync(join(dir, 'keepalived-ts.service.d/zz-typo.conf'), '[Service]\nProtectSystm=full\n');
    expect(run().stderr).toMatch(/Unknown key 'ProtectSystm'/);
  });
});
