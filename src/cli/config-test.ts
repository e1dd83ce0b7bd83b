// `keepalived-ts -t`: keepalived's --config-test, with the same exit codes, plus positions.
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../config/index.js';
import { exitCodeOf, formatDiagnostic, orderDiagnostics } from '../config/diagnostics.js';
import { runLint } from '../lint/rules.js';
import { hostProbe } from '../proc/script-security.js';

export const DEFAULT_CONFIG = '/etc/keepalived/keepalived.conf';

export function configTest(options: Map<string, string | true>): number {
  const file = typeof options.get('use-file') === 'string' ? (options.get('use-file') as string) : DEFAULT_CONFIG;
  const id = options.get('config-id');
  // keepalived -t looks at this machine: interfaces, and which scripts exist and are safe.
  const loaded = loadConfig(file, { configId: typeof id === 'string' ? id : undefined, allConfig: options.has('all-config'), host: hostProbe() });
  const diags = orderDiagnostics([...loaded.diagnostics, ...runLint(loaded.config)], loaded.files);
  const text = diags.map((d) => formatDiagnostic(d) + '\n').join('');
  const log = options.get('config-test');
  if (typeof log === 'string' && log) writeFileSync(log, text);
  else process.stderr.write(text);
  return exitCodeOf(diags);
}
