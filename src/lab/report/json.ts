// `keepalived-ts lab --json`: the run as one JSON document, with every time an integer number
// of µs from the start of the run and the unit in its key (`atUs`, `startUs`, `durationUs`), and
// a scenario that cannot run as the same document's error form. LabResult (model/result.ts) is
// the in-memory shape; this is the stable one people's scripts read.
import type { Diagnostic } from '../../config/diagnostics.js';
import type { LabResult, LabState } from '../model/result.js';

const us = (t: number): number => Math.round(t);

export interface LabJson {
  scenario: string;
  file: string;
  backend: 'sim' | 'netns';
  seed: number;
  durationUs: number;
  wallMs: number;
  passed: boolean;
  nodes: LabResult['nodes'];
  transitions: { atUs: number; node: string; instance: string; from: LabState; to: LabState; priority: number; reason: string; logAtUs?: number }[];
  faults: { atUs: number; requestedAtUs?: number; index: number; text: string }[];
  splitBrains: { vrid: number; instance: string; nodes: string[]; startUs: number; endUs: number | null; durationUs: number | null }[];
  notifies: { atUs: number; node: string; kind: 'INSTANCE' | 'GROUP'; name: string; state: string; priority: number }[];
  requests: LabResult['requests'];
  vips?: { atUs: number; address: string; segment: string; reachable: boolean; holders: string[] }[];
  priorities?: { atUs: number; node: string; instance: string; priority: number }[];
  start?: { spreadUs: number; releaseUs?: number; nodes: { node: string; atUs: number; openedUs?: number }[] };
  adverts?: { atUs: number; node: string; segment: string; vrid: number; priority: number }[];
  realServers: LabResult['realServers'];
  servers: { atUs: number; node: string; server: string; inService: boolean; reason: string }[];
  notes: string[];
  expectations: { index: number; text: string; passed: boolean; why: string; atUs?: number; where: string }[];
}

/** A LabResult as the JSON document; times rounded to whole µs. */
export function resultJson(r: LabResult): LabJson {
  const at = <T extends { at: number }>({ at: t, ...rest }: T): Omit<T, 'at'> & { atUs: number } => ({ atUs: us(t), ...rest });
  const out: LabJson = {
    scenario: r.scenario,
    file: r.file,
    backend: r.backend,
    seed: r.seed,
    durationUs: us(r.duration),
    wallMs: Math.round(r.wallMs),
    passed: r.passed,
    nodes: r.nodes,
    transitions: r.transitions.map(({ logAt, ...t }) => (logAt === undefined ? at(t) : { ...at(t), logAtUs: us(logAt) })),
    faults: r.faults.map(({ requestedAt, ...f }) => (requestedAt === undefined ? at(f) : { ...at(f), requestedAtUs: us(requestedAt) })),
    splitBrains: r.splitBrains.map(({ start, end, ...s }) => ({
      ...s,
      startUs: us(start),
      endUs: end === null ? null : us(end),
      durationUs: end === null ? null : us(end) - us(start),
    })),
    notifies: r.notifies.map(at),
    requests: r.requests,
    realServers: r.realServers,
    servers: r.servers.map(at),
    notes: r.notes,
    expectations: r.expectations.map(({ at: t, ...v }) => (t === undefined ? v : { ...v, atUs: us(t) })),
  };
  if (r.vips) out.vips = r.vips.map(at);
  if (r.priorities) out.priorities = r.priorities.map(at);
  if (r.start) {
    const { spread, release, nodes } = r.start;
    const node = ({ opened, ...n }: (typeof nodes)[number]) => (opened === undefined ? at(n) : { ...at(n), openedUs: us(opened) });
    out.start = { spreadUs: us(spread), ...(release === undefined ? {} : { releaseUs: us(release) }), nodes: nodes.map(node) };
  }
  if (r.adverts) out.adverts = r.adverts.map(at);
  return out;
}

/** A scenario the loader refused: no run, its findings, and the exit status that says so. */
export function scenarioErrorJson(file: string, diagnostics: readonly Diagnostic[]): object {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return {
    file,
    passed: false,
    error: 'the scenario has errors: it was not run',
    diagnostics: diagnostics.map(({ file: f, line, col, severity, rule, message, hint }) => ({
      file: f,
      line,
      col,
      severity,
      rule,
      message,
      ...(hint ? { hint } : {}),
    })),
    summary: { errors, warnings: diagnostics.length - errors },
  };
}
