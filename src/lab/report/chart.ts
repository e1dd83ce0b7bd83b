// The HTML report's two SVG charts, drawn on one time scale so they line up when stacked: the
// timeline (a lane per instance × node with state bands, fault markers, split-brain shading, the
// moments failed expectations point at) and the requests (ok/failed per second per client).
// Sizes are viewBox units; the page scales the SVGs to its width. Every band, marker and bar
// carries data-* attributes so tests (and curious readers of the source) can find them.
import type { LabResult, LabState } from '../model/result.js';
import type { Micros } from '../model/scenario.js';
import { clientSummaries, secs, splitEnd, tickLabel, ticks, type Lane } from './model.js';
import { clean } from './term.js';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** User text made safe for HTML text and attribute values, invisible controls shown as \xNN. */
export function esc(s: unknown): string {
  return clean(String(s)).replace(/[&<>"']/g, (c) => ESC[c]);
}

const WIDTH = 1000;
const LEFT = 170;
const RIGHT = 30;
const PLOT = WIDTH - LEFT - RIGHT;
const LANE_H = 26;
const LANE_GAP = 6;
const GROUP_GAP = 16;
const MARKER_ROW = 22;
const MAX_MARKER_ROWS = 3;

/** Approximate text width in viewBox units (SVG text cannot be measured without a browser). */
const textW = (s: string, size: number, em = 0.6): number => [...s].length * size * em;
const ellipsize = (s: string, max: number): string => ([...s].length <= max ? s : [...s].slice(0, max - 1).join('') + '…');
const n = (v: number): string => String(Math.round(v * 100) / 100);

export interface Scale {
  span: Micros;
  x: (t: Micros) => number;
}

export function scale(span: Micros): Scale {
  return { span, x: (t) => LEFT + (Math.min(Math.max(t, 0), span) / span) * PLOT };
}

/** Narrower than this a hatch shows no stripe: such a split brain is drawn as a solid line. */
const HATCH_MIN = 4;

/** Whether the split brain is drawn as a thin solid line rather than hatched. */
export function isThin(s: { start: Micros; end: Micros | null }, sc: Scale): boolean {
  return sc.x(splitEnd(s, sc.span)) - sc.x(s.start) < HATCH_MIN;
}

interface Marker {
  index: number;
  at: Micros;
  text: string;
  x: number;
  row: number;
}

/** Fault markers in rows so their numbered circles do not overlap (a fourth crowded one reuses row 0). */
function placeMarkers(faults: LabResult['faults'], sc: Scale): Marker[] {
  const last: number[] = [];
  return faults.map((f) => {
    const x = sc.x(f.at);
    let row = last.findIndex((lx) => x - lx >= 20);
    if (row < 0) row = last.length < MAX_MARKER_ROWS ? last.length : 0;
    last[row] = x;
    return { index: f.index, at: f.at, text: f.text, x, row };
  });
}

function axis(sc: Scale, y: number, gridTop: number): { grid: string; axis: string } {
  const { step, times } = ticks(sc.span, Math.max(1, Math.floor(PLOT / 70)));
  let grid = '';
  let out = `<line class="axis-line" x1="${LEFT}" x2="${LEFT + PLOT}" y1="${y}" y2="${y}"/>`;
  for (const t of times) {
    const x = n(sc.x(t));
    grid += `<line class="grid" x1="${x}" x2="${x}" y1="${gridTop}" y2="${y}"/>`;
    out += `<line class="tick" x1="${x}" x2="${x}" y1="${y}" y2="${y + 5}"/><text class="tick-label" x="${x}" y="${y + 18}" data-tick-us="${t}">${tickLabel(t, step)}</text>`;
  }
  return { grid, axis: `<g class="axis">${out}</g>` };
}

function faultLines(markers: Marker[], y1: number, y2: number): string {
  return markers.map((m) => `<line class="fault-line" x1="${n(m.x)}" x2="${n(m.x)}" y1="${y1}" y2="${y2}"/>`).join('');
}

export function timelineSvg(result: LabResult, lanes: Lane[], sc: Scale): string {
  const markers = placeMarkers(result.faults, sc);
  const markerRows = markers.length ? Math.max(...markers.map((m) => m.row)) + 1 : 0;
  const top = 10 + markerRows * MARKER_ROW + (markerRows ? 6 : 0);

  const laneY: number[] = [];
  let y = top;
  lanes.forEach((l, i) => {
    if (i > 0 && l.instance !== lanes[i - 1].instance) y += GROUP_GAP;
    laneY.push(y);
    y += LANE_H + LANE_GAP;
  });
  const bottom = lanes.length ? y - LANE_GAP : top + LANE_H;
  const axisY = bottom + 10;
  const height = axisY + 30;
  const ax = axis(sc, axisY, top - 4);

  const vrids = new Map<string, { vrid: number; iface: string }>();
  for (const node of result.nodes) for (const i of node.instances) vrids.set(i.name, { vrid: i.vrid, iface: i.interface });

  let body = '';
  // Band labels go above the split-brain shading, so that it never hides a state.
  let labels = '';
  lanes.forEach((lane, i) => {
    const ly = laneY[i];
    const first = i === 0 || lanes[i - 1].instance !== lane.instance;
    if (first) {
      const group = lanes.filter((l) => l.instance === lane.instance).length;
      const cy = ly + (group * (LANE_H + LANE_GAP) - LANE_GAP) / 2;
      const info = vrids.get(lane.instance);
      body += `<g class="instance-label" data-instance="${esc(lane.instance)}"><title>${esc(lane.instance)}</title>`;
      body += `<text class="instance-name" x="12" y="${n(info ? cy - 7 : cy)}">${esc(ellipsize(clean(lane.instance), 14))}</text>`;
      if (info) body += `<text class="instance-info" x="12" y="${n(cy + 9)}">VRID ${info.vrid} · ${esc(ellipsize(clean(info.iface), 8))}</text>`;
      body += `</g>`;
      if (i > 0)
        body += `<line class="group-sep" x1="8" x2="${WIDTH - 8}" y1="${ly - GROUP_GAP / 2 - LANE_GAP / 2}" y2="${ly - GROUP_GAP / 2 - LANE_GAP / 2}"/>`;
    }
    body += `<g class="lane" data-node="${esc(lane.node)}" data-instance="${esc(lane.instance)}">`;
    body += `<text class="lane-label" data-lane-label="${esc(lane.node)}" x="${LEFT - 12}" y="${ly + LANE_H / 2}"><title>${esc(lane.node)} · ${esc(lane.instance)}</title>${esc(ellipsize(clean(lane.node), 12))}</text>`;
    body += `<rect class="lane-bg" x="${LEFT}" y="${ly}" width="${PLOT}" height="${LANE_H}" rx="3"/>`;
    for (const s of lane.segments) {
      const x0 = sc.x(s.start);
      const w = Math.max(sc.x(s.end) - x0, 0.75); // a blip stays visible
      const tip = `${clean(lane.node)} ${clean(lane.instance)}: ${s.state} from ${secs(s.start)} to ${secs(s.end)} (${secs(s.end - s.start)})`;
      body += `<rect class="band s-${s.state}" x="${n(x0)}" y="${ly}" width="${n(w)}" height="${LANE_H}" data-node="${esc(lane.node)}" data-instance="${esc(lane.instance)}" data-state="${s.state}" data-start-us="${s.start}" data-end-us="${s.end}"><title>${esc(tip)}</title></rect>`;
      // Bold capitals run wider than the average glyph.
      if (w > textW(s.state, 11, 0.75) + 14)
        labels += `<text class="band-text t-${s.state}" data-node="${esc(lane.node)}" data-instance="${esc(lane.instance)}" x="${n(x0 + 7)}" y="${ly + LANE_H / 2}">${s.state}</text>`;
    }
    body += `</g>`;
  });

  let overlay = '';
  result.splitBrains.forEach((s, i) => {
    const group = lanes.map((l, k) => (l.instance === s.instance ? k : -1)).filter((k) => k >= 0);
    const y0 = group.length ? laneY[group[0]] - 3 : top - 3;
    const y1 = group.length ? laneY[group[group.length - 1]] + LANE_H + 3 : bottom + 3;
    const end = splitEnd(s, sc.span);
    const x0 = sc.x(s.start);
    const tip = `split brain: ${clean(s.instance)} (VRID ${s.vrid}) MASTER on ${s.nodes.map(clean).join(' and ')} from ${secs(s.start)} to ${s.end === null ? 'the end of the run' : secs(s.end)}`;
    const thin = isThin(s, sc);
    overlay += `<rect class="split-brain${thin ? ' thin' : ''}" x="${n(x0)}" y="${y0}" width="${n(Math.max(sc.x(end) - x0, 2))}" height="${y1 - y0}" data-split-brain="${i}" data-instance="${esc(s.instance)}" data-start-us="${s.start}" data-end-us="${end}"><title>${esc(tip)}</title></rect>`;
  });

  let faults = '';
  for (const [k, m] of markers.entries()) {
    const cy = 10 + m.row * MARKER_ROW + 9;
    const next = markers.slice(k + 1).find((o) => o.row === m.row);
    const room = (next ? next.x - 12 : WIDTH - 4) - (m.x + 13);
    const label = room > textW(clean(m.text), 11) ? `<text class="fault-text" x="${n(m.x + 13)}" y="${cy}">${esc(m.text)}</text>` : '';
    faults += `<g class="fault" data-fault-index="${m.index}" data-at-us="${m.at}"><title>${esc(`fault ${m.index + 1} at ${secs(m.at, 2)}: ${clean(m.text)}`)}</title>`;
    faults += `<line class="fault-line" x1="${n(m.x)}" x2="${n(m.x)}" y1="${cy + 9}" y2="${bottom + 4}"/>`;
    faults += `<circle class="fault-dot" cx="${n(m.x)}" cy="${cy}" r="9"/><text class="fault-num" x="${n(m.x)}" y="${cy}">${m.index + 1}</text>${label}</g>`;
  }

  let verdicts = '';
  for (const v of result.expectations) {
    if (v.passed || v.at === undefined) continue;
    const vx = n(sc.x(v.at));
    verdicts += `<g class="verdict-at" data-expectation-index="${v.index}" data-at-us="${v.at}"><title>${esc(`✘ ${clean(v.text)} — decided at ${secs(v.at)}`)}</title><path d="M${vx} ${axisY - 1} l-6 -9 h12 z"/></g>`;
  }

  return (
    `<svg class="chart timeline" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="State timeline" data-span-us="${sc.span}" xmlns="http://www.w3.org/2000/svg">` +
    `<defs><pattern id="sb-hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="rgba(214,45,45,0.10)"/><line x1="0" y1="0" x2="0" y2="8" stroke="rgba(214,45,45,0.75)" stroke-width="3"/></pattern></defs>` +
    `<rect class="plot" data-plot="" x="${LEFT}" y="${top}" width="${PLOT}" height="${bottom - top}" fill="none"/>` +
    body +
    ax.grid +
    overlay +
    labels +
    faults +
    ax.axis +
    verdicts +
    `</svg>`
  );
}

const REQ_H = 64;
const REQ_PAD = 14;

export function requestsSvg(result: LabResult, sc: Scale): string {
  const clients = clientSummaries(result);
  const markers = placeMarkers(result.faults, sc);
  const height = clients.length * (REQ_H + REQ_PAD) + REQ_PAD + 30;
  const axisY = height - 30;
  const ax = axis(sc, axisY, REQ_PAD / 2);
  let body = '';
  clients.forEach((c, i) => {
    const y0 = REQ_PAD + i * (REQ_H + REQ_PAD);
    const base = y0 + REQ_H;
    const buckets = result.requests.filter((r) => r.client === c.client);
    const max = Math.max(1, ...buckets.map((r) => r.ok + r.failed));
    const h = (k: number): number => (k / max) * REQ_H;
    body += `<g class="req-client" data-client="${esc(c.client)}">`;
    body += `<text class="lane-label req-name" x="12" y="${y0 + 16}"><title>${esc(c.client)}</title>${esc(ellipsize(clean(c.client), 18))}</text>`;
    body += `<text class="req-stats" x="12" y="${y0 + 34}"><tspan class="ok-text">${c.ok} ok</tspan> · <tspan class="${c.failed ? 'failed-text' : ''}">${c.failed} failed</tspan></text>`;
    body += `<text class="req-max" x="${LEFT - 8}" y="${y0 + 4}">${max}/s</text><text class="req-max" x="${LEFT - 8}" y="${base}">0</text>`;
    body += `<rect class="lane-bg" x="${LEFT}" y="${y0}" width="${PLOT}" height="${REQ_H}" rx="3"/>`;
    for (const r of buckets) {
      const x0 = sc.x(r.second * 1e6);
      const w = sc.x((r.second + 1) * 1e6) - x0;
      const bw = n(w > 3 ? w - 1 : w);
      const tip = `${clean(c.client)}, second ${r.second}: ${r.ok} ok, ${r.failed} failed`;
      const attrs = `data-client="${esc(c.client)}" data-second="${r.second}"`;
      if (r.ok > 0)
        body += `<rect class="req-ok" x="${n(x0)}" y="${n(base - h(r.ok))}" width="${bw}" height="${n(h(r.ok))}" ${attrs} data-ok="${r.ok}"><title>${esc(tip)}</title></rect>`;
      if (r.failed > 0)
        body += `<rect class="req-failed" x="${n(x0)}" y="${n(base - h(r.ok + r.failed))}" width="${bw}" height="${n(h(r.failed))}" ${attrs} data-failed="${r.failed}"><title>${esc(tip)}</title></rect>`;
    }
    body += `</g>`;
  });
  return (
    `<svg class="chart requests" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Requests per second" data-span-us="${sc.span}" xmlns="http://www.w3.org/2000/svg">` +
    `<rect class="plot" data-plot="" x="${LEFT}" y="${REQ_PAD}" width="${PLOT}" height="${axisY - REQ_PAD}" fill="none"/>` +
    body +
    ax.grid +
    faultLines(markers, REQ_PAD / 2, axisY) +
    ax.axis +
    `</svg>`
  );
}

/** Colors of the states, shared by the chart's CSS and the legend. */
export const STATE_COLOR: Record<LabState, string> = {
  MASTER: '#1f9d55',
  BACKUP: '#3b73b9',
  FAULT: '#e07b24',
  INIT: '#cfd5dd',
  STOPPED: '#7b8494',
};
