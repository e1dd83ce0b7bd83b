// The data-plane seam: with dataPlane 'none' the Balancer opens no sockets; route() decides and
// connection() counts, so the lab's simulator drives the same schedulers as the forwarders.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { loadConfigText } from '../../src/config/index.js';
import { Balancer, type Route } from '../../src/lvs/balancer.js';
import { withChecks } from './checked.js';

const VIP = '127.0.0.1';
function config(body: string, port = 8080) {
  const { config, diagnostics } = loadConfigText(`virtual_server ${VIP} ${port} {\n  lvs_method NAT\n  protocol TCP\n${body}\n}\n`, 'k.conf', {
    configId: 'x',
  });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return config;
}
const rs = (n: number, w = 1) => `  real_server 10.0.0.${n} 80 {\n    weight ${w}\n  }`;
const none = (cfg: ReturnType<typeof config>, clock = new VirtualClock()) =>
  new Balancer(cfg, withChecks({ clock, probe: () => Promise.reject(new Error('no probes here')), random: () => 0, dataPlane: 'none' }));
const where = (r: Route) => (r.kind === 'dest' ? r.dest.address : r.kind === 'sorry' ? `sorry ${r.address}:${r.port}` : `refused: ${r.reason}`);
const client = { address: '192.0.2.7', port: 40000 };

describe('data plane none', () => {
  it('opens no socket: start() succeeds on a virtual address whose port is taken', async () => {
    const taken = createServer();
    const port = await new Promise<number>((r) => taken.listen(0, VIP, () => r((taken.address() as { port: number }).port)));
    const lb = none(config(`  lvs_sched rr\n${rs(1)}`, port));
    await lb.start();
    expect(where(lb.route(lb.services[0].vs, client))).toBe('10.0.0.1');
    await lb.stop();
    const withForwarder = new Balancer(
      config(`  lvs_sched rr\n${rs(1)}`, port),
      withChecks({ clock: new VirtualClock(), probe: () => Promise.reject(new Error('x')), random: () => 0 }),
    );
    await expect(withForwarder.start()).rejects.toThrow(/EADDRINUSE/);
    await withForwarder.stop();
    taken.close();
  });

  it('wlc sees the connections the caller reports: active ones weigh 256 inactive ones', async () => {
    const lb = none(config(`  lvs_sched wlc\n${rs(1)}\n${rs(2)}`));
    const vs = lb.services[0].vs;
    const picks: string[] = [];
    const open = [];
    for (let i = 0; i < 4; i++) {
      const r = lb.route(vs, client);
      picks.push(where(r));
      if (r.kind !== 'dest') throw new Error('no dest');
      const c = lb.connection(r.dest);
      c.phase('active');
      open.push(c);
    }
    // Without counting, wlc would answer the first in the list every time.
    expect(picks).toEqual(['10.0.0.2', '10.0.0.1', '10.0.0.2', '10.0.0.1']);
    const d2 = lb.services[0].members[1].dest;
    expect([d2.activeConns, d2.inactConns]).toEqual([2, 0]);
    open[0].phase('closing');
    expect([d2.activeConns, d2.inactConns]).toEqual([1, 1]);
    open[0].phase('closed');
    open[0].phase('closed');
    expect([d2.activeConns, d2.inactConns]).toEqual([1, 0]);
    open[0].traffic({ inBytes: 100, outBytes: 5000 });
    open[0].traffic({ inBytes: 100, outBytes: 5000 });
    expect(d2.stats.totals).toEqual({ conns: 2, inpkts: 0, outpkts: 0, inbytes: 100, outbytes: 5000 });
    expect(lb.listing()[0].stats).toEqual({ conns: 4, inpkts: 0, outpkts: 0, inbytes: 100, outbytes: 5000 });
  });

  it('quorum lost: the sorry server, or refused without one; no destination: the same', () => {
    // With alpha, a checked server starts down: weight 1 in service, below quorum 2.
    const checked = `  real_server 10.0.0.2 80 {\n    weight 1\n    TCP_CHECK {\n    }\n  }`;
    const sorry = none(config(`  lvs_sched rr\n  alpha\n  quorum 2\n  sorry_server 10.9.9.9 8081\n${rs(1)}\n${checked}`));
    expect(where(sorry.route(sorry.services[0].vs, client))).toBe('sorry 10.9.9.9:8081');
    const refused = none(config(`  lvs_sched rr\n  alpha\n  quorum 2\n${rs(1)}\n${checked}`));
    expect(where(refused.route(refused.services[0].vs, client))).toBe('refused: quorum lost');
    // Quorum met, but the only server is at its upper threshold: the scheduler has nothing.
    const full = `  real_server 10.0.0.1 80 {\n    uthreshold 1\n  }`;
    for (const [sorryLine, want] of [
      ['  sorry_server 10.9.9.9\n', 'sorry 10.9.9.9:8080'],
      ['', 'refused: no real server available'],
    ]) {
      const lb = none(config(`  lvs_sched rr\n${sorryLine}${full}`));
      const first = lb.route(lb.services[0].vs, client);
      if (first.kind !== 'dest') throw new Error('no dest');
      lb.connection(first.dest);
      expect(where(lb.route(lb.services[0].vs, client))).toBe(want);
    }
  });

  it('samples rates every 2 s on the injected clock (ip_vs_est: EWMA, weight 1/4)', async () => {
    const clock = new VirtualClock();
    const lb = none(config(`  lvs_sched rr\n${rs(1)}`), clock);
    await lb.start();
    const vs = lb.services[0].vs;
    // 10 new connections per 2 s period, 1000 bytes in each: 5 conn/s, 5000 B/s.
    for (let period = 0; period < 3; period++) {
      for (let i = 0; i < 10; i++) {
        const r = lb.route(vs, client);
        if (r.kind !== 'dest') throw new Error('no dest');
        const c = lb.connection(r.dest);
        c.traffic({ inBytes: 1000, outBytes: 0 });
        c.phase('closed');
      }
      clock.advance(2_000_000);
    }
    // 5 × (1 − (3/4)³) = 2.89 → 3; 5000 × 0.578125 = 2890.6 → 2891.
    expect(lb.listing()[0].rate).toEqual({ cps: 3, inpps: 0, outpps: 0, inbps: 2891, outbps: 0 });
    expect(lb.listing()[0].servers[0].rate.inbps).toBe(2891);
    await lb.stop();
  });
});

