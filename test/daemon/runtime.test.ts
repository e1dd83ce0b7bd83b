// The private runtime directory and the control socket in it: created with explicit modes,
// refused with one line when it cannot be trusted, one socket per daemon (named after its pid
// file), and a client that talks only to sockets of root or of its caller.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlPath } from '../../src/daemon/runtime.js';
import { readableCli } from '../helpers/readable.js';
import { CLI, daemonDir, mode, root } from './harness.js';

const h = daemonDir('kt-rt-');
const setpriv = root && existsSync('/usr/bin/setpriv');
/** The control socket of the daemon with pid file NAME.pid. */
const ctl = (name: string, rt = h.rt): string => controlPath(h.pidPath(name), { KEEPALIVED_TS_RUNTIME_DIR: rt });

describe('control socket names', () => {
  it('named after the pid file; outside /run with a hash of its path', () => {
    const env = { KEEPALIVED_TS_RUNTIME_DIR: '/rt' };
    expect(controlPath(undefined, env)).toBe('/rt/keepalived.ctl');
    expect(controlPath('/run/keepalived.pid', env)).toBe('/rt/keepalived.ctl');
    expect(controlPath('/var/run/lb2.pid', env)).toBe('/rt/lb2.ctl');
    expect(controlPath('/tmp/lab1/lb.pid', env)).toBe('/rt/lb-49c7f6b9.ctl');
    expect(controlPath('/tmp/lab2/lb.pid', env)).not.toBe('/rt/lb-49c7f6b9.ctl');
    expect(controlPath('/tmp/lab1/lb.pid', { ...env, KEEPALIVED_TS_CONTROL: '/x.sock' })).toBe('/x.sock');
    expect(controlPath(undefined, { XDG_RUNTIME_DIR: '/run/user/1000' })).toBe(
      process.getuid?.() === 0 ? '/run/keepalived-ts/keepalived.ctl' : '/run/user/1000/keepalived-ts/keepalived.ctl',
    );
  });
});

