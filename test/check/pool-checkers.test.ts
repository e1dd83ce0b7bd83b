// The new checkers through the checker pool, from keepalived.conf text: FILE_CHECK on a virtual
// clock with real files, UDP_CHECK on the real clock against a real UDP server.
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { RealClock } from '../../src/daemon/clock.js';
import { makeProbe } from '../../src/check/dispatch.js';
import { CheckerPool } from '../../src/check/pool.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';
import { load, vsConf } from './conf.js';

const S = 1_000_000;
const dir = mkdtempSync(join(tmpdir(), 'kts-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FILE_CHECK in the pool (virtual clock, real files)', () => {
  it('takes a server out on a fault, back when the file clears, and adds value × weight to its weight', async () => {
    const fa = join(dir, 'a');
    const fb = join(dir, 'b');
    writeFileSync(fa, '1\n');
    writeFileSync(fb, '5\n');
    const tracks = `track_file fa {\n  file ${fa}\n  weight 0\n}\ntrack_file fb {\n  file ${fb}\n  weight 2\n}`;
    const conf =
      vsConf(['10.0.0.1:80'], 'FILE_CHECK {\n      track_file fa\n    }', tracks) +
      vsConf(['10.0.0.2:80'], 'FILE_CHECK {\n      track_file fb\n    }').replace('127.0.0.1 80', '127.0.0.1 81');
    const clock = new VirtualClock();
    const events: string[] = [];
    const pool = new CheckerPool(
      load(conf),
      { clock, random: () => 0, probe: async () => ({ ok: false, reason: 'not used' }) },
      {
        realServer: (_vs, rs, alive) => events.push(`${clock.now() / S} ${rs.address} ${alive ? 'up' : 'down'}`),
        weight: (_vs, rs, w) => events.push(`${clock.now() / S} ${rs.address} weight ${w}`),
      },
    );
    // The files are read before anything runs: a is never added, b starts at 1 + 5 × 2.
    expect(pool.status.map((s) => s.alive)).toEqual([false, true]);
    pool.start();
    const at = async (t: number) => {
      while (clock.now() < t * S) {
        clock.advance(S / 10);
        await new Promise((r) => setImmediate(r));
      }
    };
    await at(1);
    writeFileSync(fa, '0\n');
    writeFileSync(fb, '-1\n');
    await at(2);
    writeFileSync(fa, '7\n');
    writeFileSync(fb, '-2147483648\n');
    await at(3);
    writeFileSync(fb, '3\n');
    await at(4);
    pool.stop();
    expect(events).toEqual([
      '0 10.0.0.2 weight 11',
      '1.5 10.0.0.1 up',
      '1.5 10.0.0.1 weight 1',
      // 1 - 2 is clamped to 0, as IPVS takes it.
      '1.5 10.0.0.2 weight 0',
      '2.5 10.0.0.1 down',
      '2.5 10.0.0.2 down',
      '3.5 10.0.0.2 up',
      '3.5 10.0.0.2 weight 7',
    ]);
  });

  it("sums what misc_dynamic and FILE_CHECK ask for, as keepalived's cur_weight", async () => {
    const f = join(dir, 'c');
    writeFileSync(f, '5\n');
    const conf = vsConf(
      ['10.0.0.1:80'],
      `MISC_CHECK {\n      misc_path /bin/true\n      misc_dynamic\n    }\n    FILE_CHECK {\n      track_file fc\n    }`,
      `global_defs {\n  enable_script_security\n  script_user root\n}\ntrack_file fc {\n  file ${f}\n  weight 2\n}`,
    );
    const clock = new VirtualClock();
    const weights: number[] = [];
    // misc_dynamic exit 12: weight 10 in all, so this checker's part is 10 - 1.
    const pool = new CheckerPool(
      load(conf),
      { clock, random: () => 0, probe: async () => ({ ok: true, reason: 'exit 12', weight: 10 }) },
      { weight: (_v, _r, w) => weights.push(w) },
    );
    pool.start();
    for (let i = 0; i < 15; i++) {
      clock.advance(S / 10);
      await new Promise((r) => setImmediate(r));
    }
    pool.stop();
    expect(weights).toEqual([11, 20]);
  });
});

describe('UDP_CHECK in the pool (real clock, real UDP server)', () => {
  const sockets: Socket[] = [];
  afterAll(() => sockets.forEach((s) => s.close()));
  const start = (port = 0) =>
    new Promise<Socket>((r) => {
      const s = createSocket('udp4');
      s.on('message', (d, from) => s.send(d, from.port, from.address));
      sockets.push(s);
      s.bind(port, '127.0.0.1', () => r(s));
    });

  it('removes a server whose port closes and adds it back when it answers again', async () => {
    const srv = await start();
    const port = srv.address().port;
    const conf = vsConf(
      [`127.0.0.1:${port}`],
      'UDP_CHECK {\n      require_reply\n    }',
      '',
      'delay_loop 0.2\n  retry 1\n  delay_before_retry 0.2\n  connect_timeout 0.5\n  warmup 0',
    );
    const runner = new ScriptRunner();
    const events: { at: number; alive: boolean; reason: string }[] = [];
    const pool = new CheckerPool(
      load(conf),
      { clock: new RealClock(), random: () => 0, probe: makeProbe(runner) },
      {
        realServer: (_vs, _rs, alive, reason) => events.push({ at: Date.now(), alive, reason }),
      },
    );
    pool.start();
    await new Promise((r) => setTimeout(r, 1500));
    expect(events).toEqual([]);
    const closedAt = Date.now();
    await new Promise<void>((r) => srv.close(r));
    sockets.splice(sockets.indexOf(srv), 1);
    await new Promise((r) => setTimeout(r, 1000));
    expect(events.map((e) => [e.alive, e.reason])).toEqual([[false, 'UDP_CHECK failed: UDP: ICMP port unreachable (ECONNREFUSED)']]);
    // Two failures 0.2 s apart after the next run (within delay_loop).
    expect(events[0].at - closedAt).toBeLessThan(200 + 200 + 300);
    await start(port);
    await new Promise((r) => setTimeout(r, 800));
    expect(events.map((e) => [e.alive, e.reason])).toEqual([
      [false, 'UDP_CHECK failed: UDP: ICMP port unreachable (ECONNREFUSED)'],
      [true, 'UDP_CHECK succeeded'],
    ]);
    pool.stop();
    await runner.shutdown();
  }, 10_000);
});
