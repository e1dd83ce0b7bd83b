// What the daemon says about its configuration: each keyword keepalived-ts does not act on once,
// at start and at reload; and reload_check_config LOG_FILE receives a reload's check.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonDir } from './harness.js';

const h = daemonDir('kt-config-log-');

describe('the daemon and its configuration', () => {
  it('logs each not-implemented keyword once with its first use, and writes a reload check to reload_check_config', async () => {
    const checkLog = join(h.dir, 'reload-check.log');
    writeFileSync(
      h.conf,
      `global_defs {\n router_id own\n reload_check_config ${checkLog}\n log_unknown_vrids\n}\nvirtual_server 10.9.9.9 80 {\n ha_suspend\n}\nvirtual_server 10.9.9.8 80 {\n ha_suspend\n}\n`,
    );
    const a = h.daemon('config-log');
    await a.waitFor(/Control socket /);
    const unimplemented = a
      .output()
      .split('\n')
      .filter((l) => l.includes('[keyword-not-implemented]'));
    expect(unimplemented).toHaveLength(2);
    expect(unimplemented[0]).toMatch(/k\.conf:4:2: warning: 'log_unknown_vrids' \(global_defs\) is not implemented in keepalived-ts: /);
    expect(unimplemented[1]).toMatch(/k\.conf:7:2: warning: 'ha_suspend' \(virtual_server\) is not implemented .*; 2 uses, the first here/);

    // A reload with an unknown keyword is refused, and its check goes to the log file.
    writeFileSync(h.conf, `global_defs {\n router_id own\n reload_check_config ${checkLog}\n log_unknown_vrid\n}\n`);
    a.signal('SIGHUP');
    await a.waitFor(/Reload of .* failed/);
    expect(readFileSync(checkLog, 'utf8')).toMatch(
      /k\.conf:4:2: error: Unknown keyword 'log_unknown_vrid' \(did you mean 'log_unknown_vrids' \(accepted, but not implemented in keepalived-ts\)\?\) \[unknown-keyword\]\n/,
    );
    expect(await a.stop()).toBe(0);
  }, 20_000);
});
