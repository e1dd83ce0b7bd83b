// sh, dh and mh: bucket/slot tables as IPVS builds them, flags, and what moves when a
// destination is quiesced or removed.
import { describe, expect, it } from 'vitest';
import type { Dest } from '../../src/lvs/dest.js';
import { DestinationHashing } from '../../src/lvs/schedulers/dh.js';
import { createScheduler } from '../../src/lvs/schedulers/index.js';
import { MaglevHashing } from '../../src/lvs/schedulers/mh.js';
import { SourceHashing } from '../../src/lvs/schedulers/sh.js';
import type { Scheduler } from '../../src/lvs/schedulers/types.js';
import { client, dests } from './helpers.js';

const CLIENTS = Array.from({ length: 20000 }, (_v, i) => client(i));
const bySrc = (s: Scheduler, ds: readonly Dest[], src: string, srcPort?: number) => s.pick(ds, { src, srcPort, dst: '198.51.100.1' }, 0)?.id ?? '-';
const map = (s: Scheduler, ds: readonly Dest[]) => CLIENTS.map((c) => bySrc(s, ds, c));
const byDst = (s: Scheduler, ds: readonly Dest[], dst: string) => s.pick(ds, { src: '192.0.2.1', dst }, 0)?.id ?? '-';

describe('sh', () => {
  it('fills 256 buckets in list order, weight consecutive buckets each (weight 0 still one)', () => {
    const s = new SourceHashing();
    s.onDestsChanged(dests([2, 1, 0]));
    expect(s.size).toBe(256);
    expect(
      s.buckets
        .slice(0, 9)
        .map((d) => d?.id)
        .join(''),
    ).toBe('AABCAABCA');
    expect(s.buckets.filter((d) => d?.id === 'A').length).toBe(128);
  });

  it('hashes the client with hash_32: 192.168.1.1 → bucket 136 → B of three', () => {
    const s = new SourceHashing();
    const ds = dests([1, 1, 1]);
    expect(s.bucketOf('192.168.1.1')).toBe(136);
    expect(bySrc(s, ds, '192.168.1.1')).toBe('B'); // 136 mod 3 = 1
    expect(bySrc(s, ds, '192.168.1.1', 1234)).toBe('B'); // the port is ignored without sh-port
  });

  it('adds the source port with sh-port (flag-2)', () => {
    const ds = dests([1, 1, 1]);
    for (const flag of ['sh-port', 'flag-2']) {
      const s = new SourceHashing({ flags: [flag] });
      expect(s.bucketOf('192.168.1.1', 1)).not.toBe(136);
      expect(bySrc(s, ds, '192.168.1.1', 1)).toBe(ds[s.bucketOf('192.168.1.1', 1) % 3].id);
      const spread = new Set(Array.from({ length: 30 }, (_v, p) => bySrc(s, ds, '192.168.1.1', 40000 + p)));
      expect(spread.size).toBe(3);
    }
  });

  it('answers none for a quiesced bucket, or probes on with sh-fallback from bucket 2·ihash', () => {
    const ds = dests([1, 1, 1]);
    ds[1].edit({ weight: 0 }); // weight 0 still holds one bucket: the table is unchanged
    expect(bySrc(createScheduler('sh'), ds, '192.168.1.1')).toBe('-');
    // Probes: (272 + 0) & 255 = 16 → B (16 mod 3 = 1, unusable), 17 → C.
    expect(bySrc(createScheduler('sh', { flags: ['sh-fallback'] }), ds, '192.168.1.1')).toBe('C');
  });

  it('quiescing a weight-1 destination moves exactly its own clients', () => {
    const ds = dests(Array(10).fill(1));
    const s = createScheduler('sh');
    const fb = createScheduler('sh', { flags: ['sh-fallback'] });
    const before = map(s, ds);
    ds[3].edit({ weight: 0 });
    const after = map(s, ds);
    const afterFb = map(fb, ds);
    CLIENTS.forEach((_c, i) => {
      if (before[i] === 'D') {
        expect(after[i]).toBe('-');
        expect(afterFb[i]).not.toMatch(/[D-]/);
      } else {
        expect(after[i]).toBe(before[i]);
        expect(afterFb[i]).toBe(before[i]);
      }
    });
  });

  it('removing a destination refills the table: the clients of every changed bucket move, far more than 1/N', () => {
    const ds = dests(Array(10).fill(1));
    const s = new SourceHashing();
    const before = map(s, ds);
    const oldTable = s.buckets.map((d) => d?.id);
    const rest = ds.filter((d) => d.id !== 'A');
    const after = map(s, rest);
    const newTable = s.buckets.map((d) => d?.id);
    let moved = 0;
    CLIENTS.forEach((c, i) => {
      const b = s.bucketOf(c);
      expect(after[i] !== before[i]).toBe(oldTable[b] !== newTable[b]);
      if (after[i] !== before[i]) moved++;
    });
    expect(moved / CLIENTS.length).toBeGreaterThan(0.85); // IPVS sh is not consistent hashing
  });

  it('rejects table bits outside 4..20', () => {
    expect(() => new SourceHashing({ shTableBits: 3 })).toThrow(RangeError);
    expect(new SourceHashing({ shTableBits: 4 }).size).toBe(16);
  });
});

