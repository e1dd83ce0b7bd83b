// BFD sessions on real UDP sockets over loopback: two endpoints (127.0.0.1 and 127.0.0.2, each on
// port 3784) come up, a stopped or silent neighbour is Down after its detection time, an
// AdminDown is no failure for the trackers, and what does not belong to a session is dropped.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { BfdEndpoint, type BfdChange } from '../../src/bfd/endpoint.js';
import { decodeControl, encodeControl, type ControlPacket } from '../../src/bfd/packet.js';
import { loadConfigText } from '../../src/config/index.js';
import { RealClock } from '../../src/daemon/clock.js';
import { until } from '../lvs/net-helpers.js';

const clock = new RealClock();
const open: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.stop()));
});

const instances = (text: string) => {
  const { config, diagnostics } = loadConfigText(text, 'bfd.conf');
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return config.bfdInstances;
};
const bfd = (name: string, neighbor: string, source: string, extra = '') =>
  `bfd_instance ${name} {\n  neighbor_ip ${neighbor}\n  source_ip ${source}\n  min_rx 20\n  min_tx 20\n  multiplier 3\n${extra}}\n`;

function endpoint(text: string): { ep: BfdEndpoint; changes: (BfdChange & { at: number })[]; logs: string[] } {
  const changes: (BfdChange & { at: number })[] = [];
  const logs: string[] = [];
  const ep = new BfdEndpoint(instances(text), {
    clock,
    random: Math.random,
    onChange: (c) => changes.push({ ...c, at: performance.now() }),
    log: (_l, m) => logs.push(m),
  });
  open.push(ep);
  return { ep, changes, logs };
}

/** A neighbour driven by hand: a socket on ADDRESS:3784 that sends what the test says. */
async function handNeighbour(address: string): Promise<{ sock: Socket; got: ControlPacket[]; send(p: Partial<ControlPacket>, to: string): void }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(3784, address, r));
  open.push({ stop: () => new Promise<void>((r) => sock.close(() => r())) });
  const got: ControlPacket[] = [];
  sock.on('message', (m) => {
    const p = decodeControl(m);
    if (!('drop' in p)) got.push(p);
  });
  const send = (p: Partial<ControlPacket>, to: string): void => {
    const full: ControlPacket = {
      diag: 0,
      state: 'Down',
      poll: false,
      final: false,
      cpi: false,
      demand: false,
      detectMult: 3,
      myDiscriminator: 77,
      yourDiscriminator: 0,
      desiredMinTx: 20_000,
      requiredMinRx: 20_000,
      requiredMinEchoRx: 0,
      ...p,
    };
    sock.send(encodeControl(full), 3784, to);
  };
  return { sock, got, send };
}

