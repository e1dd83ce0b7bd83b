// VmacLinks against recorded ip commands and an in-memory /proc/sys/net: what keepalived 2.2.7's
// vrrp_vmac.c and vrrp_if_config.c do, step by step (the namespace test checks the real kernel).
import { describe, expect, it } from 'vitest';
import type { ResolvedVmac } from '../../src/config/model/index.js';
import { existingAction, parseLinkFacts, VmacLinks } from '../../src/net/vmac.js';

const V: ResolvedVmac = { kind: 'macvlan', ifname: 'vrrp.51', base: 'eth0', mac: '00:00:5e:00:01:33', mode: 'private', family: 4, xmitBase: false };

function rig(existing: Record<string, string> = {}, sys: Record<string, number> = {}, fails = { add: '' }) {
  const cmds: string[] = [];
  const logs: string[] = [];
  const values = new Map(Object.entries({ 'ipv4/conf/all/rp_filter': 0, 'ipv4/conf/eth0/arp_ignore': 0, 'ipv4/conf/eth0/arp_filter': 0, ...sys }));
  const links = new VmacLinks({
    exec: async (argv) => {
      cmds.push(argv.join(' '));
      return fails.add && argv[2] === 'add' ? { code: 2, stderr: fails.add } : { code: 0, stderr: '' };
    },
    show: async (n) => existing[n] ?? '',
    sysctl: { get: (p) => values.get(p), set: (p, v) => (values.set(p, v), true) },
    interfaces: () => ['lo', 'eth0'],
    log: (_l, m) => logs.push(m),
  });
  return { links, cmds, logs, values };
}

const show = (o: object) => JSON.stringify([{ ifname: 'vrrp.51', flags: ['BROADCAST'], ...o }]);

