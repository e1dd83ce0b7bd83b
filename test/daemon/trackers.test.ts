// The daemon's trackers. track_file changes arrive as inotify events. The vrrp_script check: the script runs as its own `user`, else script_user, and a user
// that cannot be resolved fails the check instead of running the script as us.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResolvedTrackFile, ResolvedVrrpScript } from '../../src/config/model/index.js';
import { scriptCheck, watchTrackFiles } from '../../src/daemon/trackers.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
import { identityFor, readUserDb } from '../../src/proc/users.js';

const root = process.getuid?.() === 0;
if (!root) console.log('skipping the vrrp_script user tests: switching users needs root');

const script = (user?: { user: string }): ResolvedVrrpScript =>
  ({
    name: 'chk',
    script: { argv: ['/bin/sh', '-c', 'test "$(id -un)" = nobody'] },
    interval: 1,
    timeout: 1,
    weight: 0,
    weightReverse: false,
    rise: 1,
    fall: 1,
    initFail: false,
    user,
    span: { file: 'k.conf', line: 1, col: 1 },
  }) as unknown as ResolvedVrrpScript;

describe.skipIf(!root)('vrrp_script identity', () => {
  const check = scriptCheck(
    new ScriptRunner(),
    identityFor(readUserDb(), () => ({ enableScriptSecurity: true, scriptUser: { user: 'root' } })),
  );

  it("runs as the script's own user", async () => {
    expect(await check(script({ user: 'nobody' }))).toEqual({ ok: true });
  });

  it('runs as script_user without one', async () => {
    expect(await check(script())).toEqual({ ok: false, why: 'exited with status 1' });
  });

  it('fails, without running, when the user does not exist', async () => {
    const r = await check(script({ user: 'no-such-user-kt' }));
    expect(r.ok).toBe(false);
    expect(r.why).toMatch(/no-such-user-kt/);
  });
});

describe('track_file watching (inotify on the directory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-track-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tf = (name: string): ResolvedTrackFile => ({ name, file: join(dir, name) }) as unknown as ResolvedTrackFile;

  it('reports a write, a rename into place and a removal of a tracked file, and nothing for its neighbours', async () => {
    const a = tf('a');
    const b = tf('b');
    const seen: string[] = [];
    const w = watchTrackFiles(
      [a, b],
      (f) => seen.push(f.name),
      () => undefined,
    );
    try {
      expect(w.all).toBe(true);
      const until = async (what: string, ok: () => boolean): Promise<number> => {
        const t0 = performance.now();
        while (!ok()) {
          if (performance.now() - t0 > 20_000) throw new Error(`no event for ${what}`);
          await new Promise((r) => setTimeout(r, 5));
        }
        return performance.now() - t0;
      };
      writeFileSync(join(dir, 'other'), '1\n');
      const written = performance.now();
      writeFileSync(a.file, '10\n');
      await until('the write', () => seen.includes('a'));
      console.log(`track_file write seen after ${(performance.now() - written).toFixed(1)} ms`);
      writeFileSync(join(dir, 'b.tmp'), '5\n');
      renameSync(join(dir, 'b.tmp'), b.file);
      await until('the rename', () => seen.includes('b'));
      seen.length = 0;
      rmSync(a.file);
      await until('the removal', () => seen.includes('a'));
      expect(seen).not.toContain('other');
    } finally {
      w.stop();
    }
  });

  it('leaves a file in a directory that does not exist to the poll', () => {
    const warnings: string[] = [];
    const w = watchTrackFiles(
      [tf('x'), { name: 'y', file: join(dir, 'missing/y') } as unknown as ResolvedTrackFile],
      () => undefined,
      (_l, m) => warnings.push(m),
    );
    w.stop();
    expect(w.all).toBe(false);
    expect(warnings).toEqual([expect.stringMatching(/cannot watch .*missing.*every 0\.5 s/)]);
  });
});
