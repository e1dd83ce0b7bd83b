// keepalived 2.2.7 as the oracle on real-world configs: 228 keepalived.conf files from public
// GitHub repositories (test/fixtures/corpus, sources in SOURCES.md), each judged by our config
// test and compared with what `keepalived -t` said (expected.json, recorded on the author's host
// by test/fixtures/broken/record-keepalived.sh --corpus: the same host is given to ours here).
//
// Compared: the exit code, every line keepalived flags (and each unlined message, by the rule
// that answers it), and every line we flag with a non-zero exit that keepalived does not. Where
// we disagree, KNOWN says why: only where keepalived itself crashed. A disagreement not in KNOWN
// fails, and so does a KNOWN entry that no longer occurs.
// Needs no keepalived (the verdicts are recorded); files the configs name that exist on this
// machine are taken as they are here, as they were when recording.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeOf, type Diagnostic } from '../../src/config/diagnostics.js';
import { loadConfig } from '../../src/config/index.js';
import { DEFAULT_TARGET_VERSION } from '../../src/config/version.js';
import { authorHostProbe, type AuthorHost } from '../helpers/author-host.js';
import { findingsOf, misses, unlinedRules, type Finding } from '../helpers/keepalived-verdict.js';

const DIR = join(__dirname, '../fixtures/corpus');

interface Recorded {
  file: string;
  exitCode: number;
  raw: string[];
  host: AuthorHost;
  note?: string;
}
const RECORDED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Recorded[];

/** Why we disagree: keepalived's own crashes. */
const WHY = {
  sigterm:
    'keepalived 2.2.7 -t ends on SIGTERM (exit 143) without a message when script_user names an existing user and the vrrp_script exists (also with script_user nobody); we find nothing wrong (exit 0)',
};

/** file -> disagreement key -> why: keepalived's own crashes (WHY). */
const KNOWN: Record<string, Record<string, string>> = {
  '112-unixfree-whpg-coordinator-ha-backup.conf': { exit: WHY.sigterm },
  '113-unixfree-whpg-coordinator-ha-master.conf': { exit: WHY.sigterm },
  '253-pqarmitage-keepalived-devel-tools-2009-test.conf': { exit: WHY.sigterm },
  // keepalived ends before its instance checks, so the missing VIP it would report is ours only.
  '275-muziriyueliming-IngressKeepalived-backup.conf': { exit: WHY.sigterm, 'ours 13 [vip-none]': WHY.sigterm },
  '292-itallopedrosa-config-files-backup.conf': { exit: WHY.sigterm },
};

/**
 * keepalived's findings on one file. Its parent process numbers an unterminated last line one
 * less than its children do (116: the parent says 53, the children 54, the line an editor shows
 * and the one we report): where the children report the same message on the last line, the
 * parent's copy one line up is that miscount and is dropped.
 */
function keepalivedFindings(r: Recorded): Finding[] {
  // keepalived resolves an smtp_server name while it reads it; the recording namespace has no
  // DNS, so a name failed there that resolves on the author's host: host-dependent, not a finding.
  const unresolved = (f: Finding): boolean => {
    const name = /^Invalid smtp server (\S+) \S+$/.exec(f.message)?.[1];
    return name !== undefined && isIP(name) === 0;
  };
  const findings = findingsOf(r.raw, r.file).filter((f) => !unresolved(f));
  const text = readFileSync(join(DIR, r.file), 'utf8');
  if (text.endsWith('\n')) return findings;
  const last = text.split('\n').length;
  const onLast = (f: Finding): boolean => findings.some((g) => g.file === f.file && g.line === last && g.message === f.message);
  return findings.filter((f) => !(f.file === r.file && f.line === last - 1 && onLast(f)));
}

