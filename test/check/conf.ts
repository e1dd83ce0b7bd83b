// A checker as the config loader builds it, and the probe job the pool would give it.
import { expect } from 'vitest';
import { loadConfigText, type Config } from '../../src/config/index.js';
import type { CheckJob } from '../../src/check/pool.js';

/** keepalived.conf text with one virtual server whose real servers each carry `checker`. */
export function vsConf(realServers: string[], checker: string, extra = '', timers = 'delay_loop 6\n  warmup 0'): string {
  const servers = realServers.map((s) => `  real_server ${s.replace(':', ' ')} {\n    weight 1\n    ${checker}\n  }`).join('\n');
  return `${extra}\nvirtual_server 127.0.0.1 80 {\n  ${timers}\n  lvs_sched wrr\n  lvs_method NAT\n  protocol TCP\n${servers}\n}\n`;
}

export function load(text: string): Config {
  const { config, diagnostics } = loadConfigText(text, 'k.conf', { configId: 'x' });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return config;
}

/** The job of the first checker of the first real server, for `checker` on real server host:port. */
export function jobFor(checker: string, server = '127.0.0.1:9'): CheckJob {
  const cfg = load(vsConf([server], checker));
  const vs = cfg.resolved.virtualServers[0];
  const rs = vs.realServers[0];
  return { ...rs.checks[0], vs, rs };
}
