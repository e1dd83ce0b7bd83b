// UDP_CHECK as keepalived's check_udp.c runs it: send the payload (keepalived's 32-byte filler
// when none), then an ICMP port unreachable fails the check and a reply passes it; silence until
// connect_timeout passes it too, unless require_reply. With reply data, the reply's length must
// lie in min..max_reply_length and its first bytes match (x: a nibble not compared); keepalived
// 2.2.7 checks the length only when reply data is given, whatever its man page says.
import type { UdpCheck } from '../config/model/index.js';
import { fillerPayload, type ProbeResult, type Target } from './probes.js';
import { udpExchange } from './udp-exchange.js';

const FILLER = 32;

/** Why a reply does not match the expected hex (with x nibbles), or undefined when it does. */
export function replyMismatch(reply: Buffer, c: Pick<UdpCheck, 'requireReplyData' | 'minReplyLength' | 'maxReplyLength'>): string | undefined {
  if (c.requireReplyData === undefined) return undefined;
  if (reply.length < c.minReplyLength || reply.length > c.maxReplyLength)
    return `reply of ${reply.length} bytes, expected ${c.minReplyLength}..${c.maxReplyLength}`;
  const hex = reply.toString('hex');
  // Only the shorter of the reply and the expected data is compared.
  const n = Math.min(hex.length, c.requireReplyData.length);
  for (let i = 0; i < n; i++) {
    const want = c.requireReplyData[i];
    if (want !== 'x' && want !== hex[i])
      return `reply byte ${i >> 1} is ${hex.slice(i & ~1, (i & ~1) + 2)}, expected ${c.requireReplyData.slice(i & ~1, (i & ~1) + 2)}`;
  }
  return undefined;
}

export async function udpProbe(t: Target, c: UdpCheck): Promise<ProbeResult> {
  // keepalived 2.2.7's udp_bind_connect() marks the socket but does not bind it to bind_if, and a
  // mark it cannot set fails the check (udp_epilog) rather than deferring it.
  const { unrun: _, ...r } = await udpExchange(
    { ...t, bindIf: undefined },
    {
      label: 'UDP',
      payload: c.payload !== undefined ? Buffer.from(c.payload, 'hex') : fillerPayload(FILLER),
      reply: (msg) => {
        const bad = replyMismatch(msg, c);
        return bad ? { ok: false, reason: `UDP: ${bad}` } : { ok: true, reason: `UDP: reply of ${msg.length} bytes` };
      },
      timeout: () =>
        c.requireReply
          ? { ok: false, reason: `UDP: no reply within ${t.connectTimeout}s` }
          : { ok: true, reason: `UDP: no ICMP error within ${t.connectTimeout}s` },
    },
  );
  return r;
}
