// The built CLI as users run it: a real process, real files, real exit codes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(__dirname, '../../dist/keepalived-ts.mjs');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'kt-cli-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('keepalived-ts CLI', () => {
  it('prints help and version', () => {
    const h = run('--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('--config-test');
    expect(run('-v').stdout).toMatch(/^keepalived-ts \d+\.\d+\.\d+/);
  });

  it('config test: exit 0 and no output on a clean file', () => {
    const p = file('ok.conf', 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n');
    const r = run('-t', '-f', p);
    expect([r.status, r.stderr]).toEqual([0, '']);
  });

  it('config test: FILE:LINE:COL diagnostics on stderr and exit 5 for errors', () => {
    const p = file('bad.conf', 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 300\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n');
    const r = run('--config-test', '--use-file', p);
    expect(r.status).toBe(5);
    expect(r.stderr).toBe(`${p}:4:11: error: priority: number '300' outside range [1, 255]; keeping the default 100 (write a number between 1 and 255) [value-range]\n`);
  });

  it('config test: exit 6 for scripts without enable_script_security, and --config-test=LOG', () => {
    const p = file('sec.conf', 'vrrp_script c {\n script /bin/true\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n track_script {\n c\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n');
    const log = join(dir, 'test.log');
    const r = run(`--config-test=${log}`, '-f', p);
    expect(r.status).toBe(6);
    expect(readFileSync(log, 'utf8')).toContain('[script-security]');
  });

  it('config test: -e makes a missing file fatal (exit 4), as keepalived', () => {
    expect(run('-t', '-f', join(dir, 'absent.conf')).status).toBe(0);
    expect(run('-t', '-e', '-f', join(dir, 'absent.conf')).status).toBe(4);
  });

  it('config test: -i selects @id lines', () => {
    const p = file('cond.conf', '@lb1 $P=300\n@lb2 $P=100\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority $P\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n');
    expect(run('-t', '-i', 'lb1', '-f', p).status).toBe(5);
    expect(run('-t', '-i', 'lb2', '-f', p).status).toBe(0);
  });

  it('rejects unknown options with exit 2', () => {
    const r = run('--bogus');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
  });

  it('lint: text and JSON output, --strict', () => {
    const p = file('lint.conf', 'vrrp_script chk {\n script "/bin/true"\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n');
    const t = run('lint', p);
    expect(t.status).toBe(0);
    expect(t.stdout).toContain(`${p}:1:1: warning: vrrp_script chk is not tracked`);
    expect(run('lint', '--strict', p).status).toBe(1);
    const j = JSON.parse(run('lint', '--format', 'json', p).stdout);
    expect(j.summary).toEqual({ errors: 0, warnings: 1 });
    expect(j.diagnostics[0]).toMatchObject({ file: p, line: 1, col: 1, severity: 'warning', rule: 'vrrp-script-unused' });
  });

  it('lint --pair prints the failover analysis', () => {
    const mk = (prio: number) => `global_defs {\n enable_script_security\n script_user root\n}\nvrrp_script chk {\n script "/bin/true"\n weight -5\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority ${prio}\n virtual_ipaddress {\n  10.0.0.1\n }\n track_script {\n chk\n }\n}\n`;
    const r = run('lint', '--pair', file('a.conf', mk(100)), file('b.conf', mk(90)));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('[weight-too-small]');
    expect(r.stdout).toMatch(/VI_1 \(VRID 51\): script chk fails on A: A 100→95, B 90→90: no failover/);
  });

  it('keywords prints the reference from the keyword table', () => {
    const r = run('keywords');
    expect(r.stdout).toContain('| `virtual_router_id` | `<1..255>` |');
  });
});

describe('keepalived-ts -C (checkers and embedded load balancer, no root needed)', () => {
  it('serves a virtual server from a config, and stops cleanly on SIGTERM', async () => {
    const { createServer } = await import('node:http');
    const { spawn } = await import('node:child_process');
    const backend = createServer((_q, res) => res.end('backend')).listen(0, '127.0.0.1');
    await new Promise((r) => backend.once('listening', r));
    const bport = (backend.address() as { port: number }).port;
    const vsPort = 20000 + Math.floor(Math.random() * 20000);
    const p = file('lb.conf', `virtual_server 127.0.0.1 ${vsPort} {\n delay_loop 1\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n real_server 127.0.0.1 ${bport} {\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n}\n`);
    const env = { ...process.env, KEEPALIVED_TS_CONTROL: join(dir, 'ctl.sock') };
    const d = spawn(process.execPath, [CLI, '-n', '-l', '-C', '-f', p, '-p', join(dir, 'lb.pid')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    d.stdout.on('data', (b) => (out += b));
    for (let i = 0; i < 50 && !/ready/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/virtual server TCP 127\.0\.0\.1:\d+ ready \(rr, 1 real server\(s\) in service\)/);
    const body = await new Promise<string>((resolve, reject) => {
      import('node:http').then(({ get }) => get({ host: '127.0.0.1', port: vsPort, agent: false }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve(b));
      }).on('error', reject));
    });
    expect(body).toBe('backend');
    // The operator view, as ipvsadm prints it.
    const list = spawnSync(process.execPath, [CLI, 'ipvsadm', '-Ln'], { encoding: 'utf8', env });
    expect(list.status).toBe(0);
    expect(list.stdout).toContain('Prot LocalAddress:Port Scheduler Flags');
    expect(list.stdout).toContain(`TCP  127.0.0.1:${vsPort} rr`);
    // The finished request may still be closing (IPVS too counts closing connections as inactive).
    expect(list.stdout).toMatch(new RegExp(`  -> 127\\.0\\.0\\.1:${bport} +Masq +1 +0 +[01]$`, 'm'));
    // --stats: the one connection and the bytes it carried, per service and per server.
    const stats = spawnSync(process.execPath, [CLI, 'ipvsadm', '-Ln', '--stats'], { encoding: 'utf8', env });
    expect(stats.status).toBe(0);
    expect(stats.stdout).toMatch(/^Prot LocalAddress:Port +Conns +InPkts +OutPkts +InBytes +OutBytes$/m);
    const row = stats.stdout.split('\n').find((l) => l.startsWith(`  -> 127.0.0.1:${bport}`))!;
    const [conns, , , inBytes, outBytes] = row.trim().split(/\s+/).slice(2).map(Number);
    expect(conns).toBe(1);
    expect(inBytes).toBeGreaterThan(40); // the GET request
    expect(outBytes).toBeGreaterThan(100); // headers + 'backend'
    d.kill('SIGTERM');
    const code = await new Promise((r) => d.on('exit', r));
    expect(code).toBe(0);
    backend.close();
  }, 20_000);

  it('SIGHUP reloads the load balancer: a real server added appears, a broken config changes nothing', async () => {
    const { createServer } = await import('node:http');
    const { spawn } = await import('node:child_process');
    const listen = async (body: string) => {
      const srv = createServer((_q, res) => res.end(body)).listen(0, '127.0.0.1');
      await new Promise((r) => srv.once('listening', r));
      return { srv, port: (srv.address() as { port: number }).port };
    };
    const [a, b] = [await listen('a'), await listen('b')];
    const vsPort = 20000 + Math.floor(Math.random() * 20000);
    const rsBlock = (port: number) => ` real_server 127.0.0.1 ${port} {\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n`;
    const conf = (ports: number[]) => `virtual_server 127.0.0.1 ${vsPort} {\n delay_loop 1\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n${ports.map(rsBlock).join('')}}\n`;
    const p = file('reload-lb.conf', conf([a.port]));
    const env = { ...process.env, KEEPALIVED_TS_CONTROL: join(dir, 'ctl-reload.sock') };
    const d = spawn(process.execPath, [CLI, '-n', '-l', '-C', '-f', p, '-p', join(dir, 'reload-lb.pid')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    d.stdout.on('data', (c) => (out += c));
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 50 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(re);
    };
    const servers = () => spawnSync(process.execPath, [CLI, 'ipvsadm', '-Ln'], { encoding: 'utf8', env }).stdout.split('\n').filter((l) => l.startsWith('  -> 127.')).length;
    await waitFor(/ready/);
    expect(servers()).toBe(1);
    writeFileSync(p, conf([a.port, b.port]));
    d.kill('SIGHUP');
    await waitFor(/Reload finished/);
    expect(servers()).toBe(2);
    writeFileSync(p, conf([a.port]).replace('lvs_sched rr', 'lvs_sched rr\n bogus_keyword {'));
    d.kill('SIGHUP');
    await waitFor(/keeping the running configuration/);
    expect(servers()).toBe(2);
    d.kill('SIGTERM');
    expect(await new Promise((r) => d.on('exit', r))).toBe(0);
    a.srv.close();
    b.srv.close();
  }, 20_000);

  it('omega: SIGTERM runs notify_down of the servers in service before the daemon exits', async () => {
    const { createServer } = await import('node:http');
    const { spawn } = await import('node:child_process');
    const { chmodSync, existsSync } = await import('node:fs');
    const backend = createServer((_q, res) => res.end('b')).listen(0, '127.0.0.1');
    await new Promise((r) => backend.once('listening', r));
    const bport = (backend.address() as { port: number }).port;
    const mark = join(dir, 'omega-ran');
    const script = file('omega-down.sh', `#!/bin/sh\necho "$@" > ${mark}\n`);
    chmodSync(script, 0o755);
    const vsPort = 20000 + Math.floor(Math.random() * 20000);
    const p = file('omega.conf', `global_defs {\n enable_script_security\n script_user root\n}\nvirtual_server 127.0.0.1 ${vsPort} {\n delay_loop 1\n lvs_sched rr\n omega\n protocol TCP\n real_server 127.0.0.1 ${bport} {\n  notify_down "${script} down"\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n}\n`);
    const env = { ...process.env, KEEPALIVED_TS_CONTROL: join(dir, 'ctl-omega.sock') };
    const d = spawn(process.execPath, [CLI, '-n', '-l', '-C', '-f', p, '-p', join(dir, 'omega.pid')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    d.stdout.on('data', (c) => (out += c));
    for (let i = 0; i < 50 && !/ready/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toMatch(/ready/);
    expect(existsSync(mark)).toBe(false);
    d.kill('SIGTERM');
    expect(await new Promise((r) => d.on('exit', r))).toBe(0);
    expect(readFileSync(mark, 'utf8').trim()).toBe('down');
    backend.close();
  }, 20_000);

  it('SIGHUP with the first virtual_server blocks starts the load balancer', async () => {
    const { createServer } = await import('node:http');
    const { spawn } = await import('node:child_process');
    const backend = createServer((_q, res) => res.end('late')).listen(0, '127.0.0.1');
    await new Promise((r) => backend.once('listening', r));
    const bport = (backend.address() as { port: number }).port;
    const vsPort = 20000 + Math.floor(Math.random() * 20000);
    const p = file('late-lb.conf', 'global_defs {\n router_id late\n}\n');
    const env = { ...process.env, KEEPALIVED_TS_CONTROL: join(dir, 'ctl-late.sock') };
    const d = spawn(process.execPath, [CLI, '-n', '-l', '-C', '-f', p, '-p', join(dir, 'late.pid')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    d.stdout.on('data', (c) => (out += c));
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 50 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(re);
    };
    await waitFor(/0 virtual server\(s\)/);
    writeFileSync(p, `virtual_server 127.0.0.1 ${vsPort} {\n delay_loop 1\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n real_server 127.0.0.1 ${bport} {\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n}\n`);
    d.kill('SIGHUP');
    await waitFor(new RegExp(`virtual server TCP 127\\.0\\.0\\.1:${vsPort} ready`));
    const list = spawnSync(process.execPath, [CLI, 'ipvsadm', '-Ln'], { encoding: 'utf8', env });
    expect(list.stdout).toContain(`  -> 127.0.0.1:${bport}`);
    d.kill('SIGTERM');
    expect(await new Promise((r) => d.on('exit', r))).toBe(0);
    backend.close();
  }, 20_000);
});
