// NftFirewall's VMAC rules against recorded nft scripts: made once per family with the first VMAC
// (after the residue of an earlier run), one element per VMAC, removal and re-creation by index.
import { describe, expect, it } from 'vitest';
import type { ResolvedVmac } from '../../src/config/model/index.js';
import { NftFirewall } from '../../src/net/nft-firewall.js';

const V4: ResolvedVmac = { kind: 'macvlan', ifname: 'vrrp.51', base: 'eth0', mac: '00:00:5e:00:01:33', mode: 'private', family: 4, xmitBase: false };
const V6: ResolvedVmac = { ...V4, ifname: 'vrrp.52', mac: '00:00:5e:00:02:34', family: 6 };

function rig() {
  const scripts: string[] = [];
  const index = new Map([
    ['eth0', 2],
    ['vrrp.51', 7],
    ['vrrp.52', 8],
  ]);
  const fw = new NftFirewall({
    table: 'keepalived',
    priority: -1,
    counters: false,
    ifindex: false,
    run: async (s) => {
      scripts.push(s);
      // No table left by an earlier run.
      return { ok: !s.startsWith('list table'), error: '' };
    },
  });
  return { fw, scripts, index: (n: string) => index.get(n), indexes: index };
}

describe('NftFirewall VMAC rules', () => {
  it('the first VMAC of a family makes its map and rule; the next only adds its element', async () => {
    const { fw, scripts, index } = rig();
    await fw.addVmac(V4, NftFirewall.vmacFamilies(V4, false, false), index);
    await fw.addVmac({ ...V4, ifname: 'vrrp.52' }, ['ip'], index);
    const made = scripts.filter((s) => !s.startsWith('list'));
    expect(made[0].split('\n')).toEqual([
      'add table ip keepalived',
      'add chain ip keepalived out { type filter hook output priority -1; policy accept; }',
      'add map ip keepalived vmac_map { type iface_index : iface_index; }',
      'add rule ip keepalived out ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop',
      'add element ip keepalived vmac_map { "vrrp.51" : "eth0" }',
      '',
    ]);
    expect(made[1]).toBe('add element ip keepalived vmac_map { "vrrp.52" : "eth0" }\n');
  });

  it('IPv6: vmac_set and the router solicitation drop; eVIPs of the other family add IPv4 too; disable_local_igmp leaves IPv4 out', async () => {
    const { fw, scripts, index } = rig();
    expect(NftFirewall.vmacFamilies(V6, true, false)).toEqual(['ip6', 'ip']);
    expect(NftFirewall.vmacFamilies(V4, false, true)).toEqual([]);
    expect(NftFirewall.vmacFamilies(V6, false, true)).toEqual(['ip6']);
    expect(NftFirewall.vmacFamilies({ ...V4, kind: 'ipvlan' }, false, false)).toEqual([]);
    await fw.addVmac(V6, ['ip6'], index);
    const s = scripts.filter((x) => !x.startsWith('list'))[0];
    expect(s).toContain('add set ip6 keepalived vmac_set { type iface_index; }');
    expect(s).toContain('add rule ip6 keepalived out icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop');
    expect(s).toContain('add element ip6 keepalived vmac_set { "vrrp.52" }');
  });

  it('removed by index; made again with a new index, the old element goes first; the stop deletes the table', async () => {
    const { fw, scripts, index, indexes } = rig();
    await fw.addVmac(V4, ['ip'], index);
    indexes.set('vrrp.51', 9);
    await fw.addVmac(V4, ['ip'], index);
    expect(scripts.at(-1)).toBe('delete element ip keepalived vmac_map { 7 : 2 }\nadd element ip keepalived vmac_map { "vrrp.51" : "eth0" }\n');
    await fw.removeVmac('vrrp.51');
    expect(scripts.at(-1)).toBe('delete element ip keepalived vmac_map { 9 : 2 }\n');
    await fw.close();
    expect(scripts.at(-1)).toBe('delete table ip keepalived\n');
  });
});
