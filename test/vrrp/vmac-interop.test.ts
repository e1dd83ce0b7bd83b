// use_vmac against keepalived 2.2.7 in network namespaces: both sides make vrrp.51 (a private
// macvlan with 00:00:5e:00:01:33), the master holds the VIP there, its adverts leave with the
// VMAC as source MAC, kill -9 fails over within Master_Down_Interval + 0.5 s both ways, and our
// SIGTERM removes the VMAC and puts the base interface's sysctls back.
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { killKeepalivedNs, netnsSkip, poll, type Host } from '../helpers/netns.js';

const skip = netnsSkip('VMAC interop tests', { keepalived: true });

const VIP = '10.99.58.100';
const VMAC = 'vrrp.51';
const MAC = '00:00:5e:00:01:33';
/** Master_Down_Interval for priority 100 at advert_int 1: 3 × 1 s + (256 − 100) / 256 s. */
const MASTER_DOWN_MS = 3609;

const conf = (prio: number): string => `
global_defs {
  router_id r${prio}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  use_vmac
  virtual_router_id 51
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;

describe.skipIf(skip)('use_vmac interop with keepalived 2.2.7', () => {
  const pair = interopPair({
    subnet: 58,
    cleanup: async ({ lab, hosts, theirs }) => {
      await killKeepalivedNs(theirs.ns);
      // kill -9 leaves the VMAC behind, as it does with keepalived.
      for (const h of hosts) await lab.exec(h, ['ip', 'link', 'del', 'dev', VMAC]);
      // ...and the base's sysctls it changed.
      for (const h of hosts) for (const k of ['arp_ignore', 'arp_filter']) await lab.exec(h, ['sysctl', '-qw', `net.ipv4.conf.eth0.${k}=0`]);
    },
  });

  const vmacAddresses = async (h: Host): Promise<string[] | undefined> => {
    const r = await pair.lab.exec(h, ['ip', '-4', '-o', 'addr', 'show', 'dev', VMAC]);
    return r.code === 0 ? [...r.stdout.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]) : undefined;
  };
  const waitVip = (h: Host, what: string, timeoutMs = 3000) =>
    poll(async () => (await vmacAddresses(h))?.includes(VIP) || undefined, { timeoutMs, intervalMs: 20, what });
  const macOf = async (h: Host): Promise<string> => (await pair.lab.exec(h, ['cat', `/sys/class/net/${VMAC}/address`])).stdout.trim();
  const sysctl = async (h: Host, path: string): Promise<string> => (await pair.lab.exec(h, ['cat', `/proc/sys/net/ipv4/conf/${path}`])).stdout.trim();
  /** Three adverts captured on `h`'s eth0 from `src` (tcpdump), each sent from the VMAC's MAC. */
  const expectAdvertsFromVmac = async (h: Host, src: string, name: string): Promise<void> => {
    const p = pair.spawn(h, ['tcpdump', '-l', '-e', '-n', '-c', '3', '-i', 'eth0', `ip proto 112 and src host ${src}`], { name });
    await p.exited;
    const adverts = p.lines.filter((l) => /VRRP/.test(l.text));
    expect(adverts.length, p.tail()).toBe(3);
    for (const a of adverts) expect(a.text).toContain(`${MAC} > 01:00:5e:00:00:12`);
  };

  it('ours MASTER: the VIP on its vrrp.51 with MAC 00:00:5e:00:01:33, adverts from that MAC; keepalived takes over after kill -9', async () => {
    const { lab, ours, theirs } = pair;
    const k = pair.startKeepalived(conf(100), 'vmac-a');
    await k.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    const o = pair.startOurs(conf(150), 'vmac-a');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await waitVip(ours, 'VIP on our vrrp.51');
    expect(await macOf(ours)).toBe(MAC);
    expect(await lab.addresses(ours)).not.toContain(VIP);
    // keepalived's sysctls on the VMAC and on its base.
    expect(await sysctl(ours, `${VMAC}/arp_ignore`)).toBe('1');
    expect(await sysctl(ours, `${VMAC}/accept_local`)).toBe('1');
    expect(await sysctl(ours, `${VMAC}/rp_filter`)).toBe('0');
    expect(await sysctl(ours, 'eth0/arp_filter')).toBe('1');
    expect((await vmacAddresses(theirs)) ?? []).not.toContain(VIP);

    await expectAdvertsFromVmac(theirs, ours.address, 'tcpdump-vmac-a');

    const killedAt = Date.now();
    await o.kill('SIGKILL', 0);
    const from = k.lines.length;
    const line = await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from });
    console.log(`VMAC failover ours -> keepalived after kill -9: ${line.at - killedAt} ms`);
    expect(line.at - killedAt).toBeLessThan(MASTER_DOWN_MS + 500);
    await waitVip(theirs, 'VIP on keepalived vrrp.51');
    expect(await macOf(theirs)).toBe(MAC);
    await pair.stop();
  }, 60_000);

  it('keepalived MASTER: ours takes over after kill -9 with its own VMAC; SIGTERM removes vrrp.51 and restores eth0', async () => {
    const { lab, ours, theirs } = pair;
    const before = { arpIgnore: await sysctl(ours, 'eth0/arp_ignore'), arpFilter: await sysctl(ours, 'eth0/arp_filter') };
    const k = pair.startKeepalived(conf(150), 'vmac-b');
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const o = pair.startOurs(conf(100), 'vmac-b');
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    await waitVip(theirs, 'VIP on keepalived vrrp.51');
    // Ours hears keepalived's adverts on its VMAC: it stays BACKUP.
    await new Promise((r) => setTimeout(r, 2500));
    expect(o.output()).not.toMatch(/Entering MASTER STATE/);
    expect((await vmacAddresses(ours)) ?? []).not.toContain(VIP);
    await expectAdvertsFromVmac(ours, theirs.address, 'tcpdump-vmac-b');

    const killedAt = Date.now();
    await killKeepalivedNs(theirs.ns);
    const line = await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    console.log(`VMAC failover keepalived -> ours after kill -9: ${line.at - killedAt} ms`);
    expect(line.at - killedAt).toBeLessThan(MASTER_DOWN_MS + 500);
    await waitVip(ours, 'VIP on our vrrp.51');
    expect(await macOf(ours)).toBe(MAC);

    await o.kill('SIGTERM', 5000);
    expect(o.exitCode).toBe(0);
    expect((await lab.exec(ours, ['ip', 'link', 'show', 'dev', VMAC])).code).not.toBe(0);
    expect({ arpIgnore: await sysctl(ours, 'eth0/arp_ignore'), arpFilter: await sysctl(ours, 'eth0/arp_filter') }).toEqual(before);
    await pair.stop();
  }, 60_000);

  it('a reload without use_vmac removes vrrp.51 and the VIP goes on eth0; one that adds it back makes it again', async () => {
    const { lab, ours } = pair;
    const o = pair.startOurs(conf(150), 'vmac-c');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await waitVip(ours, 'VIP on our vrrp.51');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(o.configFile, conf(150).replace('use_vmac', ''));
    o.signal('SIGHUP');
    await poll(async () => (await lab.exec(ours, ['ip', 'link', 'show', 'dev', VMAC])).code !== 0 || undefined, {
      timeoutMs: 10_000,
      what: 'vrrp.51 removed by the reload',
    });
    await poll(async () => (await lab.addresses(ours)).includes(VIP) || undefined, {
      timeoutMs: 10_000,
      what: 'VIP on eth0 after the reload',
      diagnose: () => o.tail(30),
    });
    expect(await sysctl(ours, 'eth0/arp_ignore')).toBe('0');

    const from = o.lines.length;
    writeFileSync(o.configFile, conf(150));
    o.signal('SIGHUP');
    await o.waitForLine(/Reload finished/, { timeoutMs: 10_000, from });
    // The instance moved interface: a new one, MASTER after its Master_Down_Interval.
    await poll(async () => (await vmacAddresses(ours))?.includes(VIP) || undefined, {
      timeoutMs: 10_000,
      what: 'VIP on vrrp.51 again',
      diagnose: () => o.tail(25),
    });
    expect(await macOf(ours)).toBe(MAC);
    await o.kill('SIGTERM', 5000);
    expect((await lab.exec(ours, ['ip', 'link', 'show', 'dev', VMAC])).code).not.toBe(0);
    await pair.stop();
  }, 60_000);

  it('an interface of that name that is not a macvlan: keepalived-ts does not start, and says which', async () => {
    const { lab, ours } = pair;
    await lab.exec(ours, ['ip', 'link', 'add', VMAC, 'type', 'veth', 'peer', 'name', 'vmacpeer']);
    try {
      const o = pair.startOurs(conf(150), 'vmac-d');
      await o.exited;
      expect(o.exitCode).toBe(2);
      expect(o.output()).toContain(`VMAC ${VMAC} conflicts with existing interface`);
      // The veth is left alone.
      expect((await lab.exec(ours, ['ip', 'link', 'show', 'dev', VMAC])).stdout).toContain('vmacpeer');
    } finally {
      await pair.stop();
    }
  }, 30_000);

  it('IPv6: vrrp.51 with 00:00:5e:00:02:33 and the base link-local address; VRRPv3 adverts leave from that MAC', async () => {
    const { lab, ours, theirs } = pair;
    const o = pair.startOurs(conf(150).replace(`${VIP}/24`, 'fd00:58::100/64'), 'vmac-e');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    expect(await macOf(ours)).toBe('00:00:5e:00:02:33');
    const base = (await lab.exec(ours, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).stdout.match(/fe80::[0-9a-f:]+/)?.[0];
    expect(base).toBeDefined();
    await poll(async () => (await lab.exec(ours, ['ip', '-6', '-o', 'addr', 'show', 'dev', VMAC])).stdout.includes('fd00:58::100') || undefined, {
      timeoutMs: 3000,
      what: 'IPv6 VIP on vrrp.51',
    });
    expect((await lab.exec(ours, ['ip', '-6', '-o', 'addr', 'show', 'dev', VMAC])).stdout).toContain(`${base}/64`);
    const p = pair.spawn(theirs, ['tcpdump', '-l', '-e', '-n', '-c', '3', '-i', 'eth0', 'ip6 proto 112'], { name: 'tcpdump-vmac-e' });
    await p.exited;
    const adverts = p.lines.filter((l) => /VRRPv3/.test(l.text));
    expect(adverts.length, p.tail()).toBe(3);
    for (const a of adverts) expect(a.text).toContain(`00:00:5e:00:02:33 > 33:33:00:00:00:12`);
    await o.kill('SIGTERM', 5000);
    expect((await lab.exec(ours, ['ip', 'link', 'show', 'dev', VMAC])).code).not.toBe(0);
    await pair.stop();
  }, 30_000);
});
