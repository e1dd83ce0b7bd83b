// The netns timeline timed from the wire. A daemon's log line says when it decided; the line
// reaches the lab some time later (keepalived stamps its console lines to the second, so the lab
// can only stamp them when it reads them), and a peer acts on what it hears, not on what was
// logged. So every transition that shows on the wire takes the wire's time, and the log's time
// is kept beside it (LabTransition.logAt) with the difference reported:
// - into MASTER: the node's first advert with a priority above 0 after its previous change (a
//   MASTER advertises at once, RFC 3768 6.4.2/6.4.3);
// - out of MASTER: its priority-0 advert when it sent one (a stop, a tracked failure);
//   otherwise, into BACKUP, the better advert (another node's, on the same segment and VRID,
//   with a priority at least its own last one) that made it give up.
// What the wire cannot show stays timed by the log: a start into BACKUP, FAULT and back, a
// BACKUP that stops, a kill (the lab's own signal).
//
// Pure: the transitions, the captured adverts and where each instance advertises.
import type { LabTransition } from '../model/result.js';
import type { Micros } from '../model/scenario.js';
import type { SentAdvert } from './wire.js';

/** How far apart the log and the wire may be for one to be the other's evidence: a log line that
 * comes this long after (or, for clock mapping, 5 ms before) an advert is about something else. */
export const EVIDENCE_WINDOW: Micros = 1_000_000;
const EARLY: Micros = 5_000;

/** One transition's two times: what the log said, what the wire shows (undefined: nothing). */
export interface WireTiming {
  node: string;
  instance: string;
  from: LabTransition['from'];
  to: LabTransition['to'];
  logAt: Micros;
  wireAt?: Micros;
  /** Which advert decided it, in words. */
  evidence: string;
}

/** Where an instance advertises: its VRID on its segment. */
export type AdvertPlace = (node: string, instance: string) => { vrid: number; segment: string } | undefined;

/**
 * Give each transition that shows on the wire the wire's time (and its log time in `logAt`),
 * in place, then re-sort. A transition that already has `logAt` (a stop timed at its priority 0)
 * is reported as it is. Returns every transition's two times, in time order.
 */
export function timeFromWire(transitions: LabTransition[], adverts: readonly SentAdvert[], place: AdvertPlace): WireTiming[] {
  const out: WireTiming[] = [];
  const prev = new Map<string, LabTransition>();
  const byKey = new Map<string, LabTransition[]>();
  for (const t of transitions) {
    const key = `${t.node}\0${t.instance}`;
    byKey.set(key, [...(byKey.get(key) ?? []), t]);
  }
  for (const t of [...transitions]) {
    const key = `${t.node}\0${t.instance}`;
    const before = prev.get(key);
    prev.set(key, t);
    const list = byKey.get(key)!;
    const next = list[list.indexOf(t) + 1];
    if (t.logAt !== undefined) {
      out.push(timing(t, t.logAt, t.at, 'its priority 0'));
      continue;
    }
    const where = place(t.node, t.instance);
    const found = where && evidence(t, before, next, where, adverts);
    out.push(timing(t, t.at, found?.at, found?.what ?? 'not on the wire'));
    if (found) {
      t.logAt = t.at;
      t.at = found.at;
    }
  }
  transitions.sort((a, b) => a.at - b.at);
  return out.sort((a, b) => (a.wireAt ?? a.logAt) - (b.wireAt ?? b.logAt));
}

function timing(t: LabTransition, logAt: Micros, wireAt: Micros | undefined, evidence: string): WireTiming {
  return { node: t.node, instance: t.instance, from: t.from, to: t.to, logAt, ...(wireAt === undefined ? {} : { wireAt }), evidence };
}

function evidence(
  t: LabTransition,
  before: LabTransition | undefined,
  next: LabTransition | undefined,
  where: { vrid: number; segment: string },
  adverts: readonly SentAdvert[],
): { at: Micros; what: string } | undefined {
  const here = adverts.filter((a) => a.vrid === where.vrid && a.segment === where.segment);
  const own = here.filter((a) => a.node === t.node);
  const lo = Math.max(before?.at ?? -Infinity, t.at - EVIDENCE_WINDOW);
  if (t.to === 'MASTER') {
    const hi = Math.min(next?.at ?? Infinity, t.at + EVIDENCE_WINDOW);
    const first = own.find((a) => a.priority > 0 && a.at >= lo && a.at <= hi);
    return first && { at: first.at, what: `its first advert (priority ${first.priority})` };
  }
  if (t.from !== 'MASTER') return undefined;
  const zero = own.find((a) => a.priority === 0 && a.at >= lo && a.at <= t.at + EARLY);
  if (zero) return { at: zero.at, what: 'its priority 0' };
  if (t.to !== 'BACKUP') return undefined;
  const last = own.filter((a) => a.at <= t.at + EARLY).at(-1);
  if (!last) return undefined;
  // The first better advert after its own last (the one it should have given up at; a slow
  // daemon shows as a log far behind it), else the last before that (the two crossed).
  const better = here.filter((a) => a.node !== t.node && a.priority >= last.priority && a.at >= lo && a.at <= t.at + EARLY);
  const cause = better.find((a) => a.at >= last.at) ?? better.at(-1);
  return cause && { at: cause.at, what: `${cause.node}'s advert at priority ${cause.priority}` };
}

/** "lb2 VI_1 BACKUP>MASTER: log +1.2 ms after the wire (its first advert (priority 100))". */
export function timingLine(w: WireTiming): string {
  const head = `${w.node} ${w.instance} ${w.from}>${w.to} at ${((w.wireAt ?? w.logAt) / 1e6).toFixed(6)}s`;
  if (w.wireAt === undefined) return `${head}: log only (${w.evidence})`;
  const d = (w.logAt - w.wireAt) / 1000;
  return `${head}: log ${d >= 0 ? '+' : ''}${d.toFixed(1)} ms from the wire (${w.evidence})`;
}
