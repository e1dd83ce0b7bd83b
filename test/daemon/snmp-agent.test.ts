// The subagent's own bounds: its answers to Get, GetNext and GetBulk over the cells (the search
// range's end respected), the snmp_socket forms, and, against a real snmpd, a daemon started
// before its master agent: one log line for the outage, registration once snmpd is there, and
// again after snmpd restarts, the daemon running throughout.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { answer, parseAgentxSocket, SnmpAgent } from '../../src/daemon/snmp-agent.js';
import { GLOBAL_OID, type Cell } from '../../src/daemon/snmp-mib.js';
import { poll } from '../helpers/netns.js';

const cells: Cell[] = [
  { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 1, 0], type: 'OctetString', value: Buffer.from('v') },
  { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 1, 2, 0], type: 'OctetString', value: Buffer.from('r') },
  { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 3, 1, 2, 1], type: 'OctetString', value: Buffer.from('VI_1') },
  { oid: [1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 3, 1, 3, 1], type: 'Unsigned', value: 41 },
];
const K = '1.3.6.1.4.1.9586.100.5';

describe('the AgentX answers', () => {
  it('Get: the exact object or noSuchObject', () => {
    const r = answer(cells, {
      pduType: 5,
      searchRangeList: [
        { start: `${K}.1.2.0`, end: null },
        { start: `${K}.1.3.0`, end: null },
      ],
    });
    expect(r.map((v) => [v.oid, v.type])).toEqual([
      [`${K}.1.2.0`, 4],
      [`${K}.1.3.0`, 128],
    ]);
  });

  it('GetNext: the next object inside the range, else endOfMibView', () => {
    const r = answer(cells, {
      pduType: 6,
      searchRangeList: [
        { start: `${K}.1`, end: null },
        { start: `${K}.1.2.0`, end: `${K}.2` },
        { start: `${K}.2.3.1.3.1`, end: null },
      ],
    });
    expect(r.map((v) => [v.oid, v.type])).toEqual([
      [`${K}.1.1.0`, 4],
      [`${K}.1.2.0`, 130],
      [`${K}.2.3.1.3.1`, 130],
    ]);
  });

  it('GetBulk: non-repeaters once, repeaters until the end', () => {
    const r = answer(cells, {
      pduType: 7,
      nonRepeaters: 1,
      maxRepetitions: 10,
      searchRangeList: [
        { start: K, end: null },
        { start: `${K}.1.2.0`, end: null },
      ],
    });
    expect(r.map((v) => `${v.oid} ${v.type}`)).toEqual([`${K}.1.1.0 4`, `${K}.2.3.1.2.1 4`, `${K}.2.3.1.3.1 66`, `${K}.2.3.1.3.1 130`]);
  });

  it('reads snmp_socket as net-snmp writes AgentX sockets', () => {
    expect(parseAgentxSocket('unix:/var/agentx/master')).toEqual({ path: '/var/agentx/master' });
    expect(parseAgentxSocket('/run/agentx')).toEqual({ path: '/run/agentx' });
    expect(parseAgentxSocket('tcp:localhost:705')).toEqual({ host: 'localhost', port: 705 });
    expect(parseAgentxSocket('127.0.0.1:705')).toEqual({ host: '127.0.0.1', port: 705 });
    expect(parseAgentxSocket('udp:x')).toHaveProperty('error');
  });
});

const CLI = join(__dirname, '../../dist/keepalived-ts.mjs');
const haveSnmpd = !!spawnSync('sh', ['-c', 'command -v snmpd && command -v snmpget']).stdout?.toString().trim();
if (!haveSnmpd) console.warn('SNMP master-agent test skipped: snmpd or snmpget absent (apt-get install snmpd snmp)');

