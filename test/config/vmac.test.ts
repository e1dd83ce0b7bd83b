// use_vmac / use_ipvlan as keepalived 2.2.7 resolves them: the interface's name, MAC and mode,
// where the VIPs go and which interface the adverts use.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { extraIfAddresses, ipvlanArgs, vmacName } from '../../src/config/resolve-vmac.js';

const inst = (name: string, vrid: number, body: string, vip = '10.0.0.1/24') =>
  `vrrp_instance ${name} {\n interface eth0\n virtual_router_id ${vrid}\n${body}\n virtual_ipaddress {\n  ${vip}\n }\n}\n`;
const resolved = (text: string) => loadConfigText(text, 'k.conf').config.resolved.vrrpInstances;

describe('use_vmac', () => {
  it('makes vrrp.VRID with 00:00:5e:00:01:VRID (00:00:5e:00:02:VRID for IPv6); VIPs without a dev go on it, adverts too', () => {
    const [v4, v6] = resolved(inst('A', 51, ' use_vmac') + inst('B', 52, ' use_vmac', 'fd00::1/64'));
    expect(v4.vmac).toEqual({ kind: 'macvlan', ifname: 'vrrp.51', base: 'eth0', mac: '00:00:5e:00:01:33', mode: 'private', family: 4, xmitBase: false });
    expect(v4.sendInterface).toBe('vrrp.51');
    expect(v4.interface).toBe('eth0');
    expect(v4.virtualIpaddress.map((v) => v.dev)).toEqual(['vrrp.51']);
    expect(v6.vmac).toMatchObject({ ifname: 'vrrp.52', mac: '00:00:5e:00:02:34', family: 6 });
  });

  it('vmac_xmit_base: VIPs on the VMAC, adverts through the instance interface', () => {
    const [i] = resolved(inst('A', 51, ' use_vmac\n vmac_xmit_base'));
    expect(i.sendInterface).toBe('eth0');
    expect(i.virtualIpaddress[0].dev).toBe('vrrp.51');
    expect(i.vmac?.xmitBase).toBe(true);
  });

  it('a written name and MAC (five octets take the VRID); a VIP with its own dev stays there', () => {
    const [i] = resolved(inst('A', 51, ' use_vmac vip0 02:11:22:33:44', '10.0.0.1/24 dev eth1'));
    expect(i.vmac).toMatchObject({ ifname: 'vip0', mac: '02:11:22:33:44:33' });
    expect(i.virtualIpaddress[0].dev).toBe('eth1');
    // keepalived ignores the RFC 5798 range and multicast addresses: the default applies.
    expect(resolved(inst('A', 51, ' use_vmac 00:00:5e:00:01:07'))[0].vmac?.mac).toBe('00:00:5e:00:01:33');
    expect(resolved(inst('A', 51, ' use_vmac 03:00:00:00:00:01'))[0].vmac?.mac).toBe('00:00:5e:00:01:33');
  });

  it('vmac_prefix names them; the same VRID twice takes the next name (IPv6 tries PREFIX6 first)', () => {
    const text = 'global_defs {\n vmac_prefix vm\n}\n' + inst('A', 7, ' use_vmac') + inst('B', 7, ' use_vmac', 'fd00::1/64').replace('eth0', 'eth1');
    expect(resolved(text).map((i) => i.vmac?.ifname)).toEqual(['vm.7', 'vm6.7']);
    expect(vmacName('vrrp', 9, 4, new Set(['vrrp.9', 'vrrp1.9']))).toBe('vrrp2.9');
    expect(vmacName('vrrp', 9, 6, new Set(['vrrp.9', 'vrrp6.9', 'vrrp1.9']))).toBe('vrrp2.9');
    // The prefix is cut so the name fits IFNAMSIZ.
    expect(vmacName('averyverylongprefix', 200, 4, new Set())).toBe('averyverylo.200');
  });

  it('no use_vmac: no VMAC, adverts and VIPs on the interface', () => {
    const [i] = resolved(inst('A', 51, ''));
    expect(i.vmac).toBeUndefined();
    expect(i.sendInterface).toBe('eth0');
    expect(i.virtualIpaddress[0].dev).toBe('eth0');
  });
});