describe('runtime directory and control socket', () => {
  for (const umask of ['000', '077']) {
    it(`umask ${umask}: runtime directory 0700, control socket 0600, named after the pid file`, async () => {
      const env = { ...h.env, KEEPALIVED_TS_RUNTIME_DIR: join(h.dir, `rt-${umask}`) };
      const a = h.daemon(`mode-${umask}`, [], { umask, env });
      await a.waitFor(/Control socket /);
      expect(mode(join(h.dir, `rt-${umask}`))).toBe('700');
      expect(mode(ctl(`mode-${umask}`, join(h.dir, `rt-${umask}`)))).toBe('600');
      expect(h.ipvsadm(`mode-${umask}`, env).status).toBe(0);
      expect(await a.stop()).toBe(0);
      expect(existsSync(ctl(`mode-${umask}`, join(h.dir, `rt-${umask}`)))).toBe(false);
    }, 20_000);
  }

  it('a second daemon on the same pid file leaves the control socket of the first alone', async () => {
    const a = h.daemon('one');
    await a.waitFor(/Control socket /);
    expect(h.runOnce('one').status).toBe(0);
    expect(lstatSync(ctl('one')).isSocket()).toBe(true);
    expect(h.ipvsadm('one').status).toBe(0);
    expect(await a.stop()).toBe(0);
  }, 20_000);

  it('a daemon whose control socket another daemon answers on does not start', async () => {
    const env = { ...h.env, KEEPALIVED_TS_CONTROL: join(h.dir, 'shared.ctl') };
    const a = h.daemon('sock', [], { env });
    await a.waitFor(/Control socket /);
    const r = h.runOnce('sock2', [], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`control socket ${join(h.dir, 'shared.ctl')} is in use by another daemon`);
    expect(existsSync(h.pidPath('sock2'))).toBe(false);
    expect(h.ipvsadm('sock', env).status).toBe(0);
    expect(await a.stop()).toBe(0);
  }, 20_000);

  it('pid files of one name in two directories get two sockets', async () => {
    mkdirSync(join(h.dir, 'other'));
    const [a, b] = [h.daemon('twin'), h.daemon('other/twin')];
    await a.waitFor(/Control socket /);
    await b.waitFor(/Control socket /);
    expect(ctl('twin')).not.toBe(ctl('other/twin'));
    expect(h.ipvsadm('twin').status).toBe(0);
    expect(h.ipvsadm('other/twin').status).toBe(0);
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  }, 20_000);

  it('after kill -9, the next daemon takes over the stale pid file and socket', async () => {
    const a = h.daemon('killed');
    await a.waitFor(/Control socket /);
    a.signal('SIGKILL');
    await a.exited;
    expect(lstatSync(ctl('killed')).isSocket()).toBe(true);
    const b = h.daemon('killed');
    await b.waitFor(/Control socket /);
    expect(h.ipvsadm('killed').status).toBe(0);
    expect(await b.stop()).toBe(0);
    expect(existsSync(ctl('killed'))).toBe(false);
  }, 20_000);

  it('a control socket path that holds a file is refused, the file left alone', () => {
    const path = h.victim();
    const r = h.runOnce('on-file', [], { ...h.env, KEEPALIVED_TS_CONTROL: path });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`control socket path ${path} holds something else than a socket; not starting`);
    expect(readFileSync(path, 'utf8')).toBe('victim\n');
    // Under a file: one line, no crash.
    const under = h.runOnce('under-file', [], { ...h.env, KEEPALIVED_TS_CONTROL: join(path, 'x.ctl') });
    expect(under.status).toBe(1);
    expect(under.stdout.trim().split('\n')).toHaveLength(1);
    expect(under.stdout).toContain(`control socket path ${join(path, 'x.ctl')}: ENOTDIR`);
  });

  it('a daemon sweeps sockets nobody listens on from its runtime directory, and only those', async () => {
    const env = { ...h.env, KEEPALIVED_TS_RUNTIME_DIR: join(h.dir, 'rt-sweep') };
    const live = h.daemon('live', [], { env });
    await live.waitFor(/Control socket /);
    const dead = h.daemon('dead', [], { env });
    await dead.waitFor(/Control socket /);
    dead.signal('SIGKILL');
    await dead.exited;
    const deadPath = controlPath(h.pidPath('dead'), env);
    const livePath = controlPath(h.pidPath('live'), env);
    // Older than 10 s, as a socket left by a daemon killed earlier.
    const old = new Date(Date.now() - 60_000);
    for (const p of [deadPath, livePath]) utimesSync(p, old, old);
    const fresh = h.daemon('fresh', [], { env });
    await fresh.waitFor(/Control socket /);
    expect(existsSync(deadPath)).toBe(false);
    expect(h.ipvsadm('live', env).status).toBe(0);
    expect(await fresh.stop()).toBe(0);
    expect(await live.stop()).toBe(0);
  }, 20_000);

  it('a symlink planted at the control socket path is replaced, not followed', async () => {
    const target = h.victim();
    mkdirSync(h.rt, { recursive: true, mode: 0o700 });
    symlinkSync(target, ctl('planted'));
    const a = h.daemon('planted');
    await a.waitFor(/Control socket /);
    expect(lstatSync(ctl('planted')).isSocket()).toBe(true);
    expect(h.ipvsadm('planted').status).toBe(0);
    expect(await a.stop()).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('victim\n');
  }, 20_000);

  const refused = (what: string, make: (path: string) => void, message: RegExp) =>
    it(`a runtime directory that ${what} is refused with one line, exit 1`, () => {
      const name = `rt-${what.replace(/\W+/g, '-')}`;
      const path = join(h.dir, name);
      make(path);
      const r = h.runOnce(name, [], { ...h.env, KEEPALIVED_TS_RUNTIME_DIR: path });
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(message);
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      // Its pid file is not left behind.
      expect(existsSync(h.pidPath(name))).toBe(false);
    });
  refused(
    'is a symlink',
    (p) => {
      mkdirSync(`${p}-real`, { mode: 0o700 });
      symlinkSync(`${p}-real`, p);
    },
    /runtime directory .* is a symbolic link/,
  );
  refused('is a file', (p) => writeFileSync(p, ''), /runtime directory .* exists and is not a directory/);
  refused(
    'is writable by others',
    (p) => {
      mkdirSync(p);
      chmodSync(p, 0o777);
    },
    /runtime directory .* is writable by others \(mode 0777\); chmod 0700 it/,
  );
  refused(
    'is writable by its group',
    (p) => {
      mkdirSync(p);
      chmodSync(p, 0o770);
    },
    /runtime directory .* is writable by others \(mode 0770\)/,
  );
  it('a runtime directory of ours that others may only read is used', async () => {
    const env = { ...h.env, KEEPALIVED_TS_RUNTIME_DIR: join(h.dir, 'rt-0755') };
    mkdirSync(join(h.dir, 'rt-0755'));
    chmodSync(join(h.dir, 'rt-0755'), 0o755);
    const a = h.daemon('readable', [], { env });
    await a.waitFor(/Control socket /);
    expect(h.ipvsadm('readable', env).status).toBe(0);
    expect(await a.stop()).toBe(0);
  }, 20_000);
  if (root) {
    refused(
      'is owned by another user',
      (p) => {
        mkdirSync(p, { mode: 0o700 });
        chownSync(p, 65534, 65534);
      },
      /runtime directory .* is owned by uid 65534, not by us \(uid 0\)/,
    );
  }
});

