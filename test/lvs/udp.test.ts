// UDP virtual services: real UDP echo servers on loopback behind the embedded UDP forwarder.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/daemon/clock.js';
import { Balancer } from '../../src/lvs/balancer.js';
import { Connection } from '../../src/lvs/connection.js';
import { Dest } from '../../src/lvs/dest.js';
import { FdBudget } from '../../src/lvs/fd-budget.js';
import { UdpForwarder } from '../../src/lvs/udp-forwarder.js';
import { config, freePort, udpEcho, until } from './net-helpers.js';
import { withChecks } from './checked.js';

const sockets: Socket[] = [];
afterAll(() => sockets.forEach((s) => s.close()));

/** A client socket of its own (its own source port: its own flow). */
async function udpClient(): Promise<{ ask(port: number, msg: string): Promise<{ text: string; from: string }>; sock: Socket }> {
  const sock = createSocket('udp4');
  sockets.push(sock);
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  return {
    sock,
    ask: (port, msg) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no reply')), 1000);
        sock.once('message', (m, rinfo) => {
          clearTimeout(t);
          resolve({ text: m.toString(), from: `${rinfo.address}:${rinfo.port}` });
        });
        sock.send(msg, port, '127.0.0.1');
      }),
  };
}

describe('UDP virtual service', () => {
  it('wrr 2:1 splits flows 20/10; a flow sticks to its server; replies come from the virtual address; flows count inactive, expire when idle', async () => {
    const A = await udpEcho('A');
    const B = await udpEcho('B');
    const vsPort = await freePort();
    const lb = new Balancer(
      config(`virtual_server 127.0.0.1 ${vsPort} {
  lvs_sched wrr
  lvs_method NAT
  protocol UDP
  real_server 127.0.0.1 ${A.port} {
    weight 2
  }
  real_server 127.0.0.1 ${B.port} {
    weight 1
  }
}
`),
      withChecks({ clock: new RealClock(), probe: () => Promise.reject(new Error('no checkers')), random: () => 0, udpTimeoutMs: 1500 }),
    );
    await lb.start();
    const counts: Record<string, number> = {};
    const clients = [];
    for (let i = 0; i < 30; i++) {
      const c = await udpClient();
      clients.push(c);
      const r = await c.ask(vsPort, `hi${i}`);
      expect(r.from).toBe(`127.0.0.1:${vsPort}`);
      const [name, text] = r.text.split(':');
      expect(text).toBe(`hi${i}`);
      counts[name] = (counts[name] ?? 0) + 1;
      // Same client again: same flow, same server.
      expect((await c.ask(vsPort, 'again')).text).toBe(`${name}:again`);
    }
    expect(counts).toEqual({ A: 20, B: 10 });
    // One flow (one upstream socket) per client at each server.
    expect([A.seen.size, B.seen.size]).toEqual([20, 10]);
    const [da, db] = lb.services[0].members.map((m) => m.dest);
    expect([da.activeConns, da.inactConns, db.activeConns, db.inactConns]).toEqual([0, 20, 0, 10]);
    const listed = lb.listing()[0];
    expect(listed.protocol).toBe('UDP');
    expect(listed.stats).toEqual({ conns: 30, inpkts: 60, outpkts: 60, inbytes: 10 * 3 + 20 * 4 + 30 * 5, outbytes: 10 * 3 + 20 * 4 + 30 * 5 + 60 * 2 });
    expect(listed.servers.find((s) => s.port === A.port)!.stats).toMatchObject({ conns: 20, inpkts: 40, outpkts: 40 });

    // Idle for the timeout: every flow expires and the counters fall to 0.
    await until(() => da.inactConns + db.inactConns === 0, 4000, 'flows to expire');
    // The same client afterwards opens a new flow (wrr goes on where it was).
    await clients[0].ask(vsPort, 'later');
    expect(da.inactConns + db.inactConns).toBe(1);
    expect(lb.listing()[0].stats.conns).toBe(31);
    await lb.stop();
    A.close();
    B.close();
  }, 15_000);

  it('bounds the flows: the least recently used gives way to a new client, counted; refuses without a target', async () => {
    const A = await udpEcho('A');
    const d = new Dest({ address: '127.0.0.1', port: A.port });
    const logs: string[] = [];
    const fw = new UdpForwarder({
      host: '127.0.0.1',
      port: 0,
      maxFlows: 2,
      // Recency is kept to a sweep (a quarter of this: 1 s).
      idleTimeoutMs: 4000,
      pick: () => ({ host: d.address, port: d.port, conn: new Connection(d, [d.stats], 'UDP') }),
      log: (_l, m) => logs.push(m),
    });
    const { port } = await fw.listen();
    const [c1, c2, c3] = [await udpClient(), await udpClient(), await udpClient()];
    expect((await c1.ask(port, '1')).text).toBe('A:1');
    expect((await c2.ask(port, '2')).text).toBe('A:2');
    // c1 is used again a sweep later: c2 is now the least recently used.
    await new Promise((r) => setTimeout(r, 1300));
    expect((await c1.ask(port, '1b')).text).toBe('A:1b');
    // A third client: c2's flow gives way.
    expect((await c3.ask(port, '3')).text).toBe('A:3');
    expect(fw.stats).toMatchObject({ flows: 3, evicted: 1, overflow: 0 });
    expect(fw.connections).toBe(2);
    expect(A.seen.size).toBe(3);
    // c1 kept its flow (the same upstream socket); c2 comes back on a new one, c3's giving way.
    expect((await c1.ask(port, '1c')).text).toBe('A:1c');
    expect(A.seen.size).toBe(3);
    expect((await c2.ask(port, '2b')).text).toBe('A:2b');
    expect(A.seen.size).toBe(4);
    expect(fw.stats).toMatchObject({ flows: 4, evicted: 2 });
    expect(d.inactConns).toBe(2);
    expect(logs[0]).toMatch(/no room for new flows \(at most 2, or out of descriptors\); 1 least recently used flow\(s\) closed to make room, 1 in all/);
    await fw.close(false);
    expect(d.inactConns).toBe(0);

    const none = new UdpForwarder({ host: '127.0.0.1', port: 0, pick: () => undefined });
    const p2 = (await none.listen()).port;
    await expect(c1.ask(p2, 'x')).rejects.toThrow(/no reply/);
    expect(none.stats.refused).toBe(1);
    await none.close();
    A.close();
  });

  it('a flow takes a descriptor of the budget; without room the oldest flow gives way, and with none to give, the datagram is dropped', async () => {
    const A = await udpEcho('A');
    const d = new Dest({ address: '127.0.0.1', port: A.port });
    // 178 client descriptors (fd-budget.test.ts): 176 held elsewhere leave room for two flows.
    const fds = new FdBudget({ limit: 256, inUse: 30 });
    fds.take(176);
    const pick = () => ({ host: d.address, port: d.port, conn: new Connection(d, [d.stats], 'UDP') });
    const fw = new UdpForwarder({ host: '127.0.0.1', port: 0, fds, pick });
    const { port } = await fw.listen();
    const [c1, c2, c3] = [await udpClient(), await udpClient(), await udpClient()];
    expect((await c1.ask(port, '1')).text).toBe('A:1');
    expect((await c2.ask(port, '2')).text).toBe('A:2');
    expect(fds.used).toBe(178);
    expect((await c3.ask(port, '3')).text).toBe('A:3');
    expect(fw.stats).toMatchObject({ evicted: 1, overflow: 0 });
    expect(fds.used).toBe(178);
    // Another service with no flow of its own has nothing to give: its new client is dropped.
    const other = new UdpForwarder({ host: '127.0.0.1', port: 0, fds, pick });
    const p2 = (await other.listen()).port;
    await expect(c1.ask(p2, 'x')).rejects.toThrow(/no reply/);
    expect(other.stats.overflow).toBe(1);
    await fw.close(false);
    await other.close(false);
    expect(fds.used).toBe(176);
    A.close();
  });

  it('a real server that is not listening ends the flow (ICMP port unreachable) and counts an error', async () => {
    const d = new Dest({ address: '127.0.0.1', port: 9 });
    const fw = new UdpForwarder({ host: '127.0.0.1', port: 0, pick: () => ({ host: d.address, port: d.port, conn: new Connection(d, [d.stats], 'UDP') }) });
    const { port } = await fw.listen();
    const c = await udpClient();
    c.sock.send('x', port, '127.0.0.1');
    await until(() => fw.stats.backendErrors === 1, 2000, 'the error');
    expect(d.inactConns).toBe(0);
    await fw.close();
  });
});
