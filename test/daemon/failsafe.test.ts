// What the daemon does when something goes wrong, beside the real keepalived in network
// namespaces: an uncaught exception (injected through the KEEPALIVED_TS_TEST_CRASH test seam) is
// a SIGTERM with a failure status: priority 0, so keepalived takes over within its skew time
// rather than its down interval, no VIP left behind, pid files gone; a stop after a crash that
// hangs still ends the process 5 s later with status 1. A missing interface at start
// is one line and keepalived 2.2.7's exit status 2.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { netnsSkip, poll, REPO_ROOT } from '../helpers/netns.js';

const skip = netnsSkip('fail-safe tests', { keepalived: true });

const VIP = '10.99.61.100';
const CLI = join(REPO_ROOT, 'dist/keepalived-ts.mjs');
const conf = (prio: number, ifname = 'eth0') => `vrrp_instance VI_1 {
  state BACKUP
  interface ${ifname}
  virtual_router_id 61
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;

describe.skipIf(skip)('fail-safe: crashes and a missing interface', () => {
  const pair = interopPair({ subnet: 61, vips: [VIP] });

  /** keepalived BACKUP beside ours MASTER, ours set to crash (KEEPALIVED_TS_TEST_CRASH=crash). */
  async function crashingPair(name: string, crash: string) {
    const { lab, ours, theirs } = pair;
    const k = pair.startKeepalived(conf(100), name);
    const o = pair.startOurs(conf(150), name, { env: { KEEPALIVED_TS_RUNTIME_DIR: join(lab.dir, `rt-${name}`), KEEPALIVED_TS_TEST_CRASH: crash } });
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await poll(async () => ((await pair.hasVip(ours)) && !(await pair.hasVip(theirs))) || undefined, { timeoutMs: 5000, what: 'VIP on ours only' });
    return { k, o, pid: o.pidFile, vrrpPid: o.vrrpPidFile, fromK: k.lines.length };
  }

  it('an uncaught exception sends priority 0, removes the VIP and the pid files, and exits non-zero', async () => {
    const { ours, theirs } = pair;
    const { k, o, pid, vrrpPid, fromK } = await crashingPair('crash', '6000');
    expect(existsSync(pid)).toBe(true);

    const crashed = await o.waitForLine(/Uncaught exception: Error: injected crash/, { timeoutMs: 10_000 });
    await o.exited;
    expect(o.exitCode).toBe(1);
    expect(o.output()).toMatch(/Stopped/);
    expect(await pair.hasVip(ours)).toBe(false);
    expect(existsSync(pid)).toBe(false);
    expect(existsSync(vrrpPid)).toBe(false);

    // keepalived hears priority 0 and takes over after its skew time ((256-100)/256 s = 0.61 s),
    // not its Master_Down_Interval (3.61 s).
    const took = await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 5000, from: fromK });
    const after = took.mono - crashed.mono;
    console.log(`keepalived MASTER ${after.toFixed(0)} ms after the injected crash`);
    expect(after).toBeLessThan(2500);
    expect(
      k.lines
        .slice(fromK)
        .map((l) => l.text)
        .join('\n'),
    ).toMatch(/Backup received priority 0/i);
    await poll(async () => (await pair.hasVip(theirs)) || undefined, { timeoutMs: 3000, what: 'VIP on keepalived' });
    await k.kill('SIGTERM', 3000);
  }, 60_000);

  it('a crash whose stop hangs still sends priority 0 and ends the process 5 s later, status 1', async () => {
    const { ours } = pair;
    const { k, o, pid, vrrpPid, fromK } = await crashingPair('hang', '6000:hang-stop');

    const crashed = await o.waitForLine(/Uncaught exception: Error: injected crash/, { timeoutMs: 10_000 });
    await o.waitForLine(/the stop hangs here/, { timeoutMs: 5000 });
    await o.exited;
    const fatal = o.lines.find((l) => /did not finish within 5000 ms: exiting anyway/.test(l.text));
    expect(fatal).toBeDefined();
    const after = fatal!.mono - crashed.mono;
    console.log(`process ended ${after.toFixed(0)} ms after the injected crash (stop hung)`);
    expect(after).toBeGreaterThanOrEqual(4900);
    expect(after).toBeLessThan(7000);
    expect(o.exitCode).toBe(1);
    expect(o.output()).not.toMatch(/"msg":"Stopped"/);
    expect(await pair.hasVip(ours)).toBe(false);
    expect(existsSync(pid)).toBe(false);
    expect(existsSync(vrrpPid)).toBe(false);
    // The VRRP part of the stop ran before the hang: keepalived heard priority 0.
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 5000, from: fromK });
    expect(
      k.lines
        .slice(fromK)
        .map((l) => l.text)
        .join('\n'),
    ).toMatch(/Backup received priority 0/i);
    await k.kill('SIGTERM', 3000);
  }, 60_000);

  it('a start with a missing interface prints one line with its position and exits 2, as keepalived 2.2.7', async () => {
    const { lab, ours } = pair;
    const file = join(lab.dir, 'ours-noif.conf');
    writeFileSync(file, conf(150, 'eth9'));
    const r = await lab.exec(
      ours,
      // -G: stderr holds the one line, whether or not this host has a syslog socket.
      [process.execPath, CLI, '-n', '-l', '-G', '-P', '-f', file, '-p', join(lab.dir, 'noif.pid'), '-r', join(lab.dir, 'noif-vrrp.pid')],
      {
        timeoutMs: 15_000,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${file}:3:3: error: interface eth9 for vrrp_instance VI_1 doesn't exist (write the name of an interface \`ip link\` lists) [host-interface]`,
    ]);
    expect(r.stdout).not.toMatch(/TransportError|^\s+at /m);
    expect(existsSync(join(lab.dir, 'noif.pid'))).toBe(false);
  }, 30_000);

  it('with dynamic_interfaces a missing interface leaves the instance FAULT, as keepalived 2.2.7; it starts once the interface exists', async () => {
    const { lab, ours } = pair;
    const vip = '10.99.161.100';
    const text = `global_defs {\n  dynamic_interfaces\n}\n${conf(150, 'eth9').replace(`${VIP}/24`, `${vip}/24`)}`;
    const o = pair.startOurs(text, 'dyn', { env: { KEEPALIVED_TS_RUNTIME_DIR: join(lab.dir, 'rt-dyn') } });
    await o.waitForLine(/interface eth9 which doesn't currently exist - will use if created/, { timeoutMs: 10_000 });
    await o.waitForLine(/\(VI_1\) Entering FAULT STATE/, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(o.running).toBe(true);
    expect(o.output()).not.toMatch(/Entering (BACKUP|MASTER) STATE/);

    for (const argv of [
      ['ip', 'link', 'add', 'eth9', 'type', 'veth', 'peer', 'name', 'eth9p'],
      ['ip', 'addr', 'add', '10.99.161.1/24', 'dev', 'eth9'],
      ['ip', 'link', 'set', 'eth9p', 'up'],
      ['ip', 'link', 'set', 'eth9', 'up'],
    ])
      expect((await lab.exec(ours, argv)).code).toBe(0);
    await o.waitForLine(/Interface eth9 appeared/, { timeoutMs: 5000 });
    await o.waitForLine(/\(VI_1\) Entering BACKUP STATE/, { timeoutMs: 5000 });
    // Alone on that link: MASTER after the down interval, the VIP on eth9.
    await o.waitForLine(/\(VI_1\) Entering MASTER STATE/, { timeoutMs: 8000 });
    const onEth9 = async (): Promise<boolean> => (await lab.exec(ours, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth9'])).stdout.includes(vip);
    await poll(async () => (await onEth9()) || undefined, { timeoutMs: 3000, what: 'VIP on eth9' });
    await o.kill('SIGTERM', 5000);
    expect(o.exitCode).toBe(0);
    expect(await onEth9()).toBe(false);
    await lab.exec(ours, ['ip', 'link', 'del', 'eth9']);
  }, 60_000);
});
