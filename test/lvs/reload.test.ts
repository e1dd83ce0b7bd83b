// Reload (SIGHUP): unchanged services keep their listener, destinations, counters and checker
// state; new ones start; removed ones stop accepting and drain. A reload whose new service cannot
// listen (its port held by another process) is refused as a whole: nothing of the table changes.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/daemon/clock.js';
import { makeProbe } from '../../src/check/dispatch.js';
import { Balancer } from '../../src/lvs/balancer.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
import { client, config, echoServer, freePort, until, whoAnswers } from './net-helpers.js';
import { withChecks } from './checked.js';

const runner = new ScriptRunner();
afterAll(() => runner.shutdown());

const rs = (p: number, extra = '') => `  real_server 127.0.0.1 ${p} {\n${extra}    TCP_CHECK {\n      connect_timeout 0.3\n    }\n  }`;
const vs = (port: number, sched: string, servers: string[]) => `virtual_server 127.0.0.1 ${port} {
  delay_loop 0.2
  retry 1
  delay_before_retry 0.1
  warmup 0
  lvs_sched ${sched}
  lvs_method NAT
  protocol TCP
${servers.join('\n')}
}
`;

describe('Balancer.reload', () => {
  it('keeps what did not change, starts what is new, drains what left', async () => {
    const A = await echoServer('A');
    const B = await echoServer('B');
    const C = await echoServer('C');
    const D = await echoServer('D');
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    const lb = new Balancer(
      config(vs(p1, 'rr', [rs(A.port), rs(B.port)]) + vs(p2, 'rr', [rs(C.port)])),
      withChecks({ clock: new RealClock(), probe: makeProbe(runner), random: () => 0 }),
    );
    await lb.start();
    const svc1 = () => lb.services.find((s) => s.vs.port === p1)!;
    const destOf = (port: number) => svc1().members.find((m) => m.dest.port === port)?.dest;
    const inTable = () =>
      lb
        .listing()
        .find((s) => s.port === p1)!
        .servers.map((s) => s.port)
        .sort();

    // B's listener goes: its checker takes it out. A fresh checker would start it "up" again.
    B.server.close();
    await until(() => !inTable().includes(B.port), 4000, 'B to leave');
    const longA = await client(p1);
    expect(await longA.ask('1')).toBe('A:1');
    const longC = await client(p2);
    expect(await longC.ask('1')).toBe('C:1');
    const plane1 = svc1().plane;
    const destA = destOf(A.port)!;
    const connsA = destA.stats.totals.conns;

    // Service 1 unchanged but for a new real server D; service 2 removed; service 3 new.
    await lb.reload(config(vs(p1, 'rr', [rs(A.port), rs(B.port), rs(D.port)]) + vs(p3, 'rr', [rs(C.port)])));
    expect(svc1().plane).toBe(plane1);
    expect(destOf(A.port)).toBe(destA);
    expect([destA.activeConns, destA.stats.totals.conns]).toEqual([1, connsA]);
    // B kept its checker's verdict (down), D joined.
    expect(inTable()).toEqual([A.port, D.port].sort());
    await new Promise((r) => setTimeout(r, 700));
    expect(inTable()).toEqual([A.port, D.port].sort());
    expect(await longA.ask('2')).toBe('A:2');
    expect(new Set([await whoAnswers(p1), await whoAnswers(p1)])).toEqual(new Set(['A', 'D']));
    // Bytes of the connection still open are in the listing: 'A:1', 'A:2', then 'A:x'.
    expect(
      lb
        .listing()
        .find((s) => s.port === p1)!
        .servers.find((s) => s.port === A.port)!.stats.outbytes,
    ).toBe(9);
    // Service 2: no new clients, the connection in progress goes on; service 3 answers.
    await expect(client(p2)).rejects.toThrow(/ECONNREFUSED/);
    expect(await longC.ask('2')).toBe('C:2');
    expect(await whoAnswers(p3)).toBe('C');
    expect(
      lb
        .listing()
        .map((s) => s.port)
        .sort(),
    ).toEqual([p1, p3].sort());

    // A removed by the next reload (and the scheduler changed): A's connection drains.
    await lb.reload(config(vs(p1, 'wlc', [rs(B.port), rs(D.port)]) + vs(p3, 'rr', [rs(C.port)])));
    expect(svc1().plane).toBe(plane1);
    expect(inTable()).toEqual([D.port]);
    for (let i = 0; i < 3; i++) expect(await whoAnswers(p1)).toBe('D');
    expect(await longA.ask('3')).toBe('A:3');
    expect(destA.activeConns).toBe(1);
    await longA.close();
    await longC.close();
    await until(() => destA.activeConns + destA.inactConns === 0, 2000, "A's counters to reach 0");
    expect(lb.listing().find((s) => s.port === p1)!.stats.conns).toBeGreaterThanOrEqual(connsA + 5);
    await lb.stop();
    for (const s of [A, C, D]) s.server.close();
    for (const s of [A, B, C, D]) for (const k of s.sockets) k.destroy();
  }, 20_000);

  it('a new service whose port another process holds refuses the reload as a whole', async () => {
    const A = await echoServer('A');
    const D = await echoServer('D');
    const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
    // Another process's listeners on p2: TCP, and UDP for the UDP case.
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(p2, '127.0.0.1', () => r()));
    const udpHolder = createSocket('udp4');
    await new Promise<void>((r) => udpHolder.bind(p2, '127.0.0.1', () => r()));
    const lb = new Balancer(config(vs(p1, 'rr', [rs(A.port)])), withChecks({ clock: new RealClock(), probe: makeProbe(runner), random: () => 0 }));
    await lb.start();
    const table = () => JSON.stringify(lb.listing().map((s) => [s.protocol, s.port, s.scheduler, s.servers.map((x) => x.port)]));
    const before = table();

    // p1 changed (D joins, scheduler wlc), p3 new and free, p2 new and taken: nothing applies.
    const next = config(vs(p1, 'wlc', [rs(A.port), rs(D.port)]) + vs(p3, 'rr', [rs(D.port)]) + vs(p2, 'rr', [rs(D.port)]));
    const refused = await lb.prepareReload(next);
    expect('error' in refused && refused.error).toMatch(
      new RegExp(`^k\\.conf:\\d+:1: error: virtual_server TCP 127\\.0\\.0\\.1:${p2} cannot listen: .*EADDRINUSE`),
    );
    expect(table()).toBe(before);
    // The socket opened for p3 before p2 failed is closed again; p1 serves as it did.
    await expect(client(p3)).rejects.toThrow(/ECONNREFUSED/);
    expect(await whoAnswers(p1)).toBe('A');
    await expect(lb.reload(next)).rejects.toThrow(/cannot listen/);
    expect(table()).toBe(before);
    // The same for UDP.
    const udpNext = config(vs(p1, 'rr', [rs(A.port)]) + vs(p2, 'rr', [rs(D.port)]).replace('protocol TCP', 'protocol UDP'));
    const udpRefused = await lb.prepareReload(udpNext);
    expect('error' in udpRefused && udpRefused.error).toMatch(new RegExp(`virtual_server UDP 127\\.0\\.0\\.1:${p2} cannot listen: .*EADDRINUSE`));
    expect(table()).toBe(before);

    // Prepared and abandoned (refused elsewhere, by VRRP): the new listener closes, nothing changed.
    const abandoned = await lb.prepareReload(config(vs(p1, 'rr', [rs(A.port)]) + vs(p3, 'rr', [rs(D.port)])));
    if ('error' in abandoned) throw new Error(abandoned.error);
    abandoned.abandon();
    await until(() => table() === before, 1000, 'the table unchanged');
    await expect(client(p3)).rejects.toThrow(/ECONNREFUSED/);

    // Once the port is free, the same reload applies; the listener prepared is the one serving.
    await new Promise<void>((r) => holder.close(() => r()));
    udpHolder.close();
    const ok = await lb.prepareReload(next);
    if ('error' in ok) throw new Error(ok.error);
    await ok.commit();
    expect(
      lb
        .listing()
        .map((s) => s.port)
        .sort(),
    ).toEqual([p1, p2, p3].sort());
    await until(() => lb.listing().find((s) => s.port === p2)!.servers.length === 1, 4000, 'D in service on p2');
    expect(await whoAnswers(p2)).toBe('D');
    expect(await whoAnswers(p3)).toBe('D');
    await lb.stop();
    for (const s of [A, D]) {
      s.server.close();
      for (const k of s.sockets) k.destroy();
    }
  }, 20_000);
});
