// Real servers and clients on loopback for the balancer's end-to-end tests.
import { createSocket } from 'node:dgram';
import { get } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { expect } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET / on a loopback port with a fresh connection; resolves to the body. */
export const httpGet = (port: number) =>
  new Promise<string>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });

/** Poll until `ok()` holds (fails the test after `ms`). */
export async function until(ok: () => boolean, ms = 4000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A TCP server answering each chunk with `name:chunk`; close() stops listening, open connections stay. */
export function echoServer(name: string, port = 0): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.on('data', (d) => s.write(`${name}:${d.toString()}`));
  });
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r({ port: (server.address() as AddressInfo).port, server, sockets })));
}

/** A client connection that sends a line and waits for the answer. */
export async function client(port: number): Promise<{ ask(msg: string): Promise<string>; close(): Promise<void> }> {
  const s: Socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => s.once('connect', () => resolve()).once('error', reject));
  return {
    ask: (msg) =>
      new Promise((resolve, reject) => {
        s.once('data', (d) => resolve(d.toString()));
        s.once('error', reject);
        s.once('close', () => reject(new Error('closed')));
        s.write(msg);
      }),
    close: () =>
      new Promise((resolve) => {
        s.once('close', () => resolve());
        s.end();
      }),
  };
}

/** One question on a new connection: the answering server's name. */
export async function whoAnswers(port: number): Promise<string> {
  const c = await client(port);
  const a = await c.ask('x');
  await c.close();
  return a.split(':')[0];
}

/** A UDP server answering each datagram with `name:datagram`. */
export function udpEcho(name: string): Promise<{ port: number; close(): void; seen: Set<string> }> {
  const sock = createSocket('udp4');
  const seen = new Set<string>();
  sock.on('message', (m, from) => {
    seen.add(`${from.address}:${from.port}`);
    sock.send(`${name}:${m.toString()}`, from.port, from.address);
  });
  return new Promise((r) => sock.bind(0, '127.0.0.1', () => r({ port: sock.address().port, close: () => sock.close(), seen })));
}

/**
 * A port for a virtual server: below the ephemeral range (so no client or port-0 server of a test
 * running beside takes it), and free for TCP and UDP now.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 10000 + Math.floor(Math.random() * 22000);
    const tcp = createServer();
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => {
        udp.once('error', () => r(false));
        udp.bind(port, '127.0.0.1', () => r(true));
      });
    });
    await new Promise<void>((r) => tcp.close(() => r()));
    try {
      udp.close();
    } catch {
      /* never bound */
    }
    if (ok) return port;
  }
}

export function config(text: string) {
  const { config, diagnostics } = loadConfigText(text, 'k.conf', { configId: 'x' });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return config;
}
