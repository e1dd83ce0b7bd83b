// keepalived's command line, whole: every option keepalived 2.2.7 accepts is accepted here, and
// either works or says why not (never "unknown option"), so /etc/default/keepalived keeps working.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DAEMON_OPTIONS, optionEffects, parseArgs } from '../../src/cli/args.js';
import { parseUmaskNumber } from '../../src/core/umask.js';
import { loadConfigText } from '../../src/config/index.js';

const CLI = join(__dirname, '../../dist/keepalived-ts.mjs');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'kt-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** keepalived 2.2.7's options as Debian builds it (`keepalived --help`, plus -g and --config-fd,
 * which it accepts without listing), each with a value where it takes one. */
const KEEPALIVED_2_2_7: [string, string | undefined][] = [
  ['-f', 'x.conf'],
  ['-P', undefined],
  ['-C', undefined],
  ['-B', undefined],
  ['--all', undefined],
  ['-l', undefined],
  ['-D', undefined],
  ['-S', 'local3'],
  ['-g', undefined],
  ['-G', undefined],
  ['-u', '022'],
  ['-X', undefined],
  ['-V', undefined],
  ['-I', undefined],
  ['-R', undefined],
  ['-n', undefined],
  ['-d', undefined],
  ['-p', '/run/k.pid'],
  ['-r', '/run/v.pid'],
  ['-T', undefined],
  ['-c', '/run/c.pid'],
  ['-a', undefined],
  ['-b', '/run/b.pid'],
  ['-x', undefined],
  ['-A', '/run/agentx'],
  ['-s', 'ns1'],
  ['-m', undefined],
  ['-M', undefined],
  ['-e', undefined],
  ['-i', 'lb1'],
  ['--signum', 'STOP'],
  ['-t', undefined],
  ['--config-fd', '3'],
  ['-v', undefined],
  ['-h', undefined],
];
const LONG_2_2_7 = [
  'use-file',
  'vrrp',
  'check',
  'no_bfd',
  'all',
  'log-console',
  'log-detail',
  'log-facility',
  'log-file',
  'no-syslog',
  'umask',
  'release-vips',
  'dont-release-vrrp',
  'dont-release-ipvs',
  'dont-respawn',
  'dont-fork',
  'dump-conf',
  'pid',
  'vrrp_pid',
  'genhash',
  'checkers_pid',
  'address-monitoring',
  'bfd_pid',
  'snmp',
  'snmp-agent-socket',
  'namespace',
  'core-dump',
  'core-dump-pattern',
  'all-config',
  'config-id',
  'signum',
  'config-test',
  'config-fd',
  'version',
  'help',
];

