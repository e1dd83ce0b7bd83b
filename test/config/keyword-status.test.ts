// The keyword table's runtime status cannot drift from the code: a keyword marked implemented must
// be read by runtime code (RUNTIME_DIRS), and a keyword marked not implemented must not be. What
// "read" means is simple on purpose: its model field (or what resolve-*.ts folds it into, READ_AS)
// appears as a property access, a destructured name or a string key in that code, comments aside.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootBlock } from '../../src/config/keywords/root.js';
import { keywordPairs } from '../../src/config/reference.js';
import { statusOf } from '../../src/config/schema.js';
import { loadConfigText } from '../../src/config/index.js';
import { logDiagnostics } from '../../src/daemon/config-log.js';
import { LOAD_TIME_ONLY, READ_AS, RUNTIME_DIRS, SHARED_NAMES } from '../helpers/keyword-readers.js';

const ROOT = join(__dirname, '../..');
const tsFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
const withoutComments = (t: string): string => t.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
const source = (dirs: string[]): string => dirs.flatMap((d) => tsFiles(join(ROOT, d)).map((f) => withoutComments(readFileSync(f, 'utf8')))).join('\n');

const runtime = source(RUNTIME_DIRS);
const loader = ['resolve.ts', 'resolve-vrrp.ts', 'resolve-lvs.ts', 'resolve-scripts.ts', 'resolve-host.ts']
  .map((f) => withoutComments(readFileSync(join(ROOT, 'src/config', f), 'utf8')))
  .join('\n');
const readsIn = (text: string, name: string): boolean => new RegExp(`\\.${name}\\b|[{,]\\s*${name}\\s*[,}]|'${name}'`).test(text);

const pairs = keywordPairs(rootBlock).map((p) => ({ ...p, key: `${p.block.name} ${p.kw.name}`, status: statusOf(p.kw) }));
const namesOf = (p: (typeof pairs)[number]): string[] => READ_AS[p.key] ?? [p.kw.field];

