// The interfaces an instance tracks through its addresses, routes and rules, as keepalived 2.2.7's
// vrrp_complete_instance adds them (weight 0: down is FAULT): no_track, dont_track_primary and a
// track_interface weight on the same interface.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';

const tracked = (body: string, extra = '') =>
  loadConfigText(`vrrp_instance A {\n interface eth0\n virtual_router_id 5\n${extra}\n${body}\n}\n`, 'k.conf')
    .config.resolved.vrrpInstances[0].tracks.filter((t) => t.kind === 'interface')
    .map((t) => `${t.name}:${t.weight}`);

describe('interfaces tracked through addresses, routes and rules', () => {
  it('a VIP or eVIP on another interface is tracked with weight 0, unless no_track; the own interface is not listed again', () => {
    expect(tracked(' virtual_ipaddress {\n  10.0.0.1/24\n  10.1.0.1/24 dev eth1\n  10.2.0.1/24 dev eth2 no_track\n }')).toEqual(['eth1:0']);
    expect(tracked(' virtual_ipaddress {\n  10.0.0.1/24\n }\n virtual_ipaddress_excluded {\n  10.3.0.1/24 dev eth3\n }')).toEqual(['eth3:0']);
  });

  it('a track_interface weight on that interface becomes 0 (keepalived add_vrrp_to_interface)', () => {
    expect(tracked(' virtual_ipaddress {\n  10.1.0.1/24 dev eth1\n }', ' track_interface {\n  eth1 weight -20\n  eth4 weight -10\n }')).toEqual([
      'eth1:0',
      'eth4:-10',
    ]);
  });

  it('dont_track_primary: an address on the own interface (or its VMAC) is not tracked; a route there is', () => {
    const vips = ' virtual_ipaddress {\n  10.0.0.1/24\n  10.0.0.2/24 dev eth0\n  10.1.0.1/24 dev eth1\n }';
    expect(tracked(vips, ' dont_track_primary')).toEqual(['eth1:0']);
    expect(tracked(vips, ' dont_track_primary\n use_vmac')).toEqual(['eth1:0']);
    expect(tracked(`${vips}\n virtual_routes {\n  10.9.0.0/16 dev eth0\n }`, ' dont_track_primary')).toEqual(['eth1:0', 'eth0:0']);
  });

  it('virtual_routes by dev and virtual_rules by iif/oif, unless no_track', () => {
    const body =
      ' virtual_ipaddress {\n  10.0.0.1/24\n }\n virtual_routes {\n  10.9.0.0/16 via 10.1.0.254 dev eth1\n  10.8.0.0/16 dev eth5 no_track\n }\n virtual_rules {\n  from 10.0.0.1 iif eth6 table 100\n  from 10.0.0.2 oif eth7 table 100 no_track\n }';
    expect(tracked(body)).toEqual(['eth1:0', 'eth6:0']);
  });
});
