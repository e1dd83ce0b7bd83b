import { describe, expect, it } from 'vitest';
import { RiseFall } from '../../src/vrrp/rise-fall.js';

const feed = (rf: RiseFall, results: string) => [...results].map((c) => (rf.result(c === '1'), rf.up ? 'U' : 'D')).join('');

describe('vrrp_script rise and fall', () => {
  it('goes down after `fall` failures in a row and up after `rise` successes', () => {
    expect(feed(new RiseFall(2, 3), '1001000111')).toBe('UUUUUUDDUU');
  });

  it('starts up, or down with init_fail until `rise` successes', () => {
    expect(feed(new RiseFall(1, 1), '0')).toBe('D');
    expect(feed(new RiseFall(3, 1, true), '1101110')).toBe('DDDDDUD');
  });

  it('reports only real changes', () => {
    const rf = new RiseFall(1, 2);
    expect([0, 0, 0, 1, 1].map((r) => rf.result(r === 1))).toEqual([false, true, false, true, false]);
  });
});
