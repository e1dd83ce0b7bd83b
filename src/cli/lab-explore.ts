// `keepalived-ts lab --explore PAIR-OR-SCENARIO`: the search for the faults that break a director
// pair (src/lab/explore/), at the edge: arguments, files, output. Exit 0 when nothing is wrong,
// 1 when a problem was found, 2 bad usage, 3 a scenario or config with errors.
import { formatDiagnostic } from '../config/diagnostics.js';
import { printable, printableJson } from '../core/text.js';
import { scenarioErrorJson } from '../lab/report/json.js';
import { EXPLORE_DEFAULTS, explore } from '../lab/explore/index.js';
import { exploreInput } from '../lab/explore/input.js';
import { findingFileName, prepareOutDir, writeInDir } from '../lab/explore/out-dir.js';
import { exploreJson, renderExploreHtml, renderExploreText, type Written } from '../lab/explore/report.js';
import { findingYaml } from '../lab/explore/scenario-yaml.js';
import { parseTime } from '../lab/model/times.js';
import { resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import { errnoOf, unwritable, userError, writeFailure } from './errors.js';

export interface ExploreArgs {
  paths: string[];
  json: boolean;
  report?: string;
  out?: string;
  maxRuns?: string;
  maxTime?: string;
}

const EXIT_SCENARIO = 3;
const MAX_RUNS_LIMIT = 100_000;

export async function exploreCommand(a: ExploreArgs): Promise<number> {
  const fail = (msg: string): number => {
    process.stderr.write(`keepalived-ts lab: ${printable(msg)} (see keepalived-ts lab --help)\n`);
    return 2;
  };
  if (!a.paths.length) return fail("--explore needs a scenario file or the directors' keepalived.conf files");
  if (a.paths.length === 1 && !/\.ya?ml$/i.test(a.paths[0])) return fail('--explore takes one scenario (.yaml) or two or more keepalived.conf files');
  const maxRuns = a.maxRuns === undefined ? EXPLORE_DEFAULTS.maxRuns : Number(a.maxRuns);
  if (!Number.isInteger(maxRuns) || maxRuns < 1 || maxRuns > MAX_RUNS_LIMIT) return fail(`--max-runs must be a whole number from 1 to ${MAX_RUNS_LIMIT}`);
  const maxTime = a.maxTime === undefined ? EXPLORE_DEFAULTS.maxTime : parseTime(a.maxTime);
  if (maxTime === undefined || maxTime < 1_000_000 || maxTime > 3600e6) return fail('--max-time must be a time from 1s to 1h (e.g. 120s)');
  const cannot = a.report ? unwritable('lab', 'the report', a.report) : undefined;
  if (cannot) {
    process.stderr.write(cannot);
    return 2;
  }
  if (a.out) {
    const dir = prepareOutDir(a.out);
    if (!dir.ok) {
      process.stderr.write(userError('lab', 'cannot use the --out directory', `${a.out}: ${dir.why}`, 'give a directory to create or one that exists'));
      return 2;
    }
  }

  const loaded = exploreInput(a.paths);
  for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!loaded.scenario) {
    if (a.json) process.stdout.write(`${printableJson(scenarioErrorJson(a.paths.join(' '), loaded.diagnostics), 2)}\n`);
    return EXIT_SCENARIO;
  }
  const base = loaded.scenario;
  if (base.faults.length || base.expectations.length)
    process.stderr.write(`explore: ${printable(base.file)}'s timeline and expectations are not used; its nodes, segments, real servers and clients are\n`);
  const x = await explore(base, { maxRuns, maxTime });

  const written: Written = new Map();
  if (a.out) {
    const dir = resolve(a.out);
    for (const f of x.findings) {
      const name = findingFileName(f.rank, f.kind, f.subject);
      const title = `explore #${f.rank}: ${f.kind} of ${f.subject} after ${f.faults.join(' + ') || 'no fault'}`;
      try {
        writeInDir(dir, name, findingYaml(base, f.run, f, { dir, title }));
      } catch (e) {
        process.stderr.write(writeFailure('lab', 'a finding', `${a.out}/${name}`, errnoOf(e)));
        return 2;
      }
      written.set(f.rank, `${a.out.replace(/\/+$/, '')}/${name}`);
    }
  }
  if (a.json) process.stdout.write(`${printableJson(exploreJson(x, written), 2)}\n`);
  else
    process.stdout.write(
      renderExploreText(x, written, process.stdout.columns || 120)
        .split('\n')
        .map(printable)
        .join('\n'),
    );
  if (a.report) {
    try {
      writeFileSync(a.report, renderExploreHtml(x, written));
      process.stderr.write(`report written to ${printable(a.report)}\n`);
    } catch (e) {
      process.stderr.write(writeFailure('lab', 'the report', a.report, errnoOf(e)));
      return 2;
    }
  }
  if (a.out && x.findings.length) process.stderr.write(`${x.findings.length} scenario(s) written to ${printable(a.out)}\n`);
  return x.findings.some((f) => f.severity === 'problem') ? 1 : 0;
}
