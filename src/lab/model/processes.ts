// The processes a node's vrrp_track_processes count, as the lab stands them in: one kind of
// process per distinct `process` line (its name or path, then its parameters), and as many of
// them at the start as each tracker's quorum asks for (at least one, none with quorum_max 0), so
// that every tracker starts with its quorum. A `process` fault sets how many run from then on.
import type { Config, TrackProcess } from '../../config/model/index.js';

/** One kind of stand-in process: the command line its trackers match. */
export interface StandIn {
  /** `process` words joined by NUL: the key the faults and the backends share. */
  key: string;
  /** The name or path, then the parameters. */
  argv: string[];
  /** How many run when the node first starts. */
  atStart: number;
  /** The vrrp_track_process names that count these processes. */
  trackers: string[];
}

/** The number of processes that gives a tracker its quorum. */
function quorumCount(tp: TrackProcess): number {
  if (tp.quorumMax === 0) return 0;
  return Math.max(1, tp.quorum);
}

export function standIns(config: Config): StandIn[] {
  const out = new Map<string, StandIn>();
  for (const tp of config.trackProcesses) {
    if (!tp.process?.length) continue;
    const key = tp.process.join('\0');
    const s = out.get(key) ?? { key, argv: tp.process, atStart: 0, trackers: [] };
    s.atStart = Math.max(s.atStart, quorumCount(tp));
    s.trackers.push(tp.name);
    out.set(key, s);
  }
  return [...out.values()];
}

/** The stand-ins a fault's `name` means: a vrrp_track_process name, or the process name or
 * path its `process` line starts with. */
export function standInsNamed(config: Config, name: string): StandIn[] {
  return standIns(config).filter((s) => s.trackers.includes(name) || s.argv[0] === name);
}

/** The names a `process` fault accepts for a node. */
export function processFaultNames(config: Config): string[] {
  return [...new Set(standIns(config).flatMap((s) => [...s.trackers, s.argv[0]]))];
}
