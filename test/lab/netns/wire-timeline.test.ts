// The netns timeline timed from the wire, without a namespace: which advert times which
// transition, the log's time kept beside it, and what the wire cannot show left to the log.
import { describe, expect, it } from 'vitest';
import type { LabTransition } from '../../../src/lab/model/result.js';
import type { SentAdvert } from '../../../src/lab/netns/wire.js';
import { timeFromWire, timingLine } from '../../../src/lab/netns/wire-timeline.js';

const S = 1e6;
const MS = 1e3;

const tr = (at: number, node: string, from: LabTransition['from'], to: LabTransition['to']): LabTransition => ({
  at,
  node,
  instance: 'VI_1',
  from,
  to,
  priority: node === 'lb1' ? 150 : 100,
  reason: 'r',
});
const ad = (at: number, node: string, priority: number, vrid = 51, segment = 'lan'): SentAdvert => ({ at, node, segment, vrid, priority });
const place = (_node: string, instance: string) => (instance === 'VI_1' ? { vrid: 51, segment: 'lan' } : undefined);

describe('timeFromWire', () => {
  it("times a MASTER at its first advert, a BACKUP at the better advert it gave up at, and keeps the log's times", () => {
    // lb2 took over at 9.6 s (logged 40 ms before its first advert left: a notify's fork in
    // between); lb1 came back and preempted at 19.2 s, lb2 logged BACKUP 2 ms after hearing it.
    const ts = [
      tr(0.1 * S, 'lb2', 'INIT', 'BACKUP'),
      tr(9.56 * S, 'lb2', 'BACKUP', 'MASTER'),
      tr(19.16 * S, 'lb1', 'BACKUP', 'MASTER'),
      tr(19.202 * S, 'lb2', 'MASTER', 'BACKUP'),
    ];
    const adverts = [
      ad(5.5 * S, 'lb1', 150),
      ad(9.6 * S, 'lb2', 100),
      ad(10.6 * S, 'lb2', 100),
      ad(18.6 * S, 'lb2', 100),
      ad(19.2 * S, 'lb1', 150),
      ad(19.3 * S, 'lb2', 100, 52),
      ad(20.2 * S, 'lb1', 150),
    ];
    const w = timeFromWire(ts, adverts, place);
    expect(ts.map((t) => [t.node, t.to, t.at, t.logAt])).toEqual([
      ['lb2', 'BACKUP', 0.1 * S, undefined],
      ['lb2', 'MASTER', 9.6 * S, 9.56 * S],
      ['lb1', 'MASTER', 19.2 * S, 19.16 * S],
      ['lb2', 'BACKUP', 19.2 * S, 19.202 * S],
    ]);
    expect(w.map((x) => x.evidence)).toEqual([
      'not on the wire',
      'its first advert (priority 100)',
      'its first advert (priority 150)',
      "lb1's advert at priority 150",
    ]);
    expect(timingLine(w[1])).toBe('lb2 VI_1 BACKUP>MASTER at 9.600000s: log -40.0 ms from the wire (its first advert (priority 100))');
    expect(timingLine(w[0])).toBe('lb2 VI_1 INIT>BACKUP at 0.100000s: log only (not on the wire)');
  });

  it('a MASTER that leaves with priority 0 is timed at it; a stop already timed so is reported as it is', () => {
    const ts = [tr(3.5 * S, 'lb1', 'BACKUP', 'MASTER'), tr(6.3 * S, 'lb1', 'MASTER', 'FAULT'), { ...tr(8.1 * S, 'lb2', 'MASTER', 'STOPPED'), logAt: 9 * S }];
    const adverts = [ad(3.5 * S + 2 * MS, 'lb1', 150), ad(6.2 * S, 'lb1', 0)];
    const w = timeFromWire(ts, adverts, place);
    expect(ts.map((t) => [t.to, t.at, t.logAt])).toEqual([
      ['MASTER', 3.502 * S, 3.5 * S],
      ['FAULT', 6.2 * S, 6.3 * S],
      ['STOPPED', 8.1 * S, 9 * S],
    ]);
    expect(w.map((x) => x.evidence)).toEqual(['its first advert (priority 150)', 'its priority 0', 'its priority 0']);
  });

  it('leaves to the log what the wire does not show, or shows too far from it', () => {
    const ts = [
      // No advert of lb1's within a second of its log: a capture that missed it, not evidence.
      tr(3.5 * S, 'lb1', 'BACKUP', 'MASTER'),
      // Out of MASTER into FAULT without a priority 0 (its link went down).
      tr(7 * S, 'lb1', 'MASTER', 'FAULT'),
      // An instance the lab cannot place.
      { ...tr(8 * S, 'lb1', 'BACKUP', 'MASTER'), instance: 'VI_9' },
      // Into BACKUP with no better advert since its own last: nothing to time it by.
      tr(11 * S, 'lb2', 'BACKUP', 'MASTER'),
      tr(13 * S, 'lb2', 'MASTER', 'BACKUP'),
    ];
    const adverts = [ad(5 * S, 'lb1', 150), ad(11 * S, 'lb2', 100), ad(12 * S, 'lb1', 90), ad(12.5 * S, 'lb2', 100)];
    const w = timeFromWire(ts, adverts, place);
    expect(ts.filter((t) => t.logAt !== undefined).map((t) => `${t.node} ${t.to}`)).toEqual(['lb2 MASTER']);
    expect(w.filter((x) => x.wireAt === undefined)).toHaveLength(4);
  });
});
