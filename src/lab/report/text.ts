// The lab run as a terminal timeline: a bar of state characters per instance × node, numbered
// fault markers above, split brains and failed requests on their own rows, a time axis, then the
// transitions, requests and verdicts as lists. Every line fits `width` columns whatever the
// duration: a column stands for span/barWidth of time and shows the state held longest in it.
import type { LabResult, LabState } from '../model/result.js';
import type { Micros } from '../model/scenario.js';
import { buildLanes, clientSummaries, duration, effectLag, rangesText, secs, splitEnd, tickLabel, ticks, timeSpan, type Segment } from './model.js';
import { clean, fit, padTo, textWidth, wrap } from './term.js';

export interface TimelineOptions {
  /** ANSI colors (the CLI passes `process.stdout.isTTY`). */
  color?: boolean;
  /** Columns to fit in (default 100, at least 40). */
  width?: number;
}

const CHAR: Record<LabState, string> = { MASTER: 'M', BACKUP: 'b', FAULT: 'F', INIT: '·', STOPPED: '·' };
const SGR: Record<LabState, string> = { MASTER: '1;32', BACKUP: '34', FAULT: '1;33', INIT: '2', STOPPED: '2' };
const MAX_MARKER_ROWS = 3;

export function renderTimeline(result: LabResult, opts: TimelineOptions = {}): string {
  const width = Math.max(40, Math.floor(opts.width ?? 100));
  const paint = (code: string, s: string): string => (opts.color && s ? `\x1b[${code}m${s}\x1b[0m` : s);
  const span = timeSpan(result);
  const lanes = buildLanes(result, span);
  const clients = clientSummaries(result);

  // Row labels: instance and node in two aligned columns, at most a third of the width.
  const iw = Math.max(0, ...lanes.map((l) => textWidth(clean(l.instance))));
  const nw = Math.max(0, ...lanes.map((l) => textWidth(clean(l.node))));
  const rowLabels = [
    ...lanes.map((l) => `${padTo(clean(l.instance), iw)} ${clean(l.node)}`),
    ...(result.splitBrains.length > 0 ? ['split brain'] : []),
    ...clients.map((c) => `req ${clean(c.client)}`),
  ];
  const labelW = Math.min(Math.max(iw + 1 + nw, ...rowLabels.map(textWidth)), Math.floor(width / 3));
  const n = width - labelW - 3; // label, space, │ … │
  const col = (t: Micros): number => Math.min(n - 1, Math.max(0, Math.floor((t * n) / span)));
  const colStart = (c: number): Micros => (c * span) / n;
  const indent = ' '.repeat(labelW + 2);
  const row = (label: string, bar: string): string => `${padTo(fit(label, labelW), labelW)} │${bar}│`;

  const out: string[] = [];
  const verdictCount = `${result.expectations.filter((v) => v.passed).length}/${result.expectations.length} expectations`;
  out.push(
    ...wrap(`${paint('1', clean(result.scenario))}  ${paint(result.passed ? '1;32' : '1;31', result.passed ? 'PASS' : 'FAIL')}  ${verdictCount}`, width),
  );
  out.push(
    ...wrap(
      paint('2', `${clean(result.file)} · ${result.backend} · seed ${result.seed} · ${secs(result.duration, 2)} in ${(result.wallMs / 1000).toFixed(2)}s wall`),
      width,
    ),
  );
  if (result.start) {
    const first = Math.min(...result.start.nodes.map((n) => n.at));
    const last = result.start.nodes.find((n) => n.at - first === result.start!.spread);
    const release = result.start.release === undefined ? '' : `; the start gates opened within ${duration(result.start.release)} of zero`;
    const spread = `start spread ${duration(result.start.spread)}${result.start.spread > 0 && last ? ` (${clean(last.node)} last, at ${(last.at / 1e6).toFixed(3)}s)` : ''}${release}`;
    out.push(...wrap(paint('2', spread), width, 2));
  }
  for (const note of result.notes) out.push(...wrap(paint('33', `note: ${clean(note)}`), width, 6));
  out.push('');

  // Fault markers: ▼ exactly at the fault's column, its number on the first row above where it
  // fits without touching another number (the legend below names them all anyway).
  if (result.faults.length > 0) {
    const numRows: string[][] = [];
    const arrows = Array<string>(n).fill(' ');
    for (const f of result.faults) {
      const c = col(f.at);
      arrows[c] = '▼';
      const label = String(f.index + 1);
      const start = Math.min(c, n - label.length);
      for (let r = 0; r < MAX_MARKER_ROWS; r++) {
        const cells = (numRows[r] ??= Array<string>(n).fill(' '));
        const free = cells.slice(Math.max(0, start - 1), start + label.length + 1).every((ch) => ch === ' ');
        if (free) {
          [...label].forEach((ch, i) => (cells[start + i] = ch));
          break;
        }
      }
    }
    for (const cells of numRows.reverse()) out.push(indent + paint('1;35', cells.join('').trimEnd()));
    out.push(indent + paint('35', arrows.join('').trimEnd()));
  }

  let prevInstance: string | undefined;
  for (const lane of lanes) {
    const label = lane.instance === prevInstance ? `${' '.repeat(iw)} ${clean(lane.node)}` : `${padTo(clean(lane.instance), iw)} ${clean(lane.node)}`;
    prevInstance = lane.instance;
    const states = Array.from({ length: n }, (_, c) => dominant(lane.segments, colStart(c), colStart(c + 1)));
    out.push(
      row(
        label,
        runs(
          states,
          (s) => CHAR[s],
          (s, text) => paint(SGR[s], text),
        ),
      ),
    );
  }

  if (result.splitBrains.length > 0) {
    const cells = Array<boolean>(n).fill(false);
    for (const s of result.splitBrains) for (let c = col(s.start); c <= col(splitEnd(s, span)); c++) cells[c] = true;
    out.push(
      row(
        'split brain',
        runs(
          cells,
          (b) => (b ? '!' : ' '),
          (b, text) => (b ? paint('1;31', text) : text),
        ),
      ),
    );
  }

  for (const c of clients) {
    // Per column: ✗ if any request failed in a second it overlaps, ─ if some succeeded.
    const cells = Array<'ok' | 'failed' | 'none'>(n).fill('none');
    for (const r of result.requests.filter((x) => x.client === c.client)) {
      for (let k = col(r.second * 1e6); k <= col((r.second + 1) * 1e6 - 1); k++) {
        if (r.failed > 0) cells[k] = 'failed';
        else if (r.ok > 0 && cells[k] === 'none') cells[k] = 'ok';
      }
    }
    const ch = { ok: '─', failed: '✗', none: ' ' };
    out.push(
      row(
        `req ${clean(c.client)}`,
        runs(
          cells,
          (s) => ch[s],
          (s, text) => (s === 'failed' ? paint('1;31', text) : s === 'ok' ? paint('32', text) : text),
        ),
      ),
    );
  }

  out.push(...axis(span, n, labelW));
  out.push(
    fit(
      `${' '.repeat(labelW + 2)}${['MASTER', 'BACKUP', 'FAULT'].map((s) => `${paint(SGR[s as LabState], CHAR[s as LabState])} ${s}`).join('  ')}  ${paint('2', '·')} INIT/STOPPED${result.splitBrains.length ? `  ${paint('1;31', '!')} split brain` : ''}${clients.length ? `  ${paint('1;31', '✗')} failed requests` : ''}`,
      width,
    ),
  );

  if (result.faults.length > 0) {
    out.push('', paint('1', 'Faults'));
    for (const f of result.faults) {
      const lag = effectLag(f);
      out.push(
        ...wrap(
          `${paint('1;35', String(f.index + 1).padStart(3))} ${secs(f.at, 2).padStart(8)}  ${clean(f.text)}${lag ? paint('2', ` (${lag})`) : ''}`,
          width,
          15,
        ),
      );
    }
  }

  if (result.splitBrains.length > 0) {
    out.push('', paint('1', 'Split brains'));
    for (const s of result.splitBrains) {
      const end = s.end === null ? 'end of run (still split)' : `${secs(s.end)} (${duration(s.end - s.start)})`;
      out.push(
        ...wrap(`  ${paint('1;31', '!')} ${clean(s.instance)} (VRID ${s.vrid}) ${s.nodes.map(clean).join(' + ')} from ${secs(s.start)} to ${end}`, width, 4),
      );
    }
  }

  out.push('', paint('1', 'Transitions'));
  if (result.transitions.length === 0) out.push('  (none)');
  const tw = {
    at: Math.max(0, ...result.transitions.map((t) => secs(t.at).length)),
    node: Math.min(16, Math.max(0, ...result.transitions.map((t) => textWidth(clean(t.node))))),
    inst: Math.min(16, Math.max(0, ...result.transitions.map((t) => textWidth(clean(t.instance))))),
  };
  for (const t of result.transitions) {
    const change = `${t.from}→${paint(SGR[t.to], t.to)}`;
    const head = `  ${secs(t.at).padStart(tw.at)}  ${padTo(fit(clean(t.node), tw.node), tw.node)}  ${padTo(fit(clean(t.instance), tw.inst), tw.inst)}  ${padTo(change, 14)}  prio ${String(t.priority).padStart(3)}`;
    out.push(...wrap(`${head}  ${paint('2', clean(t.reason))}`, width, Math.min(textWidth(head) + 2, Math.floor(width / 2))));
  }

  if (clients.length > 0) {
    out.push('', paint('1', 'Requests'));
    for (const c of clients) {
      const failed = c.failed > 0 ? paint('1;31', `failed ${c.failed}`) + ` (in ${rangesText(c.failedSeconds)})` : 'failed 0';
      const servers = Object.entries(c.byServer)
        .map(([s, k]) => `${clean(s)} ${k}`)
        .join(', ');
      out.push(...wrap(`  ${clean(c.client)}: ok ${c.ok}, ${failed}${servers ? `; served by ${servers}` : ''}`, width, 4));
    }
  }

  if (result.servers.length > 0 || result.realServers.length > 0) {
    out.push('', paint('1', 'Real servers'));
    if (!result.servers.length)
      out.push(...wrap(`  no node's checkers reported ${result.realServers.map((s) => clean(s.name)).join(', ')} going in or out of service`, width, 4));
    for (const s of result.servers) {
      const state = s.inService ? paint('32', 'up') : paint('1;31', 'down');
      out.push(...wrap(`  ${secs(s.at)}  ${clean(s.node)}  ${clean(s.server)} ${state}  ${paint('2', clean(s.reason))}`, width, 4));
    }
  }

  out.push('', paint('1', 'Expectations'));
  if (result.expectations.length === 0) out.push('  (none)');
  for (const v of result.expectations) {
    out.push(...wrap(`${v.passed ? paint('1;32', '✔') : paint('1;31', '✘')} ${clean(v.text)}`, width, 2));
    const at = v.at !== undefined ? ` (at ${secs(v.at)})` : '';
    out.push(...wrap(`    ${clean(v.why)}${at}`, width, 4));
    out.push(...wrap(paint('2', `    ${clean(v.where)}`), width, 4));
  }
  out.push(
    '',
    result.passed
      ? paint('1;32', `PASS: ${verdictCount} met`)
      : paint('1;31', `FAIL: ${result.expectations.filter((v) => !v.passed).length} of ${result.expectations.length} expectations failed`),
  );
  return out.join('\n') + '\n';
}

