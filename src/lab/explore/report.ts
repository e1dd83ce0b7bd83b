// The exploration for people and scripts: a ranked table for the terminal, the JSON document
// (every time an integer number of µs, the unit in the key), and a self-contained HTML page with
// one row per finding. Pure: an Exploration in, text out.
import { esc } from '../report/chart.js';
import { htmlHead } from '../report/html.js';
import { dur, at as moment } from '../expect/index.js';
import { fit, padTo, wrap } from '../report/term.js';
import type { Exploration, RankedFinding } from './index.js';

const KIND_TEXT: Record<RankedFinding['kind'], string> = {
  'split-brain': 'two MASTERs',
  'no-master': 'no MASTER',
  'clients-failing': 'clients fail after move',
  'no-failover': 'should fail over, did not',
  flapping: 'flapping',
};

/** Where each finding's scenario was written, by rank. */
export type Written = Map<number, string>;

function summary(x: Exploration): string {
  const problems = x.findings.filter((f) => f.severity === 'problem').length;
  const limits = x.findings.length - problems;
  const rate = x.wallMs > 0 ? (x.runs / (x.wallMs / 1000)).toFixed(0) : '∞';
  const head = problems
    ? `${problems} problem${problems === 1 ? '' : 's'} found`
    : `no problems found${limits ? '' : ': every fault moved mastership as the configs intend, with no gap, split brain or flapping'}`;
  const lim = limits ? `; ${limits} limit${limits === 1 ? '' : 's'} of VRRP shown (two MASTERs while the directors were partitioned)` : '';
  return `${head}${lim}. ${x.explored} fault sets (${x.choices.length} single faults and their ordered pairs) in ${x.runs} sim runs, ${(x.wallMs / 1000).toFixed(1)}s (${rate} runs/s); faults from ${moment(x.plan.settle)}, each held ${dur(x.plan.window)}.`;
}

export function renderExploreText(x: Exploration, written: Written, width = 120): string {
  const out = [`explore ${x.scenario}: nodes ${x.nodes.join(', ')}, ${x.choices.length} single faults`, ''];
  if (x.findings.length) {
    const cols = [3, 8, 25, 8];
    const prefix = cols.reduce((a, b) => a + b + 2, 0);
    const rest = Math.max(40, width - prefix);
    const lines = (head: string[], text: string): void =>
      wrap(text, rest, 2).forEach((l, i) =>
        out.push(`${(i ? cols.map((c) => ' '.repeat(c)) : head.map((h, k) => padTo(fit(h, cols[k]), cols[k]))).join('  ')}  ${l}`.trimEnd()),
      );
    lines(['#', 'severity', 'finding', 'subject'], 'faults, then what happened');
    for (const f of x.findings) {
      const faults = f.faults.length ? f.faults.join(' + ') : 'no fault (settled start)';
      lines([String(f.rank), f.severity, KIND_TEXT[f.kind], f.subject], `${faults}${f.alsoIn ? ` (and ${f.alsoIn} more pairs)` : ''}`);
      lines(['', '', '', ''], `  ${f.why}`);
      const file = written.get(f.rank);
      if (file) lines(['', '', '', ''], `  rerun: keepalived-ts lab ${file}`);
    }
    out.push('');
  }
  out.push(summary(x));
  for (const n of x.notes) out.push(`note: ${n}`);
  return `${out.join('\n')}\n`;
}

export function exploreJson(x: Exploration, written: Written): object {
  return {
    scenario: x.scenario,
    file: x.file,
    nodes: x.nodes,
    faults: x.choices,
    settleUs: x.plan.settle,
    windowUs: x.plan.window,
    space: x.space,
    explored: x.explored,
    runs: x.runs,
    faultsApplied: x.faultsApplied,
    virtualUs: x.virtual,
    wallMs: x.wallMs,
    problems: x.findings.filter((f) => f.severity === 'problem').length,
    findings: x.findings.map((f) => ({
      rank: f.rank,
      kind: f.kind,
      severity: f.severity,
      subject: f.subject,
      nodes: f.nodes,
      faults: f.faults,
      alsoIn: f.alsoIn,
      startUs: Math.round(f.start),
      durationUs: Math.round(f.length),
      toEndOfRun: f.open,
      why: f.why,
      ...(written.has(f.rank) ? { scenarioFile: written.get(f.rank) } : {}),
    })),
    notes: x.notes,
  };
}

