// The descriptor budget: the limit read from /proc/self/limits, how it is shared out, and the
// pause and resume of the listeners at the client limit.
import { describe, expect, it } from 'vitest';
import { FdBudget, parseFdLimit, planFds, type Pausable } from '../../src/lvs/fd-budget.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            256                  4096                 files
Max locked memory         8388608              8388608              bytes
`;

describe('descriptor budget', () => {
  it('reads the soft open files limit', () => {
    expect(parseFdLimit(LIMITS)).toBe(256);
    expect(parseFdLimit(LIMITS.replace('256 ', 'unlimited '))).toBe(1_048_576);
    expect(parseFdLimit('Max cpu time unlimited unlimited seconds\n')).toBeUndefined();
  });

  it('keeps a reserve for health checks and a spare part, the rest for clients', () => {
    expect(planFds(256, 30)).toEqual({ checks: 32, spare: 16, clients: 178 });
    expect(planFds(1024, 30)).toEqual({ checks: 128, spare: 64, clients: 802 });
    expect(planFds(1_048_576, 30)).toEqual({ checks: 256, spare: 1024, clients: 1_048_576 - 30 - 256 - 1024 });
    expect(planFds(64, 60).clients).toBe(0);
  });

  it('pauses every listener at the limit and resumes them with some room, saying so once each way', () => {
    const logs: string[] = [];
    const b = new FdBudget({ limit: 256, inUse: 30, log: (_l, m) => logs.push(m) });
    expect(b.maxConnections).toBe(89);
    const states: string[] = [];
    const listener = (name: string): Pausable => ({ pauseAccept: () => states.push(`${name} paused`), resumeAccept: () => states.push(`${name} resumed`) });
    b.add(listener('a'));
    for (let i = 0; i < 88; i++) b.take(2);
    expect(b.isPaused).toBe(false);
    b.take(2);
    expect(b.isPaused).toBe(true);
    // A listener added meanwhile starts paused.
    b.add(listener('b'));
    expect(states).toEqual(['a paused', 'b paused']);
    // One close is not room enough.
    b.give(2);
    b.take(2);
    b.give(2);
    expect(b.isPaused).toBe(true);
    for (let i = 0; i < 5; i++) b.give(2);
    expect(b.isPaused).toBe(false);
    expect(states).toEqual(['a paused', 'b paused', 'a resumed', 'b resumed']);
    expect(logs).toHaveLength(2);
    expect(logs[0]).toMatch(/^connection limit reached: 178 of 178 client descriptors in use \(open files limit 256, 32 kept for health checks\)/);
    expect(logs[1]).toMatch(/^accepting connections again after [\d.]+ s at the connection limit \(1 pause\(s\) so far\)/);
    expect(b.stats.pauses).toBe(1);
  });

  it('a budget with no room for clients still serves one connection at a time', () => {
    const b = new FdBudget({ limit: 128, inUse: 95 });
    expect(b.clientFds).toBe(1);
    b.take(2);
    expect(b.isPaused).toBe(true);
    b.give(2);
    expect(b.isPaused).toBe(false);
  });
});