describe.skipIf(!haveSnmpd)('the subagent before, without and after its master agent', () => {
  it('logs the outage once, registers when snmpd comes, and again after snmpd restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-snmp-'));
    const socket = join(dir, 'agentx.sock');
    // snmpd's own UDP port for snmpget, on the loopback: a random one, nothing else of ours uses it.
    const port = 20000 + Math.floor(Math.random() * 20000);
    const conf = join(dir, 'k.conf');
    writeFileSync(conf, `global_defs {\n  router_id lone\n  enable_snmp_checker\n  snmp_socket unix:${socket}\n}\n`);
    writeFileSync(join(dir, 'master.conf'), `master agentx\nagentXSocket unix:${socket}\nagentaddress udp:127.0.0.1:${port}\nrocommunity public\n`);
    const snmpd = (): ChildProcess =>
      spawn('snmpd', ['-f', '-C', '-I', '-smux', '-c', join(dir, 'master.conf'), '-Lo', '-p', join(dir, 'snmpd.pid')], {
        env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' },
        stdio: 'ignore',
      });
    const routerId = (): string => {
      const r = spawnSync('snmpget', ['-v2c', '-c', 'public', '-On', '-t', '1', '-r', '0', `127.0.0.1:${port}`, `.${K}.1.2.0`], {
        env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' },
      });
      return `${r.stdout.toString()}${r.stderr.toString()}`;
    };
    // -C: the checker part only, which needs neither root nor an interface.
    const d = spawn(process.execPath, [CLI, '-n', '-C', '-l', '-G', '-f', conf, '-p', join(dir, 'k.pid')], { env: { ...process.env, TMPDIR: dir } });
    let out = '';
    d.stdout.on('data', (b: Buffer) => (out += b.toString()));
    d.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const lines = (s: string) => out.split('\n').filter((l) => l.includes(s)).length;
    let master: ChildProcess | undefined;
    try {
      const opts = { timeoutMs: 30_000, intervalMs: 200, diagnose: () => out };
      await poll(() => lines('SNMP: no master agent at') === 1, { what: 'the outage logged', ...opts });
      // A few retries fail (1 s, then 2 s apart) before snmpd starts: still one line.
      await new Promise((r) => setTimeout(r, 3500));
      master = snmpd();
      await poll(() => lines('SNMP subagent registered') === 1, { what: 'the registration', ...opts });
      expect(lines('SNMP: no master agent at')).toBe(1);
      await poll(() => routerId().includes('STRING: "lone"'), { what: 'routerId through snmpd', ...opts, diagnose: () => `${out}\n${routerId()}` });

      // snmpd goes away: one more line, the daemon runs on; it comes back: registered again.
      const gone = new Promise((r) => master!.once('exit', r));
      master.kill('SIGTERM');
      await poll(() => lines('SNMP: no master agent at') === 2, { what: 'the second outage logged', ...opts });
      await gone;
      master = snmpd();
      await poll(() => lines('SNMP subagent registered') === 2, {
        what: 'the registration after the restart',
        timeoutMs: 60_000,
        intervalMs: 200,
        diagnose: () => out,
      });
      await poll(() => routerId().includes('STRING: "lone"'), { what: 'routerId after the restart', ...opts });
      expect(d.exitCode).toBe(null);
    } finally {
      master?.kill('SIGTERM');
      d.kill('SIGTERM');
      await new Promise((r) => (d.exitCode !== null ? r(null) : d.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    }
    expect(d.exitCode).toBe(0);
  }, 120_000);

  it('start() returns once registered, so the trap of the first VRRP state goes out; with no master, once the attempt failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-snmp-start-'));
    const socket = join(dir, 'agentx.sock');
    const port = 20000 + Math.floor(Math.random() * 20000);
    writeFileSync(join(dir, 'master.conf'), `master agentx\nagentXSocket unix:${socket}\nagentaddress udp:127.0.0.1:${port}\n`);
    const agent = (path: string) =>
      new SnmpAgent({
        address: { path },
        label: path,
        cells: () => cells,
        subtrees: [GLOBAL_OID],
        description: 'test',
        log: { info: () => {}, warn: () => {} },
      });
    const trap = [1, 3, 6, 1, 4, 1, 9586, 100, 5, 2, 10, 0, 2];
    const lone = agent(join(dir, 'none.sock'));
    const master = spawn('snmpd', ['-f', '-C', '-I', '-smux', '-c', join(dir, 'master.conf'), '-Lo', '-p', join(dir, 'snmpd.pid')], {
      env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' },
      stdio: 'ignore',
    });
    const registered = agent(socket);
    try {
      // Nothing listens: the attempt fails at once, start() returns, and a trap is dropped (as keepalived's).
      await lone.start();
      lone.notify(trap, []);
      expect(lone.counts).toMatchObject({ trapsSent: 0, trapsDropped: 1 });
      await poll(() => existsSync(socket), { what: "snmpd's AgentX socket", timeoutMs: 20_000 });
      await registered.start();
      registered.notify(trap, []);
      expect(registered.counts).toMatchObject({ trapsSent: 1, trapsDropped: 0 });
    } finally {
      await lone.close();
      await registered.close();
      master.kill('SIGTERM');
      await new Promise((r) => (master.exitCode !== null ? r(null) : master.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
