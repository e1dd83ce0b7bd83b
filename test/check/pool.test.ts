// The checker pool: exact schedule on a virtual clock, and real HTTP servers on loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { RealClock } from '../../src/daemon/clock.js';
import { loadConfigText } from '../../src/config/index.js';
import { makeProbe } from '../../src/check/dispatch.js';
import { CheckerPool, type PoolEnv } from '../../src/check/pool.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';

const S = 1_000_000;
const vsConf = (servers: string, checker: string, timers = 'delay_loop 6\n  retry 2\n  delay_before_retry 1\n  warmup 0') => `
global_defs {
  enable_script_security
  script_user root
}
virtual_server 127.0.0.1 80 {
  ${timers}
  lvs_sched wrr
  lvs_method NAT
  protocol TCP
${servers
  .split(' ')
  .map((s) => `  real_server ${s.replace(':', ' ')} {\n    weight 1\n    ${checker}\n  }`)
  .join('\n')}
}
`;

describe('checker pool schedule (virtual clock)', () => {
  it('removes a real server after retry+1 failures, retrying after delay_before_retry, and re-adds it on one success', async () => {
    const { config, diagnostics } = loadConfigText(vsConf('10.0.0.1:80', 'TCP_CHECK {\n    }'), 'k.conf', { configId: 'x' });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const clock = new VirtualClock();
    let healthy = true;
    const probes: number[] = [];
    const events: string[] = [];
    const pool = new CheckerPool(
      config,
      {
        clock,
        random: () => 0,
        probe: async () => {
          probes.push(clock.now() / S);
          return healthy ? { ok: true, reason: 'ok' } : { ok: false, reason: 'refused' };
        },
      },
      { realServer: (_vs, rs, alive) => events.push(`${clock.now() / S} ${rs.address} ${alive ? 'up' : 'down'}`) },
    );
    pool.start();
    const step = async (us: number) => {
      clock.advance(us);
      await new Promise((r) => setImmediate(r));
    };
    for (let t = 0; t < 20; t++) await step(S);
    healthy = false;
    for (let t = 0; t < 15; t++) await step(S);
    healthy = true;
    for (let t = 0; t < 10; t++) await step(S);
    expect(probes.slice(0, 4)).toEqual([1, 7, 13, 19]);
    // failures at 25, 26 (retry after 1 s), 27 -> third failure with retry 2 removes it
    expect(events).toEqual(['27 10.0.0.1 down', '39 10.0.0.1 up']);
    expect(pool.status[0].alive).toBe(true);
  });

  it("tells a checker's own change when its real server stays as it was (the mails no_checker_emails turns off)", async () => {
    const twoChecks = 'TCP_CHECK {\n      connect_port 81\n    }\n    TCP_CHECK {\n      connect_port 82\n    }';
    const { config } = loadConfigText(vsConf('10.0.0.1:80', twoChecks, 'delay_loop 1\n  retry 0\n  warmup 0'), 'k.conf', { configId: 'x' });
    const clock = new VirtualClock();
    const down = new Set<number>();
    const events: string[] = [];
    const pool = new CheckerPool(
      config,
      { clock, random: () => 0, probe: async (job) => (down.has(job.port) ? { ok: false, reason: 'refused' } : { ok: true, reason: 'ok' }) },
      {
        realServer: (_vs, _rs, alive) => events.push(`server ${alive ? 'up' : 'down'}`),
        checker: (_vs, _rs, up, reason) => events.push(`checker ${up ? 'up' : 'down'}: ${reason}`),
      },
    );
    pool.start();
    const step = async (): Promise<void> => {
      for (let i = 0; i < 2; i++) {
        clock.advance(S);
        await new Promise((r) => setImmediate(r));
      }
    };
    await step();
    for (const change of [() => down.add(81), () => down.add(82), () => down.delete(81), () => down.delete(82)]) {
      change();
      await step();
    }
    expect(events).toEqual(['server down', 'checker down: TCP_CHECK failed: refused', 'checker up: TCP_CHECK succeeded', 'server up']);
  });

  it('with alpha, a server joins only after its first success', async () => {
    const { config } = loadConfigText(vsConf('10.0.0.1:80', 'TCP_CHECK {\n      alpha\n    }'), 'k.conf', { configId: 'x' });
    const clock = new VirtualClock();
    const events: string[] = [];
    const pool = new CheckerPool(
      config,
      { clock, random: () => 0, probe: async () => ({ ok: true, reason: 'ok' }) },
      { realServer: (_v, _r, alive) => events.push(`${clock.now() / S} ${alive}`) },
    );
    expect(pool.status[0].alive).toBe(false);
    pool.start();
    for (let t = 0; t < 2; t++) {
      clock.advance(S);
      await new Promise((r) => setImmediate(r));
    }
    expect(events).toEqual(['1 true']);
  });
});

