import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import type { HostProbe } from '../../src/config/resolve-host.js';

const probe = (ifaces: string[], files: string[]): HostProbe => ({ interfaceExists: (n) => ifaces.includes(n), executable: (p) => files.includes(p) });
const SCRIPTS = `vrrp_script present {\n script "/usr/local/bin/ok"\n}\nvrrp_script absent {\n script "/usr/local/bin/gone"\n}\nvrrp_script tcp {\n script "</dev/tcp/127.0.0.1/80"\n}\n`;
const VI = (iface: string) => `vrrp_instance VI_1 {\n interface ${iface}\n virtual_router_id 5\n track_script {\n  present\n  absent\n  tcp\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n`;

describe('--host checks (keepalived -t behaviour that depends on the machine)', () => {
  it('disables scripts that are not executable, then counts only the others for script security', () => {
    const r = loadConfigText(SCRIPTS + VI('eth0'), 'k.conf', { configId: 'x', host: probe(['eth0'], ['/usr/local/bin/ok']) });
    expect(r.diagnostics.map((d) => [d.rule, d.line, d.exit])).toEqual([['host-script', 5, 5], ['script-security', 2, 6]]);
    expect(r.config.vrrpInstances[0].trackScript.map((t) => t.name)).toEqual(['present', 'tcp']);
  });

  it('stops at a missing interface, as keepalived does, without script checks', () => {
    const r = loadConfigText(SCRIPTS + VI('eth9'), 'k.conf', { configId: 'x', host: probe(['eth0'], []) });
    expect(r.diagnostics.map((d) => d.rule)).toEqual(['host-interface']);
  });

  it('without the probe, makes no claim about the machine', () => {
    const r = loadConfigText(SCRIPTS + VI('eth9'), 'k.conf', { configId: 'x' });
    expect(r.diagnostics.map((d) => d.rule)).toEqual(['script-security']);
  });

  it('what runs has none of the scripts the host checks dropped', () => {
    const text = `global_defs {\n enable_script_security\n}\nvirtual_server 10.0.0.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n`
      + ` real_server 10.0.1.1 80 {\n  notify_up "/usr/local/bin/gone"\n  notify_down "/usr/local/bin/ok"\n  MISC_CHECK {\n   misc_path "/usr/local/bin/gone"\n  }\n  TCP_CHECK {\n  }\n }\n}\n`;
    const r = loadConfigText(text, 'k.conf', { configId: 'x', host: probe([], ['/usr/local/bin/ok']) });
    const rs = r.config.resolved.virtualServers[0].realServers[0];
    expect([rs.notifyUp, rs.notifyDown?.command]).toEqual([undefined, '/usr/local/bin/ok']);
    expect(rs.checks.map((c) => c.checker.type)).toEqual(['TCP_CHECK']);
  });
});