describe('dh', () => {
  it('fills 256 buckets one destination each, ignoring weights, keyed on the destination address', () => {
    const s = new DestinationHashing();
    const ds = dests([5, 1, 1]);
    s.onDestsChanged(ds);
    expect(
      s.buckets
        .slice(0, 6)
        .map((d) => d?.id)
        .join(''),
    ).toBe('ABCABC');
    expect(s.bucketOf('192.168.1.1')).toBe(177);
    expect(byDst(s, ds, '192.168.1.1')).toBe('A'); // 177 mod 3 = 0
    expect(new Set(CLIENTS.slice(0, 50).map((c) => s.pick(ds, { src: c, dst: '192.168.1.1' }, 0)?.id))).toEqual(new Set(['A']));
  });

  it("quiescing moves exactly that destination's addresses (to none: dh has no fallback)", () => {
    const ds = dests(Array(7).fill(1));
    const s = createScheduler('dh');
    const before = CLIENTS.map((c) => byDst(s, ds, c));
    ds[2].edit({ weight: 0 });
    const after = CLIENTS.map((c) => byDst(s, ds, c));
    CLIENTS.forEach((_c, i) => expect(after[i]).toBe(before[i] === 'C' ? '-' : before[i]));
    ds[2].edit({ weight: 1 });
    ds[2].edit({ uThreshold: 1 });
    ds[2].bindConn(); // overloaded: unavailable too
    expect(CLIENTS.map((c) => byDst(s, ds, c))).toEqual(after);
  });

  it('removing one of N refills the table: about (N−1)/N of the addresses move, not 1/N', () => {
    const ds = dests(Array(10).fill(1));
    const s = new DestinationHashing();
    const before = CLIENTS.map((c) => byDst(s, ds, c));
    const old = s.buckets.map((d) => d?.id);
    const after = CLIENTS.map((c) => byDst(s, ds.slice(1), c));
    let moved = 0;
    CLIENTS.forEach((c, i) => {
      expect(after[i] !== before[i]).toBe(old[s.bucketOf(c)] !== s.buckets[s.bucketOf(c)]?.id);
      if (after[i] !== before[i]) moved++;
    });
    expect(moved / CLIENTS.length).toBeGreaterThan(0.85);
  });
});

