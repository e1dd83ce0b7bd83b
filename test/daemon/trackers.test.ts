// The daemon's vrrp_script check: the script runs as its own `user`, else script_user, and a user
// that cannot be resolved fails the check instead of running the script as us.
import { describe, expect, it } from 'vitest';
import type { ResolvedVrrpScript } from '../../src/config/model/index.js';
import { scriptCheck } from '../../src/daemon/trackers.js';
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
