// What a lab run produces, whatever the backend: the `--json` output, the input of the terminal
// timeline and of the HTML report. Times are µs from the start of the run (the virtual clock on
// sim, the monotonic clock on netns), so the two backends' timelines can be compared directly.
import type { Micros } from './scenario.js';

export type LabState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOPPED';

export interface LabResult {
  scenario: string;
  file: string;
  backend: 'sim' | 'netns';
  seed: number;
  /** Scenario time covered. */
  duration: Micros;
  /** Wall-clock time the run took, ms. */
  wallMs: number;
  nodes: { name: string; impl: 'keepalived-ts' | 'keepalived'; instances: { name: string; vrid: number; interface: string }[] }[];
  /** Every state change of every instance on every node, in time order. */
  transitions: LabTransition[];
  /** Faults as applied (time of application, which on netns may lag the scenario's time). */
  faults: LabFaultRecord[];
  /** Periods with more than one MASTER for one VRID on one segment. */
  splitBrains: { vrid: number; instance: string; nodes: string[]; start: Micros; end: Micros | null }[];
  /** Notify scripts in the order they ran, per node. */
  notifies: { at: Micros; node: string; kind: 'INSTANCE' | 'GROUP'; name: string; state: string; priority: number }[];
  /** Client requests through the virtual servers, grouped into per-second buckets; `failures`
   * counts the failed ones by reason ("lb1 is down (its ARP entry for 10.0.0.100 is stale)"). */
  requests: { client: string; second: number; ok: number; failed: number; byServer: Record<string, number>; failures?: Record<string, number> }[];
  /** VIP samples: does the address answer on its segment, and which nodes hold it. sim records
   * one at every change (a killed node holds nothing); netns samples. Optional: without it, `vip`
   * expectations fail saying so. */
  vips?: { at: Micros; address: string; segment: string; reachable: boolean; holders: string[] }[];
  /** Effective priority changes that came without a state change (tracker weights), so that a
   * verdict can say "lb1's priority fell to 70, still above lb2's 90". Optional. */
  priorities?: { at: Micros; node: string; instance: string; priority: number }[];
  /** The scenario's real servers, so that reports can list them even when no checker reported
   * a change. */
  realServers: { name: string; address: string; port: number }[];
  /** netns: when each node's VRRP started (its first state after INIT, from its log), µs from
   * the scenario's zero (the start gates' release) and not clamped (negative: before it), and the
   * spread between the first and the last: a head start decides a close first election.
   * `opened`: the node's first line after its gate opened; `release`: when the lab's writes to
   * every gate had returned. Optional. */
  start?: { spread: Micros; release?: Micros; nodes: { node: string; at: Micros; opened?: Micros }[] };
  /** netns: every VRRP advert each node sent, as captured on its own interface (the wire's
   * ground truth: MASTER is whoever advertises, priority 0 is a stop). Optional. */
  adverts?: { at: Micros; node: string; segment: string; vrid: number; priority: number }[];
  /** Real servers' in-service changes as each node's checkers saw them. */
  servers: { at: Micros; node: string; server: string; inService: boolean; reason: string }[];
  /** What the backend could not do as the scenario asks, one sentence each ("lb2: no kernel
   * IPVS here, so keepalived runs VRRP only: its virtual servers are not set up"). */
  notes: string[];
  expectations: LabVerdict[];
  /** true when every expectation passed. */
  passed: boolean;
}

export interface LabTransition {
  at: Micros;
  node: string;
  instance: string;
  from: LabState;
  to: LabState;
  priority: number;
  /** Why, in the engine's words ("higher priority advert received", "master down timer", ...). */
  reason: string;
  /** netns: when the daemon's log said so, where `at` comes from the wire instead (the node's
   * first advert as MASTER, the better advert that made it BACKUP, its priority 0): the log
   * is the second source, and `logAt - at` how far it is from the wire. */
  logAt?: Micros;
}

export interface LabFaultRecord {
  /** When the fault took effect (netns: the bridge moved, the qdisc in place, the signal sent). */
  at: Micros;
  /** netns: when the lab began to apply it, at or after the scenario's time for it. */
  requestedAt?: Micros;
  /** Index into Scenario.faults. */
  index: number;
  /** One line a person reads: "kill lb1", "partition lan: [lb1] | [lb2]". */
  text: string;
}

export interface LabVerdict {
  /** Index into Scenario.expectations. */
  index: number;
  /** One line: "VI_1 fails over to lb2 within 4s after kill lb1". */
  text: string;
  passed: boolean;
  /** Why it passed or failed, with the times that decided it. */
  why: string;
  /** The moment that decided a failure, when there is one. */
  at?: Micros;
  /** Where the expectation is in the scenario file ("FILE:LINE:COL"). */
  where: string;
}

/** What a backend records; `finish()` (src/lab/expect/) derives split brains and verdicts. */
export type LabRun = Omit<LabResult, 'splitBrains' | 'expectations' | 'passed'>;

/** A run with nothing recorded yet: what both backends start from. */
export function emptyRun(
  scenario: { name: string; file: string; seed: number; duration: Micros; realServers: readonly { name: string; address: string; port: number }[] },
  backend: LabRun['backend'],
): LabRun & Required<Pick<LabRun, 'vips' | 'priorities'>> {
  const { name, file, seed, duration } = scenario;
  const realServers = scenario.realServers.map(({ name: n, address, port }) => ({ name: n, address, port }));
  return {
    scenario: name,
    file,
    backend,
    seed,
    duration,
    wallMs: 0,
    nodes: [],
    transitions: [],
    faults: [],
    notifies: [],
    requests: [],
    realServers,
    servers: [],
    notes: [],
    vips: [],
    priorities: [],
  };
}
