// keepalived reads its config once per process, and `-t` does the same in one process, one pass
// after another: the parent's (global keywords), then the checker's, the VRRP process's and the
// BFD process's (keepalived/core/main.c validate_config). Each pass has only its own top-level
// keywords active; it skips every other block by counting its braces, whatever is inside
// (lib/parser.c process_stream, skip_sublevel). Two of keepalived's verdicts follow from that:
// - a keyword that stops keepalived ("missing a parameter", exit 2) ends the whole test in the
//   middle of one pass: what that pass would have said after it, and every later pass, is never
//   said, while the earlier passes have read the whole file;
// - lines that escape a block through an ignored '{' are read at the top level only by the passes
//   that read that block; the others are still skipping it.
import type { Diagnostic, Pass, Span } from './diagnostics.js';

export type { Pass };

/** The order `keepalived -t` reads in. */
const RANK: Record<Pass, number> = { parent: 0, checker: 1, vrrp: 2, bfd: 3 };

const PARENT: readonly Pass[] = ['parent'];
const CHECKER: readonly Pass[] = ['checker'];
const VRRP: readonly Pass[] = ['vrrp'];

/** Which passes read each top-level keyword (global_parser.c, check_parser.c, vrrp_parser.c, bfd_parser.c). */
const READ_BY = new Map<string, readonly Pass[]>([
  ['global_defs', PARENT],
  ['net_namespace', PARENT],
  ['net_namespace_ipvs', PARENT],
  ['namespace_with_ipsets', PARENT],
  ['use_pid_dir', PARENT],
  ['instance', PARENT],
  ['child_wait_time', PARENT],
  ['linkbeat_use_polling', PARENT],
  ['SSL', CHECKER],
  ['virtual_server_group', CHECKER],
  ['virtual_server', CHECKER],
  ['bfd_instance', ['checker', 'vrrp', 'bfd']],
  ['track_group', VRRP],
  ['static_ipaddress', VRRP],
  ['static_routes', VRRP],
  ['static_rules', VRRP],
  ['vrrp_sync_group', VRRP],
  ['garp_group', VRRP],
  ['linkbeat_interfaces', VRRP],
  ['vrrp_instance', VRRP],
  ['vrrp_script', VRRP],
  ['vrrp_track_process', VRRP],
  ['interface_up_down_delays', VRRP],
  ['track_file', VRRP],
  ['vrrp_track_file', VRRP],
]);

/** The passes that read a top-level keyword: every pass reports an unknown one, the parent's first. */
export function passesOf(keyword: string): readonly Pass[] {
  return READ_BY.get(keyword) ?? PARENT;
}

/** The passes of `keyword` that also read `within` (the block a line escaped from), first first. */
export function passesWithin(keyword: string, within: readonly Pass[]): readonly Pass[] {
  const own = READ_BY.get(keyword);
  if (!own) return within;
  return own.filter((p) => within.includes(p));
}

/** Where each run of top-level statements read by the same first pass starts, per file. */
export class PassMap {
  private readonly runs = new Map<string, { line: number; pass: Pass }[]>();

  note(at: Span, pass: Pass): void {
    let runs = this.runs.get(at.file);
    if (!runs) this.runs.set(at.file, (runs = []));
    const last = runs[runs.length - 1];
    if (!last || last.pass !== pass) runs.push({ line: at.line, pass });
  }

  /** The pass that reads the top-level block holding `at`, if a top-level block of its file does. */
  at(at: Span): Pass | undefined {
    const runs = this.runs.get(at.file);
    if (!runs) return undefined;
    let found: Pass | undefined;
    for (const r of runs) {
      if (r.line > at.line) break;
      found = r.pass;
    }
    return found;
  }
}

/**
 * What keepalived -t says when it stopped (exit 2): `building` in the order they were found, each
 * with the pass it was found in; `after` found after reading (cross-checks), placed by position.
 * Everything after the stop in its pass, and everything of a later pass, is dropped.
 */
export function untilStop(
  reading: readonly Diagnostic[],
  building: readonly Diagnostic[],
  passOf: readonly (Pass | undefined)[],
  after: readonly Diagnostic[],
  placed: PassMap,
): Diagnostic[] {
  const stop = building.findIndex((d) => d.exit === 2);
  const at = stop < 0 ? undefined : passOf[stop];
  if (at === undefined) return [...reading, ...building, ...after];
  const rank = RANK[at];
  const where = building[stop];
  // The reader's own findings: every pass makes them as it reads, and a pass that stops never
  // gets to count the braces left open at the end.
  const kept: Diagnostic[] = reading.filter((d) => d.rule !== 'brace-missing' && !(at === 'parent' && d.file === where.file && d.line > where.line));
  for (let i = 0; i < building.length; i++) {
    const p = passOf[i];
    if (p === undefined || RANK[p] < rank || (p === at && i <= stop)) kept.push(building[i]);
  }
  for (const d of after) {
    const p = placed.at(d);
    if (p === undefined || RANK[p] < rank) kept.push(d);
  }
  return kept;
}
