import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { addressBytes, ipFamily } from '../../src/core/address.js';

describe('ipFamily', () => {
  // The hand scanner must answer as net.isIP does, on the edge cases of a dotted quad too.
  const cases = [
    '10.0.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3',
    '1.2.3.4.5',
    '1..2.3',
    '.1.2.3',
    '1.2.3.',
    '1.2.3.4 ',
    '1.2.3.1000',
    '',
    '::',
    '::1',
    'fe80::1',
    '2001:db8::10',
    '::ffff:10.0.0.1',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8:9',
    'fe80::1%eth0',
    'example.com',
    '10.0.0.1/24',
    '１.2.3.4',
  ];
  it.each(cases)('%j as net.isIP', (text) => {
    expect(ipFamily(text)).toBe(isIP(text));
  });

  it('agrees with net.isIP on random dotted strings', () => {
    // A seeded walk over short strings of digits and dots: every shape of near-quad.
    let seed = 7;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      const r = seed >>> 16;
      return r % n;
    };
    let checked = 0;
    for (let k = 0; k < 20000; k++) {
      // Three to five parts of zero to three digits (leading zeros, 256-999, empty parts).
      const parts: string[] = [];
      for (let n = 3 + next(3); n > 0; n--) {
        let part = '';
        for (let d = next(4); d > 0; d--) part += String(next(10));
        parts.push(part);
      }
      const s = parts.join('.');
      expect(ipFamily(s), s).toBe(isIP(s));
      if (isIP(s) === 4) checked++;
    }
    // The walk reaches valid quads, not only rejections.
    expect(checked).toBeGreaterThan(50);
  });

  it('leaves addressBytes unchanged', () => {
    expect([...addressBytes('192.168.1.10')]).toEqual([192, 168, 1, 10]);
    expect([...addressBytes('::1')]).toEqual([...new Array<number>(15).fill(0), 1]);
    expect(() => addressBytes('1.2.3.256')).toThrow(/not an IP address/);
  });
});
