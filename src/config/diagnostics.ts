// Config problems are values with positions, never thrown errors (keepalived's config_err_t idea):
// every stage appends to one list and keeps going, and `-t` exits with the worst class seen.
import { fromConfigBytes, printable } from '../core/text.js';
import type { RuleId } from './rules.js';

/** A position in a config file: 1-based line and column, as editors show them. */
export interface Span {
  file: string;
  line: number;
  col: number;
}

/** A span of its own, holding only the position: a model keeps it, not the word or statement it
 * was taken from (and what that references). */
export const spanOf = (at: Span): Span => ({ file: at.file, line: at.line, col: at.col });

export type Severity = 'error' | 'warning';

/**
 * What a finding means for `keepalived -t`'s exit status (keepalived 2.2.7, lib/scheduler.h):
 * 0 runs as is, 5 errors it could still run with, 4 cannot run, 6 scripts without
 * enable_script_security, 2 a line keepalived's parser stops at (a keyword without its value:
 * keepalived exits there, and would not start). Lint-only findings are 0: keepalived itself would
 * accept them.
 */
export type ExitClass = 0 | 2 | 4 | 5 | 6;

export interface Diagnostic extends Span {
  severity: Severity;
  message: string;
  /** Stable id, documented in docs/rules.md; users filter and suppress by it. */
  rule: RuleId;
  /** What to write instead, when we know. */
  hint?: string;
  exit: ExitClass;
  /** Last line the finding covers, when it is about a whole block (a skipped unknown block). */
  endLine?: number;
  /**
   * keepalived's VRRP process exits at this finding when it starts (vrrp_complete_init fails), and
   * the daemon with it: "exited with permanent error CONFIG" (exit 2). `-t` only reports it.
   */
  stopsVrrp?: true;
}

/**
 * Findings kept per rule. A `~SEQ` line can repeat one finding a million times: past the bound
 * the rest are counted into one summary finding (at the first one left out, with the worst
 * severity and exit class among them, so the verdict is unchanged). Findings that decide the exit
 * code (keepalived reports them too, every one) keep a far higher bound than our own warnings.
 */
export const KEPT_PER_RULE = { verdict: 10_000, advice: 100 } as const;

/** The finding standing for those left out of one rule. */
class Summary implements Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  severity: Severity;
  readonly rule: RuleId;
  exit: ExitClass;
  readonly hint: string;
  /** Findings left out. */
  count = 0;

  constructor(first: Diagnostic, kept: number) {
    this.file = first.file;
    this.line = first.line;
    this.col = first.col;
    this.severity = first.severity;
    this.rule = first.rule;
    this.exit = first.exit;
    this.hint = `the first ${kept} are listed; each of the others is the same kind of finding`;
  }

  get message(): string {
    return `${this.count} more '${this.rule}' finding${this.count === 1 ? '' : 's'} not shown`;
  }

  toJSON(): Diagnostic {
    const { file, line, col, severity, message, rule, hint, exit } = this;
    return { file, line, col, severity, message, rule, hint, exit };
  }
}

/** Which of keepalived's reading passes a finding belongs to (passes.ts). */
export type Pass = 'parent' | 'checker' | 'vrrp' | 'bfd';

export class Diagnostics {
  readonly items: Diagnostic[] = [];
  /** keepalived's pass (passes.ts) each item was found in, where the builder knew it. */
  readonly passes: (Pass | undefined)[] = [];
  /** The pass of what is being read now. */
  pass: Pass | undefined;
  private readonly perRule = new Map<RuleId, { n: number; summary?: Summary }>();

  /**
   * Findings listed so far, so that a line read in two places (builder.ts feedOpen) is reported
   * once. Only listed ones: past its rule's bound a finding is only counted, and so is this set.
   */
  private readonly said = new Set<string>();

