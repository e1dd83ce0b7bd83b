// Destination counters and IPVS's overload flag.
import { describe, expect, it } from 'vitest';
import { Dest } from '../../src/lvs/dest.js';

const mk = (u: number, l = 0) => new Dest({ address: '10.0.0.1', port: 80, weight: 1, uThreshold: u, lThreshold: l });

describe('Dest', () => {
  it('names itself address:port, [v6]:port', () => {
    expect(new Dest({ address: '10.0.0.1', port: 80 }).id).toBe('10.0.0.1:80');
    expect(new Dest({ address: '2001:db8::1', port: 443 }).id).toBe('[2001:db8::1]:443');
  });

  it('rejects weights outside 0..2^31-1', () => {
    expect(() => new Dest({ address: '10.0.0.1', weight: -1 })).toThrow(RangeError);
    expect(() => new Dest({ address: '10.0.0.1', weight: 2 ** 31 })).toThrow(/weight/);
  });

  it('sets overload when active + inactive reaches uthreshold on bind', () => {
    const d = mk(3);
    d.bindConn();
    d.bindConn('active');
    expect(d.overloaded).toBe(false);
    d.bindConn();
    expect([d.activeConns, d.inactConns, d.overloaded]).toEqual([1, 2, true]);
  });

  it('clears below 3/4 of uthreshold when lthreshold is 0', () => {
    const d = mk(8);
    d.setConns({ inactive: 8 });
    expect(d.overloaded).toBe(true);
    d.unbindConn(); // 7: 28 < 24? no
    d.unbindConn(); // 6: 24 < 24? no
    expect(d.overloaded).toBe(true);
    d.unbindConn(); // 5: 20 < 24 → clear
    expect(d.overloaded).toBe(false);
  });

  it('clears below lthreshold when set', () => {
    const d = mk(4, 2);
    d.setConns({ active: 4 });
    expect(d.overloaded).toBe(true);
    d.unbindConn('active'); // 3
    d.unbindConn('active'); // 2: not < 2
    expect(d.overloaded).toBe(true);
    d.unbindConn('active'); // 1
    expect(d.overloaded).toBe(false);
  });

  it('leaves the flag alone when a connection moves between inactive and active', () => {
    const d = mk(2);
    d.setConns({ inactive: 2 });
    d.moveConn('inactive', 'active');
    expect([d.activeConns, d.inactConns, d.overloaded]).toEqual([1, 1, true]);
  });

  it('templates count in persistConns, not in the overload total, but binding one re-checks it', () => {
    const d = mk(2);
    d.bindConn('template');
    expect([d.persistConns, d.overloaded]).toEqual([1, false]);
    d.setConns({ active: 2 });
    expect(d.overloaded).toBe(true);
    d.unbindConn('template'); // unbind rule: total 2, 8 < 6? no
    expect(d.overloaded).toBe(true);
  });

  it('an edit clears the flag when uthreshold is raised or removed, not when lowered', () => {
    const d = mk(2);
    d.setConns({ active: 2 });
    d.edit({ uThreshold: 1 });
    expect(d.overloaded).toBe(true);
    d.edit({ uThreshold: 5 });
    expect(d.overloaded).toBe(false);
    d.bindConn('active');
    d.bindConn('active');
    d.bindConn('active'); // 5 ≥ 5
    expect(d.overloaded).toBe(true);
    d.edit({ uThreshold: 0 });
    expect(d.overloaded).toBe(false);
  });

  it('keeps last_weight at the latest non-zero weight', () => {
    const d = new Dest({ address: '10.0.0.1', weight: 5 });
    d.edit({ weight: 0 });
    expect([d.weight, d.lastWeight]).toEqual([0, 5]);
    d.edit({ weight: 3 });
    expect(d.lastWeight).toBe(3);
    expect(new Dest({ address: '10.0.0.2', weight: 0 }).lastWeight).toBe(0);
  });

  it('refuses to count below zero', () => {
    expect(() => mk(0).unbindConn('active')).toThrow(/activeConns/);
  });

  it('tells subscribers what changed, until they unsubscribe', () => {
    const d = mk(0);
    const seen: string[] = [];
    const off = d.subscribe((_d, c) => seen.push(c));
    d.bindConn();
    d.edit({ weight: 2 });
    off();
    d.bindConn();
    expect(seen).toEqual(['conns', 'edit']);
  });
});
