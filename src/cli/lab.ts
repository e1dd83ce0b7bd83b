// `keepalived-ts lab SCENARIO.yaml`: run a director pair's real configs through a scenario of
// faults (simulated, or in network namespaces) and judge its expectations. Exit 0 when all pass.
import { writeFileSync } from 'node:fs';
import { formatDiagnostic } from '../config/diagnostics.js';
import { finish } from '../lab/expect/index.js';
import { loadScenario } from '../lab/load/index.js';
import { renderHtml } from '../lab/report/html.js';
import { resultJson, scenarioErrorJson } from '../lab/report/json.js';
import { renderTimeline } from '../lab/report/text.js';
import type { LabResult, LabRun } from '../lab/model/result.js';
import type { Scenario } from '../lab/model/scenario.js';
import { runSim } from '../lab/sim/index.js';
import { printable, printableJson } from '../core/text.js';
import { optionHelp, parseArgs, type OptionSpec } from './args.js';
import { errnoOf, unwritable, userError, writeFailure } from './errors.js';

const LAB_OPTIONS: OptionSpec[] = [
  { long: 'backend', short: 'b', value: 'required', help: 'sim (default: in-process, virtual time) or netns (network namespaces, needs root)' },
  { long: 'report', value: 'required', help: 'Also write the run as an HTML report to this file' },
  { long: 'json', value: 'none', help: 'Print the result as JSON instead of the timeline' },
  { long: 'explore', value: 'none', help: 'Search every fault and pair of faults of the configs on sim (give a scenario or the .conf files)' },
  { long: 'out', value: 'required', help: 'With --explore: write a replayable scenario per finding into this directory' },
  { long: 'max-runs', value: 'required', help: 'With --explore: run at most this many fault sets, singles first (default 2000)' },
  { long: 'max-time', value: 'required', help: 'With --explore: cut each run at this much virtual time (default 10m)' },
  { long: 'help', short: 'h', value: 'none', help: 'Display this help message' },
];

export const LAB_USAGE = `Usage: keepalived-ts lab SCENARIO.yaml [--backend sim|netns] [--report FILE.html] [--json]
       keepalived-ts lab --explore SCENARIO.yaml|A.conf B.conf... [--out DIR] [--report FILE.html] [--json]

${optionHelp(LAB_OPTIONS)}
Exit status: 0 every expectation passed, 1 one failed, 2 bad usage or the backend cannot run
here, 3 the scenario has errors (FILE:LINE:COL on stderr; with --json, also on stdout).
With --explore: 0 no problem found, 1 a problem found, 2 and 3 as above.
`;

/** The scenario has errors and did not run: distinct from a failed expectation (1). */
export const EXIT_SCENARIO = 3;

async function runBackend(backend: string, scenario: Scenario): Promise<LabRun> {
  if (backend === 'netns') {
    const { runNetns } = await import('../lab/netns/index.js');
    return runNetns(scenario, { log: (line) => process.stderr.write(`${printable(line)}\n`) });
  }
  return runSim(scenario);
}

/** One line per failed expectation, in the diagnostics' FILE:LINE:COL form so editors can jump. */
export function failureLines(result: LabResult): string[] {
  return result.expectations.filter((v) => !v.passed).map((v) => printable(`${v.where}: expectation failed: ${v.text}: ${v.why}`));
}

export async function labCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, LAB_OPTIONS);
  if (args.options.has('help')) {
    process.stdout.write(LAB_USAGE);
    return 0;
  }
  const str = (k: string): string | undefined => (typeof args.options.get(k) === 'string' ? (args.options.get(k) as string) : undefined);
  if (args.options.has('explore') && !args.errors.length) {
    if (args.options.has('backend') && args.options.get('backend') !== 'sim') {
      process.stderr.write("keepalived-ts lab: --explore runs on sim; rerun a finding's scenario with --backend netns (see keepalived-ts lab --help)\n");
      return 2;
    }
    const { exploreCommand } = await import('./lab-explore.js');
    return exploreCommand({
      paths: args.positionals,
      json: args.options.has('json'),
      report: str('report'),
      out: str('out'),
      maxRuns: str('max-runs'),
      maxTime: str('max-time'),
    });
  }
  const backend = args.options.get('backend') ?? 'sim';
  const problem =
    args.errors[0] ??
    (args.positionals.length !== 1
      ? 'give one scenario file'
      : ['out', 'max-runs', 'max-time'].some((k) => args.options.has(k))
        ? '--out, --max-runs and --max-time go with --explore'
        : backend !== 'sim' && backend !== 'netns'
          ? `--backend must be sim or netns, not '${String(backend)}'`
          : undefined);
  if (problem) {
    process.stderr.write(`keepalived-ts lab: ${printable(problem)} (see keepalived-ts lab --help)\n`);
    return 2;
  }
  // Before the run, which may take the scenario's time on netns: not after it.
  const report = args.options.get('report');
  const cannot = typeof report === 'string' ? unwritable('lab', 'the report', report) : undefined;
  if (cannot) {
    process.stderr.write(cannot);
    return 2;
  }
  const json = args.options.has('json');
  const loaded = loadScenario(args.positionals[0]);
  for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!loaded.scenario) {
    if (json) process.stdout.write(`${printableJson(scenarioErrorJson(args.positionals[0], loaded.diagnostics), 2)}\n`);
    return EXIT_SCENARIO;
  }

  let run: LabRun;
  try {
    run = await runBackend(backend as string, loaded.scenario);
  } catch (e) {
    process.stderr.write(userError('lab', `the ${String(backend)} backend cannot run`, (e as Error).message, 'try --backend sim'));
    return 2;
  }
  const result = finish(loaded.scenario, run);
  if (json) process.stdout.write(`${printableJson(resultJson(result), 2)}\n`);
  else process.stdout.write(renderTimeline(result, { color: process.stdout.isTTY, width: process.stdout.columns }));
  if (typeof report === 'string') {
    try {
      writeFileSync(report, renderHtml(result));
      process.stderr.write(`report written to ${printable(report)}\n`);
    } catch (e) {
      process.stderr.write(writeFailure('lab', 'the report', report, errnoOf(e)));
      return 2;
    }
  }
  const failures = failureLines(result);
  for (const line of failures) (json ? process.stderr : process.stdout).write(`${line}\n`);
  return result.passed ? 0 : 1;
}
