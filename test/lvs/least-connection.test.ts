// lc, wlc, sed, nq, fo, ovf: the IPVS comparisons and tie-breaks, and agreement of the indexed
// (tournament tree) schedulers with the IPVS list scan.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Dest } from '../../src/lvs/dest.js';
import { createScheduler } from '../../src/lvs/schedulers/index.js';
import { createReferenceScheduler } from '../../src/lvs/schedulers/reference.js';
import { CONN, dests, opArb, picks, picksBinding, runModel, weightsArb } from './helpers.js';

function withConns(weights: number[], conns: Array<[active: number, inactive: number]>): Dest[] {
  const ds = dests(weights);
  ds.forEach((d, i) => d.setConns({ active: conns[i][0], inactive: conns[i][1] }));
  return ds;
}

const pick = (name: Parameters<typeof createScheduler>[0], ds: Dest[]) => createScheduler(name).pick(ds, CONN, 0)?.id;

describe('wlc', () => {
  it('compares overhead/weight by cross-multiplication (peers.md examples)', () => {
    // A(w1, 0/0) vs B(w2, 1 active): 0·2 > 256·1? no → A.
    expect(
      pick(
        'wlc',
        withConns(
          [1, 2],
          [
            [0, 0],
            [1, 0],
          ],
        ),
      ),
    ).toBe('A');
    // A(w1, oh 256) vs B(w3, oh 2·256 + 10 = 522): 256·3 = 768 > 522·1 → B.
    expect(
      pick(
        'wlc',
        withConns(
          [1, 3],
          [
            [1, 0],
            [2, 10],
          ],
        ),
      ),
    ).toBe('B');
  });

  it('gives ties to the first destination in the list', () => {
    expect(
      pick(
        'wlc',
        withConns(
          [2, 1],
          [
            [0, 2],
            [0, 1],
          ],
        ),
      ),
    ).toBe('A'); // 2/2 = 1/1
    expect(
      pick(
        'wlc',
        withConns(
          [1, 2],
          [
            [0, 1],
            [0, 2],
          ],
        ),
      ),
    ).toBe('A');
    expect(
      pick(
        'wlc',
        withConns(
          [1, 1, 1],
          [
            [0, 0],
            [0, 0],
            [0, 0],
          ],
        ),
      ),
    ).toBe('A');
  });

  it('never picks weight 0 or overloaded, even when idle', () => {
    const ds = withConns(
      [0, 1, 1],
      [
        [0, 0],
        [5, 0],
        [9, 0],
      ],
    );
    ds[1].edit({ uThreshold: 5 });
    ds[1].bindConn(); // 5 active + 1 ≥ 5: overloaded
    expect(pick('wlc', ds)).toBe('C');
  });

  it('spreads active connections in proportion to weight: weights 1,2 → A B B A B B', () => {
    expect(picksBinding(createScheduler('wlc'), dests([1, 2]), 6, 'active').join('')).toBe('ABBABB');
  });

  it('counts an active connection as 256 inactive ones', () => {
    expect(
      pick(
        'wlc',
        withConns(
          [1, 1],
          [
            [1, 0],
            [0, 255],
          ],
        ),
      ),
    ).toBe('B'); // 256 vs 255
    expect(
      pick(
        'wlc',
        withConns(
          [1, 1],
          [
            [1, 0],
            [0, 256],
          ],
        ),
      ),
    ).toBe('A'); // tie → first
  });
});

describe('lc', () => {
  it('takes the smallest overhead whatever the weight, ties to the first', () => {
    expect(
      pick(
        'lc',
        withConns(
          [1, 100],
          [
            [0, 5],
            [0, 3],
          ],
        ),
      ),
    ).toBe('B');
    expect(
      pick(
        'lc',
        withConns(
          [100, 1],
          [
            [0, 3],
            [0, 3],
          ],
        ),
      ),
    ).toBe('A');
    expect(
      pick(
        'lc',
        withConns(
          [0, 1],
          [
            [0, 0],
            [1, 0],
          ],
        ),
      ),
    ).toBe('B');
  });
});

