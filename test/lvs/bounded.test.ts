// The bounded data plane in a running daemon: under an open files limit of 256 a flood of clients
// fills the connection limit, accept pauses (the rest wait in the listen backlog), and the
// TCP_CHECKs of the healthy real servers keep passing: nothing is removed, nothing crashes.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, daemonDir } from '../daemon/harness.js';
import { freePort, sleep, until } from './net-helpers.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterAll(() => {
  sockets.forEach((s) => s.destroy());
  servers.forEach((s) => s.close());
});

/** A real server that echoes and holds every connection open; `accepted` counts them (checks too). */
async function holder(): Promise<{ port: number; accepted: () => number }> {
  let n = 0;
  const s = createServer((c) => {
    n++;
    sockets.push(c);
    c.on('error', () => c.destroy());
    c.on('data', (d) => c.write(d));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { port: (s.address() as AddressInfo).port, accepted: () => n };
}

/** The daemon under `prlimit --nofile=LIMIT`, with its log. */
function daemonUnder(limit: number, conf: string, env: NodeJS.ProcessEnv) {
  const d = spawn('prlimit', [`--nofile=${limit}:${limit}`, process.execPath, CLI, '-n', '-l', '-C', '-f', conf, '-p', join(conf, '..', 'd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  d.stdout.on('data', (c) => (out += c));
  d.stderr.on('data', (c) => (out += c));
  let code: number | null | undefined;
  const exited = new Promise<void>((r) => d.on('exit', (c) => r(void (code = c))));
  return {
    output: () => out,
    running: () => code === undefined,
    stop: async () => {
      d.kill('SIGTERM');
      await exited;
    },
  };
}

describe.each(['handles', 'streams'] as const)('connection flood under an open files limit of 256 (%s)', (io) => {
  const dd = daemonDir('kts-bound-');
  it('pauses accept at the limit, keeps the real servers in service, and serves the waiting clients later', async () => {
    const A = await holder();
    const B = await holder();
    const vsPort = await freePort();
    writeFileSync(
      dd.conf,
      `virtual_server 127.0.0.1 ${vsPort} {
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 127.0.0.1 ${A.port} {
    TCP_CHECK {
      connect_timeout 2
    }
  }
  real_server 127.0.0.1 ${B.port} {
    TCP_CHECK {
      connect_timeout 2
    }
  }
}
`,
    );
    const d = daemonUnder(256, dd.conf, { ...dd.env, KEEPALIVED_TS_FORWARDER_IO: io });
    try {
      await until(() => /ready \(rr, 2 real server/.test(d.output()), 15_000, 'the virtual server');
      const limit = /up to (\d+) client connections/.exec(d.output());
      expect(limit).not.toBeNull();
      const max = Number(limit![1]);
      expect(max).toBeGreaterThan(20);
      expect(max).toBeLessThan(128);
      const checksBefore = A.accepted() + B.accepted();
      // Three times the limit, from this process (its own limit is higher).
      const clients: Socket[] = [];
      for (let i = 0; i < max * 3; i++) {
        const c = connect(vsPort, '127.0.0.1');
        c.on('error', () => {});
        clients.push(c);
        sockets.push(c);
        if (i % 50 === 49) await sleep(20);
      }
      await until(() => /connection limit reached/.test(d.output()), 15_000, 'the connection limit');
      // Checks go on for a while (delay_loop 1): several rounds, all passing.
      await sleep(5000);
      expect(d.running()).toBe(true);
      expect(d.output()).not.toMatch(/Removing service/);
      expect(d.output()).not.toMatch(/EMFILE/);
      const held = A.accepted() + B.accepted() - checksBefore;
      // Forwarded: the limit's worth (and the checks' connections), not the flood.
      expect(held).toBeLessThan(max + 40);
      expect(held).toBeGreaterThan(max - 5);
      // The first clients leave: the ones in the backlog are accepted and forwarded in turn.
      clients.slice(0, max).forEach((c) => c.destroy());
      await until(() => /accepting connections again/.test(d.output()), 15_000, 'accept to resume');
      await until(() => A.accepted() + B.accepted() - checksBefore >= max * 2 - 5, 15_000, 'the waiting clients to be forwarded');
      clients.forEach((c) => c.destroy());
      // A new client gets through end to end.
      const count = (re: RegExp): number => d.output().match(re)?.length ?? 0;
      await until(() => count(/accepting connections again/g) === count(/connection limit reached/g), 15_000, 'accept to be on');
      const answer = await new Promise<string>((resolve, reject) => {
        const c = connect(vsPort, '127.0.0.1', () => c.write('ping'));
        c.once('data', (b) => resolve(b.toString()));
        c.once('error', reject);
        sockets.push(c);
      });
      expect(answer).toBe('ping');
      expect(d.output()).not.toMatch(/Removing service/);
      expect(d.running()).toBe(true);
    } finally {
      await d.stop();
    }
  }, 90_000);
});
