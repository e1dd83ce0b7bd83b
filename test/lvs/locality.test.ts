// lblc and lblcr: the per-address cache, lblc's "overloaded" rule, lblcr's replica sets, and
// expiry driven by a virtual clock (µs).
import { describe, expect, it } from 'vitest';
import type { Dest } from '../../src/lvs/dest.js';
import { LocalityLeastConnection } from '../../src/lvs/schedulers/lblc.js';
import { LocalityLeastConnectionReplicated } from '../../src/lvs/schedulers/lblcr.js';
import { LOCALITY_MAX_ENTRIES } from '../../src/lvs/schedulers/locality.js';
import { client, dests } from './helpers.js';

const S = 1_000_000;
const H = 3600 * S;
const to = (s: { pick: LocalityLeastConnection['pick'] }, ds: readonly Dest[], dst: string, now: number) =>
  s.pick(ds, { src: '192.0.2.1', dst }, now)?.id ?? '-';

describe('lblc', () => {
  it('keeps sending an address to its cached server while wlc would choose another', () => {
    const ds = dests([1, 1]);
    const s = new LocalityLeastConnection();
    expect(to(s, ds, '203.0.113.1', 0)).toBe('A');
    ds[0].setConns({ inactive: 50 });
    expect(to(s, ds, '203.0.113.1', S)).toBe('A');
    expect(to(s, ds, '203.0.113.2', S)).toBe('B'); // a new address: wlc
    expect(s.cached('203.0.113.2')?.id).toBe('B');
  });

  it('re-schedules when the cached server is quiesced or removed, and rewrites the entry', () => {
    const ds = dests([1, 1, 1]);
    const s = new LocalityLeastConnection();
    expect(to(s, ds, '203.0.113.1', 0)).toBe('A');
    ds[0].edit({ weight: 0 });
    expect(to(s, ds, '203.0.113.1', 1)).toBe('B');
    expect(s.cached('203.0.113.1')?.id).toBe('B');
    expect(to(s, [ds[0], ds[2]], '203.0.113.1', 2)).toBe('C');
  });

  it('overloaded = more active connections than weight while some server is below half its weight', () => {
    const ds = dests([1, 4]);
    const s = new LocalityLeastConnection();
    expect(to(s, ds, '203.0.113.1', 0)).toBe('A');
    ds[0].setConns({ active: 2 }); // 2 > 1, and B: 0·2 < 4
    ds[1].setConns({ active: 1 });
    expect(to(s, ds, '203.0.113.1', 1)).toBe('B');
    ds[1].setConns({ active: 2 }); // B no longer below half (4 < 4 is false): B is kept
    ds[1].setConns({ active: 5 });
    expect(to(s, ds, '203.0.113.1', 2)).toBe('B');
  });

  it('uses a cached server even when its u_threshold flag is set (IPVS does not check it there)', () => {
    const ds = dests([1, 1], { uThreshold: 1 });
    const s = new LocalityLeastConnection();
    expect(to(s, ds, '203.0.113.1', 0)).toBe('A');
    ds[0].bindConn(); // OVERLOAD set, but active (0) ≤ weight
    expect(ds[0].overloaded).toBe(true);
    expect(to(s, ds, '203.0.113.1', 1)).toBe('A');
    expect(to(s, ds, '203.0.113.9', 1)).toBe('B'); // a fresh choice skips it
  });

  it('drops an entry at the first full check 24 h after its last use (full checks every 30 min)', () => {
    const setup = () => {
      const ds = dests([1, 1]);
      const s = new LocalityLeastConnection();
      expect(to(s, ds, '203.0.113.1', 0)).toBe('A'); // GC starts: runs at 60 s, 120 s, ...
      ds[0].setConns({ inactive: 10 }); // wlc now prefers B
      return { s, ds };
    };
    const a = setup();
    expect(to(a.s, a.ds, '203.0.113.1', 24 * H - 1)).toBe('A'); // last full check was at 23.5 h
    const b = setup();
    expect(to(b.s, b.ds, '203.0.113.1', 24 * H)).toBe('B'); // the 48th full check (24 h) removed it
    expect(b.s.size).toBe(1);
    const c = setup();
    c.s.tick(48 * H); // a long idle stretch is replayed without a pick: the entry is gone
    expect(c.s.size).toBe(0);
    expect(c.s.nextDeadline()).toBe(48 * H + 60 * S);
  });

  it('honours a shorter lblc_expiration', () => {
    const ds = dests([1, 1]);
    const s = new LocalityLeastConnection({ lblcExpiration: 10 * 60 * S });
    to(s, ds, '203.0.113.1', 0);
    s.tick(29 * 60 * S);
    expect(s.size).toBe(1);
    s.tick(30 * 60 * S); // first full check
    expect(s.size).toBe(0);
  });

  it('over 16 × 1024 entries, drops entries idle for 6 minutes, about (entries − max) × 4/3 of them', () => {
    const ds = dests([1, 1]);
    const s = new LocalityLeastConnection();
    const n = LOCALITY_MAX_ENTRIES + 300;
    for (let i = 0; i < n; i++) to(s, ds, client(i), 0);
    expect(s.size).toBe(n);
    s.tick(5 * 60 * S); // runs at 1..5 min: nothing has been idle 6 min yet
    expect(s.size).toBe(n);
    s.tick(6 * 60 * S);
    const dropped = n - s.size;
    expect(dropped).toBeGreaterThanOrEqual(400); // goal (300 · 4/3), whole buckets at a time
    expect(dropped).toBeLessThan(460);
    s.tick(7 * 60 * S); // back under the limit: only counting now
    expect(n - s.size).toBe(dropped);
  });
});

