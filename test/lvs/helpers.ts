// Shared fixtures for the scheduler tests: destinations named A, B, C... in list order.
import fc from 'fast-check';
import { Dest } from '../../src/lvs/dest.js';
import type { ConnInfo, Scheduler } from '../../src/lvs/schedulers/types.js';

export const NAMES = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Destinations A, B, C... at 10.0.0.1, .2, ... port 80 with these weights. */
export function dests(weights: readonly number[], extra: { uThreshold?: number; lThreshold?: number } = {}): Dest[] {
  return weights.map((weight, i) => new Dest({ address: `10.${i >> 8}.${i & 255}.1`, port: 80, weight, id: i < 26 ? NAMES[i] : `D${i}`, ...extra }));
}

export const CONN: ConnInfo = { src: '192.0.2.1', srcPort: 40000, dst: '198.51.100.1', dstPort: 80 };

/** n picks as a string of ids ('-' for none), binding nothing. */
export function picks(s: Scheduler, ds: readonly Dest[], n: number, conn: ConnInfo = CONN, now = 0): string {
  let out = '';
  for (let i = 0; i < n; i++) out += s.pick(ds, conn, now)?.id ?? '-';
  return out;
}

/** n picks, each followed by binding an inactive connection (or an active one) to the pick. */
export function picksBinding(s: Scheduler, ds: readonly Dest[], n: number, kind: 'active' | 'inactive' = 'inactive'): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = s.pick(ds, CONN, 0);
    out.push(d?.id ?? '-');
    d?.bindConn(kind);
  }
  return out;
}

/** A client address per index: 10.x.y.z spread over the space. */
export function client(i: number): string {
  const a = (Math.imul(i + 1, 2654435761) >>> 0) | 0x01000000;
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

// ---- model-based runs: an indexed scheduler and the IPVS-style scan, same destinations ------

export type Op =
  | { t: 'pick'; active: boolean; c: number }
  | { t: 'close'; k: number }
  | { t: 'establish'; k: number }
  | { t: 'weight'; i: number; w: number }
  | { t: 'thresh'; i: number; u: number; l: number }
  | { t: 'remove'; i: number }
  | { t: 'add'; w: number };

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('pick' as const), active: fc.boolean(), c: fc.nat(40) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('close' as const), k: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('establish' as const), k: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('weight' as const), i: fc.nat(), w: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(8, 12, 100)) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('thresh' as const), i: fc.nat(), u: fc.integer({ min: 0, max: 5 }), l: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('remove' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('add' as const), w: fc.integer({ min: 0, max: 6 }) }) },
);

export const weightsArb = fc.array(fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(2, 4, 6, 12)), { minLength: 1, maxLength: 12 });

/**
 * Run ops against several schedulers sharing the destinations; every pick must agree.
 * Returns the pick log. `onPick` sees each pick (to check extra invariants).
 */
export function runModel(
  schedulers: Scheduler[],
  weights: readonly number[],
  ops: readonly Op[],
  onPick?: (d: Dest | undefined, ds: readonly Dest[], conn: ConnInfo, now: number) => void,
  /** Clock advance per op (µs), for lblc/lblcr expiry. */
  step = 0,
  beforePick?: (conn: ConnInfo, now: number) => void,
): string[] {
  let ds: Dest[] = dests(weights);
  let serial = ds.length;
  const conns: Array<{ d: Dest; active: boolean }> = [];
  const log: string[] = [];
  let now = 0;
  for (const op of ops) {
    now += step;
    switch (op.t) {
      case 'pick': {
        const conn: ConnInfo = { src: client(op.c), srcPort: 1024 + op.c, dst: client(op.c % 7), dstPort: 80 };
        beforePick?.(conn, now);
        const got = schedulers.map((s) => s.pick(ds, conn, now));
        const ids = got.map((d) => d?.id ?? '-');
        if (new Set(ids).size !== 1)
          throw new Error(`schedulers disagree: ${schedulers.map((s, i) => `${s.name}#${i}=${ids[i]}`).join(' ')} after ${log.join('')}`);
        log.push(ids[0]);
        onPick?.(got[0], ds, conn, now);
        if (got[0]) {
          got[0].bindConn(op.active ? 'active' : 'inactive');
          conns.push({ d: got[0], active: op.active });
        }
        break;
      }
      case 'close':
        if (conns.length) {
          const [c] = conns.splice(op.k % conns.length, 1);
          c.d.unbindConn(c.active ? 'active' : 'inactive');
        }
        break;
      case 'establish':
        if (conns.length) {
          const c = conns[op.k % conns.length];
          c.d.moveConn(c.active ? 'active' : 'inactive', c.active ? 'inactive' : 'active');
          c.active = !c.active;
        }
        break;
      case 'weight':
        ds[op.i % ds.length].edit({ weight: op.w });
        break;
      case 'thresh':
        ds[op.i % ds.length].edit({ uThreshold: op.u, lThreshold: op.l });
        break;
      case 'remove':
        if (ds.length > 1) ds = ds.filter((_d, j) => j !== op.i % ds.length);
        break;
      case 'add': // IPVS links new destinations at the head
        ds = [new Dest({ address: `10.1.0.${(serial % 250) + 1}`, port: 80, weight: op.w, id: `N${serial++}` }), ...ds];
        break;
    }
  }
  return log;
}
