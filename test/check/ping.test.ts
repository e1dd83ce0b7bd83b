// PING_CHECK over the shared raw ICMP socket: needs root (CI runs as root); without it the probe
// must fail with a reason that says so.
import { afterAll, describe, expect, it } from 'vitest';
import { Pinger } from '../../src/check/probe-ping.js';

const root = process.getuid?.() === 0;
const pinger = new Pinger();
afterAll(() => pinger.dispose());

describe.runIf(root)('PING_CHECK as root', () => {
  it('gets echo replies from loopback, IPv4 and IPv6, several in flight on one socket', async () => {
    const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '::1'];
    const results = await Promise.all(hosts.map((h) => pinger.ping(h, 2)));
    expect(results).toEqual(hosts.map((h) => ({ ok: true, reason: `PING: echo reply from ${h}` })));
  });

  it('fails on an address that does not answer, within connect_timeout', async () => {
    const t0 = Date.now();
    const r = await pinger.ping('198.51.100.7', 0.4);
    expect(r.ok).toBe(false);
    // Silence, or at once when this machine has no route there.
    expect(r.reason).toMatch(
      /^PING: (no echo reply from 198\.51\.100\.7 within 0\.4s|send to 198\.51\.100\.7 failed: .+|198\.51\.100\.7 unreachable \(ICMP code \d+\))$/,
    );
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('keeps its socket open only while pings are in flight; dispose fails them at once', async () => {
    const p = new Pinger();
    expect(p.openSockets).toBe(0);
    const waiting = p.ping('198.51.100.8', 5);
    expect(p.openSockets).toBe(1);
    p.dispose();
    expect(await waiting).toEqual({ ok: false, reason: 'PING: stopped' });
    await new Promise((r) => setImmediate(r));
    expect(p.openSockets).toBe(0);
    expect(await p.ping('127.0.0.1', 2)).toEqual({ ok: true, reason: 'PING: echo reply from 127.0.0.1' });
    await new Promise((r) => setImmediate(r));
    expect(p.openSockets).toBe(0);
  });

  it('survives many pings back to back, each closing and reopening the socket', async () => {
    for (let i = 0; i < 50; i++) expect((await pinger.ping('127.0.0.1', 1)).ok).toBe(true);
  });
});

describe.runIf(!root)('PING_CHECK without root', () => {
  it('fails with a reason that says a raw ICMP socket needs root', async () => {
    console.log('not root: PING_CHECK cannot open a raw ICMP socket, checking the failure reason instead');
    const r = await pinger.ping('127.0.0.1', 1);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^PING_CHECK needs root \(raw ICMP socket\): /);
  });
});

describe('PING_CHECK input', () => {
  it('fails on something that is not an address', async () => {
    expect(await pinger.ping('localhost', 1)).toEqual({ ok: false, reason: 'PING: localhost is not an IP address' });
  });
});
