// use_vmac_addr, garp_extra_if and a VMAC deleted by hand, ours against keepalived 2.2.7 in the
// same namespaces: host 0 runs the daemon with eth0 (its instance, use_vmac) and eth1 (a VIP
// there, on a VMAC of its own); host 1 captures what arrives on both links with tcpdump.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, keepalivedCapability, killKeepalivedNs, netnsCapability, poll, runOk, type Host, type Keepalived, type Lab } from '../helpers/netns.js';

const net = netnsCapability();
const ka = keepalivedCapability();
const skip = !net.ok || !ka.ok;
if (skip) console.warn(`use_vmac_addr tests skipped: ${net.reason ?? ka.reason}`);

const SUBNET = 61;
const VIP0 = `10.99.${SUBNET}.100`;
const VIP1 = `10.99.${SUBNET + 1}.100`;
const MAC = '00:00:5e:00:01:33';

const conf = `
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  use_vmac
  use_vmac_addr
  garp_extra_if 2
  virtual_router_id 51
  priority 150
  advert_int 1
  virtual_ipaddress {
    ${VIP0}/24
    ${VIP1}/24 dev eth1
  }
}
`;

interface Arp {
  t: number;
  mac: string;
  ip: string;
}

describe.skipIf(skip)('use_vmac_addr and garp_extra_if, ours and keepalived 2.2.7', () => {
  let lab: Lab;
  let router: Host;
  let observer: Host;

  beforeAll(async () => {
    lab = await createLab({ hosts: 2, subnet: SUBNET });
    [router, observer] = lab.hosts;
    await runOk('ip', ['-n', router.ns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', observer.ns]);
    for (const [h, a] of [
      [router, 1],
      [observer, 2],
    ] as const) {
      await lab.exec(h, ['ip', 'addr', 'add', `10.99.${SUBNET + 1}.${a}/24`, 'dev', 'eth1']);
      await lab.exec(h, ['ip', 'link', 'set', 'eth1', 'up']);
    }
  }, 60_000);
  afterAll(async () => {
    await lab?.teardown();
  });

  const capture = (ifname: string, name: string) => lab.spawn(observer, ['tcpdump', '-l', '-e', '-n', '-tt', '-i', ifname, 'arp'], { name });
  const arps = (lines: { text: string }[]): Arp[] =>
    lines.flatMap((l) => {
      const m = /^(\d+\.\d+) ([0-9a-f:]{17}) > ff:ff:ff:ff:ff:ff.*who-has (\S+) .*tell ([\d.]+)/.exec(l.text);
      return m && m[3] === m[4] ? [{ t: Number(m[1]), mac: m[2], ip: m[3] }] : [];
    });
  const sysctl = async (path: string): Promise<string> => (await lab.exec(router, ['cat', `/proc/sys/net/${path}`])).stdout.trim();
  const addressesOn = async (dev: string): Promise<string[]> =>
    [...(await lab.exec(router, ['ip', '-4', '-o', 'addr', 'show', 'dev', dev])).stdout.matchAll(/\binet (\S+)\//g)].map((m) => m[1]);
  const linkOf = async (dev: string) => {
    const r = await lab.exec(router, ['ip', '-d', '-j', 'link', 'show', 'dev', dev]);
    if (r.code !== 0) return undefined;
    const [l] = JSON.parse(r.stdout) as { address: string; link?: string; linkinfo?: { info_kind?: string; info_data?: { mode?: string } } }[];
    return { mac: l.address, base: l.link, kind: l.linkinfo?.info_kind, mode: l.linkinfo?.info_data?.mode };
  };
  const stop = async (p: Keepalived, real: boolean): Promise<void> => {
    if (real) await killKeepalivedNs(router.ns);
    else await p.kill('SIGTERM', 5000);
    // kill -9 of keepalived leaves its VMACs: clear them for the next daemon.
    for (const dev of ['vrrp.51', 'vrrp1.51']) await lab.exec(router, ['ip', 'link', 'del', 'dev', dev]);
  };
  const start = (real: boolean, name: string): Keepalived => (real ? lab.keepalived(router, conf, { name }) : lab.ours(router, conf, { name }));

  /** What one daemon does: its interfaces and addresses, and the ARPs of its first 9 s as MASTER. */
  const observe = async (real: boolean) => {
    const tag = real ? 'ka' : 'ours';
    const c0 = capture('eth0', `tcpdump0-${tag}`);
    const c1 = capture('eth1', `tcpdump1-${tag}`);
    const d = start(real, `vmac-addr-${tag}`);
    await d.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    await poll(async () => (await addressesOn('vrrp1.51')).includes(VIP1) || undefined, { timeoutMs: 5000, what: `${VIP1} on vrrp1.51 (${tag})` });
    const seen = {
      vmac: await linkOf('vrrp.51'),
      addrVmac: await linkOf('vrrp1.51'),
      onVmac: await addressesOn('vrrp.51'),
      onAddrVmac: await addressesOn('vrrp1.51'),
      sysctls: [await sysctl('ipv4/conf/vrrp1.51/arp_ignore'), await sysctl('ipv4/conf/eth1/arp_filter'), await sysctl('ipv6/conf/vrrp1.51/disable_ipv6')],
    };
    await new Promise((r) => setTimeout(r, 9000));
    await c0.kill('SIGINT', 2000);
    await c1.kill('SIGINT', 2000);
    await stop(d, real);
    const a0 = arps(c0.lines);
    const a1 = arps(c1.lines);
    const t0 = a1[0]?.t ?? 0;
    // Between the first burst and the second (garp_master_delay 5 s): only garp_extra_if's ARPs,
    // at 2 s and 4 s, on eth1's VMAC and none on the instance's own.
    const between = (a: Arp[]) => a.filter((x) => x.t > t0 + 1 && x.t < t0 + 4.6);
    return {
      ...seen,
      eth0Ips: [...new Set(a0.map((x) => x.ip))],
      eth1Ips: [...new Set(a1.map((x) => x.ip))],
      macs: [...new Set([...a0, ...a1].map((x) => x.mac))],
      firstBurst: [a0.filter((x) => x.t < t0 + 0.5).length, a1.filter((x) => x.t < t0 + 0.5).length],
      extraIfBetween: [between(a0).length, between(a1).length],
    };
  };

  it('the VIP on eth1 goes on vrrp1.51 (MAC 00:00:5e:00:01:33), and one ARP every 2 s goes out there only, as keepalived does', async () => {
    const theirs = await observe(true);
    const ours = await observe(false);
    console.log('use_vmac_addr + garp_extra_if 2:', JSON.stringify({ keepalived: theirs, ours }));
    expect(theirs.addrVmac).toEqual({ mac: MAC, base: 'eth1', kind: 'macvlan', mode: 'private' });
    expect(theirs.extraIfBetween).toEqual([0, 2]);
    expect(ours).toEqual(theirs);
    expect(ours.onAddrVmac).toEqual([VIP1]);
    expect(ours.macs).toEqual([MAC]);
  }, 90_000);

  /** Deletes `dev` once MASTER; it comes back, and the instance with its VIPs. */
  const deleteAndWatch = async (real: boolean, dev: string, vip: string) => {
    const tag = real ? 'ka' : 'ours';
    const d = start(real, `vmac-del-${tag}-${dev}`);
    await d.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    await poll(async () => (await addressesOn(dev)).includes(vip) || undefined, { timeoutMs: 5000, what: `${vip} on ${dev}` });
    const from = d.lines.length;
    await lab.exec(router, ['ip', 'link', 'del', 'dev', dev]);
    await poll(async () => (await addressesOn(dev)).includes(vip) || undefined, {
      timeoutMs: 15_000,
      what: `${vip} back on ${dev} (${tag})`,
      diagnose: () => d.tail(20),
    });
    const states = d.lines.slice(from).flatMap((l) => /Entering (\w+) STATE/.exec(l.text)?.[1] ?? []);
    const back = {
      link: await linkOf(dev),
      arpIgnore: await sysctl(`ipv4/conf/${dev}/arp_ignore`),
      rpFilter: await sysctl(`ipv4/conf/${dev}/rp_filter`),
      states,
    };
    await stop(d, real);
    return back;
  };

  it('vrrp.51 deleted by hand: made again with its MAC and sysctls; FAULT, BACKUP, MASTER and the VIP back, as keepalived does', async () => {
    const theirs = await deleteAndWatch(true, 'vrrp.51', VIP0);
    const ours = await deleteAndWatch(false, 'vrrp.51', VIP0);
    console.log('vrrp.51 deleted:', JSON.stringify({ keepalived: theirs, ours }));
    expect(theirs).toEqual({
      link: { mac: MAC, base: 'eth0', kind: 'macvlan', mode: 'private' },
      arpIgnore: '1',
      rpFilter: '0',
      states: ['FAULT', 'BACKUP', 'MASTER'],
    });
    expect(ours).toEqual(theirs);
  }, 90_000);

  it('use_ipvlan on a kernel without ipvlan: keepalived\u2019s line, and the instance FAULT while the daemon runs on, as keepalived 2.2.7', async (ctx) => {
    const probe = await lab.exec(router, ['ip', 'link', 'add', 'link', 'eth0', 'name', 'ipvprobe', 'type', 'ipvlan', 'mode', 'l2']);
    if (probe.code === 0) {
      await lab.exec(router, ['ip', 'link', 'del', 'dev', 'ipvprobe']);
      ctx.skip();
    }
    const ipvlan = conf.replace(/use_vmac\n\s*use_vmac_addr\n\s*garp_extra_if 2/, `use_ipvlan ipv1 10.99.${SUBNET}.50/24`);
    for (const real of [true, false]) {
      const d = real ? lab.keepalived(router, ipvlan, { name: 'ipvlan-ka' }) : lab.ours(router, ipvlan, { name: 'ipvlan-ours' });
      await d.waitForLine(/\(VI_1\): Unable to create ipvlan interface ipv1/, { timeoutMs: 10_000 });
      await d.waitForLine(/\(VI_1\) entering FAULT state/i, { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 1500));
      expect(d.exitCode, real ? 'keepalived' : 'ours').toBeNull();
      expect(d.lines.some((l) => /entering (BACKUP|MASTER) state/i.test(l.text))).toBe(false);
      if (real) await killKeepalivedNs(router.ns);
      else await d.kill('SIGTERM', 5000);
    }
    expect((await lab.exec(router, ['ip', 'link', 'show', 'dev', 'ipv1'])).code).not.toBe(0);
  }, 60_000);

  it('vrrp1.51 (use_vmac_addr) deleted by hand: FAULT, as keepalived 2.2.7 (its VIP\u2019s interface is tracked); ours then makes it again and comes back with the VIP', async () => {
    const ours = await deleteAndWatch(false, 'vrrp1.51', VIP1);
    expect(ours.link).toEqual({ mac: MAC, base: 'eth1', kind: 'macvlan', mode: 'private' });
    expect(ours.arpIgnore).toBe('1');
    // keepalived stays FAULT (it makes only the instance's own VMAC again).
    expect(ours.states).toEqual(['FAULT', 'BACKUP', 'MASTER']);
  }, 60_000);
});