/** The state held longest in [a, b); ties go to the later one (what the column ends on). */
function dominant(segments: Segment[], a: Micros, b: Micros): LabState {
  let best: LabState = segments[0]?.state ?? 'INIT';
  let bestLen = -1;
  for (const s of segments) {
    const len = Math.min(s.end, b) - Math.max(s.start, a);
    if (len > 0 && len >= bestLen) [best, bestLen] = [s.state, len];
  }
  return best;
}

/** A bar from cells, painted run by run so colored output stays small. */
function runs<T>(cells: T[], char: (c: T) => string, paint: (c: T, text: string) => string): string {
  let out = '';
  for (let i = 0; i < cells.length;) {
    let j = i;
    while (j < cells.length && cells[j] === cells[i]) j++;
    out += paint(cells[i], char(cells[i]).repeat(j - i));
    i = j;
  }
  return out;
}

/** Bottom frame with ┴ at each tick and the labels under it, ticks spaced so labels never touch. */
function axis(span: Micros, n: number, labelW: number): string[] {
  const longest = tickLabel(span, 1e6).length + 3; // a label plus room: "120.5s  "
  const { step, times } = ticks(span, Math.max(1, Math.floor(n / longest)));
  const frame = Array<string>(n).fill('─');
  const labels = Array<string>(n + 2).fill(' ');
  for (const t of times) {
    const c = Math.round((t * n) / span);
    if (c < n) frame[c] = '┴';
    const text = tickLabel(t, step);
    const at = Math.min(c + 1, n + 2 - text.length); // labels[0] sits under └
    if (labels.slice(Math.max(0, at - 1), at + text.length).every((ch) => ch === ' ')) [...text].forEach((ch, i) => (labels[at + i] = ch));
  }
  return [`${' '.repeat(labelW + 1)}└${frame.join('')}┘`, `${' '.repeat(labelW + 1)}${labels.join('').trimEnd()}`];
}
