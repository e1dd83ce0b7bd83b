// Lint rules: findings keepalived itself accepts but that break a director at run time or hide a
// typo. Each rule has a stable id (docs/rules.md) and one small check over the typed model.
import { Diagnostics, type Diagnostic, type Span } from '../config/diagnostics.js';
import type { Config, ScriptRef } from '../config/model/index.js';
import { lvsScriptsInUse } from '../config/resolve-lvs.js';
import { trackedNames, vrrpScriptsInUse } from '../config/resolve-vrrp.js';
import type { RuleId } from '../config/rules.js';

export interface Reporter {
  warning(at: Span, message: string, hint?: string): void;
  error(at: Span, message: string, hint?: string): void;
}

export interface LintRule {
  id: RuleId;
  doc: string;
  check(cfg: Config, report: Reporter): void;
}

// Shell syntax that only a shell understands; keepalived execs scripts directly.
const SHELL_SYNTAX = /(^|\s)(\[|\[\[|test)\s|&&|\|\||[|;<>`]|\$\(|^\s*(if|for|while)\s/;

export const lintRules: LintRule[] = [
  {
    id: 'vip-duplicate',
    doc: 'The same virtual address is listed twice, in one instance or in two: whichever becomes MASTER last steals it.',
    check(cfg, report) {
      const seen = new Map<string, string>();
      for (const inst of cfg.vrrpInstances) {
        for (const list of [inst.virtualIpaddress, inst.virtualIpaddressExcluded]) {
          for (const v of list) {
            const first = seen.get(v.address);
            if (first) report.warning(v.span, `virtual address ${v.address} is already used by ${first}`, 'list each VIP once');
            else seen.set(v.address, `vrrp_instance ${inst.name}`);
          }
        }
      }
    },
  },
  {
    id: 'vrrp-script-unused',
    doc: 'A vrrp_script that no instance or sync group tracks never runs (keepalived only runs tracked scripts).',
    check(cfg, report) {
      const tracked = trackedNames(cfg, 'trackScript');
      for (const s of cfg.vrrpScripts) {
        if (!tracked.has(s.name))
          report.warning(
            s.span,
            `vrrp_script ${s.name} is not tracked by any vrrp_instance, so it never runs`,
            `add it to a track_script block: track_script { ${s.name} }`,
          );
      }
    },
  },
  {
    id: 'script-unquoted-args',
    doc: 'Unquoted words after a script path are not its arguments: keepalived runs the first word alone (or takes them as user and group).',
    check(cfg, report) {
      for (const { script, at, what } of allScripts(cfg)) {
        if (script.dropped?.length) {
          report.warning(
            at,
            `${what}: keepalived runs '${script.command}' without '${script.dropped.join(' ')}'`,
            `quote the whole command: "${[script.command, ...script.dropped].join(' ')}"`,
          );
        }
      }
    },
  },
  {
    id: 'script-needs-shell',
    doc: 'Scripts are executed without a shell, so shell syntax ([ ], &&, |, redirections) makes them fail every time.',
    check(cfg, report) {
      for (const { script, at, what } of allScripts(cfg)) {
        const prog = script.argv[0] ?? '';
        if (/(^|\/)(sh|bash|dash|zsh|ksh)$/.test(prog)) continue;
        if (SHELL_SYNTAX.test(script.command)) {
          report.warning(
            at,
            `${what}: '${script.command}' uses shell syntax but keepalived runs scripts without a shell`,
            `wrap it: "/bin/sh -c '${script.command.replace(/'/g, "'\\''")}'"`,
          );
        }
      }
    },
  },
];

/** The scripts that run, looked up once per runLint() for the rules that read them. */
const scriptsInUse = new WeakMap<Config, { script: ScriptRef; at: Span; what: string }[]>();

function* allScripts(cfg: Config): Generator<{ script: ScriptRef; at: Span; what: string }> {
  let inUse = scriptsInUse.get(cfg);
  if (!inUse) scriptsInUse.set(cfg, (inUse = [...vrrpScriptsInUse(cfg), ...lvsScriptsInUse(cfg)]));
  yield* inUse;
  // Untracked vrrp_scripts are reported by vrrp-script-unused; check their text anyway. A set,
  // not a scan of `inUse` per script, and one at a time: a ~SEQ line can define a million of them.
  const listed = new Set(inUse.map((o) => o.script));
  for (const s of cfg.vrrpScripts) {
    if (s.script && !listed.has(s.script)) yield { script: s.script, at: s.spans.script ?? s.span, what: `vrrp_script ${s.name}` };
  }
}

/** Run every rule; findings become diagnostics with exit class 0 (keepalived would run). */
export function runLint(cfg: Config, rules: readonly LintRule[] = lintRules): Diagnostic[] {
  // Bounded per rule: a ~SEQ line's million untracked scripts make one summary line, not a million.
  const out = new Diagnostics();
  scriptsInUse.delete(cfg); // looked up afresh by each run
  for (const rule of rules) {
    const push =
      (severity: 'error' | 'warning') =>
      (at: Span, message: string, hint?: string): void =>
        out.add(at, severity, rule.id, message, { hint, exit: 0 });
    rule.check(cfg, { warning: push('warning'), error: push('error') });
  }
  return out.items;
}
