// The wire record of the netns lab, without a namespace: tcpdump's lines, the epoch offset, and
// graceful stops timed from their priority-0 advert rather than the process's exit.
import { describe, expect, it } from 'vitest';
import type { LabTransition } from '../../../src/lab/model/result.js';
import { captureArgv, epochEdgeOffset, parseAdvert, stopsFromWire, type SentAdvert } from '../../../src/lab/netns/wire.js';

const S = 1e6;

describe('parseAdvert', () => {
  it("reads tcpdump's VRRPv2, VRRPv3 and IPv6 advert lines, kernel stamp included", () => {
    expect(
      parseAdvert('1733512345.123456 IP 192.168.1.11 > 192.168.1.12: VRRPv2, Advertisement, vrid 51, prio 150, authtype simple, intvl 1s, length 20'),
    ).toEqual({
      epochMs: 1733512345123.456,
      src: '192.168.1.11',
      vrid: 51,
      priority: 150,
    });
    expect(parseAdvert('1733512345.000001 IP 10.0.0.2 > 224.0.0.18: VRRPv3, Advertisement, vrid 7, prio 0, intvl 10cs, length 12')).toMatchObject({
      vrid: 7,
      priority: 0,
    });
    expect(parseAdvert('1733512345.5 IP6 fe80::1 > ff02::12: VRRPv3, Advertisement, vrid 9, prio 254, intvl 100cs, length 28')).toMatchObject({
      src: 'fe80::1',
      vrid: 9,
    });
  });

  it("ignores tcpdump's other lines", () => {
    expect(parseAdvert('tcpdump: listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes')).toBeUndefined();
    expect(parseAdvert('1733512345.5 IP 10.0.0.2 > 10.0.0.3: ICMP echo request, id 1, seq 1, length 64')).toBeUndefined();
  });

  it('captures only what the interface sends, VRRP only, line by line', () => {
    expect(captureArgv('eth1')).toEqual(['tcpdump', '-i', 'eth1', '-Q', 'out', '-n', '-l', '-tt', '--immediate-mode', '-p', 'ip proto 112 or ip6 proto 112']);
  });
});

describe('epochEdgeOffset', () => {
  it('waits for Date.now() to tick over, so the offset is exact to the read step, not to 1 ms', () => {
    let mono = 500.3; // 0.7 ms before the epoch clock's next whole ms
    const offset = 1_700_000_000_000 - 0.25;
    const now = () => mono;
    const epoch = () => Math.floor((mono += 0.01) + offset);
    expect(Math.abs(epochEdgeOffset(now, epoch) - offset)).toBeLessThan(0.02);
  });

  it('is not thrown off by one preemption between its two clock reads', () => {
    // The fake process is descheduled for 4 ms once, right after reading performance.now() at an
    // edge: that edge alone would read the offset 4 ms too large.
    let mono = 500.3;
    const offset = 1_700_000_000_000 - 0.25;
    let reads = 0;
    const now = () => mono;
    const epoch = () => {
      if (++reads === 71) mono += 4;
      return Math.floor((mono += 0.01) + offset);
    };
    expect(Math.abs(epochEdgeOffset(now, epoch) - offset)).toBeLessThan(0.02);
    expect(reads).toBeGreaterThan(71);
  });
});

describe('stopsFromWire', () => {
  const tr = (at: number, node: string, instance: string, to: LabTransition['to'], from: LabTransition['from'] = 'MASTER'): LabTransition => ({
    at,
    node,
    instance,
    from,
    to,
    priority: 150,
    reason: 'stopped (SIGTERM)',
  });
  const ad = (at: number, node: string, vrid: number, priority: number): SentAdvert => ({ at, node, segment: 'lan', vrid, priority });
  const vridOf = (_node: string, instance: string) => ({ VI_1: 51, VI_2: 52 })[instance];

  it("times a stopped MASTER at its priority-0 advert, not at its process's exit", () => {
    // lb1 signalled at 6s, priority 0 at 6.19s, gone at 7.26s: lb2 took over at 6.2s, no split brain.
    const ts = [tr(7.26 * S, 'lb1', 'VI_1', 'STOPPED'), tr(7.26 * S, 'lb1', 'VI_2', 'STOPPED', 'BACKUP')];
    const adverts = [ad(5.2 * S, 'lb1', 51, 150), ad(6.19 * S, 'lb1', 51, 0), ad(6.3 * S, 'lb2', 52, 0)];
    expect(stopsFromWire(ts, [{ node: 'lb1', signalled: 6 * S, exited: 7.26 * S }], adverts, vridOf)).toBe(1);
    expect(ts[0]).toMatchObject({ at: 6.19 * S, logAt: 7.26 * S, reason: 'stopped (SIGTERM): priority 0 sent at 6.190s, the process exited at 7.260s' });
    // A BACKUP sends no priority 0 (lb2's VRID 52 advert is lb2's, not lb1's): its exit stands.
    expect(ts[1].at).toBe(7.26 * S);
    expect(ts[1].logAt).toBeUndefined();
  });

  it("reads a priority 0 just before the signal as the signal's answer, and moves the signal to it", () => {
    // keepalived answers within 0.2 ms; the wire's clock, mapped on a busy box, put it 0.4 ms early.
    const ts = [tr(7.06 * S, 'lb1', 'VI_1', 'STOPPED')];
    const stops = [{ node: 'lb1', signalled: 6 * S, exited: 7.06 * S }];
    expect(stopsFromWire(ts, stops, [ad(6 * S - 400, 'lb1', 51, 0)], vridOf)).toBe(1);
    expect(ts[0].at).toBe(6 * S - 400);
    expect(stops[0].signalled).toBe(6 * S - 400);
    // Beyond the clocks' slack it is an earlier stop's, not this one's.
    const late = [tr(7.06 * S, 'lb1', 'VI_1', 'STOPPED')];
    expect(stopsFromWire(late, [{ node: 'lb1', signalled: 6 * S, exited: 7.06 * S }], [ad(6 * S - 3000, 'lb1', 51, 0)], vridOf)).toBe(0);
    expect(late[0].at).toBe(7.06 * S);
  });

  it('leaves alone a stop with no priority 0 in its window, and transitions of other faults', () => {
    const ts = [tr(7 * S, 'lb1', 'VI_1', 'STOPPED'), tr(12 * S, 'lb1', 'VI_1', 'STOPPED')];
    // A priority 0 before the signal (an earlier stop) does not count; the second STOPPED is a kill.
    const adverts = [ad(3 * S, 'lb1', 51, 0)];
    expect(stopsFromWire(ts, [{ node: 'lb1', signalled: 6 * S, exited: 7 * S }], adverts, vridOf)).toBe(0);
    expect(ts.map((t) => t.at)).toEqual([7 * S, 12 * S]);
  });
});
