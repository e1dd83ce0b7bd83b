// The SIGUSR2 stats file: keepalived 2.2.7's vrrp_print_stats block per instance (vrrp_print.c,
// built with VRRP_AUTH), each counter where keepalived counts it, then our keepalived-ts section.
import { describe, expect, it } from 'vitest';
import { statsDump } from '../../src/daemon/dumps.js';
import type { VrrpEngine } from '../../src/vrrp/engine.js';
import type { Counters } from '../../src/vrrp/machine.js';

/** What statsDump reads of an engine: each instance's name and counters, and the unknown VRIDs. */
function engine(instances: { name: string; counters: Counters }[], unknownVrid: Record<string, number> = {}): VrrpEngine {
  return {
    instances: instances.map(({ name, counters }) => ({ inst: { name }, runner: { state: { counters } }, ifname: 'eth0' })),
    unknownVrid,
  } as unknown as VrrpEngine;
}

const counters = (over: Partial<Counters> = {}): Counters => ({
  advertRcvd: 0,
  advertSent: 0,
  becomeMaster: 0,
  releaseMaster: 0,
  priZeroRcvd: 0,
  priZeroSent: 0,
  addressListErrors: 0,
  dropped: {},
  ...over,
});

describe('SIGUSR2 stats dump', () => {
  it("prints keepalived's block with each drop under keepalived's label, then ours", () => {
    const text = statsDump(
      engine(
        [
          {
            name: 'VI_1',
            counters: counters({
              advertRcvd: 120,
              advertSent: 33,
              becomeMaster: 2,
              releaseMaster: 1,
              priZeroRcvd: 1,
              priZeroSent: 1,
              addressListErrors: 4,
              dropped: { length: 5, ttl: 6, type: 7, 'interval-mismatch': 8, 'auth-type-invalid': 9, 'auth-type': 10, 'auth-failure': 11, checksum: 12 },
            }),
          },
        ],
        { 'eth0/52': 3 },
      ),
      {
        sockets: [{ ifname: 'eth0', stats: { sent: 34, received: 140, sendErrors: 0, sendDropped: 2, receiveErrors: 0, dropped: { 'not-vrrp': 1 } } }],
        services: [{ service: 'TCP 10.0.0.1:80', totals: { conns: 5, inbytes: 100 }, forwarder: { accepted: 5, refused: 0 } }],
      },
    );
    expect(text).toBe(`VRRP Instance: VI_1
  Advertisements:
    Received: 120
    Sent: 33
  Became master: 2
  Released master: 1
  Packet Errors:
    Length: 5
    TTL: 6
    Invalid Type: 7
    Advertisement Interval: 8
    Address List: 4
  Authentication Errors:
    Invalid Type: 9
    Type Mismatch: 10
    Failure: 11
  Priority Zero:
    Received: 1
    Sent: 1
------< keepalived-ts >------
VRRP drops by reason:
  VI_1: auth-failure 11, auth-type 10, auth-type-invalid 9, checksum 12, interval-mismatch 8, length 5, ttl 6, type 7
Adverts for unknown VRIDs: eth0/52 3
VRRP sockets:
  eth0: sent 34, received 140, send errors 0, send queue drops 2, receive errors 0, dropped: not-vrrp 1
Virtual servers:
  TCP 10.0.0.1:80: conns 5, inbytes 100; forwarder: accepted 5, refused 0
`);
  });

  it('says none where nothing was counted, and escapes control characters in names', () => {
    const text = statsDump(engine([{ name: 'VI\x1b[2J', counters: counters() }]));
    expect(text).toContain('VRRP Instance: VI\\x1b[2J\n');
    expect(text).toContain('  VI\\x1b[2J: none\n');
    expect(text).toContain('Adverts for unknown VRIDs: none\n');
    expect(text).not.toContain('\x1b');
    expect(text.endsWith('VRRP sockets:\nVirtual servers:\n')).toBe(true);
  });
});
