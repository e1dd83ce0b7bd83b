// keepalived's script security check (lib/notify.c check_script_secure), on a fake file system and
// on the real one, and the probe the config layer calls with each script's user.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPathComponents, checkScriptSecurity, checkScriptSecurityWith, scriptProbe, type FsProbe, type StatInfo } from '../../src/proc/script-security.js';
import { parseGroup, parsePasswd } from '../../src/proc/users.js';
import { SC_EXECUTABLE, SC_INHIBIT, SC_INSECURE, SC_ISSCRIPT, SC_NOTFOUND, SC_SYSTEM } from '../../src/config/resolve-scripts.js';
import type { GlobalDefs } from '../../src/config/model/global.js';
import { loadConfigText } from '../../src/config/index.js';

const isRoot = process.getuid?.() === 0;

const DIR = 0o040000;
const REG = 0o100000;
const LNK = 0o120000;

/** A fake file system: path → stat; symlinks map to their targets. */
function fakeFs(files: Record<string, StatInfo>, links: Record<string, string> = {}): FsProbe {
  const resolve = (p: string): string => {
    const parts = p.split('/').filter(Boolean);
    let cur = '';
    for (const part of parts) {
      cur = `${cur}/${part}`;
      if (links[cur]) cur = resolve(links[cur]);
    }
    return cur || '/';
  };
  return {
    lstat: (p) => files[p],
    stat: (p) => files[resolve(p)],
    realpath: (p) => (files[resolve(p)] ? resolve(p) : undefined),
  };
}
const root = (mode: number, extra: Partial<StatInfo> = {}): StatInfo => ({ mode, uid: 0, gid: 0, ...extra });
const base: Record<string, StatInfo> = {
  '/': root(DIR | 0o755),
  '/usr': root(DIR | 0o755),
  '/usr/bin': root(DIR | 0o755),
  '/usr/bin/chk.sh': root(REG | 0o755, { ino: 1 }),
  '/opt': root(DIR | 0o755),
  '/opt/ww': root(DIR | 0o777),
  '/opt/ww/chk.sh': root(REG | 0o755, { ino: 2 }),
  '/opt/gw': root(DIR | 0o775, { gid: 10 }),
  '/opt/gw/chk.sh': root(REG | 0o755, { ino: 3 }),
  '/opt/rootgw': root(DIR | 0o775),
  '/opt/rootgw/chk.sh': root(REG | 0o755, { ino: 4 }),
  '/tmp': root(DIR | 0o1777),
  '/tmp/chk.sh': root(REG | 0o755, { ino: 5 }),
  '/opt/mine.sh': root(REG | 0o755, { uid: 1000, ino: 6 }),
  '/opt/noexec.sh': root(REG | 0o644, { ino: 7 }),
  '/opt/ww/suid': root(REG | 0o4755, { ino: 8 }),
  '/root': root(DIR | 0o700),
  '/root/chk.sh': root(REG | 0o755, { ino: 9 }),
};
const asRoot = { uid: 0, gid: 0, enableScriptSecurity: true };

