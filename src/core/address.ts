// IP addresses as bytes and as text (RFC 5952 for IPv6), and as numbers for ranges and
// comparisons. One implementation for the codec, the tie-break and virtual_server_group ranges.
import { isIP, isIPv6 } from 'node:net';

export type Family = 4 | 6;

/** An address's family, 0 when it is none: net.isIP's answer, with a dotted quad (nearly every
 * address a config holds) scanned by hand rather than by isIP's regex. */
export function ipFamily(addr: string): 0 | Family {
  return scanIpv4(addr) ? 4 : (isIP(addr) as 0 | Family);
}

export function addressBytes(addr: string): Buffer {
  const quad = ipv4Bytes(addr);
  if (quad) return quad;
  if (!isIPv6(addr)) throw new TypeError(`not an IP address: ${addr}`);
  // Expand :: and an embedded IPv4 tail.
  let a = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    a = a.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Writes `addr`'s bytes into `buf` at `offset`; an IPv4 address without allocating (every
 * advert's IP header is written from its address strings). */
export function writeAddress(addr: string, buf: Buffer, offset: number): void {
  if (!ipv4Bytes(addr, buf, offset)) addressBytes(addr).copy(buf, offset);
}

/** A dotted quad's 4 bytes (into `out` at `at`, else a new buffer) without regex or arrays,
 * undefined when `addr` is not one (what net.isIPv4 accepts). */
function ipv4Bytes(addr: string, out: Buffer = Buffer.allocUnsafe(4), at = 0): Buffer | undefined {
  return scanIpv4(addr, out, at) ? out : undefined;
}

/** Whether `addr` is a dotted quad, writing its bytes into `out` at `at` when given. */
function scanIpv4(addr: string, out?: Buffer, at = 0): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return false;
      if (out) out[at + part] = value;
      part++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // No leading zeros (isIPv4 rejects them) and at most 255.
      if (digits > 0 && value === 0) return false;
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else return false;
  }
  if (digits === 0 || part !== 3) return false;
  if (out) out[at + 3] = value;
  return true;
}

export function addressString(b: Buffer, family: Family): string {
  if (family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i));
  // RFC 5952: compress the longest run of zero groups (length >= 2).
  let best = -1;
  let len = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > len && j - i >= 2) {
      best = i;
      len = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  return best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + len).join(':')}`;
}

/** The address as an unsigned number (for ranges such as 10.0.0.1-10.0.0.9). */
export function addressToBigInt(addr: string): bigint {
  return [...addressBytes(addr.replace(/%.*$/, ''))].reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

export function bigIntToAddress(n: bigint, family: Family): string {
  const len = family === 4 ? 4 : 16;
  const b = Buffer.alloc(len);
  for (let i = len - 1; i >= 0; i--, n >>= 8n) b[i] = Number(n & 0xffn);
  return addressString(b, family);
}