/** A sticky world-writable directory, as /tmp. */
const sticky = (name: string): string => {
  chmodSync(h.dir, 0o755);
  const t = join(h.dir, name);
  mkdirSync(t);
  chmodSync(t, 0o1777);
  return t;
};

describe.skipIf(!setpriv)('a daemon that is not root', () => {
  /** keepalived-ts -C as nobody, with TMPDIR a sticky world-writable directory. */
  const asNobody = (tmp: string, name: string) => {
    const env = { ...process.env, TMPDIR: tmp } as NodeJS.ProcessEnv;
    for (const k of ['KEEPALIVED_TS_CONTROL', 'KEEPALIVED_TS_RUNTIME_DIR', 'XDG_RUNTIME_DIR']) delete env[k];
    const d = spawn(
      '/usr/bin/setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        readableCli(h.dir),
        '-n',
        '-l',
        '-G',
        '-C',
        '-f',
        h.conf,
        '-p',
        join(tmp, `${name}.pid`),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env },
    );
    let out = '';
    d.stdout.on('data', (c) => (out += c));
    d.stderr.on('data', (c) => (out += c));
    return { d, output: () => out, exited: new Promise<number | null>((r) => d.on('exit', r)) };
  };

  it('keeps its control socket in a 0700 directory of its own under TMPDIR', async () => {
    const tmp = sticky('tmp-nobody');
    const n = asNobody(tmp, 'nb');
    for (let i = 0; i < 100 && !/Control socket /.test(n.output()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(n.output()).toMatch(/Control socket /);
    const own = join(tmp, 'keepalived-ts-65534');
    expect(lstatSync(own).uid).toBe(65534);
    expect(mode(own)).toBe('700');
    expect(readdirSync(own).map((f) => [f, lstatSync(join(own, f)).isSocket()])).toEqual([[expect.stringMatching(/^nb-[0-9a-f]{8}\.ctl$/), true]]);
    n.d.kill('SIGTERM');
    expect(await n.exited).toBe(0);
  }, 20_000);

  it('refuses a runtime directory someone else made at its path, with one line (no crash)', async () => {
    const tmp = sticky('tmp-planted-dir');
    mkdirSync(join(tmp, 'keepalived-ts-65534'), { mode: 0o755 });
    const n = asNobody(tmp, 'nb2');
    expect(await n.exited).toBe(1);
    expect(n.output().trim().split('\n')).toHaveLength(1);
    expect(n.output()).toContain(`runtime directory ${join(tmp, 'keepalived-ts-65534')} is owned by uid 0, not by us (uid 65534)`);
  }, 20_000);
});

describe.skipIf(!setpriv)('keepalived-ts ipvsadm trusts only sockets of root or the caller', () => {
  it('refuses a control socket owned by another user, with one line', async () => {
    const path = join(sticky('shared'), 'planted.ctl');
    const planter = spawn(
      '/usr/bin/setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        '-e',
        "require('net').createServer((c) => c.end('{\"ok\":true,\"data\":[]}\\n')).listen(process.argv[1], () => console.log('listening'))",
        path,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((r) => planter.stdout.once('data', r));
    expect(lstatSync(path).uid).toBe(65534);
    const r = spawnSync(process.execPath, [CLI, 'ipvsadm', '-Ln'], { encoding: 'utf8', env: { ...h.env, KEEPALIVED_TS_CONTROL: path } });
    planter.kill();
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `keepalived-ts ipvsadm: refusing the control socket: ${path} is owned by uid 65534, neither root nor you (name the daemon's pid file with --pid=FILE, or its socket with KEEPALIVED_TS_CONTROL)\n`,
    );
  }, 20_000);
});
