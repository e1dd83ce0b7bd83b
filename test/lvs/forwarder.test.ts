// The embedded TCP forwarder with real servers on loopback, both ways of moving bytes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/lvs/connection.js';
import { Dest } from '../../src/lvs/dest.js';
import { handlesAvailable, TcpForwarder, type ForwarderIo, type Target } from '../../src/lvs/forwarder.js';
import { httpGet, sleep, until } from './net-helpers.js';

const servers: { close(): void }[] = [];
const start = (name: string) =>
  new Promise<Server>((r) => {
    const s = createServer((_q, res) => res.end(name)).listen(0, '127.0.0.1', () => r(s));
    servers.push(s);
  });
const children: ChildProcess[] = [];
afterAll(() => {
  servers.forEach((s) => s.close());
  children.forEach((c) => c.kill('SIGKILL'));
});
/**
 * A listener whose process is stopped with its accept queue full: SYNs to it go unanswered until
 * resume(), then the kernel's retransmission (about 1 s later) completes them. `onConnection` is
 * the source text of its connection handler.
 */
async function stoppedListener(onConnection = '() => {}') {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('net').createServer({ allowHalfOpen: true }, ${onConnection})
    .listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { process.send(this.address().port) })`,
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] },
  );
  children.push(child);
  const port = await new Promise<number>((r) => child.once('message', (p) => r(Number(p))));
  child.kill('SIGSTOP');
  const fillers = [1, 2, 3].map(() => connect(port, '127.0.0.1').on('error', () => {}));
  await sleep(100);
  return { port, resume: () => child.kill('SIGCONT'), release: () => fillers.forEach((f) => f.destroy()) };
}
const dest = (s: { address(): unknown }, id: string): Dest => new Dest({ address: '127.0.0.1', port: (s.address() as AddressInfo).port, id });
/** A target whose connection is counted on the destination, as the Balancer does. */
const to = (d: Dest): Target => ({ host: d.address, port: d.port, conn: new Connection(d, [d.stats]) });
const connected = (port: number, allowHalfOpen = false) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen }, () => resolve(s)).once('error', reject);
  });
/** A TCP server running `handle` on each connection. */
const tcpServer = (handle: (s: Socket) => void) =>
  new Promise<Server>((r) => {
    const s = createTcpServer({ allowHalfOpen: true }, handle).listen(0, '127.0.0.1', () => r(s as unknown as Server));
    servers.push(s);
  });

it('drives libuv handles by default on this Node', () => {
  expect(handlesAvailable).toBe(true);
  expect(new TcpForwarder({ host: '127.0.0.1', port: 0, pick: () => undefined }).io).toBe('handles');
});

describe.each(['handles', 'streams'] as ForwarderIo[])('TCP forwarder (io %s)', (io) => {
  it('forwards each connection to the picked real server and counts connections', async () => {
    const ds = [dest(await start('A'), 'A'), dest(await start('B'), 'B'), dest(await start('C'), 'C')];
    let i = 0;
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: () => to(ds[i++ % ds.length]) });
    const { port } = await fw.listen();
    const bodies: string[] = [];
    for (let k = 0; k < 9; k++) bodies.push(await httpGet(port));
    expect(bodies.join('')).toBe('ABCABCABC');
    expect(ds.map((d) => d.stats.totals.conns)).toEqual([3, 3, 3]);
    await until(() => fw.connections === 0);
    expect(ds.map((d) => d.activeConns + d.inactConns)).toEqual([0, 0, 0]);
    // Each response carries its one-letter body: the bytes back from each real server are equal and exact.
    expect(new Set(ds.map((d) => d.stats.totals.outbytes)).size).toBe(1);
    expect(ds[0].stats.totals.inbytes).toBeGreaterThan(0);
    expect(fw.stats).toMatchObject({ accepted: 9, forwarded: 9, refused: 0 });
    expect(fw.stats.bytesOut).toBe(3 * ds[0].stats.totals.outbytes);
    await fw.close();
  });

  it('tells the routing decision who the client is', async () => {
    const d = dest(await start('P'), 'P');
    const seen: string[] = [];
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: (client) => (seen.push(`${client.address}:${client.port}`), to(d)) });
    const c = await connected((await fw.listen()).port);
    await until(() => seen.length === 1);
    expect(seen).toEqual([`127.0.0.1:${c.localPort}`]);
    c.destroy();
    await until(() => fw.connections === 0);
    await fw.close();
  });

  it('counts a connection active while established and closing once one side has finished', async () => {
    let upstream: Socket | undefined;
    const d = dest(await tcpServer((s) => (upstream = s.on('data', (b) => s.write(b)))), 'E');
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: () => to(d) });
    const c = await connected((await fw.listen()).port, true);
    await until(() => d.activeConns === 1, 2000, 'active');
    c.write('ping');
    await new Promise((r) => c.once('data', r));
    upstream!.end();
    await until(() => d.inactConns === 1 && d.activeConns === 0, 2000, 'closing');
    c.end();
    await until(() => fw.connections === 0 && d.inactConns === 0, 2000, 'closed');
    fw.flush();
    expect(d.stats.totals).toMatchObject({ inbytes: 4, outbytes: 4 });
    await fw.close();
  });

  it('passes a half-close through: the client ends its request and still reads the answer', async () => {
    // Answers only once the client has finished sending, as a FIN-delimited protocol does.
    const d = dest(
      await tcpServer((s) => {
        let got = '';
        s.on('data', (b) => (got += b.toString())).on('end', () => s.end(got.toUpperCase()));
      }),
      'H',
    );
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: () => to(d) });
    const c = await connected((await fw.listen()).port);
    c.end('hello, ');
    let answer = '';
    c.on('data', (b) => (answer += b.toString()));
    await new Promise((r) => c.once('end', r));
    expect(answer).toBe('HELLO, ');
    await until(() => fw.connections === 0);
    await fw.close();
  });

  it('delivers a request and FIN the client sent while the real server had not yet accepted', async () => {
    const listener = await stoppedListener(`(s) => {
      let got = '';
      s.on('error', () => {}).on('data', (b) => (got += b)).on('end', () => s.end(got.toUpperCase()));
    }`);
    const slow = new Dest({ address: '127.0.0.1', port: listener.port, id: 'S' });
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, connectTimeoutMs: 8000, pick: () => to(slow) });
    const c = await connected((await fw.listen()).port, true);
    let answer = '';
    c.on('data', (b) => (answer += b.toString()));
    c.end('hello, ');
    await sleep(300);
    // Still connecting: counted inactive, nothing answered yet.
    expect([slow.activeConns, slow.inactConns]).toEqual([0, 1]);
    expect(answer).toBe('');
    listener.resume();
    await new Promise((r) => c.once('end', r));
    expect(answer).toBe('HELLO, ');
    await until(() => fw.connections === 0);
    expect([slow.activeConns, slow.inactConns]).toEqual([0, 0]);
    expect(slow.stats.totals).toMatchObject({ conns: 1, inbytes: 7, outbytes: 7 });
    listener.release();
    await fw.close();
  }, 10_000);

  it('holds a bounded amount for a client that does not read, and loses nothing once it does', async () => {
    const total = 256 << 20;
    const chunk = Buffer.alloc(1 << 20, 7);
    // The real server writes as fast as it is let (respecting its own backpressure).
    const d = dest(
      await tcpServer((s) => {
        let sent = 0;
        const more = (): void => {
          while (sent < total) {
            sent += chunk.length;
            if (!s.write(chunk)) return void s.once('drain', more);
          }
          s.end();
        };
        more();
      }),
      'B',
    );
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: () => to(d) });
    const c = await connected((await fw.listen()).port);
    c.pause();
    // Stalled: what the forwarder has read from the real server stops growing, far below the total.
    let before = -1;
    for (;;) {
      await sleep(150);
      fw.flush();
      if (d.stats.totals.outbytes === before) break;
      before = d.stats.totals.outbytes;
    }
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(64 << 20);
    let got = 0;
    c.on('data', (b: Buffer) => (got += b.length));
    c.resume();
    await new Promise((r) => c.once('end', r));
    expect(got).toBe(total);
    c.destroy();
    await until(() => fw.connections === 0);
    expect(fw.stats.bytesOut).toBe(total);
    await fw.close();
    // 256 MiB through loopback: seconds on a busy 2-core box.
  }, 60_000);

  it('keeps every byte intact while writes queue, with several connections reading at once', async () => {
    // Each connection gets its own pattern (seeded by its first byte from the client), 16 MiB of it.
    const size = 16 << 20;
    const pattern = (seed: number): Buffer => {
      const b = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4) b.writeUInt32LE((i * 2654435761 + seed * 40503) >>> 0, i);
      return b;
    };
    const d = dest(await tcpServer((s) => s.once('data', (b) => s.end(pattern(b[0])))), 'I');
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: () => to(d) });
    const { port } = await fw.listen();
    const fetch = async (seed: number, stallMs: number): Promise<boolean> => {
      const c = await connected(port);
      const parts: Buffer[] = [];
      c.on('data', (b: Buffer) => parts.push(b));
      c.write(Buffer.from([seed]));
      // A stalled reader makes the forwarder's writes to it queue while the others read on.
      if (stallMs) {
        c.pause();
        await sleep(stallMs);
        c.resume();
      }
      await new Promise((r) => c.once('end', r));
      return Buffer.concat(parts).equals(pattern(seed));
    };
    expect(await Promise.all([fetch(1, 300), fetch(2, 0), fetch(3, 150), fetch(4, 0)])).toEqual([true, true, true, true]);
    await until(() => fw.connections === 0);
    await fw.close();
  }, 20_000);

  it('uses the sorry server when no real server is available, and refuses without one', async () => {
    const sorry = dest(await start('SORRY'), 'S');
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: () => undefined, sorry: { host: sorry.address, port: sorry.port } });
    const { port } = await fw.listen();
    expect(await httpGet(port)).toBe('SORRY');
    expect(fw.stats).toMatchObject({ sorry: 1, forwarded: 0 });
    await fw.close();
    const none = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: () => undefined });
    const p2 = (await none.listen()).port;
    await expect(httpGet(p2)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(none.stats.refused).toBe(1);
    await none.close();
  });

  it('reports a real server that refuses, without crashing', async () => {
    const dead = new Dest({ address: '127.0.0.1', port: 1, id: 'D' });
    const logs: string[] = [];
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: () => to(dead), log: (_l, m) => logs.push(m) });
    const { port } = await fw.listen();
    await expect(httpGet(port)).rejects.toThrow();
    await until(() => fw.connections === 0);
    expect(fw.stats.backendErrors).toBe(1);
    expect(logs).toEqual(['real server 127.0.0.1:1: ECONNREFUSED']);
    expect([dead.activeConns, dead.inactConns]).toEqual([0, 0]);
    await fw.close();
  });

  it('gives up on a real server that does not accept in time, and leaves established connections alone', async () => {
    const { port: stuckPort, release } = await stoppedListener();
    const live = dest(await tcpServer((s) => s.on('data', (b) => s.write(b))), 'L');
    const stuck = new Dest({ address: '127.0.0.1', port: stuckPort, id: 'X' });
    const logs: string[] = [];
    let target = live;
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, connectTimeoutMs: 300, pick: () => to(target), log: (_l, m) => logs.push(m) });
    const { port } = await fw.listen();
    const kept = await connected(port);
    await until(() => live.activeConns === 1);
    target = stuck;
    const started = Date.now();
    const cut = await connected(port);
    await new Promise((r) => cut.once('close', r));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(fw.stats.backendErrors).toBe(1);
    expect(logs).toEqual([`real server 127.0.0.1:${stuckPort}: did not accept within 300 ms`]);
    expect([stuck.activeConns, stuck.inactConns]).toEqual([0, 0]);
    // The first connection, older than the timeout, still carries data.
    kept.write('still here');
    expect(String(await new Promise((r) => kept.once('data', r)))).toBe('still here');
    release();
    await fw.close(false);
  });

  it("closes the real server's side when the client resets, and stops counting the connection", async () => {
    let upstreamEnded = false;
    const d = dest(
      await tcpServer((s) =>
        s
          .on('data', (b) => s.write(b))
          .on('error', () => {})
          .on('end', () => (upstreamEnded = true)),
      ),
      'R',
    );
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: () => to(d) });
    const c = await connected((await fw.listen()).port);
    c.write('x');
    await new Promise((r) => c.once('data', r));
    c.resetAndDestroy();
    await until(() => upstreamEnded && fw.connections === 0, 2000, 'both sides closed');
    expect([d.activeConns, d.inactConns]).toEqual([0, 0]);
    expect(d.stats.totals).toMatchObject({ conns: 1, inbytes: 1, outbytes: 1 });
    await fw.close();
  });

  it('close() without draining cuts the connections in progress', async () => {
    const d = dest(await tcpServer((s) => s.on('data', (b) => s.write(b))), 'K');
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, io, pick: () => to(d) });
    const c = await connected((await fw.listen()).port);
    await until(() => d.activeConns === 1);
    const gone = new Promise((r) => c.once('close', r));
    await fw.close(false);
    await gone;
    expect(fw.connections).toBe(0);
    expect([d.activeConns, d.inactConns]).toEqual([0, 0]);
  });
});
