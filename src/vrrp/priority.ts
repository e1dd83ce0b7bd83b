// keepalived's effective-priority arithmetic (vrrp_track.c), as a pure function of which tracked
// objects are up. The pair linter and the VRRP engine both need exactly these rules.
import type { Span } from '../config/diagnostics.js';
import type { Config, VrrpInstance } from '../config/model/index.js';

export interface Tracker {
  kind: 'script' | 'interface' | 'process' | 'bfd' | 'file';
  name: string;
  /** 0: failing means FAULT. */
  weight: number;
  reverse: boolean;
  /** Where the instance (or its sync group) tracks it. */
  at: Span;
  /** Tracked through a sync group rather than the instance itself. */
  viaGroup?: string;
  /** Weight ignored: sync group member without sync_group_tracking_weight, or address owner. */
  ignoredWeight?: string;
}

/** The trackers that act on an instance, with weights resolved as keepalived resolves them. */
export function trackersOf(inst: VrrpInstance, cfg: Config): Tracker[] {
  const out: Tracker[] = [];
  const group = cfg.syncGroups.find((g) => g.group.includes(inst.name));
  const memberIgnores = group && !group.syncGroupTrackingWeight ? `member of sync group ${group.name}` : undefined;
  const objWeight = (kind: Tracker['kind'], name: string): { weight: number; reverse: boolean } => {
    const o =
      kind === 'script'
        ? cfg.vrrpScripts.find((s) => s.name === name)
        : kind === 'process'
          ? cfg.trackProcesses.find((s) => s.name === name)
          : kind === 'bfd'
            ? cfg.bfdInstances.find((s) => s.name === name)
            : kind === 'file'
              ? cfg.trackFiles.find((s) => s.name === name)
              : undefined;
    return { weight: o?.weight ?? 0, reverse: o?.weightReverse ?? false };
  };
  const add = (kind: Tracker['kind'], refs: { name: string; weight?: number; reverse: boolean; span: Span }[], viaGroup?: string): void => {
    for (const r of refs) {
      const base = kind === 'interface' ? { weight: 0, reverse: false } : objWeight(kind, r.name);
      const weight = r.weight ?? base.weight;
      const reverse = r.weight !== undefined ? r.reverse : base.reverse !== r.reverse;
      const t: Tracker = { kind, name: r.name, weight, reverse, at: r.span, viaGroup };
      if (weight !== 0 && !viaGroup && memberIgnores) t.ignoredWeight = memberIgnores;
      if (weight !== 0 && inst.priority === 255) t.ignoredWeight = 'address owner (priority 255)';
      out.push(t);
    }
  };
  add('script', inst.trackScript);
  add('interface', inst.trackInterface);
  add('process', inst.trackProcess);
  add('bfd', inst.trackBfd);
  add('file', inst.trackFile);
  if (group) {
    add('script', group.trackScript, group.name);
    add('interface', group.trackInterface, group.name);
    add('process', group.trackProcess, group.name);
    add('bfd', group.trackBfd, group.name);
    add('file', group.trackFile, group.name);
  }
  return out;
}

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
