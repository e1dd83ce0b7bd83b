// VRRP wire format: RFC 3768 (v2) and RFC 5798 (v3), IPv4 and IPv6. Encodes, decodes and
// checksums; knows no instance (VRID, priority and timer rules are the engine's). Decoding never
// throws: a malformed packet comes back as a drop reason, which the engine counts.
import { addressBytes, addressString, type Family } from '../core/address.js';
import { inetChecksum } from '../core/checksum.js';

export { addressBytes, addressString, inetChecksum, type Family };

export const VRRP_PROTO = 112;
export const VRRP_MCAST4 = '224.0.0.18';
export const VRRP_MCAST6 = 'ff02::12';
export const ADVERTISEMENT = 1;

/** v2 auth types (RFC 2338; keepalived still speaks PASS). */
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;

export interface Advert {
  version: 2 | 3;
  vrid: number;
  priority: number;
  family: Family;
  addresses: string[];
  /** v2: whole seconds (8 bits). */
  adverIntSec?: number;
  /** v3: centiseconds (12 bits). */
  maxAdverIntCs?: number;
  /** v2 only. */
  authType?: number;
  /** v2 only: the 8 authentication bytes. */
  authData?: Buffer;
}

/** How a v3 IPv4 checksum is computed: keepalived's default includes the IPv4 pseudo-header;
 * RFC 9568 and `v3_checksum_as_v2` cover the VRRP message only. */
export type ChecksumMode = 'pseudo-header' | 'message';

/** Stable ids for why a packet was dropped; the engine keeps a counter per id. */
export type DropReason =
  | 'ip-header-invalid'
  | 'not-vrrp'
  | 'length'
  | 'version'
  | 'type'
  | 'checksum'
  | 'address-count'
  | 'family'
  | 'ttl'
  | 'vrid-unknown'
  | 'auth-type'
  | 'auth-type-invalid'
  | 'auth-failure'
  | 'interval-mismatch'
  | 'own-packet'
  | 'unicast-src'
  | 'address-list'
  | 'owner';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DropReason; detail: string };

const fail = <T>(reason: DropReason, detail: string): Decoded<T> => ({ ok: false, reason, detail });

function pseudoHeader(family: Family, src: string, dst: string, length: number): Buffer {
  if (family === 4) {
    const p = Buffer.alloc(12);
    addressBytes(src).copy(p, 0);
    addressBytes(dst).copy(p, 4);
    p[9] = VRRP_PROTO;
    p.writeUInt16BE(length, 10);
    return p;
  }
  const p = Buffer.alloc(40);
  addressBytes(src).copy(p, 0);
  addressBytes(dst).copy(p, 16);
  p.writeUInt32BE(length, 32);
  p[39] = VRRP_PROTO;
  return p;
}

export interface EncodeOptions {
  /** Source and destination of the IP packet, needed for the v3 pseudo-header checksum. */
  src?: string;
  dst?: string;
  checksum?: ChecksumMode;
}

/** The VRRP message (the IP payload) for an advert. */
export function encodeAdvert(a: Advert, opts: EncodeOptions = {}): Buffer {
  const addrLen = a.family === 4 ? 4 : 16;
  const authLen = a.version === 2 ? 8 : 0;
  const buf = Buffer.alloc(8 + a.addresses.length * addrLen + authLen);
  buf[0] = (a.version << 4) | ADVERTISEMENT;
  buf[1] = a.vrid;
  buf[2] = a.priority;
  buf[3] = a.addresses.length;
  if (a.version === 2) {
    buf[4] = a.authType ?? AUTH_NONE;
    buf[5] = a.adverIntSec ?? 1;
  } else {
    buf.writeUInt16BE((a.maxAdverIntCs ?? 100) & 0x0fff, 4);
  }
  a.addresses.forEach((addr, i) => addressBytes(addr).copy(buf, 8 + i * addrLen));
  if (a.version === 2 && a.authData) a.authData.copy(buf, 8 + a.addresses.length * addrLen, 0, 8);
  buf.writeUInt16BE(checksumOf(buf, a, opts), 6);
  return buf;
}

function checksumOf(msg: Buffer, a: Pick<Advert, 'version' | 'family'>, opts: EncodeOptions): number {
  const usePseudo = a.version === 3 && (a.family === 6 || (opts.checksum ?? 'pseudo-header') === 'pseudo-header');
  if (!usePseudo) return inetChecksum(msg);
  if (!opts.src || !opts.dst) throw new TypeError('a VRRPv3 pseudo-header checksum needs src and dst');
  return inetChecksum(pseudoHeader(a.family, opts.src, opts.dst, msg.length), msg);
}

/** keepalived's v2 PASS data: the password's first 8 bytes, zero padded. */
export function passAuthData(pass: string): Buffer {
  const b = Buffer.alloc(8);
  Buffer.from(pass, 'latin1').copy(b, 0, 0, 8);
  return b;
}

export interface Ipv4Packet {
  /** The IPv4 header as received, options included (AH covers it). */
  header: Buffer;
  src: string;
  dst: string;
  ttl: number;
  protocol: number;
  payload: Buffer;
}

