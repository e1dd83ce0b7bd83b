// The address and segment arithmetic of the netns lab's wiring, without namespaces.
import { describe, expect, it } from 'vitest';
import { freeAddressIn, intToIp, ipToInt, vipsBySegment } from '../../../src/lab/netns/topology.js';

describe('addresses for clients and probes', () => {
  it('ipToInt and intToIp are inverse', () => {
    expect(ipToInt('192.168.1.100')).toBe(0xc0a80164);
    expect(intToIp(0xc0a80164)).toBe('192.168.1.100');
    expect(intToIp(ipToInt('10.255.0.1'))).toBe('10.255.0.1');
  });

  it('hands out the highest free host addresses of the subnet, below broadcast, each once', () => {
    const used = new Set(['192.168.1.11', '192.168.1.12', '192.168.1.254']);
    expect(freeAddressIn(used, '192.168.1.11', 24)).toBe('192.168.1.253');
    expect(freeAddressIn(used, '192.168.1.11', 24)).toBe('192.168.1.252');
    expect(used.has('192.168.1.253')).toBe(true);
  });

  it('says so when the subnet is full', () => {
    const used = new Set(['10.0.0.1', '10.0.0.2']);
    expect(() => freeAddressIn(used, '10.0.0.1', 30)).toThrow('no free address left in 10.0.0.0/30');
  });
});

describe('vipsBySegment', () => {
  it("puts each instance's VIPs on the segment of its interface, once", () => {
    const node = (ifaces: [string, string][], instances: { interface: string; vips: string[] }[]) => ({ conf: { instances }, ifaces: new Map(ifaces) });
    const nodes = [
      node(
        [
          ['lan', 'eth0'],
          ['dmz', 'eth1'],
        ],
        [
          { interface: 'eth0', vips: ['192.168.1.100'] },
          { interface: 'eth1', vips: ['10.0.0.100'] },
        ],
      ),
      node(
        [['lan', 'eth0']],
        [
          { interface: 'eth0', vips: ['192.168.1.100', '192.168.1.101'] },
          { interface: 'eth9', vips: ['172.16.0.1'] },
        ],
      ),
      node([['mgmt', 'eth2']], [{ interface: 'eth2', vips: [] }]),
    ];
    expect([...vipsBySegment(nodes)]).toEqual([
      ['lan', ['192.168.1.100', '192.168.1.101']],
      ['dmz', ['10.0.0.100']],
    ]);
  });
});
