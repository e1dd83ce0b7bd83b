// IPVS's rate estimator (ip_vs_est.c) and the per-connection counting that feeds it.
import { describe, expect, it } from 'vitest';
import { Connection } from '../../src/lvs/connection.js';
import { Dest } from '../../src/lvs/dest.js';
import { readRates, sampleEstimate, startEstimate, Stats, zeroCounters, type Counters } from '../../src/lvs/estimator.js';

const S = 1_000_000;

describe('rate estimator', () => {
  it('approaches a steady rate by 1/4 of the gap each 2 s sample', () => {
    let e = startEstimate(zeroCounters(), 0);
    const c: Counters = zeroCounters();
    const seen: number[] = [];
    for (let k = 1; k <= 6; k++) {
      c.conns += 200; // 100 conn/s
      c.inbytes += 2_000_000; // 1 MB/s
      e = sampleEstimate(e, c, k * 2 * S);
      seen.push(readRates(e).cps);
    }
    // 100 × (1 − (3/4)^k), rounded
    expect(seen).toEqual([25, 44, 58, 68, 76, 82]);
    expect(readRates(e).inbps).toBe(Math.round(1e6 * (1 - 0.75 ** 6)));
  });

  it('decays to 0 once traffic stops, and divides by the time that really passed', () => {
    let e = startEstimate({ ...zeroCounters(), conns: 50 }, 0);
    e = sampleEstimate(e, { ...zeroCounters(), conns: 450 }, 4 * S); // a late sample: 400 in 4 s = 100/s
    expect(readRates(e).cps).toBe(25);
    for (let k = 0; k < 40; k++) e = sampleEstimate(e, { ...zeroCounters(), conns: 450 }, (6 + 2 * k) * S);
    expect(readRates(e).cps).toBe(0);
    // A second sample at the same instant changes nothing.
    expect(sampleEstimate(e, { ...zeroCounters(), conns: 9999 }, 84 * S)).toBe(e);
  });

  it('Stats: the first sample counts as one 2 s period', () => {
    const s = new Stats();
    s.add({ conns: 8, outpkts: 4, outbytes: 4000 });
    s.sample(123 * S);
    expect(s.rates).toEqual({ cps: 1, inpps: 0, outpps: 1, inbps: 0, outbps: 500 });
    expect(s.totals).toEqual({ conns: 8, inpkts: 0, outpkts: 4, inbytes: 0, outbytes: 4000 });
  });
});

describe('connection counting', () => {
  it('TCP: inactive while connecting and closing, active while established; bytes counted once', () => {
    const d = new Dest({ address: '10.0.0.1', port: 80 });
    const svc = new Stats();
    const c = new Connection(d, [d.stats, svc]);
    expect([d.activeConns, d.inactConns]).toEqual([0, 1]);
    c.phase('active');
    expect([d.activeConns, d.inactConns]).toEqual([1, 0]);
    c.traffic({ inBytes: 10, outBytes: 20 });
    c.traffic({ inBytes: 15, outBytes: 20 });
    c.phase('closing');
    expect([d.activeConns, d.inactConns]).toEqual([0, 1]);
    c.phase('closed');
    c.phase('active'); // too late: closed is final
    expect([d.activeConns, d.inactConns]).toEqual([0, 0]);
    expect(d.stats.totals).toEqual({ conns: 1, inpkts: 0, outpkts: 0, inbytes: 15, outbytes: 20 });
    expect(svc.totals).toEqual(d.stats.totals);
  });

  it('UDP: inactive all its life (IPVS never marks a UDP entry established)', () => {
    const d = new Dest({ address: '10.0.0.1', port: 53 });
    const c = new Connection(d, [d.stats], 'UDP');
    c.phase('active');
    expect([d.activeConns, d.inactConns]).toEqual([0, 1]);
    c.traffic({ inBytes: 60, outBytes: 120, inPkts: 1, outPkts: 2 });
    c.phase('closed');
    expect([d.activeConns, d.inactConns]).toEqual([0, 0]);
    expect(d.stats.totals).toEqual({ conns: 1, inpkts: 1, outpkts: 2, inbytes: 60, outbytes: 120 });
  });
});
