// DNS_CHECK as keepalived's check_dns.c runs it: one query (random id, RD set, class IN) over UDP;
// a reply with our id and QR set ends the check, RCODE 0 is success. Replies with another id,
// queries and runts are ignored until connect_timeout.
import { randomInt } from 'node:crypto';
import type { DnsQueryType } from '../config/model/index.js';
import type { ProbeResult, Target } from './probes.js';
import { udpExchange } from './udp-exchange.js';

const QTYPE: Record<DnsQueryType, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, RRSIG: 46, DNSKEY: 48 };
const RCODE = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
const HEADER = 12;
const RD = 0x0100;
const QR = 0x8000;

/** The query: header, QNAME (`.` is the root; a trailing dot is allowed), QTYPE, QCLASS IN. */
export function dnsQuery(id: number, name: string, type: DnsQueryType): Buffer {
  const labels = name === '.' ? [] : name.replace(/\.$/, '').split('.');
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])), Buffer.from([0])]);
  const head = Buffer.alloc(HEADER);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(RD, 2);
  head.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(QTYPE[type], 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([head, qname, tail]);
}

export function dnsProbe(t: Target, name: string, type: DnsQueryType): Promise<ProbeResult> {
  const id = randomInt(0, 0x10000);
  return udpExchange(t, {
    label: 'DNS',
    payload: dnsQuery(id, name, type),
    reply: (msg) => {
      if (msg.length < HEADER || msg.readUInt16BE(0) !== id) return undefined;
      const flags = msg.readUInt16BE(2);
      if (!(flags & QR)) return undefined;
      const rcode = flags & 0xf;
      if (rcode !== 0) return { ok: false, reason: `DNS: ${type} ${name} answered with rcode ${rcode}${RCODE[rcode] ? ` (${RCODE[rcode]})` : ''}` };
      return { ok: true, reason: `DNS: ${type} ${name} answered` };
    },
    timeout: () => ({ ok: false, reason: `DNS: no reply within ${t.connectTimeout}s` }),
  });
}
