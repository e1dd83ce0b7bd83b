// keepalived's effective-priority arithmetic (vrrp_track.c), as a pure function of which tracked
// objects are up. The pair linter and the VRRP engine both need exactly these rules. The weights
// themselves are resolved with the config (resolve-vrrp.ts: each instance's `tracks`).
import type { ResolvedTrack, VrrpInstance } from '../config/model/index.js';

/** A tracked object with the weight that applies to the instance (resolved with the config). */
export type Tracker = ResolvedTrack;

export type Effective = { fault: true; by: string } | { fault: false; priority: number };

/**
 * Priority with the given trackers down (all others up). Owner priority never moves; others are
 * clamped to 1..254. weight > 0 adds while up, weight < 0 subtracts while down; reverse swaps.
 */
export function effectivePriority(
  inst: VrrpInstance,
  trackers: readonly Tracker[],
  down: ReadonlySet<Tracker>,
  fileValues: ReadonlyMap<string, number> = new Map(),
): Effective {
  let delta = 0;
  for (const t of trackers) {
    if (t.kind === 'file') {
      // track_file: the file's number × weight is added; with weight 0 any non-zero value is a
      // failure; a total below -253 means FAULT (keepalived vrrp_track.c).
      const value = fileValues.get(t.name) ?? 0;
      if (t.weight === 0) {
        if ((value !== 0) !== t.reverse) return { fault: true, by: `file ${t.name}` };
        continue;
      }
      if (t.ignoredWeight) continue;
      const add = value * t.weight * (t.reverse ? -1 : 1);
      if (add < -253) return { fault: true, by: `file ${t.name}` };
      delta += add;
      continue;
    }
    const up = !down.has(t);
    if (t.weight === 0) {
      // weight 0: down means FAULT; with reverse, up means FAULT.
      if (up === t.reverse) return { fault: true, by: `${t.kind} ${t.name}` };
      continue;
    }
    if (t.ignoredWeight) continue;
    // keepalived: weight > 0 counts while up (subtracted with reverse); weight < 0 counts while
    // down (added with reverse).
    if (t.weight > 0 && up) delta += t.reverse ? -t.weight : t.weight;
    if (t.weight < 0 && !up) delta += t.reverse ? -t.weight : t.weight;
  }
  if (inst.priority === 255) return { fault: false, priority: 255 };
  return { fault: false, priority: Math.min(254, Math.max(1, inst.priority + delta)) };
}
