// IPVS's idle timeouts in the embedded TCP forwarder, set with global_defs lvs_timeouts: a silent
// real server, a silent client and a half-closed connection are each closed at their timeout; a
// connection that carries data is not. Real sockets on loopback, both ways of moving bytes.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/daemon/clock.js';
import { Balancer } from '../../src/lvs/balancer.js';
import { withChecks } from './checked.js';
import { config, echoServer, freePort, sleep } from './net-helpers.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterAll(() => {
  sockets.forEach((s) => s.destroy());
  servers.forEach((s) => s.close());
});

/** A real server that reads and never answers nor closes; `closed` counts the connections it saw end. */
async function silent(): Promise<{ port: number; closed: () => number }> {
  let closed = 0;
  const s = createServer({ allowHalfOpen: true }, (c) => {
    sockets.push(c);
    c.on('error', () => {});
    // Half-open allowed: the forwarder's FIN ends it without closing it.
    let seen = false;
    const gone = (): void => void (seen || ((seen = true), closed++));
    c.on('end', gone);
    c.on('close', gone);
    c.resume();
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as AddressInfo).port, closed: () => closed };
}

/** A client connection; `ended` resolves with the ms from `since()` to its end (FIN or close). */
async function dial(port: number) {
  const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  sockets.push(s);
  s.on('error', () => {});
  s.resume();
  await new Promise<void>((r) => s.once('connect', () => r()));
  let from = Date.now();
  const ended = new Promise<number>((r) => {
    s.once('end', () => r(Date.now() - from));
    s.once('close', () => r(Date.now() - from));
  });
  return { s, ended, since: () => (from = Date.now()) };
}

const balancerFor = async (rsPort: number, io: 'handles' | 'streams', logs: string[]) => {
  const vsPort = await freePort();
  const lb = new Balancer(
    config(`global_defs {
  lvs_timeouts tcp 2 tcpfin 3
}
virtual_server 127.0.0.1 ${vsPort} {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 127.0.0.1 ${rsPort} {
  }
}
`),
    withChecks({
      clock: new RealClock(),
      probe: () => Promise.reject(new Error('no checkers')),
      random: () => 0,
      forwarderIo: io,
      log: (_l, m) => logs.push(m),
    }),
  );
  await lb.start();
  return { lb, vsPort };
};

describe.each(['handles', 'streams'] as const)('idle timeouts (%s)', (io) => {
  it('closes a connection to a silent real server, and a silent client, at the tcp timeout', async () => {
    const rs = await silent();
    const logs: string[] = [];
    const { lb, vsPort } = await balancerFor(rs.port, io, logs);
    try {
      const asking = await dial(vsPort);
      asking.s.write('anyone there?');
      const mute = await dial(vsPort);
      const [a, b] = await Promise.all([asking.ended, mute.ended]);
      // Never before the timeout; late by at most two sweeps (generous under load).
      for (const ms of [a, b]) {
        expect(ms).toBeGreaterThanOrEqual(1990);
        expect(ms).toBeLessThan(9000);
      }
      // The real server's side is closed too.
      for (let i = 0; i < 100 && rs.closed() < 2; i++) await sleep(50);
      expect(rs.closed()).toBe(2);
      expect(logs.join('\n')).toMatch(/closed 2 idle connection\(s\) \(tcp timeout 2 s\) and 0 half-closed \(tcpfin timeout 3 s\); 2 in all/);
      expect(lb.services[0].members[0].dest.activeConns + lb.services[0].members[0].dest.inactConns).toBe(0);
    } finally {
      await lb.stop();
    }
  }, 30_000);

  it('closes a half-closed connection at the tcpfin timeout', async () => {
    const rs = await silent();
    const logs: string[] = [];
    const { lb, vsPort } = await balancerFor(rs.port, io, logs);
    try {
      const c = await dial(vsPort);
      c.s.write('request');
      await sleep(300);
      // Done sending: the real server never answers nor closes its side.
      c.s.end();
      c.since();
      const ms = await c.ended;
      expect(ms).toBeGreaterThanOrEqual(2990);
      expect(ms).toBeLessThan(10_000);
      for (let i = 0; i < 100 && rs.closed() < 1; i++) await sleep(50);
      expect(rs.closed()).toBe(1);
      expect(logs.join('\n')).toMatch(/closed 0 idle connection\(s\) \(tcp timeout 2 s\) and 1 half-closed \(tcpfin timeout 3 s\)/);
    } finally {
      await lb.stop();
    }
  }, 30_000);

  it('keeps a connection that carries data past the timeout', async () => {
    const rs = await echoServer('E');
    servers.push(rs.server);
    const logs: string[] = [];
    const { lb, vsPort } = await balancerFor(rs.port, io, logs);
    try {
      const c = await dial(vsPort);
      let closed = false;
      void c.ended.then(() => (closed = true));
      let got = '';
      c.s.on('data', (d: Buffer) => (got += d.toString()));
      // Every 0.5 s for 4 s: twice the tcp timeout.
      for (let i = 0; i < 8; i++) {
        c.s.write('.');
        await sleep(500);
      }
      expect(closed).toBe(false);
      expect(got).toBe('E:.'.repeat(8));
      expect(logs.join('\n')).not.toMatch(/idle connection/);
      c.s.destroy();
    } finally {
      await lb.stop();
    }
  }, 30_000);
});