/** Lines we flag as problems (a non-zero exit) that keepalived does not flag. */
function extras(ours: readonly Diagnostic[], findings: readonly Finding[], file: string): { key: string; detail: string }[] {
  return ours
    .filter((d) => d.exit !== 0)
    .filter((d) => !findings.some((f) => f.line !== undefined && f.file === basename(d.file) && f.line >= d.line && f.line <= (d.endLine ?? d.line)))
    .filter((d) => !findings.some((f) => f.line === undefined && unlinedRules(f.message).includes(d.rule)))
    .map((d) => {
      const at = basename(d.file) === file ? `${d.line}` : `${basename(d.file)}:${d.line}`;
      return { key: `ours ${at} [${d.rule}]`, detail: `ours ${basename(d.file)}:${d.line} [${d.rule}] (exit ${d.exit}): ${d.message}` };
    });
}

/** Every way our verdict on one corpus file differs from keepalived's: key -> what. */
function disagreements(r: Recorded): Map<string, string> {
  const ours = loadConfig(join(DIR, r.file), { host: authorHostProbe(r.host), targetVersion: DEFAULT_TARGET_VERSION }).diagnostics;
  const findings = keepalivedFindings(r);
  const out = new Map<string, string>();
  const exit = exitCodeOf(ours);
  if (exit !== r.exitCode) out.set('exit', `exit: ours ${exit}, keepalived ${r.exitCode}${r.note ? ` (${r.note})` : ''}`);
  for (const m of [...misses(findings, ours, r.file), ...extras(ours, findings, r.file)]) {
    out.set(m.key, out.has(m.key) ? `${out.get(m.key)}; ${m.detail}` : m.detail);
  }
  return out;
}

describe('real-world keepalived.conf corpus against keepalived 2.2.7 -t', () => {
  it('has the corpus, every file recorded', () => {
    expect(RECORDED.length).toBeGreaterThanOrEqual(100);
    expect(new Set(RECORDED.map((r) => r.file)).size).toBe(RECORDED.length);
    for (const f of Object.keys(KNOWN))
      expect(
        RECORDED.some((r) => r.file === f),
        `KNOWN names ${f}`,
      ).toBe(true);
  });

  const seen = new Map<string, Map<string, string>>();
  for (const r of RECORDED) {
    it(r.file, () => {
      const found = disagreements(r);
      seen.set(r.file, found);
      const known = KNOWN[r.file] ?? {};
      const unexplained = [...found].filter(([k]) => !(k in known)).map(([k, v]) => `${k}: ${v}`);
      const gone = Object.keys(known).filter((k) => !found.has(k));
      expect(unexplained, 'disagreements with keepalived -t not listed in KNOWN').toEqual([]);
      expect(gone, 'KNOWN entries that no longer occur (remove them)').toEqual([]);
    });
  }

  it('summary', () => {
    const n = RECORDED.length;
    const exitAgree = RECORDED.filter((r) => !seen.get(r.file)?.has('exit')).length;
    const linesAgree = RECORDED.filter((r) => ![...(seen.get(r.file)?.keys() ?? [])].some((k) => k !== 'exit')).length;
    const lined = RECORDED.flatMap((r) => [...new Set(keepalivedFindings(r).flatMap((f) => (f.line === undefined ? [] : [`${r.file}:${f.file}:${f.line}`])))]);
    const uncovered = RECORDED.flatMap((r) => [...(seen.get(r.file)?.keys() ?? [])].filter((k) => /^line |^[^ ]+:\d+$/.test(k)));
    const extra = RECORDED.flatMap((r) => [...(seen.get(r.file)?.keys() ?? [])].filter((k) => k.startsWith('ours ')));
    console.log(
      `real-world corpus: ${n} files; exit code agrees ${exitAgree}/${n}; flagged lines agree in ${linesAgree}/${n} files; ` +
        `keepalived's flagged lines we flag ${lined.length - uncovered.length}/${lined.length}; lines only we flag ${extra.length}`,
    );
    expect(seen.size).toBe(n);
  });
});
