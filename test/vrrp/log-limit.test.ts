// Rate-limited drop logs: the limiter alone on explicit times, then a runner on a virtual clock
// under a flood of bad packets, whose counters stay exact while its log stays short.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { LogLimiter } from '../../src/vrrp/log-limit.js';
import { VrrpRunner } from '../../src/vrrp/instance.js';
import { runnerConfigFor } from './runner-config.js';
import { encodeAdvert } from '../../src/vrrp/packet.js';

const S = 1_000_000;

describe('LogLimiter', () => {
  it('logs the first line per key, sums up the rest once per window, and logs in full again after a quiet window', () => {
    const l = new LogLimiter('(VI_1) ');
    expect(l.offer('ttl', 0, 'warn', 'invalid TTL 3', 'adverts dropped for ttl')).toEqual({ level: 'warn', message: '(VI_1) invalid TTL 3' });
    expect(l.offer('auth', 1, 'warn', 'bad passwd', 'adverts dropped for auth-failure')).toEqual({ level: 'warn', message: '(VI_1) bad passwd' });
    for (let t = 2; t < 1000; t++) expect(l.offer('ttl', t * 1000, 'warn', `invalid TTL ${t % 7}`, 'adverts dropped for ttl')).toBeUndefined();
    expect(l.nextFlushAt()).toBe(10 * S);
    expect(l.flush(10 * S - 1)).toEqual([]);
    expect(l.flush(10 * S)).toEqual([{ level: 'warn', message: '(VI_1) 998 more adverts dropped for ttl in the last 10 s (last: invalid TTL 5)' }]);
    expect(l.nextFlushAt()).toBeUndefined();
    // Still flooding: counted towards the next summary, 10 s after the last one.
    expect(l.offer('ttl', 10.5 * S, 'warn', 'invalid TTL 1', 'adverts dropped for ttl')).toBeUndefined();
    expect(l.nextFlushAt()).toBe(20 * S);
    expect(l.flush(20 * S)).toEqual([{ level: 'warn', message: '(VI_1) 1 more adverts dropped for ttl in the last 10 s (last: invalid TTL 1)' }]);
    // Quiet for a whole window: the next one is logged in full.
    expect(l.offer('ttl', 40 * S, 'warn', 'invalid TTL 9', 'adverts dropped for ttl')).toEqual({ level: 'warn', message: '(VI_1) invalid TTL 9' });
  });

  it('reset() sums up what is pending and re-arms every key (keepalived: state change, new master)', () => {
    const l = new LogLimiter('(VI_1) ');
    l.offer('ttl', 0, 'warn', 'a', 'adverts dropped for ttl');
    l.offer('ttl', S, 'warn', 'b', 'adverts dropped for ttl');
    l.offer('ttl', 2 * S, 'warn', 'c', 'adverts dropped for ttl');
    expect(l.reset(3 * S)).toEqual([{ level: 'warn', message: '(VI_1) 2 more adverts dropped for ttl in the last 3 s (last: c)' }]);
    expect(l.nextFlushAt()).toBeUndefined();
    expect(l.offer('ttl', 3 * S, 'warn', 'd', 'adverts dropped for ttl')).toEqual({ level: 'warn', message: '(VI_1) d' });
  });
});

describe('a runner under a flood of bad packets', () => {
  const cfg = runnerConfigFor('VI_1', '192.168.1.1', 100);

  it('counts every drop exactly and writes a few lines per reason, not one per packet', () => {
    const clock = new VirtualClock();
    const lines: string[] = [];
    const sent: number[] = [];
    const runner = new VrrpRunner(cfg, clock, { send: () => sent.push(clock.now()) }, { log: (_r, level, m) => lines.push(`${level} ${m}`) });
    runner.start();
    clock.advance(5 * S);
    expect(runner.state.state).toBe('MASTER');
    const good = encodeAdvert({ version: 2, vrid: 51, priority: 50, family: 4, addresses: ['192.168.1.100'], adverIntSec: 1, authType: 0 });
    const badSum = Buffer.from(good);
    badSum[7] ^= 0xff;
    const from = lines.length;
    // 20,000 a second for 25 s: bad TTL, bad checksum and valid lower-priority adverts in turn.
    for (let i = 0; i < 500_000; i++) {
      const k = i % 3;
      runner.receive({ src: '192.168.1.9', dst: '224.0.0.18', ttl: k === 0 ? 3 : 255, payload: k === 1 ? badSum : good });
      clock.advance(50);
    }
    const c = runner.state.counters;
    expect(c.dropped).toEqual({ ttl: 166_667, checksum: 166_667 });
    expect(c.advertRcvd).toBe(166_666);
    const out = lines.slice(from);
    // Per reason: the first line, then a summary every 10 s.
    expect(out.filter((l) => /invalid TTL/.test(l) && !/more/.test(l))).toHaveLength(1);
    expect(out.filter((l) => /more adverts dropped for ttl in the last 10 s/.test(l))).toHaveLength(2);
    expect(out.filter((l) => /more adverts dropped for checksum/.test(l))).toHaveLength(2);
    expect(
      out.filter((l) => /more lower priority adverts in the last 10 s \(last: Received advert from 192\.168\.1\.9 with lower priority 50/.test(l)),
    ).toHaveLength(2);
    expect(out.length).toBeLessThanOrEqual(3 * 3);
    // The summaries add up with the first lines to the exact counters, up to what is still pending.
    const summed = out
      .map((l) => /(\d+) more adverts dropped for ttl/.exec(l)?.[1])
      .filter(Boolean)
      .map(Number);
    expect(1 + summed.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(c.dropped.ttl!);
    // And the MASTER kept its interval throughout: one reply at the start, then one a second.
    const during = sent.filter((t) => t > 5 * S);
    expect(during.length).toBeLessThanOrEqual(27);
    expect(runner.state.state).toBe('MASTER');
    // The flood stops: the last summary still comes, on its own timer.
    const before = lines.length;
    clock.advance(10 * S);
    expect(lines.slice(before).filter((l) => /more adverts dropped for ttl/.test(l))).toHaveLength(1);
  });
});
