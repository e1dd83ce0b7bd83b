// `keepalived-ts lint`: every config problem we know of, as text or JSON, for CI before deploy.
import { loadConfig, type LoadResult } from '../config/index.js';
import { formatDiagnostic, orderDiagnostics, type Diagnostic } from '../config/diagnostics.js';
import { DEFAULT_TARGET_VERSION, isVersion } from '../config/version.js';
import { runLint } from '../lint/rules.js';
import { lintPair, type FaultOutcome } from '../lint/pair.js';
import { hostProbe } from '../proc/script-security.js';
import { printable, printableJson } from '../core/text.js';

export const LINT_USAGE = `Usage: keepalived-ts lint FILE... [--format text|json] [--strict] [--host] [-i ID]
       keepalived-ts lint --pair A.conf B.conf [--format text|json] [--strict]

  --format text|json   text (FILE:LINE:COL: severity: message [rule]) or one JSON document
  --strict             warnings fail the run too
  --host               also check this host: interfaces exist, scripts exist, are executable
                       and safe to run (script security, as keepalived checks it)
  --pair A B           check that two directors agree and that every tracked fault can fail over
  -i, --config-id ID   config id for @ID lines (default: short host name)
  --target-version V   judge as keepalived V does (default 2.2.7): newer keywords are unknown to it
Exit status: 0 clean, 1 errors (or warnings with --strict), 2 bad usage.
`;

interface LintOptions {
  format: 'text' | 'json';
  strict: boolean;
  host: boolean;
  pair: boolean;
  configId?: string;
  targetVersion: string;
  files: string[];
}

function parse(argv: string[]): LintOptions | string {
  const o: LintOptions = { format: 'text', strict: false, host: false, pair: false, targetVersion: DEFAULT_TARGET_VERSION, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--format' || a.startsWith('--format=')) {
      const v = a.includes('=') ? a.slice(9) : argv[++i];
      if (v !== 'text' && v !== 'json') return v === undefined ? "option '--format' needs a value" : `--format must be text or json, not '${v}'`;
      o.format = v;
    } else if (a === '--strict') o.strict = true;
    else if (a === '--host') o.host = true;
    else if (a === '--pair') o.pair = true;
    else if (a === '-i' || a === '--config-id') {
      if (i + 1 >= argv.length) return `option '${a}' needs a value`;
      o.configId = argv[++i];
    } else if (a === '--target-version' || a.startsWith('--target-version=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) return "option '--target-version' needs a value";
      if (!isVersion(v)) return `--target-version must be a version such as 2.2.7, not '${v}'`;
      o.targetVersion = v;
    } else if (a === '-h' || a === '--help') return '';
    else if (a.startsWith('-') && a !== '-') return `unknown option '${a}'`;
    else o.files.push(a);
  }
  if (o.files.length === 0) return 'no config file given';
  if (o.pair && o.files.length !== 2) return '--pair takes exactly two files';
  return o;
}

function lintOne(file: string, o: LintOptions): { loaded: LoadResult; diagnostics: Diagnostic[] } {
  const loaded = loadConfig(file, { configId: o.configId, host: o.host ? hostProbe() : undefined, targetVersion: o.targetVersion });
  // keepalived -t only warns about a missing main file (and so does `keepalived-ts -t`); a file
  // named to the linter that is not there is an error: nothing was checked.
  const own = loaded.diagnostics.map((d) =>
    d.rule === 'file-missing' && d.file === file && d.line === 0 ? { ...d, severity: 'error' as const, hint: 'check the path' } : d,
  );
  return { loaded, diagnostics: orderDiagnostics([...own, ...runLint(loaded.config)], loaded.files) };
}

function formatOutcome(f: FaultOutcome): string {
  const verdict = f.failover === true ? 'FAILOVER' : f.failover === 'tie' ? 'TIE' : 'no failover';
  return printable(`  ${f.instance} (VRID ${f.vrid}): ${f.fault}: A ${f.before.A}→${f.after.A}, B ${f.before.B}→${f.after.B}: ${verdict} (${f.explanation})`);
}

export function lintCommand(argv: string[]): number {
  const o = parse(argv);
  if (typeof o === 'string') {
    if (o) process.stderr.write(`keepalived-ts lint: ${printable(o)} (see keepalived-ts lint --help)\n`);
    else process.stdout.write(LINT_USAGE);
    return o ? 2 : 0;
  }
  const results = o.files.map((f) => ({ file: f, ...lintOne(f, o) }));
  let all = results.flatMap((r) => r.diagnostics);
  let outcomes: FaultOutcome[] = [];
  if (o.pair) {
    const report = lintPair(results[0].loaded.config, results[1].loaded.config);
    all = [...all, ...report.diagnostics];
    outcomes = report.outcomes;
  }
  const errors = all.filter((d) => d.severity === 'error').length;
  const warnings = all.length - errors;
  if (o.format === 'json') {
    process.stdout.write(
      printableJson({ files: o.files, diagnostics: all, ...(o.pair ? { failover: outcomes } : {}), summary: { errors, warnings } }, 2) + '\n',
    );
  } else {
    for (const d of all) process.stdout.write(formatDiagnostic(d) + '\n');
    if (o.pair) {
      process.stdout.write(`\nFailover analysis (A = ${printable(o.files[0])}, B = ${printable(o.files[1])}):\n`);
      process.stdout.write(outcomes.length ? outcomes.map(formatOutcome).join('\n') + '\n' : '  no tracked faults on the master to analyse\n');
    }
    process.stdout.write(`${o.files.length} file(s): ${errors} error(s), ${warnings} warning(s)\n`);
  }
  return errors > 0 || (o.strict && warnings > 0) ? 1 : 0;
}