describe('checker pool across a reload (virtual clock)', () => {
  it('keeps the state and timer of a checker whose settings are unchanged, and starts a changed one afresh', async () => {
    const load = (secondTimeout: number) => {
      const check = (timeout: number) => `TCP_CHECK {\n      retry 0\n      connect_timeout ${timeout}\n    }`;
      const text = vsConf('10.0.0.1:80', check(3), 'delay_loop 6\n  warmup 0').replace(
        /(\n}\n)$/,
        `\n  real_server 10.0.0.2 80 {\n    weight 1\n    ${check(secondTimeout)}\n  }$1`,
      );
      const { config, diagnostics } = loadConfigText(text, 'k.conf', { configId: 'x' });
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      return config;
    };
    const clock = new VirtualClock();
    const probes: string[] = [];
    const pool = new CheckerPool(load(3), {
      clock,
      random: () => 0,
      probe: async ({ rs, connectTimeout }) => {
        probes.push(`${clock.now() / S} ${rs.address} ${connectTimeout}`);
        return { ok: false, reason: 'refused' };
      },
    });
    pool.start();
    const step = async (us: number) => {
      clock.advance(us);
      await new Promise((r) => setImmediate(r));
    };
    for (let t = 0; t < 2; t++) await step(S);
    expect(pool.status.map((x) => x.alive)).toEqual([false, false]);
    // 10.0.0.2's checker changes (connect_timeout 3 -> 2); 10.0.0.1's does not.
    const next = load(2);
    pool.check(next.resolved.virtualServers);
    const [vs] = next.resolved.virtualServers;
    expect(vs.realServers.map((rs) => pool.health(vs, rs).alive)).toEqual([false, true]);
    for (let t = 0; t < 6; t++) await step(S);
    // The kept checker runs on its old timer (1, 7); the new one starts 1 s after the reload.
    expect(probes).toEqual(['1 10.0.0.1 3', '1 10.0.0.2 3', '3 10.0.0.2 2', '7 10.0.0.1 3']);
    expect(pool.status.map((x) => x.alive)).toEqual([false, false]);
    pool.stop();
  });
});

describe('checker pool against real HTTP servers', () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));
  const start = (port = 0) =>
    new Promise<Server>((r) => {
      const s = createServer((_q, res) => res.end('ok')).listen(port, '127.0.0.1', () => r(s));
      servers.push(s);
    });

  it('a stopped server leaves within delay_loop x (retry+1) + connect_timeout, and returns when restarted', async () => {
    const a = await start();
    const b = await start();
    const pa = (a.address() as AddressInfo).port;
    const pb = (b.address() as AddressInfo).port;
    const conf = vsConf(
      `127.0.0.1:${pa} 127.0.0.1:${pb}`,
      'HTTP_GET {\n      url {\n        path /\n      }\n    }',
      'delay_loop 0.2\n  retry 1\n  delay_before_retry 0.2\n  connect_timeout 0.5\n  warmup 0',
    );
    const { config, diagnostics } = loadConfigText(conf, 'k.conf', { configId: 'x' });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const runner = new ScriptRunner();
    const events: { at: number; port: number; alive: boolean }[] = [];
    const pool = new CheckerPool(
      config,
      { clock: new RealClock(), random: () => 0, probe: makeProbe(runner) },
      {
        realServer: (_vs, rs, alive) => events.push({ at: Date.now(), port: rs.port, alive }),
      },
    );
    pool.start();
    await new Promise((r) => setTimeout(r, 1500));
    expect(events).toEqual([]);
    const stoppedAt = Date.now();
    await new Promise((r) => b.close(r));
    await new Promise((r) => setTimeout(r, 1500));
    const down = events.find((e) => e.port === pb && !e.alive);
    expect(down).toBeDefined();
    expect(down!.at - stoppedAt).toBeLessThan((0.2 * 2 + 0.5) * 1000 + 300);
    expect(events.some((e) => e.port === pa)).toBe(false);
    await start(pb);
    await new Promise((r) => setTimeout(r, 1000));
    expect(events.filter((e) => e.port === pb).map((e) => e.alive)).toEqual([false, true]);
    pool.stop();
    await runner.shutdown();
  }, 20_000);
});