describe('lblcr', () => {
  it('grows the set when its least-loaded member is overloaded, then picks within the set (newest first on ties)', () => {
    const ds = dests([1, 1, 1]);
    const s = new LocalityLeastConnectionReplicated();
    expect(to(s, ds, '203.0.113.1', 0)).toBe('A');
    ds[0].setConns({ active: 2 }); // A overloaded (B and C below half)
    expect(to(s, ds, '203.0.113.1', S)).toBe('B');
    expect(s.cachedSet('203.0.113.1')!.map((d) => d.id)).toEqual(['B', 'A']);
    ds[1].setConns({ active: 2 });
    ds[2].setConns({ active: 2 }); // nobody below half: nobody overloaded
    expect(to(s, ds, '203.0.113.1', 2 * S)).toBe('B'); // B and A tie at 512/1: the newest wins
    expect(to(s, ds, '203.0.113.2', 2 * S)).toBe('A'); // elsewhere wlc over all: A, B, C tie → A
  });

  it('after lblcr_expiration without a change, drops the most loaded member (after choosing from the full set)', () => {
    const ds = dests([1, 1]);
    const s = new LocalityLeastConnectionReplicated();
    to(s, ds, '203.0.113.1', 0);
    ds[0].setConns({ active: 2 });
    expect(to(s, ds, '203.0.113.1', S)).toBe('B'); // set [B, A], modified at 1 s
    ds[1].setConns({ active: 2 });
    for (let h = 1; h <= 24; h++) expect(to(s, ds, '203.0.113.1', h * H)).toBe('B'); // uses keep it cached
    expect(s.cachedSet('203.0.113.1')!.length).toBe(2);
    // 24 h + 2 s > lastmod + 24 h: B (first of the tie) is the most loaded and is erased, but the
    // choice made before the erase stands.
    expect(to(s, ds, '203.0.113.1', 24 * H + 2 * S)).toBe('B');
    expect(s.cachedSet('203.0.113.1')!.map((d) => d.id)).toEqual(['A']);
    expect(to(s, ds, '203.0.113.1', 24 * H + 3 * S)).toBe('A');
  });

  it('skips overloaded and removed members inside the set', () => {
    const ds = dests([1, 1, 1], { uThreshold: 3 });
    const s = new LocalityLeastConnectionReplicated();
    to(s, ds, '203.0.113.1', 0);
    ds[0].setConns({ active: 2 });
    expect(to(s, ds, '203.0.113.1', 1)).toBe('B'); // set [B, A]
    ds[1].setConns({ active: 3 }); // B flagged overloaded
    ds[0].setConns({ active: 0 });
    expect(to(s, ds, '203.0.113.1', 2)).toBe('A');
    expect(to(s, [ds[1], ds[2]], '203.0.113.1', 3)).toBe('C'); // A removed, B flagged: wlc → C joins
    expect(s.cachedSet('203.0.113.1')!.map((d) => d.id)).toEqual(['C', 'B', 'A']);
  });
});