describe('script security (injected file system)', () => {
  const fs = fakeFs(base);

  it('allows a root script whose whole path is root-owned 0755', () => {
    expect(checkScriptSecurityWith(fs, { command: '/usr/bin/chk.sh', ...asRoot })).toEqual({
      flags: 0x12,
      allowed: true,
      path: '/usr/bin/chk.sh',
      insecure: false,
      messages: [],
    });
  });

  it('refuses a root script in a world-writable directory, naming it', () => {
    const r = checkScriptSecurityWith(fs, { command: '/opt/ww/chk.sh', ...asRoot });
    expect(r.allowed).toBe(false);
    expect(r.insecure).toBe(true);
    expect(r.reason).toBe("Unsafe permissions found for script '/opt/ww/chk.sh' - disabling.");
    expect(r.detail).toBe('/opt/ww is writable by others');
  });

  it('only flags it (still runs) without enable_script_security', () => {
    const r = checkScriptSecurityWith(fs, { command: '/opt/ww/chk.sh', ...asRoot, enableScriptSecurity: false });
    expect(r).toMatchObject({ allowed: true, insecure: true });
    expect(r.reason).toBe("Unsafe permissions found for script '/opt/ww/chk.sh'.");
  });

  it("applies keepalived's exceptions: sticky directories and root-group write are safe", () => {
    expect(checkScriptSecurityWith(fs, { command: '/tmp/chk.sh', ...asRoot }).allowed).toBe(true);
    expect(checkScriptSecurityWith(fs, { command: '/opt/rootgw/chk.sh', ...asRoot }).allowed).toBe(true);
    expect(checkScriptSecurityWith(fs, { command: '/opt/gw/chk.sh', ...asRoot }).detail).toBe('/opt/gw is writable by group 10');
    expect(checkScriptSecurityWith(fs, { command: '/opt/mine.sh', ...asRoot }).detail).toBe('/opt/mine.sh is owned by uid 1000');
  });

  it('does not protect scripts that run unprivileged, unless they are setuid root', () => {
    const nobody = { uid: 65534, gid: 65534, enableScriptSecurity: true };
    expect(checkScriptSecurityWith(fs, { command: '/opt/ww/chk.sh', ...nobody })).toMatchObject({ allowed: true, insecure: false });
    expect(checkScriptSecurityWith(fs, { command: '/opt/ww/suid', ...nobody })).toMatchObject({ allowed: false, insecure: true });
    // root group alone counts as privileged
    expect(checkScriptSecurityWith(fs, { command: '/opt/ww/chk.sh', uid: 65534, gid: 0, enableScriptSecurity: true }).allowed).toBe(false);
  });

  it('refuses scripts the user cannot execute or that do not exist, and searches PATH for bare names', () => {
    expect(checkScriptSecurityWith(fs, { command: '/opt/noexec.sh', uid: 65534, gid: 65534, enableScriptSecurity: false }).reason).toBe(
      "WARNING - script '/opt/noexec.sh' is not executable for uid:gid 65534:65534 - disabling.",
    );
    expect(checkScriptSecurityWith(fs, { command: '/opt/none.sh', ...asRoot }).allowed).toBe(false);
    const bare = checkScriptSecurityWith(fs, { command: 'chk.sh', ...asRoot, pathEnv: '/opt/nowhere:/usr/bin' });
    expect(bare).toMatchObject({ allowed: true, path: '/usr/bin/chk.sh' });
    expect(bare.messages[0]).toBe('WARNING - script `chk.sh` resolved by path search to `/usr/bin/chk.sh`. Please specify full path.');
    expect(checkScriptSecurityWith(fs, { command: 'missing.sh', ...asRoot, pathEnv: '/usr/bin' }).reason).toBe(
      'Cannot find script missing.sh in path - disabling',
    );
  });

  it('checks where a symlink really points', () => {
    const linked = fakeFs({ ...base, '/usr/bin/safe-name': root(LNK | 0o777) }, { '/usr/bin/safe-name': '/opt/ww/chk.sh' });
    const r = checkScriptSecurityWith(linked, { command: '/usr/bin/safe-name', ...asRoot });
    expect(r).toMatchObject({ allowed: false, path: '/opt/ww/chk.sh' });
    expect(checkPathComponents('/usr/bin/chk.sh/x', linked.lstat)).toMatchObject({ ok: false, wrongType: true, component: '/usr/bin/chk.sh' });
  });
});

