// keepalived 2.2.7 as the oracle: run the real `keepalived -t` and our config test on every
// broken fixture and every Debian sample, and fail if keepalived flags a line (or reports an
// unlined problem) that we do not. Exit codes must match, apart from the documented cases.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { exitCodeOf, type Diagnostic } from '../../src/config/diagnostics.js';
import { DEFAULT_TARGET_VERSION } from '../../src/config/version.js';
import { hostProbe } from '../../src/proc/script-security.js';
import { hasKeepalived } from '../helpers/oracle.js';

const FIXTURES = join(__dirname, '../fixtures/broken');
const SAMPLES = '/usr/share/doc/keepalived/samples';

const ORACLE = hasKeepalived();
if (!ORACLE) console.warn('corpus test skipped: keepalived is not installed (apt-get install keepalived; .ci/run does)');

/**
 * keepalived messages without a line number, and the rule of ours that must report the same
 * problem. A message not listed here fails the test: someone has to decide what it maps to.
 */
const UNLINED: [RegExp, string][] = [
  [/the virtual router id must be set/, 'vrid-missing'],
  [/VRRPv2 advertisement interval .* must be an integer/, 'advert-int-v2'],
  [/There are \d+ missing '\}'s or extra '\{'s/, 'brace-missing'],
  [/SECURITY VIOLATION - (check )?scripts are being executed/, 'script-security'],
  [/Sync group \S+ has only \d+ virtual router/, 'sync-group-single'],
  [/both use VRID \d+ with IPv\d on interface/, 'vrid-duplicate'],
  [/nopreempt is incompatible with priority 255/, 'owner-nopreempt'],
  [/ignoring tracked script \S+ with weights due to address_owner/, 'owner-weighted-tracker'],
  [/Initial state master is incompatible with AH authentication/, 'master-ah'],
  [/no scheduler set, setting default/, 'vs-sched-missing'],
  [/no forwarding method set, setting default/, 'vs-lvs-method-missing'],
  [/no protocol set - defaulting to UDP/, 'vs-protocol-missing'],
  [/has no real servers - ignoring/, 'vs-no-real-servers'],
  [/protocol specified for fwmark/, 'vs-fwmark-protocol'],
  [/Disabling track script \S+ since not found/, 'host-script'],
  [/Non-existent interface specified in configuration/, 'host-interface'],
  [/nopreempt will not work with initial state MASTER/, 'nopreempt-master'],
  // keepalived follows an include cycle until it runs out of descriptors; which file it names
  // depends on the descriptor limit, so any include-cycle finding of ours covers it.
  [/open problem \(Too many open files\)/, 'include-cycle'],
  [/Strict mode does not support authentication|VRRP version 3 does not support authentication|Authentication specified but no password given/, 'auth-ignored'],
  [/Ignoring track_interface \S+ since own interface/, 'track-own-interface'],
  [/track_interface \S+ is configured on VRRP instance and sync group/, 'track-interface-twice'],
  [/xmit_base is incompatible with strict mode/, 'strict-vmac-xmit-base'],
  [/State MASTER must match being address owner/, 'strict-state-owner'],
  [/accept mode for VRRP version 2 does not comply with RFC3768/, 'strict-accept-v2'],
  [/^\(\S+\) Unknown interface!$/, 'host-interface'],
  [/Configuration file '.*' is (a directory|not a regular non-executable file) - skipping/, 'file-skipped'],
];

/** Where our verdict differs from keepalived 2.2.7's on purpose. */
const EXIT_DIFFERS: Record<string, { ours: number; why: string }> = {
  '23-include-cycle.conf': { ours: 5, why: 'keepalived recurses into the cycle until it runs out of file descriptors and then exits 0; we report the cycle' },
  '42-http-get-without-url.conf': { ours: 5, why: 'keepalived 2.2.7 segfaults (exit 139); we report the checker without url' },
  // keepalived exits 5 for its state MASTER + AH warning; AH itself is not implemented here, so the
  // config is refused as one that cannot run (exit 4) rather than run without authentication.
  'keepalived.conf.SSL_GET': { ours: 4, why: 'auth_type AH is not implemented in keepalived-ts: refused with exit 4 (auth-ah-unimplemented)' },
};

interface Finding {
  file: string;
  line?: number;
  message: string;
}

function runKeepalived(file: string): { exit: number; findings: Finding[] } {
  const r = spawnSync('keepalived', ['-t', '-f', basename(file)], { cwd: dirname(file), encoding: 'utf8', timeout: 30_000 });
  const exit = r.status ?? (r.signal === 'SIGSEGV' ? 139 : 128);
  const findings: Finding[] = [];
  for (const raw of `${r.stdout}\n${r.stderr}`.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const withFile = /^\((.+?): Line (\d+)\) (.*)$/.exec(line);
    const main = /^\(Line (\d+)\) (.*)$/.exec(line);
    if (withFile) findings.push({ file: basename(withFile[1]), line: Number(withFile[2]), message: withFile[3] });
    else if (main) findings.push({ file: basename(file), line: Number(main[1]), message: main[2] });
    else findings.push({ file: basename(file), message: line });
  }
  return { exit, findings };
}

/** Messages that continue the previous one on a new line carry no information of their own. */
const CONTINUATION = /^Please use global lvs_sync_daemon$/;

function compare(file: string, configId?: string): void {
  const oracle = runKeepalived(file);
  // Judged as `keepalived-ts -t` judges: for keepalived 2.2.7, the version installed as the oracle.
  const ours = loadConfig(file, { host: hostProbe(), configId, targetVersion: DEFAULT_TARGET_VERSION }).diagnostics;
  const covered = (f: Finding): boolean => ours.some((d: Diagnostic) => basename(d.file) === f.file && f.line! >= d.line && f.line! <= (d.endLine ?? d.line));
  const missing: string[] = [];
  for (const f of oracle.findings) {
    if (CONTINUATION.test(f.message)) continue;
    const byRule = UNLINED.find(([re]) => re.test(f.message))?.[1];
    if (f.line !== undefined && !(byRule === 'include-cycle' && ours.some((d) => d.rule === byRule))) {
      if (!covered(f)) missing.push(`${f.file}:${f.line}: ${f.message}`);
      continue;
    }
    const rule = byRule;
    if (!rule) missing.push(`unmapped keepalived message (add it to UNLINED): ${f.message}`);
    else if (!ours.some((d) => d.rule === rule)) missing.push(`no [${rule}] for: ${f.message}`);
  }
  expect(missing, `keepalived flags what we do not, in ${basename(file)}`).toEqual([]);
  const differs = EXIT_DIFFERS[basename(file)];
  expect(exitCodeOf(ours), differs?.why ?? 'exit code as keepalived -t').toBe(differs ? differs.ours : oracle.exit);
}

describe.skipIf(!ORACLE)('keepalived -t corpus', () => {
  const fixtures = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.conf'))
    .sort();
  it('has the fixtures', () => expect(fixtures.length).toBeGreaterThan(40));
  for (const f of fixtures) it(`broken fixture ${f}`, () => compare(join(FIXTURES, f)));

  const samples = existsSync(SAMPLES)
    ? readdirSync(SAMPLES)
        .filter((f) => f.startsWith('keepalived.conf.'))
        .sort()
    : [];
  for (const f of samples) {
    it(`Debian sample ${f}`, () => {
      compare(join(SAMPLES, f));
      // Every sample parses into a model, whatever keepalived thinks of its details.
      const { config } = loadConfig(join(SAMPLES, f));
      expect(config.vrrpInstances.length + config.virtualServers.length).toBeGreaterThan(0);
    });
  }
});
