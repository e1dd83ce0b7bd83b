// End to end on loopback: three real HTTP servers behind a virtual server, real health checks,
// real client requests through the embedded forwarder.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/daemon/clock.js';
import { loadConfigText } from '../../src/config/index.js';
import { makeProbe } from '../../src/check/dispatch.js';
import { Balancer } from '../../src/lvs/balancer.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
import { freePort, httpGet, sleep } from './net-helpers.js';
import { withChecks } from './checked.js';

const servers = new Map<string, Server>();
const start = (name: string, port = 0) =>
  new Promise<number>((r) => {
    const s = createServer((_q, res) => res.end(name)).listen(port, '127.0.0.1', () => r((s.address() as AddressInfo).port));
    servers.set(name, s);
  });
const stop = (name: string) => new Promise<void>((r) => servers.get(name)!.close(() => r()));
afterAll(() => {
  for (const s of servers.values()) s.close();
});

describe('embedded load balancer, end to end', () => {
  it('wrr 3,2,1 splits 600 requests 300/200/100; a stopped server leaves in time and no request fails after; sorry_server when all are down', async () => {
    const ports = { A: await start('A'), B: await start('B'), C: await start('C') };
    const sorryPort = await start('SORRY');
    const vsPort = await freePort();
    const rs = (name: 'A' | 'B' | 'C', w: number) =>
      `  real_server 127.0.0.1 ${ports[name]} {\n    weight ${w}\n    HTTP_GET {\n      url {\n        path /\n      }\n    }\n  }`;
    const { config, diagnostics } = loadConfigText(
      `virtual_server 127.0.0.1 ${vsPort} {
  delay_loop 0.2
  retry 1
  delay_before_retry 0.2
  connect_timeout 0.5
  warmup 0
  lvs_sched wrr
  lvs_method NAT
  protocol TCP
  sorry_server 127.0.0.1 ${sorryPort}
${rs('A', 3)}
${rs('B', 2)}
${rs('C', 1)}
}
`,
      'k.conf',
      { configId: 'x' },
    );
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const runner = new ScriptRunner();
    const log: string[] = [];
    const lb = new Balancer(config, withChecks({ clock: new RealClock(), probe: makeProbe(runner), random: () => 0, log: (_l, m) => log.push(m) }));
    await lb.start();

    const counts: Record<string, number> = {};
    for (let i = 0; i < 600; i++) {
      const b = await httpGet(vsPort);
      counts[b] = (counts[b] ?? 0) + 1;
    }
    expect(counts).toEqual({ A: 300, B: 200, C: 100 });

    // Stop B: it must leave within delay_loop x (retry + 1) + connect_timeout (0.9 s).
    await stop('B');
    await sleep(900 + 300);
    const after: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const b = await httpGet(vsPort);
      after[b] = (after[b] ?? 0) + 1;
    }
    expect(Object.keys(after).sort()).toEqual(['A', 'C']);
    expect(after.A + after.C).toBe(100);
    expect(log.some((l) => /Removing service \[127\.0\.0\.1\]:\d+ from VS/.test(l))).toBe(true);

    // B back: it returns.
    await start('B', ports.B);
    await sleep(800);
    const back = new Set<string>();
    for (let i = 0; i < 12; i++) back.add(await httpGet(vsPort));
    expect(back.has('B')).toBe(true);

    // All down: the sorry server answers.
    await Promise.all([stop('A'), stop('B'), stop('C')]);
    await sleep(1300);
    expect(await httpGet(vsPort)).toBe('SORRY');

    await lb.stop();
    await runner.shutdown();
  }, 30_000);
});

describe('MISC_CHECK misc_dynamic', () => {
  it('sets the real server weight from the script exit code (code - 2)', async () => {
    const port = await start('D');
    const vsPort = await freePort();
    const { config } = loadConfigText(
      `global_defs {\n  enable_script_security\n  script_user root\n}\nvirtual_server 127.0.0.1 ${vsPort} {\n  delay_loop 0.2\n  warmup 0\n  lvs_sched wrr\n  lvs_method NAT\n  protocol TCP\n  real_server 127.0.0.1 ${port} {\n    weight 1\n    MISC_CHECK {\n      misc_path "/bin/sh -c 'exit 7'"\n      misc_dynamic\n    }\n  }\n}\n`,
      'k.conf',
      { configId: 'x' },
    );
    const runner = new ScriptRunner();
    const lb = new Balancer(config, withChecks({ clock: new RealClock(), probe: makeProbe(runner), random: () => 0 }));
    await lb.start();
    await sleep(1600);
    expect(lb.services[0].members[0].dest.weight).toBe(5);
    await lb.stop();
    await runner.shutdown();
  }, 10_000);
});

