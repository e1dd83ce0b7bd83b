// What both lab reports (terminal and HTML) draw, derived once from a LabResult: one lane per
// instance × node with its state as contiguous segments, the time span, axis ticks, and a few
// formatters. Kept free of any output format so the two renderers cannot disagree on the facts.
import type { LabResult, LabState } from '../model/result.js';
import type { Micros } from '../model/scenario.js';

export interface Segment {
  state: LabState;
  start: Micros;
  end: Micros;
}

export interface Lane {
  node: string;
  instance: string;
  segments: Segment[];
}

/**
 * The time the reports cover: the scenario's duration, stretched to the last recorded event
 * (on netns a fault or transition can land a little after the nominal end). Never 0, so scales
 * can divide by it.
 */
export function timeSpan(result: LabResult): Micros {
  let end = result.duration;
  for (const t of result.transitions) end = Math.max(end, t.at);
  for (const f of result.faults) end = Math.max(end, f.at);
  for (const s of result.splitBrains) end = Math.max(end, s.end ?? s.start);
  for (const r of result.requests) end = Math.max(end, (r.second + 1) * 1e6);
  return Math.max(end, 1);
}

/**
 * Lanes grouped by instance (so a failover reads as mastership moving between adjacent lanes),
 * nodes in declaration order; an instance or node only seen in transitions still gets a lane.
 * Before its first transition a lane is in that transition's `from` state (INIT without any).
 */
export function buildLanes(result: LabResult, span: Micros = timeSpan(result)): Lane[] {
  const instances: string[] = [];
  const nodesOf = new Map<string, string[]>();
  const add = (node: string, instance: string): void => {
    let nodes = nodesOf.get(instance);
    if (!nodes) {
      instances.push(instance);
      nodesOf.set(instance, (nodes = []));
    }
    if (!nodes.includes(node)) nodes.push(node);
  };
  for (const n of result.nodes) for (const i of n.instances) add(n.name, i.name);
  for (const t of result.transitions) add(t.node, t.instance);

  const lanes: Lane[] = [];
  for (const instance of instances) {
    for (const node of nodesOf.get(instance)!) {
      const ts = result.transitions.filter((t) => t.node === node && t.instance === instance).sort((a, b) => a.at - b.at);
      const segments: Segment[] = [];
      let state: LabState = ts[0]?.from ?? 'INIT';
      let start = 0;
      for (const t of ts) {
        if (t.at > start) segments.push({ state, start, end: t.at });
        state = t.to;
        start = Math.max(start, t.at);
      }
      if (span > start) segments.push({ state, start, end: span });
      lanes.push({ node, instance, segments: merge(segments) });
    }
  }
  return lanes;
}

/** Joins neighbours in the same state (a zero-length detour through another state leaves two). */
function merge(segments: Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && last.state === s.state && last.end === s.start) last.end = s.end;
    else out.push({ ...s });
  }
  return out;
}

/** Axis ticks at 1/2/5 × 10^k seconds, the finest step giving at most `maxTicks` intervals. */
export function ticks(span: Micros, maxTicks: number): { step: Micros; times: Micros[] } {
  const limit = Math.max(1, maxTicks);
  let step: Micros;
  for (let k = 0; ; k++) {
    const s = [1, 2, 5].map((m) => m * 10 ** k).find((m) => span / m <= limit);
    if (s !== undefined) {
      step = s;
      break;
    }
  }
  const times: Micros[] = [];
  for (let t = 0; t <= span; t += step) times.push(t);
  return { step, times };
}

/** A tick label: as many decimals as the step needs ("0s", "2.5s", "0.25s"). */
export function tickLabel(t: Micros, step: Micros): string {
  const decimals = Math.max(0, Math.min(6, Math.ceil(-Math.log10(step / 1e6) - 1e-9)));
  return `${(t / 1e6).toFixed(decimals)}s`;
}

/** "5.00s" (faults, the legend) or "5.213s" (transitions: VRRP decides within milliseconds). */
export function secs(t: Micros, decimals = 3): string {
  return `${(t / 1e6).toFixed(decimals)}s`;
}

/** A duration as people read it: 3.609s, 250ms, 100µs (a preemption's overlap is µs long). */
export function duration(us: Micros): string {
  if (Math.abs(us) >= 1e6) return secs(us);
  if (Math.abs(us) >= 1e3) return `${Math.round(us / 1e3)}ms`;
  return `${Math.round(us)}µs`;
}

/** How long after the lab began a fault it took effect, when that was a millisecond or more
 * (netns: bridge ports to move, a qdisc to set up): "in effect 340ms after it was requested". */
export function effectLag(f: { at: Micros; requestedAt?: Micros }): string {
  const lag = f.requestedAt === undefined ? 0 : f.at - f.requestedAt;
  return lag >= 1e3 ? `in effect ${duration(lag)} after it was requested at ${secs(f.requestedAt!)}` : '';
}

/** Split brain's end, an open one lasting to the end of the run. */
export function splitEnd(s: { end: Micros | null }, span: Micros): Micros {
  return s.end ?? span;
}

export interface ClientSummary {
  client: string;
  ok: number;
  failed: number;
  /** Seconds with a failure, as ranges: [[5, 6], [9, 9]]. */
  failedSeconds: [number, number][];
  byServer: Record<string, number>;
}

/** Per-client totals of the per-second request buckets, in first-seen order. */
export function clientSummaries(result: LabResult): ClientSummary[] {
  const byClient = new Map<string, ClientSummary & { seconds: number[] }>();
  for (const r of result.requests) {
    let c = byClient.get(r.client);
    if (!c) byClient.set(r.client, (c = { client: r.client, ok: 0, failed: 0, failedSeconds: [], byServer: {}, seconds: [] }));
    c.ok += r.ok;
    c.failed += r.failed;
    if (r.failed > 0) c.seconds.push(r.second);
    for (const [server, n] of Object.entries(r.byServer)) c.byServer[server] = (c.byServer[server] ?? 0) + n;
  }
  return [...byClient.values()].map(({ seconds, ...c }) => ({ ...c, failedSeconds: ranges(seconds) }));
}

function ranges(seconds: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const s of [...new Set(seconds)].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && last[1] === s - 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

export function rangesText(r: [number, number][]): string {
  return r.map(([a, b]) => (a === b ? `${a}s` : `${a}–${b}s`)).join(', ');
}