  add(at: Span, severity: Severity, rule: RuleId, message: string, opts: { hint?: string; exit?: ExitClass; endLine?: number; stopsVrrp?: true } = {}): void {
    const exit = opts.exit ?? (severity === 'error' ? 5 : 0);
    if ((this.perRule.get(rule)?.n ?? 0) < (exit === 0 ? KEPT_PER_RULE.advice : KEPT_PER_RULE.verdict)) {
      const key = `${at.file}\0${at.line}\0${at.col}\0${rule}\0${message}`;
      if (this.said.has(key)) return;
      this.said.add(key);
    }
    const d: Diagnostic = { file: at.file, line: at.line, col: at.col, severity, message, rule, hint: opts.hint, exit };
    if (opts.endLine !== undefined) d.endLine = opts.endLine;
    if (opts.stopsVrrp) d.stopsVrrp = true;
    this.push(d);
  }

  /** Keep a finding, within the bound for its rule. */
  push(d: Diagnostic): void {
    let seen = this.perRule.get(d.rule);
    if (!seen) this.perRule.set(d.rule, (seen = { n: 0 }));
    const kept = d.exit === 0 ? KEPT_PER_RULE.advice : KEPT_PER_RULE.verdict;
    if (++seen.n <= kept) {
      this.items.push(d);
      this.passes.push(this.pass);
      return;
    }
    let s = seen.summary;
    if (!s) {
      this.items.push((s = seen.summary = new Summary(d, kept)));
      this.passes.push(this.pass);
    }
    s.count++;
    if (d.severity === 'error') s.severity = 'error';
    if (exitRank[d.exit] > exitRank[s.exit]) s.exit = d.exit;
  }

  error(at: Span, rule: RuleId, message: string, opts?: { hint?: string; exit?: ExitClass; endLine?: number; stopsVrrp?: true }): void {
    this.add(at, 'error', rule, message, opts);
  }

  warning(at: Span, rule: RuleId, message: string, opts?: { hint?: string; exit?: ExitClass; endLine?: number }): void {
    this.add(at, 'warning', rule, message, opts);
  }
}

const exitRank = { 0: 0, 5: 1, 6: 2, 4: 3, 2: 4 } as const;

/** keepalived's precedence: 2 (it stopped reading) beats 4 (cannot run) beats 6 (script security) beats 5 (errors). */
export function exitCodeOf(diags: readonly Diagnostic[]): ExitClass {
  let worst: ExitClass = 0;
  for (const d of diags) if (exitRank[d.exit] > exitRank[worst]) worst = d.exit;
  return worst;
}

const SCRIPT_FINDINGS = new Set<RuleId>(['script-security', 'host-script', 'script-unsafe', 'script-user']);

/**
 * Why the daemon will not run this configuration, or undefined when it will: at start, only what
 * keepalived cannot run either (exit class 4); on a reload, any error, since a broken config must
 * never replace a working one.
 */
export function refusal(diags: readonly Diagnostic[], reload: boolean): string | undefined {
  // Scripts keepalived disables on this machine (missing, unsafe...) are no reason to keep the
  // old config: keepalived reloads without them, and so do we.
  const errors = diags.filter((d) => d.severity === 'error' && !SCRIPT_FINDINGS.has(d.rule)).length;
  const exit = exitCodeOf(diags);
  if (exit === 4 || exit === 2 || (reload && errors)) return `${errors} error(s)`;
  return undefined;
}

/** One line, whatever the config held: control characters in words and file names are escaped. */
export function formatDiagnostic(d: Diagnostic): string {
  const hint = d.hint ? ` (${d.hint})` : '';
  return printable(fromConfigBytes(`${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}${hint} [${d.rule}]`));
}

/** Files in the order they were read (include order), then line and column: how people read. */
export function orderDiagnostics(diags: Diagnostic[], files: readonly string[]): Diagnostic[] {
  const rank = (f: string): number => {
    const i = files.indexOf(f);
    return i < 0 ? files.length : i;
  };
  return diags
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d.file) - rank(b.d.file) || a.d.line - b.d.line || a.d.col - b.d.col || a.i - b.i)
    .map((x) => x.d);
}
