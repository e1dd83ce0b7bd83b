import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { RealClock } from '../../src/daemon/clock.js';
import {
  ARPING_CONCURRENCY,
  ARPING_QUEUE_LIMIT,
  arpingArgs,
  ipAddrArgs,
  IpAddressDriver,
  ipRouteArgs,
  ipRuleArgs,
  staticEntries,
  type CommandResult,
} from '../../src/net/addresses.js';

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
    expect(ipRouteArgs('add', inst.virtualRoutes[0])).toEqual([
      'ip',
      'route',
      'replace',
      '10.9.0.0/16',
      'via',
      '192.168.1.254',
      'dev',
      'eth0',
      'scope',
      'global',
      'protocol',
      '18',
    ]);
    expect(ipRouteArgs('del', inst.virtualRoutes[0])[2]).toBe('del');
  });

  it('runs changes in order and announces in two bursts', async () => {
    const ran: string[] = [];
    const later: [number, () => void][] = [];
    const d = new IpAddressDriver({
      clock: new RealClock(),
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
      'ip route replace 10.9.0.0/16 via 192.168.1.254 dev eth0 scope global protocol 18',
      'ip route del 10.9.0.0/16 via 192.168.1.254 dev eth0 protocol 18',
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

  it('runs at most a few arping processes at once, in order, and drops (counted) beyond the queue bound', async () => {
    const many = (n: number) => ({
      ...inst,
      virtualIpaddress: Array.from({ length: n }, (_, i) => ({ ...inst.virtualIpaddress[1], address: `10.1.${i >> 8}.${i & 255}` })),
    });
    const started: string[] = [];
    const finish: (() => void)[] = [];
    let running = 0;
    let most = 0;
    const warnings: string[] = [];
    const d = new IpAddressDriver({
      clock: new RealClock(),
      exec: (argv) => {
        if (argv[0] !== 'arping') return Promise.resolve({ code: 0, stderr: '' });
        started.push(argv.at(-1)!);
        most = Math.max(most, ++running);
        return new Promise<CommandResult>((r) => finish.push(() => (running--, r({ code: 0, stderr: '' }))));
      },
      log: (l, m) => l === 'warn' && warnings.push(m),
    });
    const drain = async (): Promise<void> => {
      while (finish.length) {
        finish.shift()!();
        await new Promise((r) => setImmediate(r));
      }
    };
    // A burst hands over one arping per event-loop turn (so adverts run between them).
    const turns = async (k: number): Promise<void> => {
      for (let i = 0; i < k; i++) await new Promise((r) => setImmediate(r));
    };
    // 40 VIPs x garp_master_repeat 2: 80 ARPs, 16 at a time, in keepalived's order (every VIP
    // once, then again).
    d.announce(many(40), () => undefined);
    await d.settled();
    await turns(100);
    expect(started).toHaveLength(ARPING_CONCURRENCY);
    await drain();
    expect(started).toHaveLength(80);
    expect(most).toBe(ARPING_CONCURRENCY);
    expect(started.slice(0, 3)).toEqual(['10.1.0.0', '10.1.0.1', '10.1.0.2']);
    expect(started.slice(39, 41)).toEqual(['10.1.0.39', '10.1.0.0']);
    expect(started.at(-1)).toBe('10.1.0.39');
    // More than the queue holds: the rest are dropped, counted, and said once.
    const n = ARPING_QUEUE_LIMIT / 2 + 100;
    d.announce(many(n), () => undefined);
    await d.settled();
    await turns(2 * n + 10);
    expect(d.arpingDropped).toBe(2 * n - ARPING_QUEUE_LIMIT - ARPING_CONCURRENCY);
    expect(warnings).toEqual([expect.stringMatching(/queue full/)]);
    await drain();
    expect(started).toHaveLength(80 + ARPING_QUEUE_LIMIT + ARPING_CONCURRENCY);
  });
});

describe('virtual and static rules', () => {
  const { config: c } = loadConfigText(
    `global_defs {
  default_interface eth3
}
static_ipaddress {
  10.1.1.1/32
}
static_routes {
  10.2.0.0/16 dev eth0 table 100
}
static_rules {
  from 10.3.0.0/16 table 100 priority 300
  inet6 fwmark 7 table 101 preference 301
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.168.1.100
  }
  virtual_rules {
    to 10.4.0.0/16 table 102 no_track
  }
}
`,
    'k.conf',
    { configId: 'x' },
  );
  const vi = c.resolved.vrrpInstances[0];

  it('passes rules through, without keepalived-only words, numbered when they have no preference', () => {
    expect(ipRuleArgs('add', c.staticRules[0])).toEqual(['ip', 'rule', 'add', 'from', '10.3.0.0/16', 'table', '100', 'priority', '300', 'protocol', '18']);
    // inet6 without an address: `from ::/0` is "from all" in IPv6, which a batch line can carry.
    expect(ipRuleArgs('del', c.staticRules[1])).toEqual([
      'ip',
      'rule',
      'del',
      'from',
      '::/0',
      'fwmark',
      '7',
      'table',
      '101',
      'preference',
      '301',
      'protocol',
      '18',
    ]);
    // keepalived's protocol: 18 (keepalived) on tracked routes and rules, a no_track one's as written.
    const tracked = { ...c.staticRoutes[0], args: ['10.6.0.0/16', 'dev', 'eth0', 'protocol', 'static'] };
    expect(ipRouteArgs('add', tracked).slice(3)).toEqual(['10.6.0.0/16', 'dev', 'eth0', 'scope', 'global', 'protocol', '18']);
    expect(ipRouteArgs('add', { ...tracked, noTrack: true }).slice(3)).toEqual(['10.6.0.0/16', 'dev', 'eth0', 'protocol', 'static', 'scope', 'global']);
    expect(ipRuleArgs('add', vi.virtualRules[0])).toEqual(['ip', 'rule', 'add', 'to', '10.4.0.0/16', 'table', '102', 'preference', '16384']);
  });

  it('adds virtual rules after the routes and removes them first, as keepalived', async () => {
    const batched: string[] = [];
    const d = new IpAddressDriver({ clock: new RealClock(), batch: { run: async (ls) => (batched.push(...ls), ls.map(() => ({ code: 0, stderr: '' }))) } });
    await Promise.all([d.add(vi), d.remove(vi)]);
    expect(batched).toEqual([
      'addr add 192.168.1.100/32 dev eth0',
      'rule add to 10.4.0.0/16 table 102 preference 16384',
      'rule del to 10.4.0.0/16 table 102 preference 16384',
      'addr del 192.168.1.100/32 dev eth0',
    ]);
  });

  it('sets static entries, changes only the difference at a reload, and reports failures with ip\u2019s message', async () => {
    const lines: string[] = [];
    const logged: string[] = [];
    const d = new IpAddressDriver({
      clock: new RealClock(),
      batch: {
        run: async (ls) => {
          lines.push(...ls);
          return ls.map((l) => (l.includes('10.2.0.0') ? { code: 1, stderr: 'Error: Nexthop device is not up.' } : { code: 0, stderr: '' }));
        },
      },
      log: (_l, m) => logged.push(m),
    });
    const first = staticEntries(c);
    await d.setStatic(first);
    expect(lines).toEqual([
      'addr add 10.1.1.1/32 dev eth3',
      'route replace 10.2.0.0/16 dev eth0 table 100 scope global protocol 18',
      'rule add from 10.3.0.0/16 table 100 priority 300 protocol 18',
      'rule add from ::/0 fwmark 7 table 101 preference 301 protocol 18',
    ]);
    expect(logged).toContain('ip route replace 10.2.0.0/16 dev eth0 table 100 scope global protocol 18 failed: Error: Nexthop device is not up.');
    lines.length = 0;
    const route = { ...first.routes[0], args: ['10.5.0.0/16', 'dev', 'eth0', 'table', '100'], to: '10.5.0.0/16' };
    const next = { ...first, routes: [route] };
    await d.setStatic(next, first);
    expect(lines).toEqual(['route del 10.2.0.0/16 dev eth0 table 100 protocol 18', 'route replace 10.5.0.0/16 dev eth0 table 100 scope global protocol 18']);
    lines.length = 0;
    await d.clearStatic(next);
    expect(lines).toEqual([
      'rule del from 10.3.0.0/16 table 100 priority 300 protocol 18',
      'rule del from ::/0 fwmark 7 table 101 preference 301 protocol 18',
      'route del 10.5.0.0/16 dev eth0 table 100 protocol 18',
      'addr del 10.1.1.1/32 dev eth3',
    ]);
  });
});
