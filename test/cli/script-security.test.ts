// Script security on this machine, against keepalived 2.2.7 as the oracle: the same generated
// configs and script files go through the real `keepalived -t` and ours, and the exit codes must
// be equal. keepalived only counts scripts that exist, refuses unsafe ones with
// enable_script_security, and treats each kind of script its own way; the cases below cover the
// kinds (vrrp_script, notify, MISC_CHECK, quorum and real server scripts, startup_script) and the
// paths (safe, world-writable directory, writable file, sticky directory, symlinks, missing,
// not executable, bare names). Then the daemon: a refused script never runs (the marker file it
// would write stays absent) and a safe one does, for MISC_CHECK (-C on loopback), for vrrp_script
// and notify (-P in a network namespace), at start and after a reload.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configTest } from '../../src/cli/config-test.js';
import { oneHostLab } from '../helpers/interop-pair.js';
import { netnsSkip, poll, REPO_ROOT } from '../helpers/netns.js';
import { hasKeepalived } from '../helpers/oracle.js';

const isRoot = process.getuid?.() === 0;
const ORACLE = isRoot && hasKeepalived();
if (!ORACLE) console.warn('script security comparison skipped: needs root and keepalived (apt-get install keepalived)');

/** The interface VRRP instances use: one that exists here, so that keepalived goes on to the scripts. */
const IFACE = (() => {
  try {
    return readdirSync('/sys/class/net').find((n) => n !== 'lo') ?? 'lo';
  } catch {
    return 'lo';
  }
})();