/** The IPv4 header a raw socket hands us in front of the VRRP message (or, protocol 51, the AH header). */
export function decodeIpv4(buf: Buffer, protocol: number = VRRP_PROTO): Decoded<Ipv4Packet> {
  if (buf.length < 20) return fail('ip-header-invalid', `${buf.length} bytes, shorter than an IPv4 header`);
  if (buf[0] >> 4 !== 4) return fail('ip-header-invalid', `IP version ${buf[0] >> 4}`);
  const ihl = (buf[0] & 0x0f) * 4;
  const total = buf.readUInt16BE(2);
  if (ihl < 20 || ihl > buf.length) return fail('ip-header-invalid', `header length ${ihl}`);
  // Ethernet minimum-frame padding may follow the packet (keepalived allows it); a shorter one is truncated.
  if (total < ihl || total > buf.length) return fail('length', `IP total length ${total}, ${buf.length} bytes received`);
  if (buf[9] !== protocol) return fail('not-vrrp', `protocol ${buf[9]}`);
  return {
    ok: true,
    value: {
      header: buf.subarray(0, ihl),
      ttl: buf[8],
      protocol: buf[9],
      src: addressString(buf.subarray(12, 16), 4),
      dst: addressString(buf.subarray(16, 20), 4),
      payload: buf.subarray(ihl, total),
    },
  };
}

export interface DecodeOptions {
  family: Family;
  /** IP source and destination, to verify a v3 pseudo-header checksum. */
  src: string;
  dst: string;
  /** IPv6 from a raw socket with IPV6_CHECKSUM: the kernel dropped bad checksums, and dst may be unknown. */
  checksumChecked?: boolean;
}

export interface DecodedAdvert extends Advert {
  /** Which checksum form matched (v3 IPv4 accepts both, as keepalived and FRR do). */
  checksumMode?: ChecksumMode;
  /** Carried in an AH header whose ICV was verified (ah.ts): its sequence number. */
  ahSeq?: number;
}

/** Well-formedness only (FRR's vrrp_pkt_parse_datagram): length, version, type, count, checksum. */
export function decodeAdvert(msg: Buffer, opts: DecodeOptions): Decoded<DecodedAdvert> {
  if (msg.length < 8) return fail('length', `${msg.length} bytes, shorter than a VRRP header`);
  const version = msg[0] >> 4;
  const type = msg[0] & 0x0f;
  if (version !== 2 && version !== 3) return fail('version', `version ${version}`);
  if (type !== ADVERTISEMENT) return fail('type', `type ${type}`);
  if (version === 2 && opts.family === 6) return fail('family', 'VRRPv2 is IPv4 only');
  const count = msg[3];
  const addrLen = opts.family === 4 ? 4 : 16;
  const need = 8 + count * addrLen + (version === 2 ? 8 : 0);
  // keepalived accepts trailing bytes only as link-layer padding; the message itself must fit.
  if (msg.length < need) return fail('length', `${msg.length} bytes for ${count} address(es), need ${need}`);
  if (version === 3 && count === 0) return fail('address-count', 'no addresses (RFC 9568: ignore)');
  const body = msg.subarray(0, need);
  const given = body.readUInt16BE(6);
  const zeroed = Buffer.from(body);
  zeroed.writeUInt16BE(0, 6);
  let checksumMode: ChecksumMode | undefined;
  if (opts.family === 6 && msg.length !== need) return fail('length', `vrrp packet too long, length ${msg.length} and expect ${need}`);
  if (opts.checksumChecked) {
    if (version === 3) checksumMode = 'pseudo-header';
  } else if (version === 2) {
    if (inetChecksum(zeroed) !== given) return fail('checksum', `checksum 0x${given.toString(16)}, expected 0x${inetChecksum(zeroed).toString(16)}`);
  } else {
    const withPseudo = inetChecksum(pseudoHeader(opts.family, opts.src, opts.dst, need), zeroed);
    if (withPseudo === given) checksumMode = 'pseudo-header';
    else if (opts.family === 4 && inetChecksum(zeroed) === given) checksumMode = 'message';
    else return fail('checksum', `checksum 0x${given.toString(16)}, expected 0x${withPseudo.toString(16)}`);
  }
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) addresses.push(addressString(body.subarray(8 + i * addrLen, 8 + (i + 1) * addrLen), opts.family));
  const a: DecodedAdvert = { version, vrid: body[1], priority: body[2], family: opts.family, addresses };
  if (version === 2) {
    a.authType = body[4];
    a.adverIntSec = body[5];
    a.authData = Buffer.from(body.subarray(8 + count * 4, need));
  } else {
    a.maxAdverIntCs = body.readUInt16BE(4) & 0x0fff;
    if (a.maxAdverIntCs === 0) return fail('length', 'Max Adver Int 0 (RFC 9568: must not be zero)');
    a.checksumMode = checksumMode;
  }
  return { ok: true, value: a };
}
