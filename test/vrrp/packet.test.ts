import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressBytes, addressString, decodeAdvert, decodeIpv4, encodeAdvert, inetChecksum, passAuthData } from '../../src/vrrp/packet.js';

const hex = (s: string) => Buffer.from(s, 'hex');

// Golden vectors from ../shared/reference/peers.md §1.3, checked there with tcpdump -v.
describe('VRRP codec: golden vectors', () => {
  it('v2, vrid 51, prio 100, adv 1 s, no auth', () => {
    const b = encodeAdvert({ version: 2, vrid: 51, priority: 100, family: 4, addresses: ['192.168.1.1'], adverIntSec: 1, authType: 0 });
    expect(b.toString('hex')).toBe('213364010001b920c0a801010000000000000000');
  });

  it('v3 over IPv4 with the pseudo-header (keepalived default) and message-only (RFC 9568)', () => {
    const a = { version: 3 as const, vrid: 51, priority: 100, family: 4 as const, addresses: ['192.168.1.1'], maxAdverIntCs: 100 };
    expect(encodeAdvert(a, { src: '192.168.1.10', dst: '224.0.0.18' }).toString('hex')).toBe('313364010064067cc0a80101');
    expect(encodeAdvert(a, { checksum: 'message' }).toString('hex')).toBe('313364010064a8bdc0a80101');
  });

  it('v3 over IPv6', () => {
    const b = encodeAdvert(
      { version: 3, vrid: 1, priority: 100, family: 6, addresses: ['fe80::100'], maxAdverIntCs: 100 },
      { src: 'fe80::1', dst: 'ff02::12' },
    );
    expect(b.toString('hex')).toBe('3101640100646cf9fe800000000000000000000000000100');
  });

  it('decodes what it encodes, and accepts both v3 IPv4 checksum forms', () => {
    const d = decodeAdvert(hex('313364010064067cc0a80101'), { family: 4, src: '192.168.1.10', dst: '224.0.0.18' });
    expect(d).toMatchObject({
      ok: true,
      value: { version: 3, vrid: 51, priority: 100, maxAdverIntCs: 100, addresses: ['192.168.1.1'], checksumMode: 'pseudo-header' },
    });
    const m = decodeAdvert(hex('313364010064a8bdc0a80101'), { family: 4, src: '192.168.1.10', dst: '224.0.0.18' });
    expect(m).toMatchObject({ ok: true, value: { checksumMode: 'message' } });
    const v2 = decodeAdvert(
      encodeAdvert({
        version: 2,
        vrid: 7,
        priority: 200,
        family: 4,
        addresses: ['10.0.0.1', '10.0.0.2'],
        adverIntSec: 3,
        authType: 1,
        authData: passAuthData('secret123'),
      }),
      { family: 4, src: '1.1.1.1', dst: '224.0.0.18' },
    );
    expect(v2).toMatchObject({ ok: true, value: { version: 2, vrid: 7, priority: 200, adverIntSec: 3, authType: 1, addresses: ['10.0.0.1', '10.0.0.2'] } });
    if (v2.ok) expect(v2.value.authData!.toString('latin1')).toBe('secret12');
  });
});

describe('VRRP codec: malformed input is a drop reason, never an exception', () => {
  const opts = { family: 4 as const, src: '192.168.1.10', dst: '224.0.0.18' };
  it.each([
    ['short', '3133', 'length'],
    ['bad version', '413364010064067cc0a80101', 'version'],
    ['bad type', '323364010064067cc0a80101', 'type'],
    ['truncated address list', '313364020064067cc0a80101', 'length'],
    ['bad checksum', '313364010064067dc0a80101', 'checksum'],
    ['zero addresses (v3)', '313364000064067c', 'address-count'],
  ])('%s', (_name, packet, reason) => {
    expect(decodeAdvert(hex(packet), opts)).toMatchObject({ ok: false, reason });
  });

  it('checks the IPv4 header a raw socket delivers', () => {
    const vrrp = hex('213364010001b920c0a801010000000000000000');
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + vrrp.length, 2);
    ip[8] = 255;
    ip[9] = 112;
    addressBytes('192.168.1.10').copy(ip, 12);
    addressBytes('224.0.0.18').copy(ip, 16);
    const pad = Buffer.alloc(6); // Ethernet minimum-frame padding
    expect(decodeIpv4(Buffer.concat([ip, vrrp, pad]))).toMatchObject({ ok: true, value: { ttl: 255, src: '192.168.1.10', dst: '224.0.0.18', payload: vrrp } });
    expect(decodeIpv4(ip.subarray(0, 12))).toMatchObject({ ok: false, reason: 'ip-header-invalid' });
    const tcp = Buffer.from(ip);
    tcp[9] = 6;
    expect(decodeIpv4(Buffer.concat([tcp, vrrp]))).toMatchObject({ ok: false, reason: 'not-vrrp' });
  });

  it('fuzzed packets derived from valid ones are decoded or dropped with a reason', () => {
    const valid = [hex('213364010001b920c0a801010000000000000000'), hex('313364010064067cc0a80101')];
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat({ max: 30 }),
        (base, flips, cut) => {
          const b = Buffer.from(base);
          for (const [i, v] of flips) b[i % b.length] = v;
          const r = decodeAdvert(b.subarray(0, Math.max(0, b.length - (cut % 8))), opts);
          if (!r.ok) expect(typeof r.detail).toBe('string');
          else expect(r.value.addresses.length).toBe(b[3]);
        },
      ),
      { numRuns: 2000, seed: 42 },
    );
  });
});

describe('addresses and checksums', () => {
  it('round-trips IPv6 text in RFC 5952 form', () => {
    for (const a of ['fe80::1', '2001:db8::', '::1', '2001:db8:0:1:1:1:1:1', 'ff02::12']) expect(addressString(addressBytes(a), 6)).toBe(a);
    expect(addressString(addressBytes('::ffff:10.0.0.1'), 6)).toBe('::ffff:a00:1');
  });

  it('reads exactly the dotted quads net.isIPv4 accepts', () => {
    for (const a of ['0.0.0.0', '10.200.3.1', '255.255.255.255', '224.0.0.18']) expect([...addressBytes(a)]).toEqual(a.split('.').map(Number));
    for (const a of ['256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.4 ', '1.2.3.1000', 'a.b.c.d', ''])
      expect(() => addressBytes(a), a).toThrow(/not an IP address/);
  });

  it('sums odd-length and split buffers like one buffer', () => {
    const whole = hex('0102030405');
    expect(inetChecksum(whole.subarray(0, 3), whole.subarray(3))).toBe(inetChecksum(whole));
  });
});
