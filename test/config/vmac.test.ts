// use_vmac / use_ipvlan as keepalived 2.2.7 resolves them: the interface's name, MAC and mode,
// where the VIPs go and which interface the adverts use.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { ipvlanArgs, vmacName } from '../../src/config/resolve-vmac.js';

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
