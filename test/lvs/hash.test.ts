// The hash functions against the kernel's own figures.
import { describe, expect, it } from 'vitest';
import { addrFold, hash32, hsiphash, mulGt, multHash, parseV4 } from '../../src/lvs/hash.js';

describe('hsiphash (64-bit kernels: SipHash-1-3, 32-bit result)', () => {
  // lib/siphash_kunit.c test_vectors_hsiphash, BITS_PER_LONG == 64: key 00..0f, message bytes 0..n-1.
  const key = { k0hi: 0x07060504, k0lo: 0x03020100, k1hi: 0x0f0e0d0c, k1lo: 0x0b0a0908 };
  const vectors = [0x050fc4dc, 0x7d57ca93, 0x4dc7d44d, 0xe7ddf7fb, 0x88d38328];
  it.each(vectors.map((v, n) => [n, v]))('matches the kernel vector for %i bytes', (n, expected) => {
    let msg = 0;
    for (let i = 0; i < n; i++) msg |= i << (8 * i);
    expect(hsiphash(msg >>> 0, n, key)).toBe(expected);
  });
});

describe('sh/dh/lblc hashes', () => {
  it('hash_32 puts 192.168.1.1 (port 0) in sh bucket 136 of 256; the old multiplicative hash in 177', () => {
    const f = addrFold('192.168.1.1');
    expect(f).toBe(0xc0a80101);
    expect(hash32(f, 8)).toBe(136);
    expect(multHash(f, 255)).toBe(177);
  });

  it('parses dotted quads strictly', () => {
    expect(parseV4('255.255.255.255')).toBe(0xffffffff);
    expect(parseV4('0.0.0.0')).toBe(0);
    for (const bad of ['10.0.0.256', '10.0.0', '10.0.0.1.2', '10..0.1', '1.2.3.4 ', '1234.0.0.1', '::1', '']) expect(parseV4(bad)).toBe(-1);
    expect(() => addrFold('10.0.0.256')).toThrow(/not an IP address/);
  });

  it('folds IPv6 addresses by XOR of the four 32-bit words', () => {
    expect(addrFold('2001:db8::1')).toBe((0x20010db8 ^ 0 ^ 0 ^ 1) >>> 0);
    expect(addrFold('::ffff:10.0.0.1')).toBe((0x0000ffff ^ 0x0a000001) >>> 0);
  });
});

describe('mulGt', () => {
  it('compares products exactly past 2^53', () => {
    // (2^27+1)^2 = 2^54 + 2^28 + 1 and 2^27·(2^27+2) = 2^54 + 2^28 round to the same double.
    const a = 2 ** 27 + 1;
    const c = 2 ** 27;
    expect(a * a === c * (c + 2)).toBe(true);
    expect(mulGt(a, a, c, c + 2)).toBe(true);
    expect(mulGt(c, c + 2, a, a)).toBe(false);
    expect(mulGt(3, 4, 2, 6)).toBe(false);
  });
});