describe("keepalived's options", () => {
  it('every short and long option keepalived 2.2.7 accepts parses, and the table holds no other', () => {
    for (const [flag, value] of KEEPALIVED_2_2_7) {
      const parsed = parseArgs(value === undefined ? [flag] : [flag, value], DAEMON_OPTIONS);
      expect(parsed.errors, flag).toEqual([]);
      expect(parsed.options.size, flag).toBe(1);
    }
    for (const long of LONG_2_2_7)
      expect(parseArgs([`--${long}${DAEMON_OPTIONS.find((s) => s.long === long)?.value === 'required' ? '=v' : ''}`], DAEMON_OPTIONS).errors, long).toEqual([]);
    expect(
      DAEMON_OPTIONS.filter((s) => !s.extension)
        .map((s) => s.long)
        .sort(),
    ).toEqual([...LONG_2_2_7].sort());
  });

  it('matches the options the installed keepalived lists in --help, where it is installed', (ctx) => {
    const help = spawnSync('keepalived', ['--help'], { encoding: 'utf8' });
    if (help.error) {
      console.log('keepalived is not installed: its --help is not compared');
      ctx.skip();
    }
    const listed = [...`${help.stdout}${help.stderr}`.matchAll(/--([a-z_-]+)/g)].map((m) => m[1]);
    expect(listed.length).toBeGreaterThan(25);
    for (const long of listed)
      expect(
        DAEMON_OPTIONS.map((s) => s.long),
        long,
      ).toContain(long);
  });

  it('an optional value is taken only attached, as getopt does (-t/tmp/log, -M, --log-file=F)', () => {
    expect(parseArgs(['-t/tmp/t.log', '-f', 'k.conf'], DAEMON_OPTIONS).options).toEqual(
      new Map([
        ['config-test', '/tmp/t.log'],
        ['use-file', 'k.conf'],
      ]),
    );
    expect(parseArgs(['-t', '-f', 'k.conf'], DAEMON_OPTIONS).options.get('config-test')).toBe(true);
    expect(parseArgs(['-nlD'], DAEMON_OPTIONS).options).toEqual(
      new Map<string, true>([
        ['dont-fork', true],
        ['log-console', true],
        ['log-detail', true],
      ]),
    );
  });

  it('reads --umask as keepalived does: octal with a leading 0, hex with 0x, else decimal; permission bits only', () => {
    expect(['022', '0077', '0x12', '18', '0'].map(parseUmaskNumber)).toEqual([0o22, 0o77, 0x12, 18, 0]);
    expect(['0999', '1000', '-1', 'abc', '', '077x'].map(parseUmaskNumber)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it("reads global_defs umask as keepalived's umask_handler does, with its messages", () => {
    const umask = (v: string) => {
      const r = loadConfigText(`global_defs {\n umask ${v}\n}\n`, 'k.conf');
      return r.diagnostics.length ? r.diagnostics.map((d) => d.message).join('; ') : r.config.globalDefs.umask;
    };
    expect(['0022', '0x12', '18', 'IWGRP|IWOTH', 'IWGRP | IWOTH', 'IXUSR|IRGRP|IWGRP|IXGRP|IROTH|IWOTH|IXOTH'].map(umask)).toEqual([
      0o22, 0x12, 18, 0o22, 0o22, 0o177,
    ]);
    expect(umask('0999')).toContain('invalid umask value 0999');
    expect(umask('022 7')).toContain('Extra parameter(s) to umask option');
    expect(umask('IWGRP|')).toContain('umask missing bit value');
    expect(umask('IFOO')).toContain('Unknown umask bit IFOO');
    expect(umask('IWGRPIWOTH')).toContain('Invalid umask syntax IWGRPIWOTH');
  });

  it('each option that does not work as in keepalived says so in --help', () => {
    const help = run('--help').stdout;
    for (const s of DAEMON_OPTIONS.filter((o) => o.effect)) expect(help, s.long).toContain(`[${s.effect!.kind}: ${s.effect!.why}]`);
    expect(optionEffects(new Map([['address-monitoring', true]]), DAEMON_OPTIONS).map((e) => e.effect.kind)).toEqual(['not-implemented']);
  });

  it('a refused option stops the start with one line saying why', () => {
    for (const args of [['-s', 'ns1'], ['--genhash'], ['-g'], ['--config-fd=3']]) {
      const r = run(...args, '-f', join(dir, 'none.conf'));
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^keepalived-ts: option .* is not supported: .+\n$/);
    }
  }, 30_000);

  it('an invalid --umask is an error, not a silently kept umask', () => {
    const r = run('-u', '0999', '-t', '-f', join(dir, 'none.conf'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid --umask: '0999'.*-u 0077/);
  });

  it('-t/FILE writes the config test to FILE, as keepalived -tFILE does', () => {
    const conf = join(dir, 'bad.conf');
    writeFileSync(conf, 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 300\n}\n');
    const log = join(dir, 'test.log');
    const r = run(`-t${log}`, '-f', conf);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(log, 'utf8')).toContain(`${conf}:3:`);
  });

  it('the daemon starts with not-implemented options, says so once each, and runs with the -u umask', async () => {
    const conf = join(dir, 'empty.conf');
    writeFileSync(conf, 'global_defs {\n router_id lb1\n}\n');
    const pid = join(dir, 'o.pid');
    const bfdPid = join(dir, 'b.pid');
    // -C: no VRRP, so no root or interface is needed.
    const child = spawn(process.execPath, [CLI, '-n', '-C', '-l', '-G', '-S', 'local0', '-a', '-R', '-u', '0077', '-b', bfdPid, '-p', pid, '-f', conf], {
      env: { ...process.env, TMPDIR: dir },
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const deadline = Date.now() + 30_000;
    // The control socket's log line: its listen() sets a umask of its own until then.
    while (!stdout.includes('Control socket') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    try {
      expect(stdout).toContain('Starting keepalived-ts');
      expect(stderr.split('\n').filter((l) => l.includes('is not implemented'))).toEqual([
        'keepalived-ts: option -a (--address-monitoring) is not implemented: address changes are not logged; continuing',
      ]);
      // -R is a no-op here: nothing said.
      expect(stderr).not.toContain('dont-respawn');
      // -b holds the one process's pid, as -p does.
      expect(readFileSync(bfdPid, 'utf8').trim()).toBe(String(child.pid));
      // The umask the process runs with (scripts and the files it creates without an explicit mode).
      expect(readFileSync(`/proc/${child.pid}/status`, 'utf8')).toMatch(/^Umask:\s+0077$/m);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

describe('--data-plane', () => {
  it('refuses a value it does not know (exit 2) and kernel where the kernel has no IPVS (exit 1), before anything starts', () => {
    const bad = run('--data-plane=ipvs', '-n', '-f', '/nonexistent.conf');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("keepalived-ts: invalid --data-plane: 'ipvs' (write auto, kernel or forwarder)\n");
    if (existsSync('/proc/net/ip_vs')) return console.log('--data-plane=kernel refusal not checked: this kernel has IPVS');
    const kernel = run('--data-plane=kernel', '-n', '-f', '/nonexistent.conf');
    expect(kernel.status).toBe(1);
    expect(kernel.stderr).toMatch(/^keepalived-ts: --data-plane=kernel: this kernel has no IPVS \(\/proc\/net\/ip_vs is absent/);
  });

  it('forwarder: the embedded forwarder serves, and the log says it was asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-plane-'));
    const conf = join(dir, 'k.conf');
    writeFileSync(conf, 'virtual_server 127.0.0.1 38917 {\n  protocol TCP\n  real_server 127.0.0.1 38918 {\n  }\n}\n');
    const child = spawn(process.execPath, [CLI, '-n', '-C', '-l', '-G', '--data-plane=forwarder', '-p', join(dir, 'k.pid'), '-f', conf], {
      env: { ...process.env, TMPDIR: dir },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('--data-plane=forwarder') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    try {
      expect(stdout).toContain('Using the embedded forwarder (--data-plane=forwarder)');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