describe('use_ipvlan', () => {
  it('name, address (the adverts source) and mode, bridge by default', () => {
    const [i] = resolved(inst('A', 51, ' use_ipvlan ipv1 10.0.0.9/24 private'));
    expect(i.vmac).toEqual({ kind: 'ipvlan', ifname: 'ipv1', base: 'eth0', mode: 'private', address: '10.0.0.9/24', family: 4, xmitBase: false });
    expect(i.sendInterface).toBe('ipv1');
    expect(i.unicastSrcIp).toBe('10.0.0.9');
    expect(i.virtualIpaddress[0].dev).toBe('ipv1');
    expect(ipvlanArgs(['10.0.0.9'])).toEqual({ address: { ip: '10.0.0.9', prefix: 32, family: 4 } });
    expect(resolved(inst('A', 51, ' use_ipvlan'))[0].vmac).toMatchObject({ ifname: 'vrrp.51', mode: 'bridge' });
  });
});

const twoVips = (body: string, vips: string, globals = '') =>
  `${globals ? `global_defs {\n${globals}\n}\n` : ''}vrrp_instance A {\n interface eth0\n virtual_router_id 51\n${body}\n virtual_ipaddress {\n${vips}\n }\n}\n`;

describe('use_vmac_addr, vmac_addr_prefix, an address\u2019s use_vmac (keepalived vrrp_complete_instance)', () => {
  it('a VIP on another interface gets a VMAC there, named vrrp1.VRID after the instance\u2019s vrrp.VRID, same MAC', () => {
    const [i] = resolved(twoVips(' use_vmac\n use_vmac_addr', '  10.0.0.1/24\n  10.1.0.1/24 dev eth1\n  10.1.0.2/24 dev eth1'));
    expect(i.virtualIpaddress.map((v) => v.dev)).toEqual(['vrrp.51', 'vrrp1.51', 'vrrp1.51']);
    expect(i.addressVmacs).toEqual([
      { kind: 'macvlan', ifname: 'vrrp1.51', base: 'eth1', mac: '00:00:5e:00:01:33', mode: 'private', family: 4, xmitBase: false },
    ]);
  });

  it('without use_vmac: a VIP that names the instance interface stays on it, one that names another gets a VMAC; eVIPs of the other family get one with their MAC', () => {
    const text = twoVips(' use_vmac_addr', '  10.0.0.1/24 dev eth0\n  10.1.0.1/24 dev eth1').replace(
      '}\n}\n',
      '}\n virtual_ipaddress_excluded {\n  fd00::5/64\n }\n}\n',
    );
    const [i] = resolved(text);
    expect(i.vmac).toBeUndefined();
    expect(i.virtualIpaddress.map((v) => v.dev)).toEqual(['eth0', 'vrrp.51']);
    // IPv6 tries PREFIX6.VRID first (create_vmac_name).
    expect(i.virtualIpaddressExcluded.map((v) => v.dev)).toEqual(['vrrp6.51']);
    expect(i.addressVmacs.map((v) => [v.ifname, v.base, v.mac, v.family])).toEqual([
      ['vrrp.51', 'eth1', '00:00:5e:00:01:33', 4],
      ['vrrp6.51', 'eth0', '00:00:5e:00:02:33', 6],
    ]);
  });

  it('vmac_addr_prefix names the address VMACs (vmac_prefix when unset); an address\u2019s use_vmac asks for one without use_vmac_addr', () => {
    const [a] = resolved(twoVips(' use_vmac', '  10.0.0.1/24\n  10.1.0.1/24 dev eth1 use_vmac', ' vmac_prefix vm\n vmac_addr_prefix va'));
    expect(a.vmac?.ifname).toBe('vm.51');
    expect(a.virtualIpaddress.map((v) => v.dev)).toEqual(['vm.51', 'va.51']);
    const [b] = resolved(twoVips(' use_vmac', '  10.0.0.1/24\n  10.1.0.1/24 dev eth1 use_vmac', ' vmac_prefix vm'));
    expect(b.virtualIpaddress.map((v) => v.dev)).toEqual(['vm.51', 'vm1.51']);
    // Without either, a VIP elsewhere stays on its interface.
    const [c] = resolved(twoVips(' use_vmac', '  10.0.0.1/24\n  10.1.0.1/24 dev eth1'));
    expect(c.virtualIpaddress.map((v) => v.dev)).toEqual(['vrrp.51', 'eth1']);
    expect(c.addressVmacs).toEqual([]);
  });

  it('a MAC written on use_vmac is every address VMAC\u2019s too', () => {
    const [i] = resolved(twoVips(' use_vmac 02:11:22:33:44:55\n use_vmac_addr', '  10.0.0.1/24\n  10.1.0.1/24 dev eth1'));
    expect(i.addressVmacs[0]).toMatchObject({ base: 'eth1', mac: '02:11:22:33:44:55' });
  });
});

