// Properties every scheduler keeps, whatever happens to its destinations.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Dest } from '../../src/lvs/dest.js';
import { LocalityLeastConnection } from '../../src/lvs/schedulers/lblc.js';
import { createScheduler, SCHEDULER_NAMES } from '../../src/lvs/schedulers/index.js';
import { opArb, runModel, weightsArb } from './helpers.js';

const MIN = 60_000_000;

describe('every scheduler', () => {
  it('is registered under each keepalived lvs_sched name', () => {
    expect([...SCHEDULER_NAMES].sort()).toEqual(['dh', 'fo', 'lblc', 'lblcr', 'lc', 'mh', 'nq', 'ovf', 'rr', 'sed', 'sh', 'twos', 'wlc', 'wrr']);
    for (const n of SCHEDULER_NAMES) expect(createScheduler(n).name).toBe(n);
    expect(() => createScheduler('xyz' as never)).toThrow(/unknown IPVS scheduler/);
  });

  for (const name of SCHEDULER_NAMES) {
    it(`property: ${name} never picks a weight-0, overloaded or unlisted destination`, () => {
      fc.assert(
        fc.property(weightsArb, fc.array(opArb, { maxLength: 120 }), (w, ops) => {
          const s = createScheduler(name, { flags: ['flag-1'] });
          // lblc alone reuses a cached server without looking at the u_threshold flag (as IPVS).
          const lblc = s instanceof LocalityLeastConnection ? s : undefined;
          let cached: Dest | undefined;
          runModel(
            [s],
            w,
            ops,
            (d, ds) => {
              if (!d) return;
              expect(ds).toContain(d);
              expect(d.weight).toBeGreaterThan(0);
              if (d.overloaded) expect(lblc && cached === d).toBe(true);
              if (name === 'ovf') expect(d.activeConns).toBeLessThanOrEqual(d.weight);
            },
            MIN,
            (conn) => (cached = lblc?.cached(conn.dst)),
          );
        }),
        { numRuns: 150 },
      );
    });

    it(`property: ${name} is deterministic (same inputs, same picks)`, () => {
      fc.assert(
        fc.property(weightsArb, fc.array(opArb, { maxLength: 120 }), (w, ops) => {
          // runModel throws as soon as the two instances disagree.
          const log = runModel(
            [createScheduler(name, { flags: ['flag-1', 'flag-2'] }), createScheduler(name, { flags: ['flag-1', 'flag-2'] })],
            w,
            ops,
            undefined,
            MIN,
          );
          expect(log.length).toBe(ops.filter((o) => o.t === 'pick').length);
        }),
        { numRuns: 100 },
      );
    });
  }

  it('property: a pick is found whenever some destination is usable (except the hashing ones)', () => {
    for (const name of SCHEDULER_NAMES.filter((n) => !['sh', 'dh', 'mh', 'ovf'].includes(n))) {
      // (ovf also needs active ≤ weight; sh/dh/mh answer only from the client's own bucket.)
      fc.assert(
        fc.property(weightsArb, fc.array(opArb, { maxLength: 80 }), (w, ops) => {
          runModel([createScheduler(name)], w, ops, (d, ds) => {
            const usable = ds.some((x) => x.weight > 0 && !x.overloaded);
            if (usable) expect(d).toBeDefined();
            else if (name !== 'lblc') expect(d).toBeUndefined();
          });
        }),
        { numRuns: 60 },
      );
    }
  });
});
