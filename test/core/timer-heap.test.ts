// The timer heap both clocks fire from: (deadline, creation) order, cancellation at any point of a
// firing pass, timers set during a pass taken in it or left to the next one (takeDue's `before`),
// and a pass run from inside a callback.
import { describe, expect, it } from 'vitest';
import { seededUnit } from '../../src/core/random.js';
import { TimerHeap, type Timer } from '../../src/core/timer-heap.js';

/** Takes and runs every timer due at `now` set before `before`, as a clock does. */
function pass(h: TimerHeap, now: number, before = Infinity): void {
  for (let t = h.takeDue(now, before); t; t = h.takeDue(now, before)) t.cb();
}

describe('TimerHeap', () => {
  it('fires equal deadlines first set, first fired, whatever order the others came in', () => {
    const h = new TimerHeap();
    const fired: string[] = [];
    const add = (at: number, name: string): Timer => h.add(at, () => fired.push(name));
    // Interleaved so that the heap's shape puts later equal deadlines above earlier ones.
    for (let i = 0; i < 50; i++) {
      add(100, `a${i}`);
      add(300 - i, `x${i}`);
      add(100, `b${i}`);
    }
    pass(h, 100);
    expect(fired).toEqual(Array.from({ length: 50 }, (_, i) => [`a${i}`, `b${i}`]).flat());
    expect(h.pending).toBe(50);
  });

  it('takes nothing not yet due, nor anything set at or after the mark', () => {
    const h = new TimerHeap();
    h.add(10, () => undefined);
    const mark = h.mark;
    h.add(5, () => undefined);
    expect(h.takeDue(4)).toBeUndefined();
    // The later-set timer is the earliest: it holds back the one behind it too, until the next pass.
    expect(h.takeDue(10, mark)).toBeUndefined();
    expect(h.takeDue(10)?.at).toBe(5);
    expect(h.takeDue(10, mark)?.at).toBe(10);
    expect(h.pending).toBe(0);
  });

  it('never fires a due timer cancelled by one fired before it in the same pass', () => {
    const h = new TimerHeap();
    const fired: string[] = [];
    const a = h.add(100, () => {
      fired.push('a');
      expect(h.cancel(a)).toBe(false); // itself: already fired
      expect(h.cancel(b)).toBe(true);
      expect(h.cancel(b)).toBe(false);
    });
    const b = h.add(100, () => fired.push('b'));
    h.add(100, () => fired.push('c'));
    expect(h.pending).toBe(3);
    pass(h, 100);
    expect(fired).toEqual(['a', 'c']);
    expect(h.pending).toBe(0);
    expect(h.peek()).toBeUndefined();
  });

  /** a and b due at 100, a setting another timer for 100. */
  function settingFromCallback(): { h: TimerHeap; fired: string[] } {
    const h = new TimerHeap();
    const fired: string[] = [];
    h.add(100, () => {
      fired.push('a');
      h.add(100, () => fired.push('set by a'));
    });
    h.add(100, () => fired.push('b'));
    h.add(101, () => fired.push('later'));
    return { h, fired };
  }

  it('takes a timer set from a callback for the same instant in the same pass, after the ones already there', () => {
    const { h, fired } = settingFromCallback();
    pass(h, 100);
    expect(fired).toEqual(['a', 'b', 'set by a']);
  });

  it('leaves a timer set from a callback for the same instant to the next pass when given the mark', () => {
    const { h, fired } = settingFromCallback();
    pass(h, 100, h.mark);
    expect(fired).toEqual(['a', 'b']);
    expect(h.pending).toBe(2);
    pass(h, 100, h.mark);
    expect(fired).toEqual(['a', 'b', 'set by a']);
  });

  it('survives a pass run from inside a callback: each timer fires once, in order', () => {
    const h = new TimerHeap();
    const fired: number[] = [];
    for (const at of [1, 2, 3, 4, 5, 6]) {
      h.add(at, () => {
        fired.push(at);
        if (at === 2) pass(h, 4); // re-entrant: fires 3 and 4 before the outer pass goes on
      });
    }
    pass(h, 5);
    expect(fired).toEqual([1, 2, 3, 4, 5]);
    expect(h.pending).toBe(1);
  });

  it('keeps order and counts through the sweep of cancelled timers, also when a callback sets it off', () => {
    const h = new TimerHeap();
    const fired: number[] = [];
    const live: Timer[] = [];
    // A down timer moved at each advert: thousands of cancelled entries behind a few live ones.
    for (let i = 0; i < 5000; i++) {
      const t = h.add(10_000 + i, () => fired.push(10_000 + i));
      if (i % 100 === 0) live.push(t);
      else h.cancel(t);
    }
    expect(h.pending).toBe(50);
    // A due timer whose callback cancels enough to sweep while the pass is under way.
    const doomed: Timer[] = [];
    h.add(0, () => doomed.forEach((t) => h.cancel(t)));
    for (let i = 0; i < 3000; i++) doomed.push(h.add(1 + i, () => fired.push(-1)));
    pass(h, Infinity);
    expect(fired).toEqual(live.map((t) => t.at));
    expect(h.pending).toBe(0);
  });

  it('fires as a sorted model does, through random adds, cancels and passes', () => {
    const rnd = seededUnit(14);
    const h = new TimerHeap();
    const model: { at: number; seq: number; t: Timer }[] = [];
    const fired: number[] = [];
    let seq = 0;
    let now = 0;
    for (let step = 0; step < 20_000; step++) {
      const r = rnd();
      if (r < 0.5) {
        const s = seq++;
        const at = now + Math.floor(rnd() * 50);
        model.push({ at, seq: s, t: h.add(at, () => fired.push(s)) });
      } else if (r < 0.8 && model.length) {
        const [m] = model.splice(Math.floor(rnd() * model.length), 1);
        h.cancel(m.t);
      } else {
        now += Math.floor(rnd() * 10);
        const due = model.filter((m) => m.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
        fired.length = 0;
        pass(h, now);
        expect(fired).toEqual(due.map((m) => m.seq));
        model.splice(0, model.length, ...model.filter((m) => m.at > now));
      }
      expect(h.pending).toBe(model.length);
    }
  });
});
