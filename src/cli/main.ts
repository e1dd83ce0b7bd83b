#!/usr/bin/env node
// Entry point: `keepalived-ts [keepalived options]` or `keepalived-ts <command> ...`.
import { readFileSync } from 'node:fs';
import { DAEMON_OPTIONS, optionHelp, parseArgs } from './args.js';
import { configTest } from './config-test.js';
import { lintCommand, LINT_USAGE } from './lint.js';
import { keywordsCommand } from './keywords.js';
import { renderRuleReference } from '../config/rules.js';

/** Read on demand (only --help and --version need it), from the package.json above this file,
 * which is one level up in the bundle (dist/keepalived-ts.mjs) and two from dist/cli/main.js. */
function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'keepalived-ts' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

const usage = (): string => `keepalived-ts ${version()}: a keepalived-compatible VRRP and load-balancer daemon

Usage:
  keepalived-ts -t [-f FILE] [-i ID] [-e]     config test, keepalived's exit codes (0, 4, 5, 6)
  keepalived-ts lint FILE... [options]        lint configs (see keepalived-ts lint --help)
  keepalived-ts lint --pair A.conf B.conf     check that two directors agree and can fail over
  keepalived-ts keywords                      the keyword reference (Markdown)
  keepalived-ts rules                         the diagnostic rule ids (Markdown)
  keepalived-ts -f FILE [-n -l -D -P -C]      run the daemon (not available yet: see README)

keepalived options:
${optionHelp(DAEMON_OPTIONS)}
`;

export function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  if (cmd === 'lint') return lintCommand(rest);
  if (cmd === 'keywords') return keywordsCommand(rest);
  if (cmd === 'rules') { process.stdout.write(renderRuleReference()); return 0; }
  const args = parseArgs(argv, DAEMON_OPTIONS);
  if (args.errors.length) {
    for (const e of args.errors) process.stderr.write(`keepalived-ts: ${e}\n`);
    process.stderr.write("Try 'keepalived-ts --help'.\n");
    return 2;
  }
  if (args.options.has('help')) { process.stdout.write(usage()); return 0; }
  if (args.options.has('version')) { process.stdout.write(`keepalived-ts ${version()} (keepalived 2.2 configuration language)\n`); return 0; }
  if (args.positionals.length) {
    process.stderr.write(`keepalived-ts: unexpected argument '${args.positionals[0]}'\n${LINT_USAGE}`);
    return 2;
  }
  if (args.options.has('config-test')) return configTest(args.options);
  process.stderr.write('keepalived-ts: the daemon (VRRP and checkers) is not implemented yet; use -t to test a configuration or `lint`.\n');
  return 1;
}

process.exitCode = main(process.argv.slice(2));