describe.skipIf(!isRoot)('script security (real file system, as root)', () => {
  it('allows a root-owned 0755 path and refuses it once a directory becomes world-writable', () => {
    const top = mkdtempSync(join(tmpdir(), 'ka-sec-')); // /tmp is sticky, so it passes
    try {
      const sub = join(top, 'bin');
      mkdirSync(sub, { mode: 0o755 });
      chmodSync(top, 0o755);
      const s = join(sub, 'check.sh');
      writeFileSync(s, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      expect(checkScriptSecurity({ command: s, ...asRoot })).toMatchObject({ allowed: true, insecure: false, path: s });
      chmodSync(sub, 0o777);
      const r = checkScriptSecurity({ command: s, ...asRoot });
      expect(r.allowed).toBe(false);
      expect(r.reason).toContain(`Unsafe permissions found for script '${s}'`);
      expect(r.detail).toBe(`${sub} is writable by others`);
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });
});

describe('scriptProbe: each script checked as its own user', () => {
  const users = { users: parsePasswd('root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n'), groups: parseGroup('root:x:0:\nnogroup:x:65534:\n') };
  const fs = fakeFs(base);
  const g = (o: Partial<GlobalDefs>): GlobalDefs => ({ enableScriptSecurity: false, ...o }) as GlobalDefs;
  const probe = scriptProbe({ db: users, fs, self: { uid: 0, gid: 0 }, pathEnv: '/usr/bin' });
  const ref = (command: string, user?: string) => ({ command, argv: command.split(' '), ...(user ? { user } : {}) });

  it("gives keepalived's flags: found, executable, insecure, refused", () => {
    expect(probe.script(ref('/usr/bin/chk.sh'), g({ enableScriptSecurity: true, scriptUser: { user: 'root' } })).flags).toBe(SC_ISSCRIPT | SC_EXECUTABLE);
    expect(probe.script(ref('/opt/ww/chk.sh'), g({ enableScriptSecurity: true, scriptUser: { user: 'root' } })).flags).toBe(
      SC_ISSCRIPT | SC_EXECUTABLE | SC_INSECURE | SC_INHIBIT,
    );
    expect(probe.script(ref('/opt/ww/chk.sh'), g({})).flags).toBe(SC_ISSCRIPT | SC_EXECUTABLE | SC_INSECURE);
    expect(probe.script(ref('/opt/none.sh'), g({})).flags).toBe(SC_NOTFOUND);
    expect(probe.script(ref('/opt/noexec.sh'), g({ scriptUser: { user: 'nobody' } })).flags).toBe(SC_ISSCRIPT);
    expect(probe.script(ref('</dev/tcp/127.0.0.1/80'), g({})).flags).toBe(SC_SYSTEM);
    expect(probe.script(ref('chk.sh x'), g({})).path).toBe('/usr/bin/chk.sh');
  });

  it('runs a script in a writable place as an unprivileged user without complaint', () => {
    expect(probe.script(ref('/opt/ww/chk.sh', 'nobody'), g({ enableScriptSecurity: true, scriptUser: { user: 'root' } })).flags).toBe(
      SC_ISSCRIPT | SC_EXECUTABLE,
    );
    // vrrp_script and MISC_CHECK give their `user` apart from the command.
    expect(probe.script(ref('/opt/ww/chk.sh'), g({ enableScriptSecurity: true, scriptUser: { user: 'root' } }), { user: 'nobody' }).flags).toBe(
      SC_ISSCRIPT | SC_EXECUTABLE,
    );
  });

  it('looks the script up as its user: one it cannot reach is not found', () => {
    const v = probe.script(ref('/root/chk.sh', 'nobody'), g({}));
    expect(v).toMatchObject({ flags: SC_NOTFOUND, messages: ['Script /root/chk.sh cannot be accessed - Permission denied'] });
    expect(probe.script(ref('/root/chk.sh'), g({ scriptUser: { user: 'root' } })).flags).toBe(SC_ISSCRIPT | SC_EXECUTABLE);
  });

  it('reports a user it cannot find; with enable_script_security and no keepalived_script, the default user', () => {
    expect(probe.script(ref('/usr/bin/chk.sh', 'ghost'), g({})).userError).toEqual({ message: "Script user 'ghost' does not exist", defaultUser: false });
    expect(probe.script(ref('/usr/bin/chk.sh'), g({ enableScriptSecurity: true })).userError).toEqual({
      message: 'Unable to set default user keepalived_script for script',
      defaultUser: true,
    });
    // Without it the default is the user we run as (root here).
    expect(probe.script(ref('/opt/ww/chk.sh'), g({})).flags & SC_INSECURE).toBe(SC_INSECURE);
  });

  it('a script_user this host cannot set is reported at its line, and scripts without a user are dropped', () => {
    expect(probe.scriptUserError(g({ scriptUser: { user: 'nobody', group: 'ghosts' } }))).toBe("Script group 'ghosts' does not exist");
    expect(probe.scriptUserError(g({ scriptUser: { user: 'nobody' } }))).toBeUndefined();
    const text = (su: string) =>
      `global_defs {\n  enable_script_security\n  script_user ${su}\n}\nvrrp_script chk {\n  script /usr/bin/chk.sh\n}\nvrrp_script own {\n  script /usr/bin/chk.sh\n  user nobody\n}\n` +
      'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  track_script {\n    chk\n    own\n  }\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n';
    const bad = loadConfigText(text('nobody ghosts'), 'k.conf', { scripts: probe });
    // keepalived 2.2.7: the script_user line, then the script without a user at its '}', then its track line.
    expect(bad.diagnostics.map((d) => `${d.line}:${d.rule} ${d.message}`)).toEqual([
      '3:script-user Error setting global script uid/gid',
      '7:script-user Unable to set default user for vrrp script chk - removing',
      '16:track-missing (VI_1) track script chk not found, ignoring...',
    ]);
    expect(bad.config.vrrpScripts.map((v) => v.name)).toEqual(['own']);
    expect(loadConfigText(text('nobody'), 'k.conf', { scripts: probe }).diagnostics).toEqual([]);
  });
});
