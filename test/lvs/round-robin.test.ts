// rr and wrr: the IPVS pick sequences, pointer rules, and agreement with the IPVS-style scan.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gcd } from '../../src/lvs/hash.js';
import { createScheduler } from '../../src/lvs/schedulers/index.js';
import { createReferenceScheduler } from '../../src/lvs/schedulers/reference.js';
import type { WeightedRoundRobin } from '../../src/lvs/schedulers/wrr.js';
import { dests, opArb, picks, runModel, weightsArb } from './helpers.js';

describe('wrr', () => {
  // peers.md §4.2 conformance sequences (list order A, B, C...).
  const cases: Array<[number[], string]> = [
    [[4, 3, 2], 'AABABCABC'],
    [[5, 1, 1], 'AAAAABC'],
    [[4, 2], 'AAB'],
    [[6, 4, 2], 'AABABC'],
    [[1, 1, 1], 'ABC'],
    [[3, 0, 2], 'AACAC'],
  ];
  it.each(cases)('weights %j give %s, period after period', (w, seq) => {
    for (const s of [createScheduler('wrr'), createReferenceScheduler('wrr')]) {
      expect(picks(s, dests(w), seq.length * 3)).toBe(seq.repeat(3));
    }
  });

  it('skips an overloaded destination and resumes it when the flag clears', () => {
    const ds = dests([4, 3, 2], { uThreshold: 1 });
    const s = createScheduler('wrr');
    expect(picks(s, ds, 2)).toBe('AA');
    ds[0].bindConn(); // A overloaded; state (A, cw 3)
    // cw 3: B; cw 2: B C; cw 1: B C; cw 4 has only A, skipped; cw 3: B; cw 2: B ...
    expect(picks(s, ds, 7)).toBe('BBCBCBB');
    ds[0].unbindConn();
    expect(picks(s, ds, 3)).toBe('CAB'); // rest of cw 2, then cw 1 from the head
  });

  it('returns none when every destination is overloaded or quiesced, none at all when every weight is 0', () => {
    const ds = dests([2, 0], { uThreshold: 1 });
    const s = createScheduler('wrr');
    ds[0].bindConn();
    expect(s.pick(ds, { src: '1.1.1.1', dst: '2.2.2.2' }, 0)).toBeUndefined();
    expect(picks(createScheduler('wrr'), dests([0, 0]), 3)).toBe('---');
  });

  it('restarts from the head with cw re-clamped after a destination edit', () => {
    const ds = dests([4, 3, 2]);
    const s = createScheduler('wrr') as WeightedRoundRobin;
    expect(picks(s, ds, 3)).toBe('AAB'); // B picked at cw 3
    expect(s.state).toMatchObject({ cl: 1, cw: 3 });
    ds[2].edit({ weight: 2 }); // any edit: cl = head, cw kept (3 ≤ mw 4, di 1)
    expect(s.state).toMatchObject({ cl: -1, cw: 3 });
    expect(picks(s, ds, 4)).toBe('ABAB');
    // With di > 1, cw is re-aligned to (cw / di)·di + 1.
    const e = dests([6, 4, 2]);
    const t = createScheduler('wrr') as WeightedRoundRobin;
    picks(t, e, 2); // A at cw 5, A at cw 3 (mw = 6 − 1, di 2)
    expect(t.state).toMatchObject({ cw: 3, di: 2, mw: 5 });
    e[1].edit({ weight: 8 }); // mw = 8 − 1 = 7, cw = (3 / 2)·2 + 1 = 3
    expect(t.state).toMatchObject({ cw: 3, mw: 7, cl: -1 });
  });

  it('property: over one period each destination is picked weight/gcd times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 10 }), (w) => {
        const positive = w.filter((x) => x > 0);
        fc.pre(positive.length > 0);
        const g = positive.reduce((a, b) => gcd(a, b));
        const period = positive.reduce((a, b) => a + b, 0) / g;
        const ds = dests(w);
        const s = createScheduler('wrr');
        const count = new Map<string, number>();
        for (let i = 0; i < period; i++) {
          const d = s.pick(ds, { src: '1.1.1.1', dst: '2.2.2.2' }, 0)!;
          count.set(d.id, (count.get(d.id) ?? 0) + 1);
        }
        ds.forEach((d, i) => expect(count.get(d.id) ?? 0).toBe(w[i] / g));
        // ... and the next period repeats the first.
        const again = createScheduler('wrr');
        expect(picks(again, ds, 2 * period).slice(period)).toBe(picks(createScheduler('wrr'), ds, period));
      }),
      { numRuns: 200 },
    );
  });

  it('property: the O(log n) stepping picks exactly as the IPVS pass-by-pass scan, failures included', () => {
    fc.assert(
      fc.property(weightsArb, fc.array(opArb, { maxLength: 150 }), (w, ops) => {
        const fast = createScheduler('wrr') as WeightedRoundRobin;
        const ref = createReferenceScheduler('wrr') as unknown as { cl: number; cw: number };
        runModel([fast, ref as never], w, ops, () => {
          expect(fast.state).toMatchObject({ cl: ref.cl, cw: ref.cw });
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe('rr', () => {
  it('cycles in list order, skipping weight 0 and overloaded destinations', () => {
    const ds = dests([1, 0, 5, 1], { uThreshold: 1 });
    const s = createScheduler('rr');
    expect(picks(s, ds, 6)).toBe('ACDACD');
    ds[2].bindConn(); // C overloaded
    expect(picks(s, ds, 4)).toBe('ADAD');
  });

  it('keeps its place when nothing is usable, and continues from there', () => {
    const ds = dests([1, 1, 1], { uThreshold: 1 });
    const s = createScheduler('rr');
    expect(picks(s, ds, 1)).toBe('A');
    ds.forEach((d) => d.bindConn());
    expect(picks(s, ds, 2)).toBe('--');
    ds.forEach((d) => d.unbindConn());
    expect(picks(s, ds, 3)).toBe('BCA');
  });

  it('moves the pointer to the predecessor when the last pick is removed', () => {
    const ds = dests([1, 1, 1, 1]);
    const s = createScheduler('rr');
    expect(picks(s, ds, 2)).toBe('AB');
    const without = ds.filter((d) => d.id !== 'B'); // pointer → A, so C is next
    expect(picks(s, without, 3)).toBe('CDA');
    const s2 = createScheduler('rr');
    picks(s2, ds, 1); // pointer at A, the first: its removal sends the pointer to the head
    expect(picks(s2, ds.slice(1), 2)).toBe('BC');
  });

  it('property: agrees with the IPVS walk under any sequence of changes', () => {
    fc.assert(
      fc.property(weightsArb, fc.array(opArb, { maxLength: 150 }), (w, ops) => {
        runModel([createScheduler('rr'), createReferenceScheduler('rr')], w, ops);
      }),
      { numRuns: 300 },
    );
  });
});