describe('mh', () => {
  const slotCounts = (s: MaglevHashing) => {
    const c = new Map<string, number>();
    for (let i = 0; i < s.size; i++) {
      const id = s.slot(i)?.id ?? '-';
      c.set(id, (c.get(id) ?? 0) + 1);
    }
    return c;
  };

  it('uses 4093 slots by default, primes[index − 8] otherwise, and fills every slot', () => {
    expect(new MaglevHashing().size).toBe(4093);
    expect(new MaglevHashing({ mhTableIndex: 8 }).size).toBe(251);
    expect(new MaglevHashing({ mhTableIndex: 17 }).size).toBe(131071);
    expect(() => new MaglevHashing({ mhTableIndex: 18 })).toThrow(RangeError);
    const s = new MaglevHashing();
    s.onDestsChanged(dests([1, 1, 1]));
    expect(slotCounts(s).get('-')).toBeUndefined();
  });

  it('gives each destination slots in proportion to weight, within one round of turns', () => {
    const s = new MaglevHashing();
    s.onDestsChanged(dests([1, 2, 3]));
    const c = slotCounts(s);
    [1, 2, 3].forEach((w, i) => expect(Math.abs(c.get('ABC'[i])! - (4093 * w) / 6)).toBeLessThanOrEqual(w));
  });

  it('caps turns by rshift: weights 1 and 1000 share slots about 1:62, not 1:1000', () => {
    // rshift = fls(1000) − 6 = 4: turns 1 (1 >> 4 = 0, raised to 1) and 1000 >> 4 = 62.
    const s = new MaglevHashing();
    s.onDestsChanged(dests([1, 1000]));
    expect(Math.abs(slotCounts(s).get('A')! - 4093 / 63)).toBeLessThanOrEqual(1);
  });

  it("removing one of N destinations moves about 1/N of the clients, and all of the removed one's", () => {
    const N = 10;
    const ds = dests(Array(N).fill(1));
    const s = createScheduler('mh');
    const before = map(s, ds);
    const after = map(
      s,
      ds.filter((d) => d.id !== 'E'),
    );
    let moved = 0;
    let collateral = 0;
    CLIENTS.forEach((_c, i) => {
      if (before[i] === 'E') expect(after[i]).not.toMatch(/[E-]/);
      if (after[i] !== before[i]) moved++;
      if (before[i] !== 'E' && after[i] !== before[i]) collateral++;
    });
    expect(moved / CLIENTS.length).toBeGreaterThan(0.08);
    expect(moved / CLIENTS.length).toBeLessThan(0.14);
    expect(collateral / CLIENTS.length).toBeLessThan(0.03);
  });

  it('keeps the table when a destination is quiesced (last_weight); its clients get none, or others with mh-fallback', () => {
    const ds = dests(Array(8).fill(2));
    const s = new MaglevHashing();
    const fb = createScheduler('mh', { flags: ['mh-fallback'] });
    const before = map(s, ds);
    const table = Array.from({ length: s.size }, (_v, i) => s.slot(i)?.id);
    ds[5].edit({ weight: 0 });
    expect(Array.from({ length: s.size }, (_v, i) => s.slot(i)?.id)).toEqual(table);
    const after = map(s, ds);
    const afterFb = map(fb, ds);
    CLIENTS.forEach((_c, i) => {
      expect(after[i]).toBe(before[i] === 'F' ? '-' : before[i]);
      if (before[i] === 'F') expect(afterFb[i]).not.toMatch(/[F-]/);
      else expect(afterFb[i]).toBe(before[i]);
    });
  });

  it('spreads one client over destinations by source port with mh-port', () => {
    const ds = dests([1, 1, 1, 1]);
    const plain = createScheduler('mh');
    const port = createScheduler('mh', { flags: ['mh-port'] });
    const ports = Array.from({ length: 40 }, (_v, p) => 30000 + p);
    expect(new Set(ports.map((p) => bySrc(plain, ds, '192.0.2.7', p))).size).toBe(1);
    expect(new Set(ports.map((p) => bySrc(port, ds, '192.0.2.7', p))).size).toBe(4);
  });

  it('builds the same table on every run (fixed hsiphash keys)', () => {
    const a = new MaglevHashing();
    const b = new MaglevHashing();
    const ds1 = dests([3, 1, 2, 5]);
    const ds2 = dests([3, 1, 2, 5]);
    a.onDestsChanged(ds1);
    b.onDestsChanged(ds2);
    for (let i = 0; i < a.size; i++) expect(a.slot(i)?.id).toBe(b.slot(i)?.id);
  });

  it('has an empty table when every last_weight is 0, and refuses more destinations than slots', () => {
    expect(bySrc(createScheduler('mh'), dests([0, 0]), '192.0.2.1')).toBe('-');
    const s = createScheduler('mh', { mhTableIndex: 8 });
    expect(() => s.onDestsChanged(dests(Array(252).fill(1)))).toThrow(/exceed the lookup table size 251/);
  });
});
