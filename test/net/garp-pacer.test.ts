import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { garpFrame, parseMac } from '../../src/net/garp-frame.js';
import { GarpPacer, garpIntervals } from '../../src/net/garp-pacer.js';

describe('gratuitous ARP frame', () => {
  it('is keepalived\u2019s: broadcast ARP request, sender = target = the VIP, the MAC as source and sender', () => {
    const f = garpFrame(parseMac('02:00:5E:00:01:2a')!, '10.1.2.3');
    expect(f.toString('hex')).toBe(
      'ffffffffffff' + '02005e00012a' + '0806' + '0001' + '0800' + '06' + '04' + '0001' + '02005e00012a' + '0a010203' + 'ffffffffffff' + '0a010203',
    );
    expect(parseMac('02:00:5e:00:01')).toBeUndefined();
  });
});

describe('GarpPacer', () => {
  const run = (intervalUs: (dev: string) => number) => {
    const clock = new VirtualClock(1_000_000);
    const sent: string[] = [];
    const p = new GarpPacer({ clock, intervalUs, send: (dev, a) => sent.push(`${(clock.now() - 1_000_000) / 1000} ${dev} ${a}`) });
    return { clock, sent, p };
  };

  it('sends everything at once without an interval', () => {
    const { sent, p } = run(() => 0);
    for (let j = 0; j < 2; j++) for (const a of ['10.0.0.1', '10.0.0.2']) p.request('VI_1', 'eth0', a);
    expect(sent).toEqual(['0 eth0 10.0.0.1', '0 eth0 10.0.0.2', '0 eth0 10.0.0.1', '0 eth0 10.0.0.2']);
  });

  it('with an interval: one ARP per interface per interval, a repeat of a pending ARP adds nothing (keepalived queue_garp)', () => {
    const { clock, sent, p } = run((dev) => (dev === 'eth0' ? 100_000 : 0));
    // garp_master_repeat 3 over 2 VIPs on eth0, and one VIP on eth1 (no interval). 10.0.0.2 was
    // pending first, but the pending ones go in VIP order (keepalived vrrp_arpna_send).
    for (let j = 0; j < 3; j++) {
      ['10.0.0.1', '10.0.0.2'].forEach((a, rank) => p.request('VI_1', 'eth0', a, rank));
      p.request('VI_2', 'eth1', '10.0.1.1');
    }
    expect(p.pendingCount).toBe(2);
    clock.advance(1_000_000);
    expect(sent).toEqual(['0 eth0 10.0.0.1', '0 eth1 10.0.1.1', '0 eth1 10.0.1.1', '0 eth1 10.0.1.1', '100 eth0 10.0.0.1', '200 eth0 10.0.0.2']);
    expect(p.pendingCount).toBe(0);
    // Free again once the interval has passed.
    p.request('VI_1', 'eth0', '10.0.0.2');
    expect(sent.at(-1)).toBe('1000 eth0 10.0.0.2');
  });

  it('drops what an instance has pending when its VIPs go', () => {
    const { clock, sent, p } = run(() => 50_000);
    p.request('VI_1', 'eth0', '10.0.0.1');
    p.request('VI_1', 'eth0', '10.0.0.2');
    p.request('VI_2', 'eth0', '10.0.0.3');
    p.cancel('VI_1');
    clock.advance(500_000);
    expect(sent).toEqual(['0 eth0 10.0.0.1', '50 eth0 10.0.0.3']);
  });

  it('takes the interval of an interface from its garp_group, else vrrp_garp_interval', () => {
    const of = garpIntervals(0.2, [
      { garpInterval: 0.05, interface: 'eth1', interfaces: ['eth2'] },
      // gna_interval only: no GARP delay on eth3.
      { interfaces: ['eth3'] },
      { garpInterval: 1, interfaces: ['eth1'] },
    ]);
    expect(['eth0', 'eth1', 'eth2', 'eth3'].map(of)).toEqual([200_000, 50_000, 50_000, 0]);
  });

  it('takes the gna interval the same way: a garp_group with only garp_interval gives none', () => {
    const groups = [
      { garpInterval: 0.05, interface: 'eth1', interfaces: [] },
      { gnaInterval: 0.3, interfaces: ['eth2'] },
    ];
    expect(['eth0', 'eth1', 'eth2'].map(garpIntervals(0.1, groups, 'gnaInterval'))).toEqual([100_000, 0, 300_000]);
  });
});
