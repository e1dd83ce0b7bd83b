// DNS_CHECK against a UDP responder on loopback that answers right, wrong, or not at all.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProbe } from '../../src/check/dispatch.js';
import { dnsProbe, dnsQuery } from '../../src/check/probe-dns.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
import { jobFor } from './conf.js';

const sockets: Socket[] = [];
afterAll(() => sockets.forEach((s) => s.close()));

/** A responder: `answer` turns each query into the datagrams sent back. */
function responder(answer: (q: Buffer) => Buffer[]): Promise<{ port: number; queries: Buffer[] }> {
  const s = createSocket('udp4');
  sockets.push(s);
  const queries: Buffer[] = [];
  s.on('message', (q: Buffer, from: RemoteInfo) => {
    queries.push(q);
    for (const d of answer(q)) s.send(d, from.port, from.address);
  });
  return new Promise((r) => s.bind(0, '127.0.0.1', () => r({ port: s.address().port, queries })));
}

/** The query sent back as a response: same id, QR set, the given RCODE. */
function response(q: Buffer, rcode = 0, id = q.readUInt16BE(0)): Buffer {
  const r = Buffer.from(q);
  r.writeUInt16BE(id, 0);
  r.writeUInt16BE(0x8180 | rcode, 2);
  return r;
}

const target = (port: number, connectTimeout = 0.4) => ({ host: '127.0.0.1', port, connectTimeout });

describe('DNS_CHECK', () => {
  it("builds keepalived's query: RD set, one question, QNAME labels, QTYPE, class IN", () => {
    expect(dnsQuery(0x1234, '.', 'SOA').toString('hex')).toBe('1234' + '0100' + '0001' + '0000'.repeat(3) + '00' + '0006' + '0001');
    expect(dnsQuery(7, 'example.com', 'A')).toEqual(dnsQuery(7, 'example.com.', 'A'));
    expect(dnsQuery(7, 'example.com', 'AAAA').subarray(12).toString('hex')).toBe('076578616d706c6503636f6d00' + '001c' + '0001');
  });

  it('passes on a reply with our id and RCODE 0, querying SOA of . by default', async () => {
    const srv = await responder((q) => [response(q)]);
    const runner = new ScriptRunner();
    const probe = makeProbe(runner);
    expect(await probe(jobFor('DNS_CHECK {\n      connect_timeout 0.4\n    }', `127.0.0.1:${srv.port}`))).toEqual({ ok: true, reason: 'DNS: SOA . answered' });
    const q = srv.queries[0];
    expect(q.subarray(2).toString('hex')).toBe('0100' + '0001' + '0000'.repeat(3) + '00' + '0006' + '0001');
    probe.dispose();
    await runner.shutdown();
  });

  it('uses a new random id for each query', async () => {
    const srv = await responder((q) => [response(q)]);
    for (let i = 0; i < 4; i++) expect((await dnsProbe(target(srv.port), 'example.com', 'A')).ok).toBe(true);
    expect(new Set(srv.queries.map((q) => q.readUInt16BE(0))).size).toBeGreaterThan(1);
  });

  it('ignores garbage, a reply with another id and a query, then passes on ours', async () => {
    const srv = await responder((q) => {
      const query = Buffer.from(q);
      return [Buffer.from('hi'), response(q, 0, (q.readUInt16BE(0) + 1) & 0xffff), query, response(q)];
    });
    expect(await dnsProbe(target(srv.port), 'example.com', 'A')).toEqual({ ok: true, reason: 'DNS: A example.com answered' });
  });

  it('fails when only replies with another id come back', async () => {
    const srv = await responder((q) => [response(q, 0, (q.readUInt16BE(0) + 1) & 0xffff)]);
    expect(await dnsProbe(target(srv.port, 0.3), '.', 'SOA')).toEqual({ ok: false, reason: 'DNS: no reply within 0.3s' });
  });

  it('fails on a non-zero RCODE', async () => {
    const srv = await responder((q) => [response(q, 3)]);
    expect(await dnsProbe(target(srv.port), 'nowhere.test', 'A')).toEqual({ ok: false, reason: 'DNS: A nowhere.test answered with rcode 3 (NXDOMAIN)' });
  });

  it('fails at once on a closed port (ICMP port unreachable)', async () => {
    const srv = await responder(() => []);
    await new Promise<void>((r) => sockets.pop()!.close(r));
    const t0 = Date.now();
    expect(await dnsProbe(target(srv.port, 3), '.', 'SOA')).toEqual({ ok: false, reason: 'DNS: ICMP port unreachable (ECONNREFUSED)' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
