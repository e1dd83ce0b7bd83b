import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { arpingArgs, ipAddrArgs, IpAddressDriver, ipRouteArgs } from '../../src/net/addresses.js';

const { config } = loadConfigText(
  `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  garp_master_repeat 2
  garp_master_delay 3
  virtual_ipaddress {
    192.168.1.100/24 brd 192.168.1.255 dev eth1 label eth1:vip scope global
    192.168.1.101
  }
  virtual_routes {
    10.9.0.0/16 via 192.168.1.254 dev eth0 track_group G
  }
}
`,
  'k.conf',
  { configId: 'x' },
);
const inst = config.resolved.vrrpInstances[0];

describe('iproute2 commands from the model', () => {
  it('adds and deletes VIPs with their options, defaulting to the instance interface', () => {
    expect(ipAddrArgs('add', inst.virtualIpaddress[0])).toEqual([
      'ip',
      '-4',
      'addr',
      'add',
      '192.168.1.100/24',
      'brd',
      '192.168.1.255',
      'scope',
      'global',
      'label',
      'eth1:vip',
      'dev',
      'eth1',
    ]);
    expect(ipAddrArgs('del', inst.virtualIpaddress[1])).toEqual(['ip', '-4', 'addr', 'del', '192.168.1.101/32', 'dev', 'eth0']);
  });

  it('passes routes through without keepalived-only words', () => {
    expect(ipRouteArgs('add', inst.virtualRoutes[0])).toEqual(['ip', 'route', 'replace', '10.9.0.0/16', 'via', '192.168.1.254', 'dev', 'eth0']);
    expect(ipRouteArgs('del', inst.virtualRoutes[0])[2]).toBe('del');
  });

  it('runs changes in order and announces in two bursts', async () => {
    const ran: string[] = [];
    const later: [number, () => void][] = [];
    const d = new IpAddressDriver({
      exec: async (argv) => {
        ran.push(argv.join(' '));
        return { code: argv[2] === 'addr' && argv[3] === 'del' ? 2 : 0, stderr: 'Cannot assign requested address' };
      },
    });
    void d.add(inst);
    await d.remove(inst);
    expect(ran).toEqual([
      'ip -4 addr add 192.168.1.100/24 brd 192.168.1.255 scope global label eth1:vip dev eth1',
      'ip -4 addr add 192.168.1.101/32 dev eth0',
      'ip route replace 10.9.0.0/16 via 192.168.1.254 dev eth0',
      'ip route del 10.9.0.0/16 via 192.168.1.254 dev eth0',
      'ip -4 addr del 192.168.1.100/24 dev eth1',
      'ip -4 addr del 192.168.1.101/32 dev eth0',
    ]);
    ran.length = 0;
    // One arping per event-loop turn.
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    d.announce(inst, (ms, fn) => later.push([ms, fn]));
    await d.settled();
    await turns(5);
    // 2 VIPs x garp_master_repeat 2, in keepalived's order: each VIP once, then again.
    expect(ran.filter((c) => c.startsWith('arping')).map((c) => c.split(' ').at(-1))).toEqual([
      '192.168.1.100',
      '192.168.1.101',
      '192.168.1.100',
      '192.168.1.101',
    ]);
    expect(later.map(([ms]) => ms)).toEqual([3000]);
    later[0][1]();
    await turns(5);
    expect(ran).toHaveLength(8);
    d.gratuitous(inst, 1);
    await turns(3);
    expect(ran.slice(8)).toEqual(['arping -U -c 1 -I eth1 192.168.1.100', 'arping -U -c 1 -I eth0 192.168.1.101']);
    expect(arpingArgs(inst.virtualIpaddress[1])).toEqual(['arping', '-U', '-c', '1', '-I', 'eth0', '192.168.1.101']);
  });
});
