// UDP_CHECK against a UDP echo server, a silent one and a closed port on loopback.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProbe } from '../../src/check/dispatch.js';
import { replyMismatch, udpProbe } from '../../src/check/probe-udp.js';
import type { UdpCheck } from '../../src/config/model/index.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
import { jobFor } from './conf.js';

const sockets: Socket[] = [];
const runner = new ScriptRunner();
const probe = makeProbe(runner);
afterAll(async () => {
  sockets.forEach((s) => s.close());
  probe.dispose();
  await runner.shutdown();
});

/** A UDP server; `reply` maps what it got to what it sends back (undefined: nothing). */
function server(reply: (d: Buffer) => Buffer | undefined): Promise<{ port: number; got: Buffer[] }> {
  const s = createSocket('udp4');
  sockets.push(s);
  const got: Buffer[] = [];
  s.on('message', (d, from) => {
    got.push(d);
    const r = reply(d);
    if (r) s.send(r, from.port, from.address);
  });
  return new Promise((r) => s.bind(0, '127.0.0.1', () => r({ port: s.address().port, got })));
}

const udp = (port: number, body: string, timeout = 0.3) =>
  probe(jobFor(`UDP_CHECK {\n      connect_timeout ${timeout}\n      ${body}\n    }`, `127.0.0.1:${port}`));

describe('UDP_CHECK', () => {
  it("sends the payload, or keepalived's 32-byte filler without one", async () => {
    const srv = await server(() => undefined);
    await udp(srv.port, 'payload 0a1b 2c');
    await udp(srv.port, '');
    expect(srv.got.map((d) => d.toString('hex'))).toEqual(['0a1b2c', Buffer.from('keepalived check - keepalived ch').toString('hex')]);
  });

  it('without require_reply, passes on silence and on a reply', async () => {
    const silent = await server(() => undefined);
    expect(await udp(silent.port, '')).toEqual({ ok: true, reason: 'UDP: no ICMP error within 0.3s' });
    const echo = await server((d) => d);
    expect(await udp(echo.port, '', 2)).toEqual({ ok: true, reason: 'UDP: reply of 32 bytes' });
  });

  it('fails at once on a closed port (ICMP port unreachable)', async () => {
    const srv = await server(() => undefined);
    await new Promise<void>((r) => sockets.pop()!.close(r));
    const t0 = Date.now();
    expect(await udp(srv.port, '', 3)).toEqual({ ok: false, reason: 'UDP: ICMP port unreachable (ECONNREFUSED)' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('with require_reply, fails on silence and passes on any reply', async () => {
    const silent = await server(() => undefined);
    expect(await udp(silent.port, 'require_reply')).toEqual({ ok: false, reason: 'UDP: no reply within 0.3s' });
    const echo = await server(() => Buffer.from('pong'));
    expect(await udp(echo.port, 'require_reply')).toEqual({ ok: true, reason: 'UDP: reply of 4 bytes' });
  });

  it('with reply data, checks the first bytes (x: any nibble) and the length', async () => {
    const srv = await server(() => Buffer.from('c0ffee42', 'hex'));
    expect(await udp(srv.port, 'require_reply c0 fx')).toMatchObject({ ok: true });
    expect(await udp(srv.port, 'require_reply c0ffee42aabb')).toMatchObject({ ok: true });
    expect(await udp(srv.port, 'require_reply c0 fe')).toEqual({ ok: false, reason: 'UDP: reply byte 1 is ff, expected fe' });
    expect(await udp(srv.port, 'require_reply c0\n      min_reply_length 5')).toEqual({ ok: false, reason: 'UDP: reply of 4 bytes, expected 5..255' });
    expect(await udp(srv.port, 'require_reply c0\n      max_reply_length 3')).toEqual({ ok: false, reason: 'UDP: reply of 4 bytes, expected 0..3' });
  });

  it('fails, without throwing, on a target with no port (a real server of a fwmark service)', async () => {
    const c = jobFor('UDP_CHECK {\n    }').checker as UdpCheck;
    const r = await udpProbe({ host: '127.0.0.1', port: 0, connectTimeout: 0.3 }, c);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^UDP: ERR_SOCKET_BAD_PORT: /);
  });

  it('compares only data it was given', () => {
    const limits = { minReplyLength: 0, maxReplyLength: 255 };
    expect(replyMismatch(Buffer.from([1, 2]), { ...limits, requireReplyData: undefined })).toBeUndefined();
    expect(replyMismatch(Buffer.from([0x12, 0x34]), { ...limits, requireReplyData: 'x2x4' })).toBeUndefined();
    expect(replyMismatch(Buffer.from([0x12, 0x34]), { ...limits, requireReplyData: 'x2x5' })).toBe('reply byte 1 is 34, expected x5');
  });
});
