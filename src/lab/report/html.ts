// The lab run as one self-contained HTML page for incident reviews: verdict, timeline chart,
// requests chart, expectations, faults, split brains, transitions. No script at all (hover
// details are SVG <title> tooltips) and a Content-Security-Policy forbidding scripts and any
// fetch, so a report from an untrusted scenario can be opened safely; every string from the
// result goes through `esc`.
import type { LabResult, LabState } from '../model/result.js';
import { buildLanes, clientSummaries, duration, effectLag, rangesText, secs, timeSpan } from './model.js';
import { esc, isThin, requestsSvg, scale, STATE_COLOR, timelineSvg } from './chart.js';

/** The page's head: no script, no fetch (the CSP), inline style only. `title` is HTML already. */
export function htmlHead(title: string, css: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${title}</title>
<style>${css}</style>
</head>`;
}

export function renderHtml(result: LabResult): string {
  const span = timeSpan(result);
  const sc = scale(span);
  const lanes = buildLanes(result, span);
  const clients = clientSummaries(result);
  const passedCount = result.expectations.filter((v) => v.passed).length;
  const failedRequests = clients.reduce((k, c) => k + c.failed, 0);
  const verdict = result.passed ? 'PASS' : 'FAIL';
  // On a pass, what looks bad was allowed by the expectations: amber, with a sentence saying so.
  const bad = result.passed ? 'tolerated' : 'bad';
  const splits = result.splitBrains.length;

  const stats = [
    stat(`${passedCount}/${result.expectations.length}`, 'expectations met', passedCount < result.expectations.length ? 'bad' : ''),
    stat(String(result.faults.length), result.faults.length === 1 ? 'fault' : 'faults'),
    stat(String(result.transitions.length), result.transitions.length === 1 ? 'transition' : 'transitions'),
    stat(String(splits), splits === 1 ? 'split brain' : 'split brains', splits > 0 ? bad : ''),
    ...(clients.length ? [stat(String(failedRequests), failedRequests === 1 ? 'failed request' : 'failed requests', failedRequests > 0 ? bad : '')] : []),
  ].join('');
  const seen = [
    ...(splits ? [`${splits} ${splits === 1 ? 'split brain' : 'split brains'}`] : []),
    ...(failedRequests ? [`${failedRequests} failed ${failedRequests === 1 ? 'request' : 'requests'}`] : []),
  ];
  const passNote =
    result.passed && seen.length
      ? `<p class="pass-note" id="pass-note">PASS: ${result.expectations.length ? 'every expectation held' : 'the scenario states no expectations'}. The ${seen.join(' and ')} (in amber) happened, and ${result.expectations.length ? 'the expectations allow them' : 'nothing forbids them'}: add or tighten an expectation if they should fail the run.</p>`
      : '';

  const sections = [
    section('timeline', 'Timeline', legend(result) + `<div class="chart-box">${timelineSvg(result, lanes, sc)}</div>` + faultList(result)),
    clients.length ? section('requests', 'Requests', `<div class="chart-box">${requestsSvg(result, sc)}</div>` + requestSummary(result)) : '',
    section('expectations', 'Expectations', expectationsTable(result)),
    result.splitBrains.length ? section('split-brains', 'Split brains', splitBrainTable(result)) : '',
    section('transitions', 'Transitions', transitionsTable(result)),
    result.servers.length || result.realServers.length ? section('servers', 'Real servers', serversTable(result)) : '',
    result.notifies.length ? section('notifies', 'Notify scripts', notifiesTable(result)) : '',
  ].join('\n');
  const notes = result.notes.length ? `<ul class="notes" id="notes">${result.notes.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '';

  return `${htmlHead(`${verdict} · ${esc(result.scenario)} · keepalived-ts lab`, CSS)}
<body>
<header class="top ${verdict.toLowerCase()}">
<div class="badge" id="verdict" data-passed="${result.passed}">${verdict}</div>
<div class="title">
<h1 id="scenario-name">${esc(result.scenario)}</h1>
<p class="meta"><span>${esc(result.file)}</span><span>backend ${esc(result.backend)}</span><span>seed ${esc(result.seed)}</span><span>${secs(result.duration, 2)} scenario time</span><span>${(result.wallMs / 1000).toFixed(2)}s wall</span>${result.start ? `<span id="start-spread" title="${esc(startTip(result.start))}">start spread ${duration(result.start.spread)}</span>` : ''}</p>
</div>
<div class="stats">${stats}</div>
${passNote}</header>
<main>
${notes}${sections}
</main>
<footer>keepalived-ts lab report · times are seconds from the start of the run</footer>
</body>
</html>
`;
}

const stat = (value: string, label: string, mood: '' | 'bad' | 'tolerated' = ''): string =>
  `<div class="stat${mood ? ` ${mood}` : ''}"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
const section = (id: string, title: string, body: string): string => `<section id="${id}"><h2>${title}</h2>${body}</section>`;
const chip = (s: LabState): string => `<span class="chip s-${s}">${s}</span>`;
const mono = (s: string): string => `<span class="mono">${s}</span>`;

function legend(result: LabResult): string {
  const states = (Object.keys(STATE_COLOR) as LabState[]).map((s) => `<span class="key"><i class="sw s-${s}"></i>${s}</span>`).join('');
  const sc = scale(timeSpan(result));
  const thin = result.splitBrains.some((s) => isThin(s, sc));
  const extra =
    `<span class="key"><i class="sw sw-split"></i>split brain</span>` +
    (thin ? `<span class="key"><i class="sw sw-split-thin"></i>split brain too short to hatch (a red line)</span>` : '') +
    (result.faults.length ? `<span class="key"><i class="sw sw-fault">1</i>fault</span>` : '') +
    (result.expectations.some((v) => !v.passed && v.at !== undefined)
      ? `<span class="key"><i class="sw sw-verdict"></i>failed expectation decided</span>`
      : '');
  return `<div class="legend" id="legend">${states}${extra}</div>`;
}

function faultList(result: LabResult): string {
  if (!result.faults.length) return '<p class="note">No faults injected.</p>';
  const items = result.faults.map(
    (f) =>
      `<li data-fault-index="${f.index}"><span class="num">${f.index + 1}</span>${mono(secs(f.at, 2))}<span>${esc(f.text)}${effectLag(f) ? ` <span class="muted">(${esc(effectLag(f))})</span>` : ''}</span></li>`,
  );
  return `<ol class="faults">${items.join('')}</ol>`;
}

function requestSummary(result: LabResult): string {
  const rows = clientSummaries(result).map((c) => {
    const servers = Object.entries(c.byServer)
      .map(([s, k]) => `${esc(s)} ${k}`)
      .join(', ');
    return `<tr data-client="${esc(c.client)}"><td>${esc(c.client)}</td><td class="num">${c.ok}</td><td class="num ${c.failed ? 'failed-text' : ''}">${c.failed}</td><td>${c.failedSeconds.length ? esc(rangesText(c.failedSeconds)) : '—'}</td><td>${servers || '—'}</td></tr>`;
  });
  return table(['Client', 'OK', 'Failed', 'Failed seconds', 'Served by'], rows);
}

function expectationsTable(result: LabResult): string {
  if (!result.expectations.length) return '<p class="note">The scenario states no expectations.</p>';
  const rows = result.expectations.map((v) => {
    const mark = v.passed ? '<span class="mark pass" aria-label="passed">✔</span>' : '<span class="mark fail" aria-label="failed">✘</span>';
    return `<tr class="verdict ${v.passed ? 'pass' : 'fail'}" data-verdict="${v.passed ? 'pass' : 'fail'}" data-expectation-index="${v.index}"><td>${mark}</td><td class="text">${esc(v.text)}</td><td class="why">${esc(v.why)}</td><td>${v.at !== undefined ? mono(secs(v.at)) : v.passed ? '<span class="muted" title="only a failure has a deciding moment">—</span>' : ''}</td><td class="where">${mono(esc(v.where))}</td></tr>`;
  });
  return table(['', 'Expectation', 'Why', 'Failed at', 'Where'], rows);
}

function splitBrainTable(result: LabResult): string {
  const rows = result.splitBrains.map((s, i) => {
    const len = s.end === null ? 'until the end' : duration(s.end - s.start);
    return `<tr data-split-brain="${i}"><td>${esc(s.instance)}</td><td class="num">${s.vrid}</td><td>${s.nodes.map(esc).join(', ')}</td><td>${mono(secs(s.start))}</td><td>${s.end === null ? '—' : mono(secs(s.end))}</td><td>${mono(len)}</td></tr>`;
  });
  return table(['Instance', 'VRID', 'Masters', 'From', 'To', 'Lasted'], rows);
}

function transitionsTable(result: LabResult): string {
  if (!result.transitions.length) return '<p class="note">No state changes.</p>';
  const rows = result.transitions.map(
    (t) =>
      `<tr data-node="${esc(t.node)}" data-instance="${esc(t.instance)}" data-at-us="${t.at}"><td>${mono(secs(t.at))}</td><td>${esc(t.node)}</td><td>${esc(t.instance)}</td><td class="change">${chip(t.from)}<span class="arrow">→</span>${chip(t.to)}</td><td class="num">${t.priority}</td><td>${esc(t.reason)}</td></tr>`,
  );
  return table(['Time', 'Node', 'Instance', 'Change', 'Priority', 'Reason'], rows);
}

function serversTable(result: LabResult): string {
  const listed = result.realServers.map((s) => `${esc(s.name)} (${esc(s.address)}:${s.port})`).join(', ');
  const head = listed ? `<p class="note">${listed}.</p>` : '';
  if (!result.servers.length) return `${head}<p class="note" id="servers-none">No node's checkers reported a real server going in or out of service.</p>`;
  const rows = result.servers.map(
    (s) =>
      `<tr><td>${mono(secs(s.at))}</td><td>${esc(s.node)}</td><td>${esc(s.server)}</td><td>${s.inService ? '<span class="ok-text">in service</span>' : '<span class="failed-text">out of service</span>'}</td><td>${esc(s.reason)}</td></tr>`,
  );
  return head + table(['Time', 'Node', 'Real server', 'Now', 'Reason'], rows);
}

