// startup_script and shutdown_script run by the real daemon, as keepalived 2.2.7 runs them
// (core/main.c): the start waits for the startup script, the exit for the shutdown script, each
// killed at its timeout, with keepalived's log lines.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidExists, poll } from '../helpers/netns.js';
import { daemonDir } from './harness.js';

const d = daemonDir('kt-startstop-');
const script = (name: string, body: string): string => {
  const p = join(d.dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
};
const conf = (lines: string): void => writeFileSync(d.conf, `global_defs {\n router_id ss\n${lines}}\n`);

describe('startup_script and shutdown_script', () => {
  it('run before the start and after the stop; a failure is logged and the daemon starts anyway', async () => {
    const order = join(d.dir, 'order');
    const startup = script('fail.sh', `echo startup >> ${order}\nexit 3`);
    const shutdown = script('ok.sh', `echo shutdown >> ${order}`);
    conf(` startup_script ${startup}\n shutdown_script ${shutdown}\n`);
    const k = d.daemon('ss1', ['-D']);
    try {
      await poll(() => k.output().includes('Starting keepalived-ts'), { what: 'the start', timeoutMs: 20_000 });
      const out = k.output();
      expect(out).toContain(`Running startup script ${startup}`);
      expect(out).toContain('startup script script failed, status 3');
      expect(out.indexOf('startup script script failed')).toBeLessThan(out.indexOf('Starting keepalived-ts'));
      expect(readFileSync(order, 'utf8')).toBe('startup\n');
      expect(await k.stop()).toBe(0);
      expect(readFileSync(order, 'utf8')).toBe('startup\nshutdown\n');
      expect(k.output()).toContain(`Running shutdown script ${shutdown}`);
      expect(k.output()).toContain('shutdown script script succeeded');
      expect(k.output().indexOf('shutdown script script succeeded')).toBeGreaterThan(k.output().indexOf('stopping'));
    } finally {
      k.signal('SIGKILL');
    }
  }, 60_000);

  it('are killed at their timeout, with their children, and the start and the exit go on', async () => {
    const startPid = join(d.dir, 'start.pid');
    const stopPid = join(d.dir, 'stop.pid');
    // A child that ignores SIGTERM: only the process group's SIGKILL ends it.
    const hang = (pidFile: string) => `trap '' TERM\nsleep 60 &\necho $! > ${pidFile}\nwait`;
    conf(
      ` startup_script ${script('hang1.sh', hang(startPid))}\n startup_script_timeout 1\n shutdown_script ${script('hang2.sh', hang(stopPid))}\n shutdown_script_timeout 1\n`,
    );
    const t0 = Date.now();
    const k = d.daemon('ss2');
    try {
      await poll(() => k.output().includes('Starting keepalived-ts'), { what: 'the start', timeoutMs: 20_000 });
      // 1 s, then SIGTERM, ignored, then SIGKILL 2 s later.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
      expect(k.output()).toContain('startup script timed out');
      const startChild = Number(readFileSync(startPid, 'utf8'));
      await poll(() => !pidExists(startChild), { what: 'the startup child to be killed', timeoutMs: 10_000 });
      const t1 = Date.now();
      expect(await k.stop()).toBe(0);
      expect(Date.now() - t1).toBeGreaterThanOrEqual(1000);
      expect(Date.now() - t1).toBeLessThan(15_000);
      expect(k.output()).toContain('shutdown script timed out');
      expect(existsSync(stopPid)).toBe(true);
      const stopChild = Number(readFileSync(stopPid, 'utf8'));
      await poll(() => !pidExists(stopChild), { what: 'the shutdown child to be killed', timeoutMs: 10_000 });
    } finally {
      k.signal('SIGKILL');
    }
  }, 60_000);
});