describe('checker pool and descriptors', () => {
  /** One TCP_CHECKed server on a virtual clock with `probe`; `seconds(n)` runs the clock n seconds, one at a time. */
  const onePool = (probe: PoolEnv['probe'], delayLoop: number) => {
    const { config } = loadConfigText(
      vsConf('10.0.0.1:80', 'TCP_CHECK {\n    }', `delay_loop ${delayLoop}\n  retry 0\n  delay_before_retry 1\n  warmup 0`),
      'k.conf',
      { configId: 'x' },
    );
    const clock = new VirtualClock();
    const events: string[] = [];
    const logs: string[] = [];
    const pool = new CheckerPool(
      config,
      { clock, random: () => 0, probe },
      { realServer: (_vs, rs, alive) => events.push(`${rs.address} ${alive ? 'up' : 'down'}`), log: (_l, m) => logs.push(m) },
    );
    pool.start();
    const seconds = async (n: number): Promise<void> => {
      for (let t = 0; t < n; t++) {
        clock.advance(S);
        await new Promise((r) => setImmediate(r));
      }
    };
    return { pool, clock, events, logs, seconds };
  };

  it('an EMFILE in a probe is no verdict on the real server: retried, logged once', async () => {
    let result = { ok: false, reason: 'EMFILE: too many open files' };
    const { pool, events, logs, seconds } = onePool(async () => result, 6);
    await seconds(10);
    // Tried again every delay_before_retry, never taken out.
    expect(events).toEqual([]);
    expect(pool.counters).toMatchObject({ probes: 0, failures: 0 });
    expect(pool.counters.noFd).toBeGreaterThanOrEqual(8);
    expect(logs.filter((m) => m.includes('EMFILE'))).toEqual([
      'TCP_CHECK on [10.0.0.1]:80 could not run (EMFILE: too many open files); not counted against the server, retrying',
    ]);
    // A real failure still counts.
    result = { ok: false, reason: 'ECONNREFUSED: connection refused' };
    await seconds(2);
    expect(events).toEqual(['10.0.0.1 down']);
  });

  it('a socket that cannot be set up (bind_if, fwmark) is no verdict: logged each time, tried again after delay_loop', async () => {
    const runs: number[] = [];
    const { pool, clock, events, logs, seconds } = onePool(async () => {
      runs.push(clock.now() / 1_000_000);
      return { ok: false, reason: "Checker can't bind to device nosuch0: No such device", unrun: true };
    }, 3);
    await seconds(10);
    expect(events).toEqual([]);
    expect(pool.counters).toMatchObject({ probes: 0, failures: 0 });
    // Every delay_loop (3 s), not every delay_before_retry (1 s).
    expect(runs).toEqual([1, 4, 7, 10]);
    expect(logs).toEqual(
      runs.map(() => "TCP_CHECK on [10.0.0.1]:80: Checker can't bind to device nosuch0: No such device; not counted against the server, rescheduling"),
    );
  });

  it('counts probes in flight against maxInFlight descriptors', async () => {
    const servers = Array.from({ length: 6 }, (_, i) => `10.0.0.${i + 1}:80`).join(' ');
    const { config } = loadConfigText(vsConf(servers, 'TCP_CHECK {\n    }'), 'k.conf', { configId: 'x' });
    const clock = new VirtualClock();
    let now = 0;
    let most = 0;
    const pending: (() => void)[] = [];
    const pool = new CheckerPool(config, {
      clock,
      random: () => 0,
      maxInFlight: 4,
      probe: () =>
        new Promise((resolve) => {
          most = Math.max(most, ++now);
          pending.push(() => {
            now--;
            resolve({ ok: true, reason: 'ok' });
          });
        }),
    });
    pool.start();
    clock.advance(S);
    await new Promise((r) => setImmediate(r));
    expect(now).toBe(4);
    while (pending.length) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    expect(most).toBe(4);
    expect(pool.counters.probes).toBe(6);
  });
});