function notifiesTable(result: LabResult): string {
  const rows = result.notifies.map(
    (x) =>
      `<tr><td>${mono(secs(x.at))}</td><td>${esc(x.node)}</td><td>${esc(x.kind)}</td><td>${esc(x.name)}</td><td>${esc(x.state)}</td><td class="num">${x.priority}</td></tr>`,
  );
  return `<details><summary>${result.notifies.length} notify script runs</summary>${table(['Time', 'Node', 'Kind', 'Name', 'State', 'Priority'], rows)}</details>`;
}

function table(head: string[], rows: string[]): string {
  return `<div class="table-box"><table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

const stateCss = (Object.entries(STATE_COLOR) as [LabState, string][]).map(([s, c]) => `.s-${s}{fill:${c};background:${c}}`).join('');

const CSS = `
:root{--fg:#1f2430;--muted:#667085;--line:#e4e7ec;--bg:#f6f7f9;--card:#fff;--pass:#1f9d55;--fail:#d62d2d;--fault:#6d3fc0}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.mono,td .mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px;white-space:nowrap}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:14px 20px;padding:18px 28px;background:var(--card);border-bottom:1px solid var(--line);border-top:5px solid var(--pass)}
header.top.fail{border-top-color:var(--fail)}
.badge{font-weight:800;font-size:20px;letter-spacing:.06em;color:#fff;background:var(--pass);border-radius:8px;padding:8px 16px}
.fail .badge{background:var(--fail)}
.title{flex:1 1 320px;min-width:0}
h1{margin:0;font-size:22px;overflow-wrap:anywhere}
.meta{margin:2px 0 0;color:var(--muted);font-size:13px;display:flex;flex-wrap:wrap;gap:4px 14px;overflow-wrap:anywhere}
.stats{display:flex;gap:10px;flex-wrap:wrap}
.stat{display:flex;flex-direction:column;align-items:center;min-width:84px;padding:6px 10px;border:1px solid var(--line);border-radius:8px;background:#fbfbfc}
.stat b{font-size:18px}.stat span{font-size:11.5px;color:var(--muted)}
.stat.bad{border-color:#f3c2c2;background:#fdf3f3}.stat.bad b{color:var(--fail)}
.stat.tolerated{border-color:#f1d9a8;background:#fdf8ec}.stat.tolerated b{color:#b26b00}
.pass-note{flex:1 1 100%;margin:0;color:#7a5200;font-size:13px}
ul.notes{margin:18px 0 0;padding:10px 18px 10px 34px;background:#fdf8ec;border:1px solid #f1d9a8;border-radius:10px;color:#7a5200;font-size:13px}
.muted{color:var(--muted)}
main{padding:8px 28px 28px;max-width:1500px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 18px 16px;margin-top:18px}
h2{font-size:15px;margin:0 0 10px;text-transform:uppercase;letter-spacing:.05em;color:#344054}
.note{color:var(--muted);margin:6px 0 0}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:12.5px;color:#344054;margin-bottom:6px}
.key{display:inline-flex;align-items:center;gap:6px}
.sw{display:inline-block;width:22px;height:12px;border-radius:2px}
.sw-split{background:repeating-linear-gradient(45deg,rgba(214,45,45,.75) 0 2px,rgba(214,45,45,.1) 2px 6px);outline:1px solid var(--fail)}
.sw-split-thin{width:2px;background:var(--fail)}
.sw-fault{width:16px;height:16px;border-radius:50%;background:var(--fault);color:#fff;font:700 10px/16px system-ui,sans-serif;text-align:center;font-style:normal}
.sw-verdict{width:0;height:0;border-radius:0;border-left:6px solid transparent;border-right:6px solid transparent;border-top:9px solid var(--fail)}
.chart-box{overflow-x:auto}
svg.chart{display:block;width:100%;min-width:680px;height:auto;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
${stateCss}
.lane-bg{fill:#f2f4f7}
.band{stroke:#fff;stroke-width:.5}
.band-text{font-size:11px;font-weight:600;dominant-baseline:central;pointer-events:none;fill:#fff}
.t-INIT{fill:#344054}
.lane-label{font-size:13px;font-weight:600;text-anchor:end;dominant-baseline:central;fill:var(--fg)}
.instance-name{font-size:13px;font-weight:700;fill:var(--fg);dominant-baseline:central}
.instance-info{font-size:11px;fill:var(--muted);dominant-baseline:central}
.group-sep{stroke:var(--line);stroke-width:1}
.grid{stroke:rgba(16,24,40,.13);stroke-width:1;pointer-events:none}
.axis-line,.tick{stroke:#98a2b3;stroke-width:1}
.tick-label{font-size:11px;fill:var(--muted);text-anchor:middle}
.split-brain{fill:url(#sb-hatch);stroke:var(--fail);stroke-width:1.5}
.split-brain.thin{fill:var(--fail);stroke:none}
.fault-line{stroke:var(--fault);stroke-width:1.5;stroke-dasharray:4 3}
.fault-dot{fill:var(--fault)}
.fault-num{fill:#fff;font-size:10.5px;font-weight:700;text-anchor:middle;dominant-baseline:central}
.fault-text{font-size:11.5px;fill:var(--fault);font-weight:600;dominant-baseline:central}
.verdict-at path{fill:var(--fail)}
.req-name{text-anchor:start;dominant-baseline:auto}
.req-stats{font-size:11.5px;fill:var(--muted)}
.req-max{font-size:10px;fill:var(--muted);text-anchor:end;dominant-baseline:central}
.req-ok{fill:#7cc49b}.req-failed{fill:var(--fail)}
.ok-text{color:var(--pass);fill:var(--pass)}.failed-text{color:var(--fail);fill:var(--fail);font-weight:600}
ol.faults{list-style:none;margin:10px 0 0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:4px 22px;font-size:13px}
ol.faults li{display:flex;align-items:center;gap:8px}
ol.faults .num{display:inline-block;width:18px;height:18px;border-radius:50%;background:var(--fault);color:#fff;font-size:10.5px;font-weight:700;text-align:center;line-height:18px}
.table-box{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-size:11.5px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);border-bottom:2px solid var(--line);padding:6px 10px}
td{padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere;unicode-bidi:isolate}
tbody tr:nth-child(even){background:#fafbfc}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.verdict.fail{background:#fdf1f1}
tr.verdict.fail td:first-child{box-shadow:inset 4px 0 var(--fail)}
tr.verdict.pass td:first-child{box-shadow:inset 4px 0 var(--pass)}
tr.verdict .text{font-weight:600}
tr.verdict.fail .why{color:#9b1c1c}
.mark{font-size:16px;font-weight:700}.mark.pass{color:var(--pass)}.mark.fail{color:var(--fail)}
.where{color:var(--muted)}
.chip{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:700;color:#fff;letter-spacing:.02em}
.chip.s-INIT{color:#344054}
.change{white-space:nowrap}.arrow{margin:0 5px;color:var(--muted)}
details summary{cursor:pointer;color:#344054;margin-bottom:6px}
footer{color:var(--muted);font-size:12px;padding:0 28px 24px}
@media print{body{background:#fff}section{break-inside:avoid;border-color:#ccc}.chart-box,.table-box{overflow:visible}svg.chart{min-width:0}}
`;

/** Each node's VRRP start (and gate opening) on the meta line's tooltip. */
function startTip(start: NonNullable<LabResult['start']>): string {
  const nodes = start.nodes.map((n) => `${n.node} VRRP at ${secs(n.at)}${n.opened === undefined ? '' : `, gate opened at ${secs(n.opened)}`}`);
  return [...nodes, ...(start.release === undefined ? [] : [`every gate released by ${secs(start.release)}`])].join('; ');
}
