// BFD_CHECK: a real server follows a BFD session, run on real UDP sockets over loopback against a
// second endpoint (the neighbour, 127.0.0.2): out when the neighbour stops (after the detection
// time), back when the session is Up again; as in keepalived, out from the start until it is Up.
import { afterEach, describe, expect, it } from 'vitest';
import { BfdEndpoint } from '../../src/bfd/endpoint.js';
import { CheckerPool } from '../../src/check/pool.js';
import { loadConfigText } from '../../src/config/index.js';
import { RealClock } from '../../src/daemon/clock.js';
import { until } from '../lvs/net-helpers.js';

const clock = new RealClock();
const open: { stop(): void | Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.stop();
});

const bfdBlock = (name: string, neighbor: string, source: string) =>
  `bfd_instance ${name} {\n  neighbor_ip ${neighbor}\n  source_ip ${source}\n  min_rx 20\n  min_tx 20\n  multiplier 3\n}\n`;

function director(alpha: boolean) {
  const { config, diagnostics } = loadConfigText(
    `${bfdBlock('rs_link', '127.0.0.2', '127.0.0.1')}
virtual_server 127.0.0.1 80 {
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 127.0.0.2 80 {
    BFD_CHECK {
      name rs_link
${alpha ? '      alpha\n' : ''}    }
  }
}
`,
    'director.conf',
  );
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const bfd = new BfdEndpoint(config.bfdInstances, { clock, random: Math.random });
  const events: { alive: boolean; reason: string; at: number }[] = [];
  const pool = new CheckerPool(
    config,
    { clock, random: Math.random, bfd, probe: async () => ({ ok: false, reason: 'BFD_CHECK is never probed' }) },
    {
      realServer: (_vs, _rs, alive, reason) => events.push({ alive, reason, at: performance.now() }),
    },
  );
  open.push(bfd, pool);
  return { bfd, pool, events };
}

async function neighbour() {
  const { config } = loadConfigText(bfdBlock('to_director', '127.0.0.1', '127.0.0.2'), 'rs.conf');
  const ep = new BfdEndpoint(config.bfdInstances, { clock, random: Math.random });
  await ep.start();
  return ep;
}

describe('BFD_CHECK', () => {
  it('takes the real server out when the session goes down, and back when it is up again', async () => {
    const d = director(false);
    await d.bfd.start();
    d.pool.start();
    let n = await neighbour();
    await until(() => d.pool.status[0].alive, 3000, 'the server in');
    // The neighbour stops: silence, and the server is out after 3 x 20 ms.
    const stopAt = performance.now();
    await n.stop();
    await until(() => !d.pool.status[0].alive, 1000, 'the server out');
    expect(d.events.at(-1)!.reason).toMatch(/^BFD rs_link went down \(no packet from the neighbour within 60 ms\)$/);
    expect(d.events.at(-1)!.at - stopAt).toBeLessThan(500);
    // Back: the session comes Up again and so does the server.
    n = await neighbour();
    open.push(n);
    await until(() => d.pool.status[0].alive, 3000, 'the server back');
    expect(d.events.map((e) => e.alive)).toEqual([true, false, true]);
  });

  it('with or without alpha, the server is out until the session is first up', async () => {
    expect(director(false).pool.status[0].alive).toBe(false);
    const d = director(true);
    expect(d.pool.status[0].alive).toBe(false);
    await d.bfd.start();
    d.pool.start();
    await new Promise((r) => setTimeout(r, 300));
    // Nobody answers: no session, no server.
    expect(d.pool.status[0].alive).toBe(false);
    open.push(await neighbour());
    await until(() => d.pool.status[0].alive, 3000, 'the server in');
    expect(d.events).toMatchObject([{ alive: true }]);
  });
});