describe('VmacLinks', () => {
  it('one ip fails to make waits with its instance, is tried again by retry(), and is forgotten when a reload drops it', async () => {
    const fails = { add: 'RTNETLINK answers: Device or resource busy' };
    const { links, values } = rig({}, {}, fails);
    expect(await links.add('VI_1', V)).toBe('(VI_1): Unable to create VMAC interface vrrp.51: RTNETLINK answers: Device or resource busy');
    expect(links.names()).toEqual([]);
    expect(links.waiting()).toEqual([['vrrp.51', { vmac: V, instance: 'VI_1', noBase: false }]]);
    // No sysctls for one that is not there.
    expect(values.get('ipv4/conf/eth0/arp_ignore')).toBe(0);
    expect(await links.retry('vrrp.51')).toMatch(/Unable to create/);
    fails.add = '';
    expect(await links.retry('vrrp.51')).toBeUndefined();
    expect([links.names(), links.waiting()]).toEqual([['vrrp.51'], []]);
    expect(values.get('ipv4/conf/eth0/arp_ignore')).toBe(1);
    // A missing base: waiting; a reload without it forgets it; a foreign interface of the name does not wait.
    links.wait('VI_2', { ...V, ifname: 'vrrp.52', base: 'eth9' });
    expect(links.waiting().map(([n, w]) => [n, w.noBase])).toEqual([['vrrp.52', true]]);
    links.keepWaiting(new Set(['vrrp.51']));
    expect(links.waiting()).toEqual([]);
    const foreign = rig({ 'vrrp.53': show({ ifname: 'vrrp.53', linkinfo: { info_kind: 'veth' } }) });
    const v53 = { ...V, ifname: 'vrrp.53' };
    const error = await foreign.links.add('VI_3', v53);
    expect(error).toBe('VMAC vrrp.53 conflicts with existing interface');
    expect(foreign.links.conflicts(error ?? '', v53)).toBe(true);
    expect(foreign.links.waiting()).toEqual([]);
  });

  it('restore() makes a deleted one again the same way, and the base keeps its saved values', async () => {
    const { links, cmds, values } = rig({}, { 'ipv4/conf/eth0/arp_ignore': 2 });
    await links.add('VI_1', V);
    cmds.length = 0;
    values.delete('ipv4/conf/vrrp.51/arp_ignore');
    expect(await links.restore('vrrp.51')).toBeUndefined();
    expect(cmds[0]).toBe('ip link add link eth0 name vrrp.51 address 00:00:5e:00:01:33 type macvlan mode private');
    expect(values.get('ipv4/conf/vrrp.51/arp_ignore')).toBe(1);
    expect(links.get('vrrp.51')).toEqual({ vmac: V, instance: 'VI_1' });
    // Removed at the end: eth0 gets its value from before the start, not the one we had set.
    await links.close();
    expect(values.get('ipv4/conf/eth0/arp_ignore')).toBe(2);
  });

  it('makes a private macvlan with the MAC, sets keepalived sysctls, brings it up; removal puts the base back', async () => {
    const { links, cmds, values } = rig();
    expect(await links.add('VI_1', V)).toBeUndefined();
    expect(cmds).toEqual([
      'ip link add link eth0 name vrrp.51 address 00:00:5e:00:01:33 type macvlan mode private',
      'ip link set dev vrrp.51 addrgenmode none',
      'ip link set dev vrrp.51 up',
    ]);
    for (const [k, v] of Object.entries({ arp_ignore: 1, accept_local: 1, rp_filter: 0, promote_secondaries: 1 }))
      expect(values.get(`ipv4/conf/vrrp.51/${k}`), k).toBe(v);
    expect(values.get('ipv6/conf/vrrp.51/disable_ipv6')).toBe(1);
    expect([values.get('ipv4/conf/eth0/arp_ignore'), values.get('ipv4/conf/eth0/arp_filter')]).toEqual([1, 1]);
    await links.close();
    expect(cmds.at(-1)).toBe('ip link del dev vrrp.51');
    expect([values.get('ipv4/conf/eth0/arp_ignore'), values.get('ipv4/conf/eth0/arp_filter')]).toEqual([0, 0]);
    expect(links.names()).toEqual([]);
  });

  it('all.rp_filter set: every interface raised to it, default too, all to 0; put back at the end', async () => {
    const { links, logs, values } = rig(
      {},
      { 'ipv4/conf/all/rp_filter': 2, 'ipv4/conf/default/rp_filter': 1, 'ipv4/conf/lo/rp_filter': 0, 'ipv4/conf/eth0/rp_filter': 2 },
    );
    await links.add('VI_1', V);
    expect(values.get('ipv4/conf/all/rp_filter')).toBe(0);
    expect(values.get('ipv4/conf/default/rp_filter')).toBe(2);
    expect(values.get('ipv4/conf/lo/rp_filter')).toBe(2);
    expect(logs).toContain('NOTICE: setting sysctl net.ipv4.conf.all.rp_filter from 2 to 0');
    await links.close();
    expect(['default', 'lo', 'all'].map((n) => values.get(`ipv4/conf/${n}/rp_filter`))).toEqual([1, 0, 2]);
  });

  it('an existing interface: a matching VMAC is taken over, a wrong MAC updated, another base recreated, a non-macvlan refused', async () => {
    const ours = show({ link: 'eth0', address: '00:00:5e:00:01:33', linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } });
    expect(existingAction(V, parseLinkFacts(ours))).toBe('reuse');
    expect(existingAction(V, parseLinkFacts(ours.replace(':33"', ':34"')))).toBe('update');
    expect(existingAction(V, parseLinkFacts(ours.replace('"eth0"', '"eth1"')))).toBe('recreate');
    expect(existingAction(V, parseLinkFacts(show({ link: 'eth0', linkinfo: { info_kind: 'veth' } })))).toBe('conflict');
    expect(existingAction(V, parseLinkFacts(''))).toBe('create');

    const r = rig({ 'vrrp.51': show({ linkinfo: { info_kind: 'veth' } }) });
    expect(await r.links.add('VI_1', V)).toBe('VMAC vrrp.51 conflicts with existing interface');
    expect(r.cmds).toEqual([]);
    await r.links.close();
    expect(r.cmds).toEqual([]);

    const u = rig({ 'vrrp.51': ours.replace(':33"', ':34"') });
    await u.links.add('VI_1', V);
    expect(u.cmds[0]).toBe('ip link set dev vrrp.51 address 00:00:5e:00:01:33 type macvlan mode private');
    expect(u.logs).toContain('(VI_1) Update old VMAC interface vrrp.51 due to wrong MAC/mode ');
  });

  it('ipvlan: mode l2 with its flags, its address added, no keepalived sysctls', async () => {
    const { links, cmds, values } = rig();
    await links.add('VI_1', { kind: 'ipvlan', ifname: 'ipv1', base: 'eth0', mode: 'bridge', address: '10.0.0.9/24', family: 4, xmitBase: false });
    expect(cmds).toEqual(['ip link add link eth0 name ipv1 type ipvlan mode l2 bridge', 'ip link set dev ipv1 up', 'ip addr replace 10.0.0.9/24 dev ipv1']);
    expect(values.get('ipv4/conf/eth0/arp_ignore')).toBe(0);
  });
});
