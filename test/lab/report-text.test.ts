// The terminal timeline read as a person reads it: which character sits in which column of which
// row, where the ▼ is, what the lists say, and that nothing spills past the width.
import { describe, expect, it } from 'vitest';
import { renderTimeline } from '../../src/lab/report/text.js';
import { stripAnsi, textWidth } from '../../src/lab/report/term.js';
import type { LabResult } from '../../src/lab/model/result.js';
import { failover, hostile, longRun, S, splitBrain } from './report-fixtures.js';

const lines = (text: string): string[] => text.replace(/\n$/, '').split('\n');

/** The bar of the row whose label starts with `label`: its text and its first column's offset. */
function bar(text: string, label: RegExp): { cells: string[]; offset: number } {
  const row = lines(text).find((l) => label.test(l));
  if (!row) throw new Error(`no row ${label} in\n${text}`);
  const open = [...row].indexOf('│');
  const cells = [...row].slice(open + 1, -1);
  return { cells, offset: open + 1 };
}

/** The column a time falls in, the way the renderer maps it. */
const colOf = (t: number, span: number, n: number): number => Math.min(n - 1, Math.floor((t * n) / span));

describe('renderTimeline', () => {
  const text = renderTimeline(failover());

  it('says when a fault took effect later than the lab began it (netns), and nothing when it did not', () => {
    const r = splitBrain();
    r.faults[0] = { ...r.faults[0], requestedAt: 4 * S, at: 4 * S + 340_000 };
    r.faults[1] = { ...r.faults[1], requestedAt: 9 * S - 400 };
    const faults = stripAnsi(renderTimeline(r, { width: 120 }));
    expect(faults).toContain('partition lan: [lb1] | [lb2] (in effect 340ms after it was requested at 4.000s)');
    expect(faults).toMatch(/heal lan\n/);
  });

  it("prints netns's start spread, naming the node that started last", () => {
    const r = {
      ...splitBrain(),
      start: {
        spread: 158_000,
        nodes: [
          { node: 'lb1', at: -12_000 },
          { node: 'lb2', at: 146_000 },
        ],
      },
    };
    expect(stripAnsi(renderTimeline(r, { width: 120 }))).toContain('start spread 158ms (lb2 last, at 0.146s)');
  });

  it('draws one row per instance × node with the states in the right columns', () => {
    const lb1 = bar(text, /^VI_1 lb1/);
    const lb2 = bar(text, /^\s+lb2/); // the second lane of VI_1 leaves the instance blank
    const n = lb1.cells.length;
    expect(lb2.cells).toHaveLength(n);
    const at = (b: typeof lb1, sec: number): string => b.cells[colOf(sec * S, 20 * S, n)];
    expect([at(lb1, 1), at(lb1, 4.2), at(lb1, 6), at(lb1, 15)]).toEqual(['b', 'M', '·', 'M']);
    expect([at(lb2, 1), at(lb2, 9), at(lb2, 11.5), at(lb2, 15)]).toEqual(['b', 'M', 'M', 'b']);
    expect(lines(text).some((l) => /^VI_2 lb1\s+│/.test(l))).toBe(true);
  });

  it('puts the numbered ▼ of each fault above its column and names it in the legend', () => {
    const { cells, offset } = bar(text, /^VI_1 lb1/);
    const arrows = lines(text).find((l) => l.includes('▼'))!;
    const cols = [...arrows].flatMap((ch, i) => (ch === '▼' ? [i - offset] : []));
    expect(cols).toEqual([colOf(5 * S, 20 * S, cells.length), colOf(12 * S, 20 * S, cells.length)]);
    const numbers = lines(text)[lines(text).indexOf(arrows) - 1];
    expect([...numbers][offset + cols[0]]).toBe('1');
    expect(text).toMatch(/^\s+1\s+5\.00s\s+kill lb1$/m);
    expect(text).toMatch(/^\s+2\s+12\.00s\s+start lb1$/m);
  });

  it('has a time axis in seconds under the bars', () => {
    const axisLine = lines(text).find((l) => l.includes('└'))!;
    expect(axisLine).toMatch(/└[─┴]+┘/);
    const labels = lines(text)[lines(text).indexOf(axisLine) + 1];
    expect(labels.trim()).toMatch(/^0s\s+2s\s+4s.*20s$/);
  });

  it('lists the transitions, the requests and the verdicts', () => {
    expect(text).toMatch(/^\s+8\.609s\s+lb2\s+VI_1\s+BACKUP→MASTER\s+prio 100\s+master down timer$/m);
    expect(text).toMatch(/^\s+5\.000s\s+lb1\s+VI_1\s+MASTER→STOPPED\s+prio 150\s+node killed$/m);
    expect(text).toContain('c1: ok 166, failed 34 (in 5–8s); served by rs1 83, rs2 83');
    expect(text).toMatch(/^✔ VI_1 fails over to lb2 within 4s after kill lb1$/m);
    expect(text).toMatch(/^✘ every request of c1 succeeds except within 2s after each fault$/m);
    expect(text).toMatch(/^ {4}c1: 34 requests failed between 5s and 9s; .* \(at 7\.000s\)$/m);
    expect(text).toMatch(/^ {4}lab\/failover\.yaml:36:5$/m);
    expect(lines(text)[0]).toMatch(/^failover-basic\s+FAIL\s+2\/3 expectations$/);
    expect(text.trimEnd().split('\n').pop()).toBe('FAIL: 1 of 3 expectations failed');
  });

  it('marks failed request seconds on the client row', () => {
    const { cells } = bar(text, /^req c1/);
    const at = (sec: number): string => cells[colOf(sec * S, 20 * S, cells.length)];
    expect([at(2), at(5.5), at(8.5), at(10)]).toEqual(['─', '✗', '✗', '─']);
  });

  it('marks split brains on their own row and lists them', () => {
    const t = renderTimeline(splitBrain());
    const { cells } = bar(t, /^split brain/);
    const marked = cells.flatMap((c, i) => (c === '!' ? [i] : []));
    expect(marked[0]).toBe(colOf(7.6 * S, 15 * S, cells.length));
    expect(marked[marked.length - 1]).toBe(colOf(9.05 * S, 15 * S, cells.length));
    expect(t).toContain('! VI_1 (VRID 51) lb1 + lb2 from 7.600s to 9.050s (1.450s)');
    expect(t).toMatch(/^✘ at most one MASTER per VRID \(window 1s\)$/m);
    expect(t).toMatch(/VI_1 \(VRID 51\) had two masters, lb1 and lb2, for 1\.450s from 7\.600s/);
  });

  it.each([40, 64, 100, 160])('fits %i columns, in color or not, whatever the run', (width) => {
    for (const r of [failover(), splitBrain(), longRun(), hostile()]) {
      for (const color of [false, true]) {
        const out = renderTimeline(r, { width, color });
        const wide = lines(out).filter((l) => textWidth(l) > width);
        expect(wide, `${r.scenario} color=${color}`).toEqual([]);
      }
    }
  });

  it('scales a long run into the width: an hour of flapping in one bar per lane', () => {
    const t = renderTimeline(longRun(), { width: 80 });
    const lb1 = bar(t, /^VI_1 lb1/);
    expect(textWidth(`${'x'.repeat(lb1.offset)}${lb1.cells.join('')}│`)).toBe(80);
    expect(new Set(lb1.cells)).toEqual(new Set(['M', 'F']));
    // Before the first fault, during the first failure, after the first recovery.
    const at = (sec: number): string => lb1.cells[colOf(sec * S, 3600 * S, lb1.cells.length)];
    expect([at(30), at(90), at(150)]).toEqual(['M', 'F', 'M']);
    const labels = lines(t)[lines(t).findIndex((l) => l.includes('└')) + 1];
    expect(labels.trim()).toMatch(/^0s\s+500s\s+1000s\s+1500s\s+2000s\s+2500s\s+3000s\s+3500s$/);
    expect(t).toMatch(/^\s+59\s+3540\.00s\s+script lb1 chk fails$/m);
  });

  it('uses colors only when asked, and only SGR colors', () => {
    expect(text).not.toContain('\x1b');
    const colored = renderTimeline(failover(), { color: true });
    expect(colored).toContain('\x1b[1;32mM');
    expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).not.toContain('\x1b');
    expect(stripAnsi(colored)).toBe(text);
  });

  it('shows control characters and bidi overrides in user text instead of obeying them', () => {
    const t = renderTimeline(hostile(), { width: 200 });
    expect(t).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/);
    expect(t).toContain('\\x1b[2J\\x1b[31mclear');
    expect(t).toContain('kill <b>lb1</b> & \\u202eevil');
    expect(lines(t)[0]).toMatch(/^<script>alert\(1\)<\/script>\s+FAIL/);
    const colored = renderTimeline(hostile(), { color: true });
    expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).not.toContain('\x1b');
  });

  it('renders a run with nothing in it', () => {
    const empty: LabResult = { ...splitBrain(), duration: 0, nodes: [], transitions: [], faults: [], splitBrains: [], expectations: [], passed: true };
    const t = renderTimeline(empty, { width: 50 });
    expect(t).toContain('Transitions\n  (none)');
    expect(t.trimEnd().split('\n').pop()).toBe('PASS: 0/0 expectations met');
    expect(lines(t).every((l) => textWidth(l) <= 50)).toBe(true);
  });
});