describe('rs_init_notifies', () => {
  it('runs notify_up and tells each real server in service from the start, and one a reload adds; without it, nothing until a change', async () => {
    const [p1, p2, p3] = [await start('I1'), await start('I2'), await start('I3')];
    const vsPort = await freePort();
    const rsb = (p: number) => `  real_server 127.0.0.1 ${p} {\n    notify_up "/bin/true up ${p}"\n    TCP_CHECK {\n      connect_timeout 0.3\n    }\n  }`;
    const conf = (init: boolean, ports: number[]) => {
      const { config, diagnostics } = loadConfigText(
        `global_defs {\n  enable_script_security\n  script_user root\n${init ? '  rs_init_notifies\n' : ''}}\nvirtual_server 127.0.0.1 ${vsPort} {\n  delay_loop 5\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n${ports.map(rsb).join('\n')}\n}\n`,
        'k.conf',
        { configId: 'x' },
      );
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      return config;
    };
    for (const init of [true, false]) {
      const runner = new ScriptRunner();
      const told: string[] = [];
      const lb = new Balancer(
        conf(init, [p1, p2]),
        withChecks({
          clock: new RealClock(),
          probe: makeProbe(runner),
          random: () => 0,
          runScript: (sc) => told.push(sc.command),
          stateChange: (_vs, rs, up, d) => told.push(`${rs?.port} ${up ? 'UP' : 'DOWN'}${d?.initial ? ' initial' : ''}`),
        }),
      );
      await lb.start();
      expect(told).toEqual(init ? [`/bin/true up ${p1}`, `${p1} UP initial`, `/bin/true up ${p2}`, `${p2} UP initial`] : []);
      told.length = 0;
      await lb.reload(conf(init, [p1, p2, p3]));
      expect(told).toEqual(init ? [`/bin/true up ${p3}`, `${p3} UP initial`] : []);
      await lb.stop();
      await runner.shutdown();
    }
  }, 15_000);
});

describe('quorum, hysteresis, notify_up/notify_down', () => {
  it('loses quorum below quorum - hysteresis (clients go to the sorry server) and regains it at quorum + hysteresis', async () => {
    const p1 = await start('Q1');
    const p2 = await start('Q2');
    const sorry = await start('QS');
    const vsPort = await freePort();
    const rsb = (p: number) =>
      `  real_server 127.0.0.1 ${p} {\n    weight 1\n    notify_up "/bin/true up ${p}"\n    notify_down "/bin/true down ${p}"\n    TCP_CHECK {\n      connect_timeout 0.3\n    }\n  }`;
    const { config, diagnostics } = loadConfigText(
      `global_defs {\n  enable_script_security\n  script_user root\n}\nvirtual_server 127.0.0.1 ${vsPort} {\n  delay_loop 0.2\n  retry 1\n  delay_before_retry 0.1\n  warmup 0\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n  quorum 2\n  hysteresis 0\n  quorum_up "/bin/true quorum up"\n  quorum_down "/bin/true quorum down"\n  sorry_server 127.0.0.1 ${sorry}\n${rsb(p1)}\n${rsb(p2)}\n}\n`,
      'k.conf',
      { configId: 'x' },
    );
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const runner = new ScriptRunner();
    const scripts: string[] = [];
    const lb = new Balancer(
      config,
      withChecks({ clock: new RealClock(), probe: makeProbe(runner), random: () => 0, runScript: (s) => scripts.push(s.command) }),
    );
    await lb.start();
    expect(new Set([await httpGet(vsPort), await httpGet(vsPort)])).toEqual(new Set(['Q1', 'Q2']));
    await stop('Q2');
    await sleep(1200);
    // One server of weight 1 left: below quorum 2, so the sorry server answers.
    expect(await httpGet(vsPort)).toBe('QS');
    expect(scripts).toEqual([`/bin/true down ${p2}`, '/bin/true quorum down']);
    await start('Q2', p2);
    await sleep(800);
    expect(new Set([await httpGet(vsPort), await httpGet(vsPort)])).toEqual(new Set(['Q1', 'Q2']));
    expect(scripts.slice(2)).toEqual([`/bin/true up ${p2}`, '/bin/true quorum up']);
    await lb.stop();
    await runner.shutdown();
  }, 15_000);
});