describe('BFD endpoint on loopback', () => {
  it('two endpoints come up; a stopped one is declared Down after the detection time, diag 1', async () => {
    const a = endpoint(bfd('to_b', '127.0.0.2', '127.0.0.1'));
    const b = endpoint(bfd('to_a', '127.0.0.1', '127.0.0.2'));
    const told: string[] = [];
    a.ep.watch((name, up) => told.push(`${name} ${up ? 'up' : 'down'}`));
    await a.ep.start();
    await b.ep.start();
    await until(() => a.ep.state('to_b') === 'Up' && b.ep.state('to_a') === 'Up', 3000, 'both Up');
    expect(a.logs).toContain('(to_b) Entering Up state');
    const stoppedAt = performance.now();
    await b.ep.stop();
    await until(() => a.ep.state('to_b') === 'Down', 1000, 'a Down');
    expect(a.changes.at(-1)).toMatchObject({ from: 'Up', to: 'Down', diag: 1 });
    // 3 x 20 ms after b's last packet, which left at most 20 ms before the stop.
    expect(a.changes.at(-1)!.at - stoppedAt).toBeGreaterThan(35);
    expect(a.logs).toContain('(to_b) Entering Down state (Local diagnostic - Control Detection Time Expired, Remote diagnostic - No Diagnostic)');
    expect(told).toEqual(['to_b up', 'to_b down']);
    expect(a.ep.drops).toEqual({});
  });

  it('a neighbour AdminDown takes the session Down (diag 3) without telling the trackers', async () => {
    const n = await handNeighbour('127.0.0.2');
    const a = endpoint(bfd('to_n', '127.0.0.2', '127.0.0.1'));
    const told: string[] = [];
    a.ep.watch((name, up) => told.push(`${name} ${up ? 'up' : 'down'}`));
    await a.ep.start();
    await until(() => n.got.length > 0, 3000, 'the first packet');
    const mine = n.got[0].myDiscriminator;
    n.send({ state: 'Init', yourDiscriminator: mine }, '127.0.0.1');
    await until(() => a.ep.state('to_n') === 'Up', 1000, 'Up');
    n.send({ state: 'AdminDown', diag: 7, yourDiscriminator: mine }, '127.0.0.1');
    await until(() => a.ep.state('to_n') === 'Down', 1000, 'Down');
    expect(a.changes.at(-1)).toMatchObject({ from: 'Up', to: 'Down', diag: 3 });
    expect(a.logs).toContain('(to_n) Entering Down state (Local diagnostic - Neighbor Signaled Session Down, Remote diagnostic - Administratively Down)');
    expect(told).toEqual(['to_n up']);
  });

  it('a neighbour that falls silent is declared Down after its detection time, diag 1', async () => {
    const n = await handNeighbour('127.0.0.2');
    const a = endpoint(bfd('to_n', '127.0.0.2', '127.0.0.1'));
    await a.ep.start();
    // Our first packet: Down, the neighbour not yet known.
    await until(() => n.got.length > 0, 3000, 'the first packet');
    expect(n.got[0]).toMatchObject({ state: 'Down', yourDiscriminator: 0, desiredMinTx: 1_000_000, requiredMinRx: 20_000, detectMult: 3 });
    const mine = n.got[0].myDiscriminator;
    n.send({ state: 'Init', yourDiscriminator: mine }, '127.0.0.1');
    await until(() => a.ep.state('to_n') === 'Up', 1000, 'Up');
    // Up: it polls for its new rate; answer with a Final, and keep talking for a while.
    await until(() => n.got.some((p) => p.state === 'Up' && p.poll), 1000, 'a Poll');
    let last = 0;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 15));
      last = performance.now();
      n.send({ state: 'Up', yourDiscriminator: mine, final: i === 0 }, '127.0.0.1');
    }
    await until(() => a.ep.state('to_n') === 'Down', 1000, 'Down');
    const down = a.changes.at(-1)!;
    expect(down.diag).toBe(1);
    // 3 x max(20 ms, 20 ms) = 60 ms after the last packet, give or take the timers.
    expect(down.at - last).toBeGreaterThanOrEqual(55);
    expect(down.at - last).toBeLessThan(500);
    // While Up it sent at min_tx: 20 ms, jittered to 15-20 ms.
    expect(n.got.filter((p) => p.state === 'Up').length).toBeGreaterThan(3);
  });

  it('counts and drops garbage, strangers and packets for discriminators it does not have', async () => {
    const n = await handNeighbour('127.0.0.3');
    const a = endpoint(bfd('to_x', '127.0.0.2', '127.0.0.1'));
    await a.ep.start();
    n.sock.send(Buffer.from('not bfd at all, but long enough'), 3784, '127.0.0.1');
    n.send({ state: 'Down' }, '127.0.0.1');
    n.send({ state: 'Up', yourDiscriminator: 12345 }, '127.0.0.1');
    n.send({ state: 'Down', detectMult: 0 }, '127.0.0.1');
    await until(() => Object.values(a.ep.drops).reduce((x, y) => x + (y ?? 0), 0) === 4, 1000, 'four drops');
    expect(a.ep.drops).toEqual({ version: 1, 'no-session': 2, 'detect-mult': 1 });
    expect(a.ep.state('to_x')).toBe('Down');
  });

  it('shows a bfd_instance marked vrrp (or checker) to that side only, and an unmarked one to both', () => {
    const { ep } = endpoint(
      bfd('v', '127.0.0.2', '127.0.0.1', '  vrrp\n') + bfd('c', '127.0.0.3', '127.0.0.1', '  checker\n') + bfd('both', '127.0.0.4', '127.0.0.1'),
    );
    const seen = (side: 'vrrp' | 'checker') => ['v', 'c', 'both'].filter((n) => ep.viewFor(side).isUp(n) !== undefined);
    expect(seen('vrrp')).toEqual(['v', 'both']);
    expect(seen('checker')).toEqual(['c', 'both']);
    expect(ep.isUp('both')).toBe(false);
  });

  it('refuses to start where 3784 is taken, and its sessions stay Down (what tracks them fails safe)', async () => {
    await handNeighbour('127.0.0.5');
    const { ep } = endpoint(bfd('blocked', '127.0.0.6', '127.0.0.5'));
    await expect(ep.start()).rejects.toThrow(/EADDRINUSE/);
    expect(ep.isUp('blocked')).toBe(false);
  });
});
