// The embedded TCP forwarder with real HTTP servers on loopback.
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/lvs/connection.js';
import { Dest } from '../../src/lvs/dest.js';
import { TcpForwarder, type Target } from '../../src/lvs/forwarder.js';

const servers: Server[] = [];
const start = (name: string) => new Promise<Server>((r) => {
  const s = createServer((_q, res) => res.end(name)).listen(0, '127.0.0.1', () => r(s));
  servers.push(s);
});
afterAll(() => servers.forEach((s) => s.close()));
const fetchBody = (port: number) => new Promise<string>((resolve, reject) => {
  get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
    let b = '';
    res.on('data', (d) => (b += d));
    res.on('end', () => resolve(b));
  }).on('error', reject);
});
const dest = (s: Server, id: string): Dest => new Dest({ address: '127.0.0.1', port: (s.address() as AddressInfo).port, id });
/** A target whose connection is counted on the destination, as the Balancer does. */
const to = (d: Dest): Target => ({ host: d.address, port: d.port, conn: new Connection(d, [d.stats]) });

describe('TCP forwarder', () => {
  it('forwards each connection to the picked real server and counts connections', async () => {
    const ds = [dest(await start('A'), 'A'), dest(await start('B'), 'B'), dest(await start('C'), 'C')];
    let i = 0;
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, pick: () => to(ds[i++ % ds.length]) });
    const { port } = await fw.listen();
    const bodies: string[] = [];
    for (let k = 0; k < 9; k++) bodies.push(await fetchBody(port));
    expect(bodies.join('')).toBe('ABCABCABC');
    expect(ds.map((d) => d.stats.totals.conns)).toEqual([3, 3, 3]);
    await new Promise((r) => setTimeout(r, 50));
    expect(ds.map((d) => d.activeConns + d.inactConns)).toEqual([0, 0, 0]);
    // Each response carries its one-letter body: the bytes back from each real server are equal and exact.
    expect(new Set(ds.map((d) => d.stats.totals.outbytes)).size).toBe(1);
    expect(ds[0].stats.totals.inbytes).toBeGreaterThan(0);
    expect(fw.stats).toMatchObject({ accepted: 9, forwarded: 9, refused: 0 });
    await fw.close();
  });

  it('uses the sorry server when no real server is available, and refuses without one', async () => {
    const sorry = dest(await start('SORRY'), 'S');
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, pick: () => undefined, sorry: { host: sorry.address, port: sorry.port } });
    const { port } = await fw.listen();
    expect(await fetchBody(port)).toBe('SORRY');
    await fw.close();
    const none = new TcpForwarder({ host: '127.0.0.1', port: 0, pick: () => undefined });
    const p2 = (await none.listen()).port;
    await expect(fetchBody(p2)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(none.stats.refused).toBe(1);
    await none.close();
  });

  it('reports a real server that refuses, without crashing', async () => {
    const dead = new Dest({ address: '127.0.0.1', port: 1, id: 'D' });
    const fw = new TcpForwarder({ host: '127.0.0.1', port: 0, pick: () => to(dead) });
    const { port } = await fw.listen();
    await expect(fetchBody(port)).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(fw.stats.backendErrors).toBe(1);
    expect([dead.activeConns, dead.inactConns]).toEqual([0, 0]);
    await fw.close();
  });
});