describe('reload without a data plane', () => {
  it('edits weights and thresholds in place, keeping the destination and its counters', async () => {
    const lb = none(config(`  lvs_sched wrr\n${rs(1)}\n${rs(2)}`));
    await lb.start();
    const vs = lb.services[0].vs;
    const r = lb.route(vs, client);
    if (r.kind !== 'dest') throw new Error('no dest');
    const c = lb.connection(r.dest);
    await lb.reload(config(`  lvs_sched wrr\n  real_server 10.0.0.1 80 {\n    weight 3\n    uthreshold 9\n  }\n${rs(2)}`));
    const d1 = lb.services[0].members[0].dest;
    expect([d1.weight, d1.uThreshold]).toEqual([3, 9]);
    expect(lb.services[0].members.map((m) => m.dest)).toContain(r.dest);
    expect(r.dest.inactConns).toBe(1);
    // The old config's vs still routes (same protocol, address and port); wrr now 3:1.
    const picks = Array.from({ length: 8 }, () => where(lb.route(vs, client)));
    expect(picks.filter((p) => p === '10.0.0.1').length).toBe(6);
    c.phase('closed');
    expect(r.dest.inactConns).toBe(0);
    // New checkers (alpha: down until a first success): same destination, out of the table.
    const d2 = lb.services[0].members[1].dest;
    await lb.reload(config(`  lvs_sched wrr\n  alpha\n${rs(1)}\n  real_server 10.0.0.2 80 {\n    TCP_CHECK {\n    }\n  }`));
    expect(lb.services[0].members[1].dest).toBe(d2);
    expect(lb.listing()[0].servers.map((s) => s.address)).toEqual(['10.0.0.1']);
    await lb.reload(config(`  lvs_sched wrr\n${rs(2)}`));
    expect(lb.listing()[0].servers.map((s) => s.address)).toEqual(['10.0.0.2']);
    expect(lb.services[0].members[0].dest).toBe(d2);
    expect(lb.listing()[0].stats.conns).toBe(1);
    await lb.stop();
  });

  it('lists the sorry server while quorum is lost, with the connections sent to it', () => {
    const checked = `  real_server 10.0.0.2 80 {\n    weight 1\n    TCP_CHECK {\n    }\n  }`;
    const lb = none(config(`  lvs_sched rr\n  alpha\n  sorry_server 10.9.9.9 8081\n${checked}`));
    const r = lb.route(lb.services[0].vs, client);
    expect(where(r)).toBe('sorry 10.9.9.9:8081');
    const c = lb.connection(lb.services[0].vs);
    c.phase('active');
    const rows = lb.listing()[0].servers;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ address: '10.9.9.9', port: 8081, weight: 1, activeConns: 1, inactConns: 0 });
    expect(rows[0].stats.conns).toBe(1);
    expect(lb.listing()[0].stats.conns).toBe(1);
  });

  it('persistence: a template outlives persistence_timeout while it controls a connection', () => {
    const clock = new VirtualClock();
    const lb = none(config(`  lvs_sched rr\n  persistence_timeout 2\n${rs(1)}\n${rs(2)}`), clock);
    const vs = lb.services[0].vs;
    const first = lb.route(vs, client);
    if (first.kind !== 'dest') throw new Error('no dest');
    expect(first.template).toBeDefined();
    const long = lb.connection(first.dest, first.template);
    long.phase('active');
    // Other clients advance rr until its next pick is the server our client does not have.
    let n = 0;
    const advanceRr = () => {
      while (where(lb.route(vs, { address: `192.0.2.${100 + n++}`, port: 1 })) !== first.dest.address);
    };
    clock.advance(10_000_000);
    lb.services[0].svc.tick(clock.now());
    advanceRr();
    expect(where(lb.route(vs, client))).toBe(first.dest.address);
    // Closed: the template expires persistence_timeout after its last use, and rr decides again.
    long.phase('closed');
    clock.advance(10_000_000);
    lb.services[0].svc.tick(clock.now());
    advanceRr();
    expect(where(lb.route(vs, client))).not.toBe(first.dest.address);
    expect(lb.services[0].members.find((m) => m.dest === first.dest)!.dest.activeConns).toBe(0);
  });

  it('omega: stopping runs notify_down of the servers in service, then quorum_down', async () => {
    const ran: string[] = [];
    const down = (n: number) => `  real_server 10.0.0.${n} 80 {\n    notify_down "/bin/rs${n}-down"\n  }`;
    const make = (omega: string) =>
      new Balancer(
        loadConfigText(
          `global_defs {\n  enable_script_security\n  script_user root\n}\nvirtual_server ${VIP} 8080 {\n  lvs_sched rr\n${omega}  quorum_down "/bin/quorum-down"\n${down(1)}\n${down(2)}\n}\n`,
          'k.conf',
        ).config,
        withChecks({
          clock: new VirtualClock(),
          probe: () => Promise.reject(new Error('none')),
          random: () => 0,
          dataPlane: 'none',
          runScript: (sc) => ran.push(sc.argv.join(' ')),
        }),
      );
    const plain = make('');
    await plain.start();
    await plain.stop();
    expect(ran).toEqual([]);
    const withOmega = make('  omega\n');
    await withOmega.start();
    await withOmega.stop();
    expect(ran).toEqual(['/bin/rs1-down', '/bin/rs2-down', '/bin/quorum-down']);
  });

  it('a reload applies the new configured weight with what FILE_CHECK adds: 10 → 20 while the file reads 3 gives 23', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kts-seam-'));
    const file = join(dir, 'w');
    writeFileSync(file, '3\n');
    const conf = (weight: number) => {
      const text =
        `track_file tf {\n  file ${file}\n  weight 1\n}\nvirtual_server ${VIP} 8080 {\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n` +
        `  real_server 10.0.0.1 80 {\n    weight ${weight}\n    FILE_CHECK {\n      track_file tf\n    }\n  }\n}\n`;
      const { config, diagnostics } = loadConfigText(text, 'k.conf', { configId: 'x' });
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      return config;
    };
    const clock = new VirtualClock();
    const lb = new Balancer(conf(10), withChecks({ clock, probe: () => Promise.reject(new Error('no probes here')), random: () => 0, dataPlane: 'none' }));
    const run = async (seconds: number) => {
      for (let i = 0; i < seconds * 10; i++) {
        clock.advance(100_000);
        await new Promise((r) => setImmediate(r));
      }
    };
    await lb.start();
    await run(2);
    const dest = lb.services[0].members[0].dest;
    expect(dest.weight).toBe(13);
    await lb.reload(conf(20));
    await run(2);
    expect(lb.services[0].members[0].dest).toBe(dest);
    expect(dest.weight).toBe(23);
    await lb.stop();
    rmSync(dir, { recursive: true, force: true });
  });
});