describe('garp_extra_if / vmac_garp_intvl / vrrp_garp_extra_if (keepalived vrrp_send_vmac_update)', () => {
  const extra = (text: string) => resolved(text)[0].extraIfGarp;
  const vips = '  10.0.0.1/24\n  10.1.0.1/24 dev eth1\n  10.1.0.2/24 dev eth1\n  10.2.0.1/24 dev eth2';

  it('the first address on each VMAC other than the instance\u2019s, every SECONDS', () => {
    expect(extra(twoVips(' use_vmac\n use_vmac_addr\n garp_extra_if 2', vips))).toEqual({
      intervalS: 2,
      addresses: [expect.objectContaining({ address: '10.1.0.1', dev: 'vrrp1.51' }), expect.objectContaining({ address: '10.2.0.1', dev: 'vrrp2.51' })],
    });
  });

  it('vmac_garp_intvl is the same setting (deprecated), `all` anywhere on the line', () => {
    const r = loadConfigText(twoVips(' use_vmac\n vmac_garp_intvl 3 all', vips), 'k.conf');
    expect(r.diagnostics.some((d) => d.rule === 'deprecated-keyword' && d.message.includes('vmac_garp_intvl'))).toBe(true);
    // `all`: the plain interfaces count too.
    expect(r.config.resolved.vrrpInstances[0].extraIfGarp?.addresses.map((a) => a.dev)).toEqual(['eth1', 'eth2']);
  });

  it('off without another VMAC (unless all), with 0, or without an address elsewhere; the global value applies where the instance sets none', () => {
    expect(extra(twoVips(' use_vmac\n garp_extra_if 2', vips))).toBeUndefined();
    expect(extra(twoVips(' use_vmac\n use_vmac_addr\n garp_extra_if 0', vips, ' vrrp_garp_extra_if 5'))).toBeUndefined();
    expect(extra(twoVips(' use_vmac\n use_vmac_addr', '  10.0.0.1/24', ' vrrp_garp_extra_if 5'))).toBeUndefined();
    expect(extra(twoVips(' use_vmac\n use_vmac_addr', vips, ' vrrp_garp_extra_if 5'))?.intervalS).toBe(5);
  });

  it('the instance\u2019s own interface only with vmac_xmit_base', () => {
    const own = [{ dev: 'vrrp.51' }, { dev: 'vrrp1.51' }];
    expect(extraIfAddresses(own, 'vrrp.51', new Set(['vrrp.51', 'vrrp1.51']), false, false)).toEqual([{ dev: 'vrrp1.51' }]);
    expect(extraIfAddresses(own, 'vrrp.51', new Set(['vrrp.51', 'vrrp1.51']), false, true)).toEqual(own);
    expect(extraIfAddresses([{ dev: 'vrrp.51' }], 'vrrp.51', new Set(['vrrp.51']), true, true)).toEqual([]);
  });
});
