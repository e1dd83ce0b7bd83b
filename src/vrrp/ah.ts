// keepalived's VRRPv2 IPsec AH authentication (RFC 2402 header, keepalived's own keying): IPv4
// protocol 51 carries a 24-byte AH header, then the VRRP message (auth type 2, zero auth data).
// - SPI: the sender's IPv4 source address; payload length 4 (a 96-bit ICV); next header 112.
// - ICV: HMAC-MD5 keyed with the 8 auth_pass bytes (zero padded), truncated to 12 bytes, over the
//   IPv4 header with TOS, fragment offset and checksum zeroed (and TTL too for unicast: keepalived
//   zeroes it only then), the AH header with its ICV zeroed, and the VRRP message.
// - Sequence numbers: one counter per instance for sending and receiving (vrrp.c keeps one);
//   the machine (machine.ts) checks and moves it, this file only encodes and verifies.
// Pure: the IP header that the transport will write is rebuilt here from the same fields.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { addressBytes, addressString, passAuthData, VRRP_PROTO, type DropReason } from './packet.js';

export const IPPROTO_AH = 51;
export const AH_LEN = 24;
const ICV_LEN = 12;
/** AH payload length for a 96-bit ICV: (24 / 4) - 2. */
const AH_PLEN = 4;
const IPV4_HEADER = 20;

export interface AhSendFields {
  src: string;
  dst: string;
  ttl: number;
  /** The IP identification the transport writes (keepalived sets it, never 0, for the ICV). */
  id: number;
  seq: number;
  /** Unicast instances zero the TTL in the ICV (keepalived's VRRP_FLAG_UNICAST). */
  unicast: boolean;
}

/** The IPv4 header our transport writes, with keepalived's mutable fields zeroed. */
function icvHeader(f: AhSendFields, totalLength: number): Buffer {
  const h = Buffer.alloc(IPV4_HEADER);
  h[0] = 0x45;
  h.writeUInt16BE(totalLength, 2);
  h.writeUInt16BE(f.id, 4);
  h[8] = f.unicast ? 0 : f.ttl;
  h[9] = IPPROTO_AH;
  addressBytes(f.src).copy(h, 12);
  addressBytes(f.dst).copy(h, 16);
  return h;
}

const hmac96 = (key: Buffer, parts: Buffer[]): Buffer => {
  const h = createHmac('md5', key);
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, ICV_LEN);
};

/** The AH header and VRRP message, ready to go out as the payload of IPv4 protocol 51. */
export function sealAh(vrrp: Buffer, pass: string, f: AhSendFields): Buffer {
  const out = Buffer.alloc(AH_LEN + vrrp.length);
  out[0] = VRRP_PROTO;
  out[1] = AH_PLEN;
  addressBytes(f.src).copy(out, 4); // SPI = source address, as keepalived sets it
  out.writeUInt32BE(f.seq >>> 0, 8);
  vrrp.copy(out, AH_LEN);
  hmac96(passAuthData(pass), [icvHeader(f, IPV4_HEADER + out.length), out]).copy(out, 12);
  return out;
}

export interface OpenedAh {
  seq: number;
  /** The VRRP message inside. */
  vrrp: Buffer;
}

export type AhResult = { ok: true; value: OpenedAh } | { ok: false; reason: DropReason; detail: string; ignore?: true };

/**
 * Verify a received AH packet as keepalived's vrrp_in_chk_ipsecah does: the ICV first (nothing
 * else can be trusted before it), then the SPI against the source. `header` is the received IPv4
 * header (options included), `payload` what follows it. The sequence number is the machine's.
 */
export function openAh(header: Buffer, payload: Buffer, pass: string, unicast: boolean): AhResult {
  if (payload.length < AH_LEN + 8)
    return { ok: false, reason: 'length', detail: `IPv4 VRRP packet with AH too short - ${header.length + payload.length} bytes` };
  // "an AH header for some other protocol - ignore packet" (not counted by keepalived).
  if (payload[0] !== VRRP_PROTO) return { ok: false, reason: 'not-vrrp', detail: `AH next header ${payload[0]}`, ignore: true };
  const ip = Buffer.from(header);
  ip[1] = 0; // TOS
  ip.writeUInt16BE(0, 6); // flags and fragment offset
  ip.writeUInt16BE(0, 10); // header checksum
  if (unicast) ip[8] = 0;
  const ah = Buffer.from(payload);
  ah.fill(0, 12, AH_LEN);
  const want = hmac96(passAuthData(pass), [ip, ah]);
  if (!timingSafeEqual(want, payload.subarray(12, AH_LEN))) {
    return { ok: false, reason: 'auth-failure', detail: 'IPSEC-AH : invalid IPSEC HMAC-MD5 value. Due to fields mutation or bad password !' };
  }
  const src = header.subarray(12, 16);
  if (!payload.subarray(4, 8).equals(src)) {
    return {
      ok: false,
      reason: 'auth-failure',
      detail: `IPSEC AH : invalid IPSEC SPI value. ${addressString(payload.subarray(4, 8), 4)} and expect ${addressString(src, 4)}`,
    };
  }
  return { ok: true, value: { seq: payload.readUInt32BE(8), vrrp: Buffer.from(payload.subarray(AH_LEN)) } };
}
