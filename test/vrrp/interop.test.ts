// keepalived-ts and the real keepalived 2.2.7 in one VRRP election, in network namespaces made
// by the test: who becomes MASTER, who holds the VIP, how fast each takes over from the other.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { netnsSkip, poll } from '../helpers/netns.js';

const skip = netnsSkip('keepalived interop tests', { keepalived: true });

const VIP = '10.99.7.100';

function conf(o: { prio: number; pass?: string; version?: 2 | 3; advert?: string; state?: string; top?: string; inst?: string }): string {
  return `
global_defs {
  router_id r${o.prio}
  ${o.top ? 'enable_script_security\n  script_user root' : ''}
}
${o.top ?? ''}
vrrp_instance VI_1 {
  ${o.inst ?? ''}
  state ${o.state ?? 'BACKUP'}
  interface eth0
  virtual_router_id 51
  priority ${o.prio}
  advert_int ${o.advert ?? '1'}
  ${o.version ? `version ${o.version}` : ''}
  ${o.version === 3 ? '' : `authentication {\n    auth_type PASS\n    auth_pass ${o.pass ?? 's3cret'}\n  }`}
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

describe.skipIf(skip)('interop with keepalived 2.2.7 in network namespaces', () => {
  const pair = interopPair({ subnet: 7, vips: [VIP] });

  it('(a-c) ours at the higher priority is MASTER; keepalived takes over after kill -9 within Master_Down_Interval + 0.5 s; ours preempts back', async () => {
    const { ours, theirs } = pair;
    const k = pair.startKeepalived(conf({ prio: 100 }), 'a');
    const o = pair.startOurs(conf({ prio: 150 }), 'a');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    await k.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    expect(await pair.hasVip(theirs)).toBe(false);

    // (b) kill -9: no priority-0 advert; keepalived waits for its Master_Down_Interval.
    const killedAt = Date.now();
    await o.kill('SIGKILL', 0);
    const from = k.lines.length;
    const line = await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from });
    const took = line.at - killedAt;
    expect(took).toBeLessThan(3609 + 500);
    await pair.waitVip(theirs, true, 3000, 'VIP on keepalived');

    // (c) restarted with preempt, ours takes the VIP back.
    const o2 = pair.startOurs(conf({ prio: 150 }), 'c');
    await o2.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await k.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000, from });
    await pair.waitVip(theirs, false, 3000, 'VIP gone from keepalived');
    expect(await pair.hasVip(ours)).toBe(true);
    await pair.stop();
  }, 60_000);

  it('(d) roles swapped: keepalived MASTER, ours takes over after kill -9 and yields when it returns', async () => {
    const { ours } = pair;
    const k = pair.startKeepalived(conf({ prio: 150 }), 'd');
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const o = pair.startOurs(conf({ prio: 100 }), 'd');
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 2000));
    expect(o.output()).not.toMatch(/Entering MASTER STATE/);

    const killedAt = Date.now();
    await k.kill('SIGKILL', 0);
    const line = await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    expect(line.at - killedAt).toBeLessThan(3609 + 500);
    await pair.waitVip(ours, true, 3000, 'VIP on ours');

    const from = o.lines.length;
    const k2 = pair.startKeepalived(conf({ prio: 150 }), 'd2');
    await k2.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000, from });
    await pair.waitVip(ours, false, 3000, 'VIP gone from ours');
    await pair.stop();
  }, 60_000);

  it('SIGTERM: ours sends priority 0, removes the VIP, and keepalived takes over within its skew time; notify scripts ran in order', async () => {
    const { lab, ours } = pair;
    const k = pair.startKeepalived(conf({ prio: 100 }), 'g');
    const log = join(lab.dir, 'notify.log');
    const o = pair.startOurs(conf({ prio: 150, top: ' ', inst: `notify "/bin/sh -c 'echo $* >> ${log}' notify"` }), 'g');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await k.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    const from = k.lines.length;
    const stoppedAt = Date.now();
    await o.kill('SIGTERM', 5000);
    expect(o.exitCode).toBe(0);
    expect(await pair.hasVip(ours)).toBe(false);
    const line = await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 5_000, from });
    // Skew_Time for priority 100 is 0.609 s; keepalived logs the priority-0 advert.
    expect(line.at - stoppedAt).toBeLessThan(609 + 500);
    expect(k.output()).toMatch(/priority 0|Backup received priority 0/i);
    await poll(() => (existsSync(log) && readFileSync(log, 'utf8').includes('STOP') ? true : undefined), { timeoutMs: 3000, what: 'STOP notify' });
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['INSTANCE VI_1 BACKUP 150', 'INSTANCE VI_1 MASTER 150', 'INSTANCE VI_1 STOP 150']);
    await pair.stop();
  }, 60_000);

  it('a tracked vrrp_script with enough weight moves mastership to keepalived and back', async () => {
    const { lab, ours, theirs } = pair;
    const flag = join(lab.dir, 'down');
    const k = pair.startKeepalived(conf({ prio: 100 }), 'h');
    const top = `vrrp_script chk {\n  script "/bin/sh -c '[ ! -e ${flag} ]'"\n  interval 1\n  weight -60\n}`;
    const o = pair.startOurs(conf({ prio: 150, top, inst: 'track_script {\n    chk\n  }' }), 'h');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const from = k.lines.length;
    const ourFrom = o.lines.length;
    writeFileSync(flag, '');
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from });
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000, from: ourFrom });
    await pair.waitVip(theirs, true, 5000, 'VIP on keepalived');
    await pair.waitVip(ours, false, 5000, 'VIP gone from ours');
    expect(o.output()).toMatch(/Changing effective priority from 150 to 90/);
    rmSync(flag);
    await o.waitForLine(/Changing effective priority from 90 to 150/, { timeoutMs: 10_000 });
    await pair.waitVip(ours, true, 10_000, 'VIP back on ours');
    await pair.stop();
  }, 60_000);

  // Stand-ins for track_process: copies of sleep under distinctive names. Processes are not
  // namespaced by `ip netns`, so one started here is seen by the daemon in its namespace.
  const standIn = (name: string): ChildProcess => {
    const path = join(pair.lab.dir, name);
    if (!existsSync(path)) copyFileSync('/bin/sleep', path);
    const c = spawn(path, ['600'], { stdio: 'ignore' });
    onTestFinished(() => void c.kill('SIGKILL'));
    return c;
  };

  it('track_process: a killed process lowers the priority (keepalived takes over) or faults the instance; restarted, ours is MASTER again', async () => {
    const { ours, theirs } = pair;
    const tag = Math.random().toString(36).slice(2, 8);
    const [web, db] = [`kt-web-${tag}`, `kt-db-${tag}`];
    const webProc = standIn(web);
    const dbProc = standIn(db);
    await new Promise((r) => setTimeout(r, 300)); // both exec'd under their names
    const k = pair.startKeepalived(conf({ prio: 100 }), 'tp');
    const top = `vrrp_track_process web {\n  process ${web}\n  weight -60\n}\nvrrp_track_process db {\n  process ${db}\n}`;
    const o = pair.startOurs(conf({ prio: 150, top, inst: 'track_process {\n    web\n    db\n  }' }), 'tp');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    expect(o.output()).not.toMatch(/Quorum|quorum not achieved/);

    // weight -60: 150 → 90, below keepalived's 100, which takes over at its master-down timer.
    let from = o.lines.length;
    let fromK = k.lines.length;
    const t0 = performance.now();
    webProc.kill('SIGKILL');
    await o.waitForLine(/Quorum lost for tracked process web/, { timeoutMs: 5000, from });
    const lost = performance.now() - t0;
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from: fromK });
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 5000, from });
    console.log(`track_process: kill seen after ${lost.toFixed(0)} ms (scan every 1 s); keepalived MASTER after ${(performance.now() - t0).toFixed(0)} ms`);
    await pair.waitVip(theirs, true, 5000, 'VIP on keepalived');
    from = o.lines.length;
    standIn(web);
    await o.waitForLine(/Quorum gained for tracked process web/, { timeoutMs: 5000, from });
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from });

    // weight 0: FAULT while db is down, MASTER again once it runs.
    from = o.lines.length;
    fromK = k.lines.length;
    dbProc.kill('SIGKILL');
    await o.waitForLine(/Quorum lost for tracked process db/, { timeoutMs: 5000, from });
    await o.waitForLine(/Entering FAULT STATE/, { timeoutMs: 5000, from });
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from: fromK });
    await pair.waitVip(ours, false, 5000, 'VIP gone from ours');
    from = o.lines.length;
    standIn(db);
    await o.waitForLine(/Quorum gained for tracked process db/, { timeoutMs: 5000, from });
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from });
    await pair.waitVip(ours, true, 5000, 'VIP back on ours');
    await pair.stop();
  }, 60_000);

  it("track_process: at start, a missing process of a weight 0 tracker is a FAULT with keepalived's line", async () => {
    const top = `vrrp_track_process gone {\n  process kt-none-${Math.random().toString(36).slice(2, 8)}\n}`;
    const o = pair.startOurs(conf({ prio: 150, top, inst: 'track_process {\n    gone\n  }' }), 'tp0');
    await o.waitForLine(/\(VI_1\) entering FAULT state \(tracked process gone quorum not achieved\)/, { timeoutMs: 10_000 });
    await o.waitForLine(/Entering FAULT STATE/, { timeoutMs: 5000 });
    await pair.stop();
  }, 30_000);

  it('SIGHUP keeps unchanged instances as they are, refuses a broken config, starts new instances', async () => {
    const { lab, ours } = pair;
    const o = pair.startOurs(conf({ prio: 150 }), 'hup');
    const file = o.configFile;
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    const kill = (sig: string) => lab.exec(ours, ['kill', `-${sig}`, String(o.pid)]);

    // Same file: nothing moves, the VIP never leaves.
    let from = o.lines.length;
    await kill('HUP');
    await o.waitForLine(/Reload finished: 1 instance\(s\) kept as they were, 0 \(re\)started/, { timeoutMs: 5000, from });
    expect(o.lines.slice(from).some((l) => /Entering/.test(l.text))).toBe(false);
    expect(await pair.hasVip(ours)).toBe(true);

    // A broken config is refused; the running one stays.
    writeFileSync(file, conf({ prio: 150 }).replace('priority 150', 'priority 300 {'));
    from = o.lines.length;
    await kill('HUP');
    await o.waitForLine(/keeping the running configuration/, { timeoutMs: 5000, from });
    expect(await pair.hasVip(ours)).toBe(true);

    // A new instance starts; the unchanged one is kept.
    const second = conf({ prio: 150 })
      .replace('vrrp_instance VI_1', 'vrrp_instance VI_2')
      .replace('virtual_router_id 51', 'virtual_router_id 52')
      .replace(VIP, '10.99.7.101')
      .replace(/global_defs \{[^}]*\}/, '');
    writeFileSync(file, conf({ prio: 150 }) + second);
    from = o.lines.length;
    await kill('HUP');
    await o.waitForLine(/Reload finished: 1 instance\(s\) kept as they were, 1 \(re\)started/, { timeoutMs: 5000, from });
    await o.waitForLine(/\(VI_2\) Entering MASTER STATE/, { timeoutMs: 10_000, from });
    expect(o.lines.slice(from).some((l) => /\(VI_1\) Entering/.test(l.text))).toBe(false);
    await poll(async () => (await lab.addresses(ours)).includes('10.99.7.101') || undefined, { timeoutMs: 3000, what: 'VI_2 VIP' });
    await pair.stop();
  }, 60_000);

  it('becoming MASTER sends gratuitous ARPs for the VIP from our MAC (arping)', async () => {
    const { lab, ours, theirs } = pair;
    const cap = pair.spawn(theirs, ['tcpdump', '-i', 'eth0', '-nn', '-e', '-l', '-c', '3', 'arp', 'and', 'host', VIP], { name: 'tcpdump-garp' });
    await cap.waitForLine(/listening on/, { timeoutMs: 5000 });
    const o = pair.startOurs(conf({ prio: 150 }), 'garp');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const mac = (await lab.exec(ours, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
    const line = await cap.waitForLine(new RegExp(`${mac}.*ARP.*${VIP.replace(/\./g, '\\.')}`, 'i'), { timeoutMs: 5000 });
    // A gratuitous ARP: a broadcast request for the VIP that names the VIP as its sender.
    expect(line.text).toMatch(/ff:ff:ff:ff:ff:ff.*Request who-has 10\.99\.7\.100 .*tell 10\.99\.7\.100/);
    await pair.stop();
  }, 60_000);

  it('malformed VRRP packets are counted by reason and dropped; the daemon keeps running', async ({ onTestFinished }) => {
    const { lab, ours, theirs } = pair;
    // SIGUSR2 writes keepalived's path, outside the lab's directory: leave nothing behind.
    const statsFile = '/tmp/keepalived.stats';
    onTestFinished(() => rmSync(statsFile, { force: true }));
    const o = pair.startOurs(conf({ prio: 150 }), 'fuzz');
    const master = await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    // From the other namespace: truncated, bad checksum and random payloads, protocol 112, TTL 255.
    const py = [
      'import socket, os, random',
      's = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)',
      's.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)',
      "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'eth0')",
      "good = bytes.fromhex('21336401000196ba0a63076400000000' + '73336372657400' + '00')",
      'random.seed(7)',
      "pkts = [good[:5], good[:7] + b'\\x00' + good[8:], bytes([0x21, 51]) + os.urandom(30)] + [bytes(random.getrandbits(8) for _ in range(random.randint(1, 60))) for _ in range(200)]",
      "for p in pkts: s.sendto(p, ('224.0.0.18', 0))",
    ].join('\n');
    const r = await lab.exec(theirs, ['python3', '-c', py]);
    expect(r.code, r.stderr).toBe(0);
    await new Promise((res) => setTimeout(res, 1500));
    expect(o.exitCode).toBeNull();
    await lab.exec(ours, ['kill', '-USR2', String(o.pid)]);
    await o.waitForLine(/Wrote .*keepalived\.stats/, { timeoutMs: 5000 });
    const stats = readFileSync(statsFile, 'utf8');
    // Ours (VRID 51) are dropped by reason (the keepalived-ts section); the others are counted as
    // unknown VRIDs.
    const pairs = (line: string | undefined): [string, number][] => [...(line ?? '').matchAll(/([\w/-]+) (\d+)/g)].map((m) => [m[1], Number(m[2])]);
    const drops = Object.fromEntries(pairs(/^ {2}VI_1: (.*)$/m.exec(stats)?.[1])) as Record<string, number>;
    const n = (reason: string): number => drops[reason] ?? 0;
    const unknown = pairs(/^Adverts for unknown VRIDs: (.*)$/m.exec(stats)?.[1]).reduce((a, [, c]) => a + c, 0);
    expect(n('length') + n('checksum')).toBeGreaterThanOrEqual(2);
    expect(n('length') + n('checksum') + n('version') + n('type') + unknown).toBeGreaterThanOrEqual(200);
    // keepalived's own lines agree with the drops: Length and Invalid Type.
    expect(Number(/^ {4}Length: (\d+)$/m.exec(stats)?.[1])).toBe(n('length'));
    expect(
      o.lines
        .slice(master.index + 1)
        .filter((l) => /Entering/.test(l.text))
        .map((l) => l.text),
    ).toEqual([]);
    await pair.stop();
  }, 60_000);

  it('(e) an authentication mismatch is ignored by both sides: both become MASTER', async () => {
    const { ours, theirs } = pair;
    const k = pair.startKeepalived(conf({ prio: 100, pass: 'other' }), 'e');
    const o = pair.startOurs(conf({ prio: 150 }), 'e');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    await pair.waitVip(theirs, true, 3000, 'VIP on keepalived');
    await pair.stop();
  }, 60_000);

  it('(f) VRRPv3 with advert_int 0.1 fails over in under half a second', async () => {
    const k = pair.startKeepalived(conf({ prio: 100, version: 3, advert: '0.1' }), 'f');
    const o = pair.startOurs(conf({ prio: 150, version: 3, advert: '0.1' }), 'f');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await k.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 500));
    const from = k.lines.length;
    const killedAt = Date.now();
    await o.kill('SIGKILL', 0);
    const line = await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 5_000, from });
    expect(line.at - killedAt).toBeLessThan(500);
    await pair.stop();
  }, 60_000);
});