export function renderExploreHtml(x: Exploration, written: Written): string {
  const problems = x.findings.filter((f) => f.severity === 'problem').length;
  const verdict = problems ? `${problems} PROBLEM${problems === 1 ? '' : 'S'}` : 'NO PROBLEMS';
  const rows = x.findings
    .map(
      (f) => `<tr class="${f.severity}" id="finding-${f.rank}">
<td>${f.rank}</td><td><span class="sev">${esc(f.severity)}</span></td><td>${esc(KIND_TEXT[f.kind])}</td><td>${esc(f.subject)}</td>
<td>${f.faults.length ? f.faults.map((s) => `<div>${esc(s)}</div>`).join('') : '<div>no fault (settled start)</div>'}${f.alsoIn ? `<div class="more">and ${f.alsoIn} more pairs</div>` : ''}</td>
<td class="num">${esc(moment(f.start))}</td><td class="num">${esc(dur(f.length))}${f.open ? '+' : ''}</td>
<td>${esc(f.why)}</td><td>${written.has(f.rank) ? `<code>${esc(written.get(f.rank)!)}</code>` : ''}</td></tr>`,
    )
    .join('\n');
  const table = x.findings.length
    ? `<table id="findings"><thead><tr><th>#</th><th>severity</th><th>finding</th><th>subject</th><th>faults</th><th>at</th><th>for</th><th>what happened</th><th>scenario</th></tr></thead>
<tbody>
${rows}
</tbody></table>`
    : '<p id="no-findings">Nothing to report: every fault and pair of faults moved mastership as the configs intend.</p>';
  return `${htmlHead(`${esc(verdict)} · explore ${esc(x.scenario)} · keepalived-ts lab`, CSS)}
<body>
<header class="${problems ? 'fail' : 'pass'}"><div class="badge" id="verdict" data-problems="${problems}">${esc(verdict)}</div>
<div><h1>explore ${esc(x.scenario)}</h1><p>${esc(x.file)} · nodes ${esc(x.nodes.join(', '))}</p></div></header>
<main>
<p id="summary">${esc(summary(x))}</p>
${x.notes.length ? `<ul id="notes">${x.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
<section><h2>Findings</h2>
<p class="legend"><b>problem</b>: the configs' doing, worth fixing. <b>limit</b>: what VRRP cannot avoid (two MASTERs while the directors cannot hear each other), shown with its length. Times are from the start of the run; every run starts settled and holds each fault ${esc(dur(x.plan.window))}.</p>
${table}</section>
<section><h2>Faults explored</h2><ul id="faults">${x.choices.map((c) => `<li>${esc(c)}</li>`).join('')}</ul></section>
</main>
</body>
</html>
`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:16px;align-items:center;padding:16px 24px;color:#fff}
header.pass{background:#1f7a4d}header.fail{background:#b3261e}
.badge{font-weight:700;font-size:20px;border:2px solid #fff;border-radius:6px;padding:6px 12px}
h1{margin:0;font-size:20px}header p{margin:2px 0 0;opacity:.9}
main{padding:8px 24px 32px;max-width:1400px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #dde1e7;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eef0f4}td.num{white-space:nowrap;font-variant-numeric:tabular-nums}
tr.problem .sev{color:#b3261e;font-weight:700}tr.limit .sev{color:#8a5a00;font-weight:700}
.more{color:#5b6472;font-size:12px}code{font-size:12px;word-break:break-all}
.legend{color:#5b6472}`;
