// The lab's scenario, as the validator (src/lab/load/) hands it to the backends: every time in
// µs from the start of the run, every path resolved against the scenario file, every element
// carrying the span of the YAML it came from so that a failed expectation can point at it.
//
// The YAML a person writes (docs/lab.md) is friendlier than this: times as "5s" or "250ms",
// nodes and real servers as maps keyed by name, one default segment. The loader turns that into
// this shape and reports anything it cannot as FILE:LINE:COL diagnostics.
import type { Span } from '../../config/diagnostics.js';

export type Micros = number;

export interface Scenario {
  name: string;
  description?: string;
  /** The scenario file (for relative paths and diagnostics). */
  file: string;
  /** How long the run lasts; the last fault plus some settling time when not stated. */
  duration: Micros;
  /** Seed for the sim backend's randomness (packet loss and the like). */
  seed: number;
  nodes: LabNode[];
  segments: Segment[];
  realServers: LabRealServer[];
  clients: LabClient[];
  /** Sorted by time. */
  faults: Fault[];
  expectations: Expectation[];
  span: Span;
}

export interface LabNode {
  name: string;
  /** keepalived.conf text (from `config: FILE` or inline), and where it came from. */
  config: { file: string; text?: string };
  /** netns backend only: run our daemon or the real keepalived on this node. */
  impl: 'keepalived-ts' | 'keepalived';
  /** `-i` config id for @conditionals, if any. */
  configId?: string;
  span: Span;
}

/** One Ethernet segment: which interface of which node joins it, with which address. */
export interface Segment {
  name: string;
  /** Prefix length of the members' addresses. */
  prefix: number;
  members: { node: string; interface: string; address: string }[];
  span: Span;
}

export interface LabRealServer {
  name: string;
  segment: string;
  address: string;
  port: number;
  /** What it serves: an HTTP 200 with this body (HTTP_GET/TCP_CHECK both pass). */
  body: string;
  /** Up at the start (default true). */
  up: boolean;
  span: Span;
}

/** A client sending requests to a virtual server through whichever node holds its VIP. */
export interface LabClient {
  name: string;
  segment: string;
  target: { address: string; port: number };
  /** Requests per second. */
  rate: number;
  span: Span;
}

export type Fault =
  | { at: Micros; kind: 'kill'; node: string; span: Span }
  | { at: Micros; kind: 'stop'; node: string; span: Span }
  | { at: Micros; kind: 'start'; node: string; span: Span }
  | { at: Micros; kind: 'partition'; segment: string; groups: string[][]; span: Span }
  | { at: Micros; kind: 'heal'; segment: string; span: Span }
  | { at: Micros; kind: 'link'; node: string; segment: string; loss?: number; delay?: Micros; duplicate?: number; span: Span }
  | { at: Micros; kind: 'script'; node: string; script: string; ok: boolean; span: Span }
  | { at: Micros; kind: 'file'; node: string; file: string; value: number; span: Span }
  | { at: Micros; kind: 'interface'; node: string; interface: string; up: boolean; span: Span }
  | { at: Micros; kind: 'server'; server: string; up: boolean; span: Span }
  /** The processes a vrrp_track_process counts: `count` of them run from now on (`state` as
   * written: down is 0, up the number that ran at the start). `processes` are the track_process
   * names whose processes these are. */
  | { at: Micros; kind: 'process'; node: string; name: string; processes: string[]; count: number; state?: 'down' | 'up'; span: Span }
  | { at: Micros; kind: 'reload'; node: string; config: { file: string; text?: string }; span: Span };

export type Expectation =
  /** At time `at`, `node` is MASTER of `instance` (and nobody else is). */
  | { kind: 'master'; at: Micros; instance: string; node: string | null; span: Span }
  /** At most one MASTER per VRID at any time, except for overlaps no longer than `window`. */
  | { kind: 'single-master'; window: Micros; span: Span }
  /** After the fault at index `after` (into Scenario.faults), `to` is MASTER within `within`. */
  | { kind: 'failover'; after: number; instance: string; to: string; within: Micros; span: Span }
  /** After the fault at index `after`, mastership of `instance` does not change for `for`. */
  | { kind: 'no-failover'; after: number; instance: string; for: Micros; span: Span }
  /** Every client request succeeds, except within `window` after each fault. */
  | { kind: 'requests'; client?: string; window: Micros; span: Span }
  /** The VIP answers (on the node that is MASTER) at time `at`. */
  | { kind: 'vip'; at: Micros; address: string; reachable: boolean; span: Span }
  /** The notify scripts of `node` for `instance` ran with these states, in this order. */
  | { kind: 'notify'; node: string; instance: string; states: string[]; span: Span };