describe('keyword status (docs/compatibility.md)', () => {
  it('every keyword marked implemented is read by runtime code', () => {
    const unread = pairs
      .filter((p) => p.status === 'implemented' && !(p.key in LOAD_TIME_ONLY))
      .filter((p) => !namesOf(p).some((n) => readsIn(runtime, n)))
      .map((p) => `${p.key} (${namesOf(p).join('/')})`);
    expect(unread, `marked implemented, read nowhere in ${RUNTIME_DIRS.join(' ')}: mark them notImplemented or map them in READ_AS`).toEqual([]);
  });

  it('load-time-only keywords are read where the config is resolved', () => {
    for (const key of Object.keys(LOAD_TIME_ONLY)) {
      const p = pairs.find((x) => x.key === key);
      expect(p?.status, key).toBe('implemented');
      expect(readsIn(loader, p!.kw.field), key).toBe(true);
    }
  });

  it('no keyword marked not implemented is read by runtime code', () => {
    const read = pairs
      .filter((p) => p.status === 'not-implemented')
      .filter((p) => namesOf(p).some((n) => !(n in SHARED_NAMES) && readsIn(runtime, n)))
      .map((p) => `${p.key} (${namesOf(p).join('/')})`);
    expect(read, 'marked not implemented but read at run time: implemented now? drop notImplemented in the same commit').toEqual([]);
  });

  it('the exception lists name real keywords and fields', () => {
    const keys = new Set(pairs.map((p) => p.key));
    for (const k of [...Object.keys(READ_AS), ...Object.keys(LOAD_TIME_ONLY)]) expect(keys.has(k), k).toBe(true);
    // A shared name is only an excuse while a not-implemented keyword uses it and runtime code reads it.
    for (const n of Object.keys(SHARED_NAMES)) {
      expect(
        pairs.some((p) => p.status === 'not-implemented' && namesOf(p).includes(n)),
        n,
      ).toBe(true);
      expect(readsIn(runtime, n), n).toBe(true);
    }
  });

  it('every pair has one status, and a reason when it is not implemented or ignored', () => {
    for (const p of pairs) {
      expect(p.kw.notImplemented !== undefined && p.kw.ignored !== undefined, p.key).toBe(false);
      if (p.status !== 'implemented') expect((p.kw.notImplemented ?? p.kw.ignored)!.length, p.key).toBeGreaterThan(10);
    }
  });

  it('each use of a not-implemented keyword is a warning with its own rule; ignored ones say nothing', () => {
    const r = loadConfigText(
      [
        'global_defs {',
        '  vrrp_no_swap',
        '  log_unknown_vrids',
        '}',
        'vrrp_instance VI_1 {',
        '  interface eth0',
        '  virtual_router_id 51',
        '  debug 2',
        '  linkbeat_use_polling',
        '  virtual_ipaddress {',
        '    10.0.0.1',
        '  }',
        '}',
      ].join('\n'),
    );
    const found = r.diagnostics.filter((d) => d.rule === 'keyword-not-implemented');
    expect(found.map((d) => [d.line, d.severity])).toEqual([
      [2, 'warning'],
      [3, 'warning'],
      [9, 'warning'],
    ]);
    expect(found[2].message).toMatch(/^'linkbeat_use_polling' \(vrrp_instance\) is not implemented in keepalived-ts: .*link state/);
    expect(r.diagnostics.filter((d) => d.line === 8)).toEqual([]);
  });

  it('did-you-mean never offers a not-implemented keyword without saying so', () => {
    const r = loadConfigText(
      'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  linkbeat_use_poling\n  priorty 100\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\n',
    );
    const hints = r.diagnostics.filter((d) => d.rule === 'unknown-keyword').map((d) => d.hint);
    expect(hints).toEqual(["did you mean 'linkbeat_use_polling' (accepted, but not implemented in keepalived-ts)?", "did you mean 'priority'?"]);
  });

  it('the daemon logs one line per not-implemented keyword, at its first use, with the number of uses', () => {
    const r = loadConfigText(
      'global_defs {\n  log_unknown_vrids\n}\n' +
        [1, 2]
          .map(
            (i) =>
              `vrrp_instance VI_${i} {\n  interface eth0\n  virtual_router_id ${i}\n  linkbeat_use_polling\n  virtual_ipaddress {\n    10.0.0.${i}\n  }\n}\n`,
          )
          .join(''),
    );
    const lines: [string, string][] = [];
    logDiagnostics(r.diagnostics, { error: (_o, m) => lines.push(['error', m]), warn: (_o, m) => lines.push(['warn', m]) });
    expect(lines.filter(([, m]) => m.includes('[keyword-not-implemented]'))).toEqual([
      [
        'warn',
        expect.stringMatching(
          /^keepalived\.conf:2:3: warning: 'log_unknown_vrids' \(global_defs\) is not implemented in keepalived-ts: [^;]*\[keyword-not-implemented\]$/,
        ),
      ],
      [
        'warn',
        expect.stringMatching(
          /^keepalived\.conf:7:3: warning: 'linkbeat_use_polling' \(vrrp_instance\) is not implemented .*; 2 uses, the first here \[keyword-not-implemented\]$/,
        ),
      ],
    ]);
  });

  it("global_tracking is keepalived's old sync_group_tracking_weight: an error (as keepalived -t reports it) that still applies", () => {
    const conf = (kw: string): string =>
      `vrrp_script chk {\n  script /bin/true\n  weight -30\n}\nvrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n${kw}}\n` +
      [1, 2]
        .map(
          (i) =>
            `vrrp_instance VI_${i} {\n  interface eth0\n  virtual_router_id ${i}\n  track_script {\n    chk\n  }\n  virtual_ipaddress {\n    10.0.0.${i}\n  }\n}\n`,
        )
        .join('');
    const weights = (text: string) => loadConfigText(text).config.resolved.vrrpInstances[0].tracks.map((t) => t.ignoredWeight);
    // Without either, keepalived drops a member's weighted script (vrrp_complete_instance).
    expect(weights(conf(''))).toEqual([]);
    expect(
      loadConfigText(conf(''))
        .diagnostics.filter((x) => x.rule === 'sync-weighted-tracker')
        .map((x) => x.message),
    ).toEqual(['(VI_1) ignoring tracked script chk with weights due to SYNC group', '(VI_2) ignoring tracked script chk with weights due to SYNC group']);
    expect(weights(conf('  sync_group_tracking_weight\n'))).toEqual([undefined]);
    expect(weights(conf('  global_tracking\n'))).toEqual([undefined]);
    const d = loadConfigText(conf('  global_tracking\n')).diagnostics.filter((x) => x.rule === 'deprecated-keyword');
    expect(d.map((x) => [x.line, x.severity, x.message])).toEqual([
      [10, 'error', '(G) global_tracking is deprecated. Use track_interface/script/file on the sync group'],
    ]);
  });
});