const top = mkdtempSync(join(tmpdir(), 'kt-scrsec-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));

/** The script files, all root-owned under a 0755 directory in /tmp (sticky, so safe). */
function tree(): Record<string, string> {
  chmodSync(top, 0o755);
  const d = (name: string, mode: number): string => {
    const p = join(top, name);
    mkdirSync(p);
    chmodSync(p, mode);
    return p;
  };
  const f = (dir: string, name: string, mode: number): string => {
    const p = join(dir, name);
    writeFileSync(p, '#!/bin/sh\nexit 0\n');
    chmodSync(p, mode);
    return p;
  };
  const safe = d('safe', 0o755);
  const ww = d('ww', 0o777);
  const sticky = d('sticky', 0o1777);
  const gw = d('gw', 0o775);
  chownSync(gw, 0, 65534);
  const links = d('links', 0o755);
  const paths = {
    safe: f(safe, 'chk.sh', 0o755),
    worldWritableDir: f(ww, 'chk.sh', 0o755),
    worldWritableFile: f(safe, 'ow.sh', 0o777),
    groupWritableDir: f(gw, 'chk.sh', 0o755),
    stickyDir: f(sticky, 'chk.sh', 0o755),
    notExecutable: f(safe, 'noexec.sh', 0o644),
    missing: join(safe, 'none.sh'),
    linkToUnsafe: join(links, 'to-ww'),
    linkToSafe: join(links, 'to-safe'),
    bareName: 'true',
    bareMissing: 'kt-no-such-command',
    tcpTest: '</dev/tcp/127.0.0.1/1',
  };
  symlinkSync(paths.worldWritableDir, paths.linkToUnsafe);
  symlinkSync(paths.safe, paths.linkToSafe);
  return paths;
}
const PATHS = ORACLE ? tree() : {};

const vrrp = (body: string, track = true) =>
  `vrrp_instance VI_1 {\n interface ${IFACE}\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n  10.255.0.1/32\n }\n${track ? ' track_script {\n  chk\n }\n' : ''}${body}}\n`;
const vs = (vsBody: string, rsBody: string) =>
  `virtual_server 127.0.0.1 18080 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n${vsBody} real_server 127.0.0.1 18081 {\n${rsBody}  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n}\n`;

/** A config using script `s` in one place. */
const KINDS: Record<string, (s: string) => string> = {
  vrrp_script: (s) => `vrrp_script chk {\n script "${s}"\n}\n${vrrp('')}`,
  untracked_vrrp_script: (s) => `vrrp_script chk {\n script "${s}"\n}\n${vrrp('', false)}`,
  notify_master: (s) => vrrp(` notify_master "${s}"\n`, false),
  MISC_CHECK: (s) => vs('', `  MISC_CHECK {\n   misc_path "${s} arg"\n  }\n`),
  quorum_up: (s) => vs(` quorum_up "${s}"\n`, ''),
  notify_up: (s) => vs('', `  notify_up "${s}"\n`),
  startup_script: (s) => `global_defs {\n startup_script "${s}"\n}\n${vrrp('', false)}`,
};

const SECURITY: Record<string, string> = {
  off: '',
  'on, script_user root': 'global_defs {\n enable_script_security\n script_user root\n}\n',
  // No keepalived_script user here: keepalived cannot pick a default user.
  'on, no script_user': 'global_defs {\n enable_script_security\n}\n',
};

function keepalivedExit(file: string): number {
  const r = spawnSync('keepalived', ['-t', '-f', file], { encoding: 'utf8', timeout: 30_000 });
  return r.status ?? 128;
}

function oursExit(file: string): number {
  return configTest(
    new Map<string, string | true>([
      ['use-file', file],
      ['config-test', `${file}.log`],
    ]),
  );
}

describe.skipIf(!ORACLE)('script security: keepalived-ts -t exits as keepalived -t on the same files', () => {
  const keepalivedScript = spawnSync('id', ['keepalived_script']).status === 0;
  let n = 0;
  for (const [kind, conf] of Object.entries(KINDS)) {
    for (const [sec, globals] of Object.entries(SECURITY)) {
      if (sec === 'on, no script_user' && keepalivedScript) continue;
      it(`${kind}, enable_script_security ${sec}`, () => {
        const rows: string[] = [];
        for (const [name, path] of Object.entries(PATHS)) {
          // keepalived merges two global_defs blocks; ours too, but keep one to compare like with like.
          const text =
            globals && conf(path).startsWith('global_defs {\n') ? conf(path).replace('global_defs {\n', globals.replace(/}\n$/, '')) : globals + conf(path);
          const file = join(top, `c${n++}.conf`);
          writeFileSync(file, text);
          const [theirs, ours] = [keepalivedExit(file), oursExit(file)];
          rows.push(`${name}: keepalived ${theirs}, ours ${ours}${theirs === ours ? '' : `\n${readFileSync(`${file}.log`, 'utf8')}`}`);
        }
        expect(rows.filter((r) => !/keepalived (\d+), ours \1$/.test(r))).toEqual([]);
      }, 30_000);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// lint --host and the daemon

const CLI = join(REPO_ROOT, 'dist/keepalived-ts.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A root-owned directory with this mode holding a script that creates `marker` when run. */
function markerScript(dirName: string, mode: number, marker: string): string {
  const d = join(top, dirName);
  mkdirSync(d, { recursive: true });
  chmodSync(d, mode);
  const p = join(d, 'run.sh');
  writeFileSync(p, `#!/bin/sh\ntouch ${marker}\n`);
  chmodSync(p, 0o755);
  return p;
}

const SEC_ON = 'global_defs {\n enable_script_security\n script_user root\n}\n';

describe.skipIf(!isRoot)('lint --host', () => {
  it('names each unsafe script and the part of its path at fault; a safe one passes', () => {
    const unsafe = markerScript('lint-ww', 0o777, join(top, 'lint-ww.ran'));
    const safe = markerScript('lint-safe', 0o755, join(top, 'lint-safe.ran'));
    const conf = (s: string) => `${SEC_ON}vrrp_script chk {\n script "${s}"\n}\n${vrrp(` notify_master "${s}"\n`)}`;
    const file = join(top, 'lint.conf');
    writeFileSync(file, conf(unsafe));
    const r = spawnSync(process.execPath, [CLI, 'lint', '--host', file], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    const ww = join(top, 'lint-ww');
    expect(r.stdout).toContain(
      `${file}:6:2: warning: Unsafe permissions found for script '${unsafe}' - disabling. (${ww} is writable by others) [script-unsafe]`,
    );
    expect(r.stdout).toContain(`${file}:6:2: error: Disabling track script chk due to insecure`);
    expect(r.stdout).toContain(
      `${file}:18:2: warning: Unsafe permissions found for script '${unsafe}' - disabling. (${ww} is writable by others) [script-unsafe]`,
    );
    writeFileSync(file, conf(safe));
    const ok = spawnSync(process.execPath, [CLI, 'lint', '--host', file], { encoding: 'utf8' });
    expect(ok.stdout).not.toContain('script-unsafe');
    expect(ok.status).toBe(0);
  });
});

describe.skipIf(!isRoot)('the daemon refuses unsafe scripts (-C, MISC_CHECK on loopback)', () => {
  const port = () => 20000 + Math.floor(Math.random() * 20000);
  /** Real servers on loopback (nothing needs to listen: MISC_CHECK only runs its script). */
  const conf = (scripts: string[]) =>
    `virtual_server 127.0.0.1 ${port()} {\n delay_loop 1\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n${scripts.map((s, i) => ` real_server 127.0.0.${i + 2} 80 {\n  MISC_CHECK {\n   misc_path "${s}"\n  }\n }\n`).join('')}}\n`;
  function daemon(name: string, text: string) {
    const file = join(top, `${name}.conf`);
    writeFileSync(file, text);
    const env = { ...process.env, KEEPALIVED_TS_CONTROL: join(top, `ctl-${name}.sock`) };
    const d = spawn(process.execPath, [CLI, '-n', '-l', '-C', '-f', file, '-p', join(top, `${name}.pid`)], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    d.stdout.on('data', (c) => (out += c));
    d.stderr.on('data', (c) => (out += c));
    return {
      file,
      out: () => out,
      signal: (sig: NodeJS.Signals) => d.kill(sig),
      stop: () =>
        new Promise<number | null>((r) => {
          d.on('exit', r);
          d.kill('SIGTERM');
        }),
    };
  }
  const waitFile = (p: string) => poll(() => existsSync(p) || undefined, { timeoutMs: 6000, intervalMs: 50, what: `${p} to be written` });

  it('with enable_script_security, runs the safe MISC_CHECK and never the one in a 0777 directory', async () => {
    const [good, bad] = [join(top, 'misc-good'), join(top, 'misc-bad')];
    const safe = markerScript('misc-safe', 0o755, good);
    const unsafe = markerScript('misc-ww', 0o777, bad);
    const d = daemon('misc-on', SEC_ON + conf([safe, unsafe]));
    await waitFile(good);
    await sleep(2500); // two more delay_loops
    expect(existsSync(bad)).toBe(false);
    expect(d.out()).toContain(`Unsafe permissions found for script '${unsafe}' - disabling.`);
    expect(d.out()).toContain(`Disabling misc script '${unsafe}' due to insecure`);
    expect(await d.stop()).toBe(0);
  }, 20_000);

  it('a refused alpha MISC_CHECK keeps its real server out for good; without alpha the server is in, unchecked', async () => {
    const unsafe = markerScript('misc-alpha-ww', 0o777, join(top, 'misc-alpha.ran'));
    const text = SEC_ON + conf([unsafe, unsafe]).replace(`misc_path "${unsafe}"\n`, `misc_path "${unsafe}"\n   alpha\n`);
    const d = daemon('misc-alpha', text);
    await poll(() => /ready \(rr, \d+ real server/.test(d.out()) || undefined, { timeoutMs: 5000, what: 'the virtual server' });
    expect(d.out()).toMatch(/ready \(rr, 1 real server\(s\) in service\)/);
    expect(existsSync(join(top, 'misc-alpha.ran'))).toBe(false);
    expect(await d.stop()).toBe(0);
  }, 20_000);

  it('without it, runs both as keepalived does, and says so', async () => {
    const [good, bad] = [join(top, 'misc-off-good'), join(top, 'misc-off-bad')];
    const safe = markerScript('misc-off-safe', 0o755, good);
    const unsafe = markerScript('misc-off-ww', 0o777, bad);
    const d = daemon('misc-off', conf([safe, unsafe]));
    await waitFile(good);
    await waitFile(bad);
    expect(d.out()).toContain(`Unsafe permissions found for script '${unsafe}'.`);
    expect(d.out()).toContain('SECURITY VIOLATION - check scripts are being executed but script_security not enabled. There are insecure scripts.');
    expect(await d.stop()).toBe(0);
  }, 20_000);

  it('checks again at a reload: a script whose directory became world-writable stops running', async () => {
    const mark = join(top, 'misc-reload.ran');
    const s = markerScript('misc-reload', 0o755, mark);
    const d = daemon('misc-reload', SEC_ON + conf([s]));
    await waitFile(mark);
    chmodSync(join(top, 'misc-reload'), 0o777);
    d.signal('SIGHUP');
    await poll(() => /Reload finished/.test(d.out()) || undefined, { timeoutMs: 5000, what: 'the reload' });
    await sleep(500);
    rmSync(mark, { force: true });
    await sleep(2500);
    expect(existsSync(mark)).toBe(false);
    expect(d.out()).toContain(`Unsafe permissions found for script '${s}' - disabling.`);
    expect(await d.stop()).toBe(0);
  }, 20_000);
});

describe.skipIf(netnsSkip('script security namespace tests'))('the daemon refuses unsafe scripts (-P in a network namespace: vrrp_script, notify)', () => {
  const lab = oneHostLab({ subnet: 43 });

  it('with enable_script_security, runs the safe vrrp_script and notify_backup, never the unsafe ones', async () => {
    const m = (n: string) => join(top, `vrrp-${n}.ran`);
    const scripts = {
      goodCheck: markerScript('vrrp-good-check', 0o755, m('good-check')),
      badCheck: markerScript('vrrp-bad-check', 0o777, m('bad-check')),
      goodNotify: markerScript('vrrp-good-notify', 0o755, m('good-notify')),
      badNotify: markerScript('vrrp-bad-notify', 0o777, m('bad-notify')),
    };
    const text =
      `${SEC_ON}vrrp_script good {\n script "${scripts.goodCheck}"\n interval 1\n}\nvrrp_script bad {\n script "${scripts.badCheck}"\n interval 1\n}\n` +
      `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n  10.99.43.100/32\n }\n track_script {\n  good\n  bad\n }\n` +
      ` notify_backup "${scripts.goodNotify}"\n notify_master "${scripts.badNotify}"\n notify_stop "${scripts.badNotify}"\n}\n`;
    // The safe notify runs at start (BACKUP), the unsafe one would at MASTER and at STOP.
    const file = join(lab.dir, 'vrrp.conf');
    writeFileSync(file, text);
    const p = lab.spawn(lab.host, [process.execPath, CLI, '-n', '-l', '-P', '-f', file, '-p', join(lab.dir, 'v.pid'), '-r', join(lab.dir, 'v-vrrp.pid')], {
      name: 'scrsec',
    });
    await p.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await poll(() => (existsSync(m('good-check')) && existsSync(m('good-notify'))) || undefined, {
      timeoutMs: 5000,
      intervalMs: 50,
      what: 'the safe scripts to run',
    });
    await sleep(1500);
    await p.kill('SIGTERM', 3000);
    expect(existsSync(m('bad-check'))).toBe(false);
    expect(existsSync(m('bad-notify'))).toBe(false);
    expect(p.output()).toContain('Disabling track script bad due to insecure');
    expect(p.output()).toContain(`Unsafe permissions found for script '${scripts.badNotify}' - disabling.`);
  }, 30_000);
});
