// The hash functions IPVS schedulers key on, as plain 32-bit arithmetic: the address fold, the
// golden-ratio hash_32 (sh, lblc, lblcr), the old multiplicative hash (dh) and the 64-bit kernels'
// hsiphash, which is SipHash-1-3 (mh). Written from the published algorithms; outputs are checked
// against the kernel's documented test vectors in test/lvs/hash.test.ts.
import { addressBytes } from '../core/address.js';

/** Dotted-quad IPv4 as an unsigned number, or -1 if `s` is not one (a per-pick hot path: no regex). */
export function parseV4(s: string): number {
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46 && digits > 0 && dots < 3) {
      v = v * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + part;
}

/**
 * IPVS `addr_fold` in host order: an IPv4 address as its 32-bit number, an IPv6 address as the
 * XOR of its four 32-bit words. Unsigned.
 */
export function addrFold(address: string): number {
  const v4 = parseV4(address);
  if (v4 >= 0) return v4;
  const b = addressBytes(address.replace(/%.*$/, ''));
  let f = 0;
  for (let i = 0; i < b.length; i += 4) f ^= b.readUInt32BE(i);
  return f >>> 0;
}

/** Linux `hash_32(v, bits)`: multiply by 0x61C88647 mod 2^32 and keep the top `bits` bits. */
export function hash32(v: number, bits: number): number {
  return Math.imul(v, 0x61c88647) >>> (32 - bits);
}

/** The pre-4.7 multiplicative hash `(v * 2654435761) & mask` still used by dh. */
export function multHash(v: number, mask: number): number {
  return (Math.imul(v, 0x9e3779b1) >>> 0) & mask;
}

// SipHash state as eight 32-bit halves (hi, lo) of v0..v3; module-level so a hash allocates nothing.
let h0 = 0,
  l0 = 0,
  h1 = 0,
  l1 = 0,
  h2 = 0,
  l2 = 0,
  h3 = 0,
  l3 = 0;

function sipRound(): void {
  let lo: number, t: number;
  // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
  lo = (l0 + l1) >>> 0;
  h0 = (h0 + h1 + (lo < l0 ? 1 : 0)) >>> 0;
  l0 = lo;
  t = h1;
  h1 = ((h1 << 13) | (l1 >>> 19)) >>> 0;
  l1 = ((l1 << 13) | (t >>> 19)) >>> 0;
  h1 = (h1 ^ h0) >>> 0;
  l1 = (l1 ^ l0) >>> 0;
  t = h0;
  h0 = l0;
  l0 = t;
  // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
  lo = (l2 + l3) >>> 0;
  h2 = (h2 + h3 + (lo < l2 ? 1 : 0)) >>> 0;
  l2 = lo;
  t = h3;
  h3 = ((h3 << 16) | (l3 >>> 16)) >>> 0;
  l3 = ((l3 << 16) | (t >>> 16)) >>> 0;
  h3 = (h3 ^ h2) >>> 0;
  l3 = (l3 ^ l2) >>> 0;
  // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
  lo = (l0 + l3) >>> 0;
  h0 = (h0 + h3 + (lo < l0 ? 1 : 0)) >>> 0;
  l0 = lo;
  t = h3;
  h3 = ((h3 << 21) | (l3 >>> 11)) >>> 0;
  l3 = ((l3 << 21) | (t >>> 11)) >>> 0;
  h3 = (h3 ^ h0) >>> 0;
  l3 = (l3 ^ l0) >>> 0;
  // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
  lo = (l2 + l1) >>> 0;
  h2 = (h2 + h1 + (lo < l2 ? 1 : 0)) >>> 0;
  l2 = lo;
  t = h1;
  h1 = ((h1 << 17) | (l1 >>> 15)) >>> 0;
  l1 = ((l1 << 17) | (t >>> 15)) >>> 0;
  h1 = (h1 ^ h2) >>> 0;
  l1 = (l1 ^ l2) >>> 0;
  t = h2;
  h2 = l2;
  l2 = t;
}

/** A 128-bit SipHash key as four 32-bit halves: k0 = (k0hi, k0lo), k1 = (k1hi, k1lo). */
export interface SipKey {
  k0hi: number;
  k0lo: number;
  k1hi: number;
  k1lo: number;
}

/**
 * Linux `hsiphash()` on 64-bit builds (SipHash-1-3, result truncated to 32 bits) of a message of
 * `len` ≤ 4 bytes given as a little-endian number `value`. IPVS mh hashes a host-order u32 (len 4).
 */
export function hsiphash(value: number, len: number, key: SipKey): number {
  h0 = (0x736f6d65 ^ key.k0hi) >>> 0;
  l0 = (0x70736575 ^ key.k0lo) >>> 0;
  h1 = (0x646f7261 ^ key.k1hi) >>> 0;
  l1 = (0x6e646f6d ^ key.k1lo) >>> 0;
  h2 = (0x6c796765 ^ key.k0hi) >>> 0;
  l2 = (0x6e657261 ^ key.k0lo) >>> 0;
  h3 = (0x74656462 ^ key.k1hi) >>> 0;
  l3 = (0x79746573 ^ key.k1lo) >>> 0;
  // Final block b = len << 56 | message bytes.
  const bh = (len << 24) >>> 0;
  const bl = value >>> 0;
  h3 = (h3 ^ bh) >>> 0;
  l3 = (l3 ^ bl) >>> 0;
  sipRound();
  h0 = (h0 ^ bh) >>> 0;
  l0 = (l0 ^ bl) >>> 0;
  l2 = (l2 ^ 0xff) >>> 0;
  sipRound();
  sipRound();
  sipRound();
  return (l0 ^ l1 ^ l2 ^ l3) >>> 0;
}

/** The fixed keys ip_vs_mh uses (so every director builds the same table). */
export const MH_KEY1: SipKey = { k0hi: 0, k0lo: 2654435761, k1hi: 0, k1lo: 2654435761 };
export const MH_KEY2: SipKey = { k0hi: 0, k0lo: 2654446892, k1hi: 0, k1lo: 2654446892 };

/** Exact `a*b > c*d` for non-negative integers (falls back to BigInt past 2^53). */
export function mulGt(a: number, b: number, c: number, d: number): boolean {
  const x = a * b;
  const y = c * d;
  if (x <= Number.MAX_SAFE_INTEGER && y <= Number.MAX_SAFE_INTEGER) return x > y;
  return BigInt(a) * BigInt(b) > BigInt(c) * BigInt(d);
}

export function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
