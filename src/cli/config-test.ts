// `keepalived-ts -t`: keepalived's --config-test, with the same exit codes, plus positions.
import { closeSync, openSync, writeSync } from 'node:fs';
import { loadConfig } from '../config/index.js';
import { exitCodeOf, formatDiagnostic, orderDiagnostics } from '../config/diagnostics.js';
import { DEFAULT_TARGET_VERSION, isVersion } from '../config/version.js';
import { printable } from '../core/text.js';
import { runLint } from '../lint/rules.js';
import { hostProbe } from '../proc/script-security.js';
import { DEFAULT_CONFIG } from './args.js';
import { errnoOf, writeFailure } from './errors.js';

export function configTest(options: Map<string, string | true>): number {
  const file = typeof options.get('use-file') === 'string' ? (options.get('use-file') as string) : DEFAULT_CONFIG;
  const id = options.get('config-id');
  const target = options.get('target-version');
  const targetVersion = typeof target === 'string' ? target : DEFAULT_TARGET_VERSION;
  if (!isVersion(targetVersion)) {
    process.stderr.write(`keepalived-ts: --target-version '${printable(targetVersion)}' is not a version (write one such as 2.2.7)\n`);
    return 2;
  }
  // --config-test=LOG: opened first, as keepalived does, so that a bad path fails before the test
  // (keepalived's fatal exit, 1).
  const log = options.get('config-test');
  let fd: number | undefined;
  if (typeof log === 'string' && log) {
    try {
      fd = openSync(log, 'w');
    } catch (e) {
      process.stderr.write(writeFailure('', 'the config test log', log, errnoOf(e)));
      return 1;
    }
  }
  // keepalived -t looks at this machine: interfaces, and which scripts exist and are safe.
  const loaded = loadConfig(file, {
    configId: typeof id === 'string' ? id : undefined,
    allConfig: options.has('all-config'),
    host: hostProbe(),
    targetVersion,
  });
  const diags = orderDiagnostics([...loaded.diagnostics, ...runLint(loaded.config)], loaded.files);
  const text = diags.map((d) => formatDiagnostic(d) + '\n').join('');
  if (fd === undefined) process.stderr.write(text);
  else {
    try {
      writeSync(fd, text);
    } catch (e) {
      process.stderr.write(writeFailure('', 'the config test log', log as string, errnoOf(e)));
      return 1;
    } finally {
      closeSync(fd);
    }
  }
  return exitCodeOf(diags);
}