describe('sed', () => {
  it('minimises (active + 1)/weight, ignoring inactive connections', () => {
    // A(w1, a0): 1 vs B(w3, a2): 3; 1·3 > 3·1? no → A (tie to the first).
    expect(
      pick(
        'sed',
        withConns(
          [1, 3],
          [
            [0, 0],
            [2, 0],
          ],
        ),
      ),
    ).toBe('A');
    expect(
      pick(
        'sed',
        withConns(
          [1, 3],
          [
            [0, 0],
            [1, 50],
          ],
        ),
      ),
    ).toBe('B'); // 1·3 > 2·1
  });
});

describe('nq', () => {
  it('returns the first idle destination at once, otherwise the sed choice', () => {
    // B is the first with no active connection, though C (weight 10) would win on sed.
    expect(
      pick(
        'nq',
        withConns(
          [1, 1, 10],
          [
            [1, 0],
            [0, 100],
            [0, 0],
          ],
        ),
      ),
    ).toBe('B');
    expect(
      pick(
        'nq',
        withConns(
          [1, 1, 10],
          [
            [1, 0],
            [2, 0],
            [3, 0],
          ],
        ),
      ),
    ).toBe('C'); // 2·10 > 4·1
  });
});

describe('fo', () => {
  it('picks the highest weight, first on ties, skipping overloaded', () => {
    expect(
      pick(
        'fo',
        withConns(
          [2, 5, 5],
          [
            [0, 0],
            [9, 9],
            [0, 0],
          ],
        ),
      ),
    ).toBe('B');
    const ds = dests([2, 5, 5], { uThreshold: 1 });
    ds[1].bindConn();
    expect(pick('fo', ds)).toBe('C');
  });
});

describe('ovf', () => {
  it('keeps the highest weight until its active connections exceed the weight', () => {
    const s = createScheduler('ovf');
    const ds = dests([3, 2, 1]);
    // A takes active connections while active ≤ weight: 0,1,2,3 → four picks, then B.
    expect(picksBinding(s, ds, 8, 'active').join('')).toBe('AAAABBBC');
    expect(s.pick(ds, CONN, 0)?.id).toBe('C');
    ds[2].bindConn('active');
    expect(s.pick(ds, CONN, 0)).toBeUndefined();
  });

  it('does not count inactive connections', () => {
    expect(
      pick(
        'ovf',
        withConns(
          [3, 2],
          [
            [0, 100],
            [0, 0],
          ],
        ),
      ),
    ).toBe('A');
  });
});

describe('indexed = IPVS scan', () => {
  for (const name of ['lc', 'wlc', 'sed', 'nq', 'fo', 'ovf'] as const) {
    it(`property: ${name} picks exactly as the list scan under any sequence of changes`, () => {
      fc.assert(
        fc.property(weightsArb, fc.array(opArb, { maxLength: 200 }), (w, ops) => {
          runModel([createScheduler(name), createReferenceScheduler(name)], w, ops);
        }),
        { numRuns: 250 },
      );
    });
  }

  it('agrees at 300 destinations too (deep tree, many ties)', () => {
    const w = Array.from({ length: 300 }, (_v, i) => (i * 7) % 5);
    const ops = Array.from({ length: 3000 }, (_v, i) =>
      i % 3 === 2 ? { t: 'close' as const, k: i * 13 } : { t: 'pick' as const, active: i % 2 === 0, c: i % 41 },
    );
    for (const name of ['lc', 'wlc', 'sed', 'nq'] as const) {
      const log = runModel([createScheduler(name), createReferenceScheduler(name)], w, ops);
      expect(log.length).toBe(2000);
      expect(log.every((x) => x !== '-')).toBe(true);
    }
  });

  it('rebuilds from a new array and ignores the old one', () => {
    const ds = dests([1, 1]);
    const s = createScheduler('lc');
    expect(picks(s, ds, 1)).toBe('A');
    const next = [ds[1]];
    expect(picks(s, next, 1)).toBe('B');
    ds[0].bindConn(); // A is no longer listed: its changes must not reach the index
    expect(picks(s, next, 1)).toBe('B');
  });
});
