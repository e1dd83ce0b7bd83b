// Reading `keepalived -t`'s output as the oracle of our config test: its messages, which of our
// rules answers a message that carries no line number, and what we fail to report. Shared by the
// comparison tests (test/config/corpus.test.ts, test/config/real-world-corpus.test.ts).
import { spawnSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import type { Diagnostic } from '../../src/config/diagnostics.js';

/**
 * keepalived messages without a line number, and the rule of ours that must report the same
 * problem. A message not listed here fails the test: someone has to decide what it maps to.
 */
export const UNLINED: [RegExp, string | readonly string[]][] = [
  [/the virtual router id must be set/, 'vrid-missing'],
  [/VRRPv2 advertisement interval .* must be an integer/, 'advert-int-v2'],
  [/There are \d+ missing '\}'s or extra '\{'s/, 'brace-missing'],
  [/SECURITY VIOLATION - (check )?scripts are being executed/, 'script-security'],
  [/Sync group \S+ has only \d+ virtual router/, 'sync-group-single'],
  [/both use VRID \d+ with IPv\d on interface/, 'vrid-duplicate'],
  [/^\(\S+\) duplicate VRID conflict with \S+ VRID \d+$/, 'vrid-duplicate'],
  [/nopreempt is incompatible with priority 255/, 'owner-nopreempt'],
  [
    /ignoring (tracked script \S+ with weights|\S+ tracked interface|weight from tracked file \S+|tracked (file|bfd) \S+ with weight -?\d+) due to (address_owner|address owner)/,
    'owner-weighted-tracker',
  ],
  [
    /ignoring (tracked script \S+ with weights|\S+ tracked interface weight|weight from tracked file \S+|tracked (file|bfd) \S+ with weight -?\d+) due to SYNC group/,
    'sync-weighted-tracker',
  ],
  [/A unicast keyword has been specified without any unicast peers/, 'unicast-no-peers'],
  [/preempt delay will not work with initial state MASTER/, 'preempt-delay-master'],
  [/quorum \d+ for \S+ exceeds total weight of real servers/, 'vs-quorum-weight'],
  [/virtual server \S+ and (real|sorry) server .*ports don't match/, 'rs-port-mismatch'],
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
  // No interface: one that does not exist here, or none at all in the config.
  [/^\(\S+\) Unknown interface!$/, ['host-interface', 'interface-none']],
  [/Configuration file '.*' is (a directory|not a regular non-executable file) - skipping/, 'file-skipped'],
  [/No VIP specified; at least one is (sensible|required)/, 'vip-none'],
  [/Sync group \S+ has no virtual router\(s\)\. removing/, 'sync-group-empty'],
];

/** Messages that continue the previous one on a new line carry no information of their own. */
export const CONTINUATION = /^\s*Please use global lvs_sync_daemon$/;

/** One keepalived message: about `file` at `line`, or (no line) about the configuration. */
export interface Finding {
  file: string;
  line?: number;
  message: string;
}

/** keepalived's output lines as findings; "(Line N)" without a file name is about `file`. */
export function findingsOf(output: readonly string[], file: string): Finding[] {
  const findings: Finding[] = [];
  for (const raw of output) {
    const line = raw.trim();
    if (!line) continue;
    const withFile = /^\((.+?): Line (\d+)\) (.*)$/.exec(line);
    const main = /^\(Line (\d+)\) (.*)$/.exec(line);
    if (withFile) findings.push({ file: basename(withFile[1]), line: Number(withFile[2]), message: withFile[3] });
    else if (main) findings.push({ file: basename(file), line: Number(main[1]), message: main[2] });
    else findings.push({ file: basename(file), message: line });
  }
  return findings;
}

/** Run the real `keepalived -t` on `file` (from its directory, so it prints the basename). */
export function runKeepalived(file: string): { exit: number; findings: Finding[] } {
  const r = spawnSync('keepalived', ['-t', '-f', basename(file)], { cwd: dirname(file), encoding: 'utf8', timeout: 30_000 });
  const exit = r.status ?? (r.signal === 'SIGSEGV' ? 139 : 128);
  return { exit, findings: findingsOf(`${r.stdout}\n${r.stderr}`.split('\n'), file) };
}

/** Does one of our diagnostics cover keepalived's lined finding? */
export const covers = (ours: readonly Diagnostic[], f: Finding): boolean =>
  ours.some((d) => basename(d.file) === f.file && f.line! >= d.line && f.line! <= (d.endLine ?? d.line));

/** The rule a message without a line number maps to (undefined: nobody has decided yet). */
export const unlinedRules = (message: string): readonly string[] => {
  const rule = UNLINED.find(([re]) => re.test(message))?.[1];
  return rule === undefined ? [] : typeof rule === 'string' ? [rule] : rule;
};

/** Something keepalived reports that we do not: `key` names it stably, `detail` says what. */
export interface Miss {
  /** "line N" (this file), "FILE:N" (an included file), "[rule]" (unlined), "unmapped" (no rule yet). */
  key: string;
  detail: string;
}

/** What keepalived reports about `file` (and its includes) that our diagnostics do not. */
export function misses(findings: readonly Finding[], ours: readonly Diagnostic[], file?: string): Miss[] {
  const out: Miss[] = [];
  for (const f of findings) {
    if (CONTINUATION.test(f.message)) continue;
    const rules = unlinedRules(f.message);
    if (f.line !== undefined && !(rules.includes('include-cycle') && ours.some((d) => d.rule === 'include-cycle'))) {
      if (!covers(ours, f)) out.push({ key: f.file === file ? `line ${f.line}` : `${f.file}:${f.line}`, detail: `${f.file}:${f.line}: ${f.message}` });
      continue;
    }
    if (!rules.length) out.push({ key: 'unmapped', detail: `unmapped keepalived message (add it to UNLINED): ${f.message}` });
    else if (!ours.some((d) => rules.includes(d.rule))) out.push({ key: `[${rules[0]}]`, detail: `no [${rules.join('|')}] for: ${f.message}` });
  }
  return out;
}

/** What keepalived reports that we do not, one line each ("file:line: message" or "no [rule] for: ..."). */
export const missingFindings = (findings: readonly Finding[], ours: readonly Diagnostic[]): string[] => misses(findings, ours).map((m) => m.detail);
