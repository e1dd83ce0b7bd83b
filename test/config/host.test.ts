import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import type { HostProbe } from '../../src/config/resolve-host.js';
import { SC_EXECUTABLE, SC_INHIBIT, SC_INSECURE, SC_ISSCRIPT, SC_NOTFOUND, SC_SYSTEM, type ScriptVerdict } from '../../src/config/resolve-scripts.js';

/** A machine with these interfaces and executable files; `flags` overrides a file's verdict. */
const probe = (ifaces: string[], files: string[], flags: Record<string, number> = {}): HostProbe => ({
  interfaceExists: (n) => ifaces.includes(n),
  script: (ref, g): ScriptVerdict => {
    const p = ref.argv[0];
    if (p.startsWith('</')) return { flags: SC_SYSTEM, messages: [] };
    const f = flags[p] ?? (files.includes(p) ? SC_ISSCRIPT | SC_EXECUTABLE : SC_NOTFOUND);
    const unsafe = f & SC_INSECURE ? [`Unsafe permissions found for script '${p}'${g.enableScriptSecurity ? ' - disabling' : ''}.`] : [];
    return { flags: f | (f & SC_INSECURE && g.enableScriptSecurity ? SC_INHIBIT : 0), messages: unsafe };
  },
  scriptUserError: () => undefined,
});
const SEC = 'global_defs {\n enable_script_security\n script_user root\n}\n';
const UNSAFE = SC_ISSCRIPT | SC_EXECUTABLE | SC_INSECURE;
const SCRIPTS = `vrrp_script present {\n script "/usr/local/bin/ok"\n}\nvrrp_script absent {\n script "/usr/local/bin/gone"\n}\nvrrp_script tcp {\n script "</dev/tcp/127.0.0.1/80"\n}\n`;
const VI = (iface: string) =>
  `vrrp_instance VI_1 {\n interface ${iface}\n virtual_router_id 5\n track_script {\n  present\n  absent\n  tcp\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n`;

describe('--host checks (keepalived -t behaviour that depends on the machine)', () => {
  it('disables scripts that are missing, then counts only the others for script security', () => {
    const r = loadConfigText(SCRIPTS + VI('eth0'), 'k.conf', { configId: 'x', host: probe(['eth0'], ['/usr/local/bin/ok']) });
    expect(r.diagnostics.map((d) => [d.rule, d.line, d.exit])).toEqual([
      ['host-script', 5, 5],
      ['script-security', 2, 6],
    ]);
    expect(r.config.vrrpInstances[0].trackScript.map((t) => t.name)).toEqual(['present', 'tcp']);
  });

  it('counts a script its user cannot execute for script security, and drops it silently', () => {
    const r = loadConfigText(SCRIPTS + VI('eth0'), 'k.conf', {
      configId: 'x',
      host: probe(['eth0'], ['/usr/local/bin/gone'], { '/usr/local/bin/ok': SC_ISSCRIPT }),
    });
    expect(r.diagnostics.map((d) => [d.rule, d.exit])).toEqual([['script-security', 6]]);
    expect(r.config.vrrpInstances[0].trackScript.map((t) => t.name)).toEqual(['absent', 'tcp']);
  });

  it('with enable_script_security, disables an unsafe vrrp_script (exit 5) and an unsafe notify (a warning)', () => {
    const host = probe(['eth0'], ['/usr/local/bin/gone'], { '/usr/local/bin/ok': UNSAFE, '/opt/n.sh': UNSAFE });
    const conf = SEC + SCRIPTS + VI('eth0').replace(' virtual_ipaddress', ' notify_master /opt/n.sh\n virtual_ipaddress');
    const r = loadConfigText(conf, 'k.conf', { configId: 'x', host });
    expect(r.diagnostics.map((d) => [d.rule, d.severity, d.exit, d.message])).toEqual([
      ['script-unsafe', 'warning', 0, "Unsafe permissions found for script '/usr/local/bin/ok' - disabling."],
      ['script-unsafe', 'error', 5, 'Disabling track script present due to insecure'],
      ['script-unsafe', 'warning', 0, "Unsafe permissions found for script '/opt/n.sh' - disabling."],
    ]);
    expect(r.config.vrrpInstances[0].trackScript.map((t) => t.name)).toEqual(['absent', 'tcp']);
    expect(r.config.vrrpInstances[0].notifyMaster).toBeUndefined();
    // Without it keepalived runs them, says so, and -t exits 6.
    const off = loadConfigText(conf.replace(SEC, ''), 'k.conf', { configId: 'x', host });
    expect(off.diagnostics.filter((d) => d.exit).map((d) => d.message)).toEqual([
      'SECURITY VIOLATION - scripts are being executed but script_security not enabled. There are insecure scripts.',
    ]);
    expect(off.config.vrrpInstances[0].notifyMaster?.argv).toEqual(['/opt/n.sh']);
  });

  it('checks the checker scripts only with a virtual_server, and names them "check scripts"', () => {
    const vs =
      'virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n quorum_up /opt/q.sh\n real_server 10.0.0.2 80 {\n  MISC_CHECK {\n   misc_path "/opt/m.sh x"\n  }\n  MISC_CHECK {\n   misc_path /opt/gone.sh\n  }\n }\n}\n';
    const host = probe([], ['/opt/q.sh'], { '/opt/m.sh': UNSAFE });
    const on = loadConfigText(SEC + vs, 'k.conf', { configId: 'x', host });
    expect(on.diagnostics.map((d) => [d.rule, d.exit, d.message])).toEqual([
      ['script-unsafe', 0, "Unsafe permissions found for script '/opt/m.sh' - disabling."],
      ['script-unsafe', 0, "Disabling misc script '/opt/m.sh' 'x' due to insecure"],
      ['host-script', 0, "Disabling misc script '/opt/gone.sh' since not found/accessible"],
    ]);
    expect(on.config.virtualServers[0].realServers[0].checkers).toEqual([]);
    const off = loadConfigText(vs, 'k.conf', { configId: 'x', host });
    expect(off.diagnostics.filter((d) => d.exit).map((d) => d.message)).toEqual([
      'SECURITY VIOLATION - check scripts are being executed but script_security not enabled. There are insecure scripts.',
    ]);
    expect(off.config.virtualServers[0].realServers[0].checkers.length).toBe(1);
  });

  it('keeps a refused alpha MISC_CHECK without its script, so that its real server stays out as in keepalived', () => {
    const vs =
      'virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched rr\n lvs_method NAT\n real_server 10.0.0.2 80 {\n  MISC_CHECK {\n   misc_path /opt/m.sh\n   alpha\n  }\n }\n}\n';
    const r = loadConfigText(SEC + vs, 'k.conf', { configId: 'x', host: probe([], [], { '/opt/m.sh': UNSAFE }) });
    expect(r.config.virtualServers[0].realServers[0].checkers).toMatchObject([{ type: 'MISC_CHECK', miscPath: undefined }]);
  });

  it('checks only the parts that run (the daemon with -C: no VRRP scripts)', () => {
    const host = probe(['eth0'], [], { '/usr/local/bin/ok': UNSAFE });
    const r = loadConfigText(SEC + SCRIPTS + VI('eth0'), 'k.conf', { configId: 'x', scripts: host, scriptParts: { vrrp: false } });
    expect(r.diagnostics.filter((d) => d.rule.startsWith('script') || d.rule === 'host-script')).toEqual([]);
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
    const text =
      `global_defs {\n enable_script_security\n}\nvirtual_server 10.0.0.1 80 {\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n` +
      ` real_server 10.0.1.1 80 {\n  notify_up "/usr/local/bin/gone"\n  notify_down "/usr/local/bin/ok"\n  MISC_CHECK {\n   misc_path "/usr/local/bin/gone"\n  }\n  TCP_CHECK {\n  }\n }\n}\n`;
    const r = loadConfigText(text, 'k.conf', { configId: 'x', host: probe([], ['/usr/local/bin/ok']) });
    const rs = r.config.resolved.virtualServers[0].realServers[0];
    expect([rs.notifyUp, rs.notifyDown?.command]).toEqual([undefined, '/usr/local/bin/ok']);
    expect(rs.checks.map((c) => c.checker.type)).toEqual(['TCP_CHECK']);
  });
});

describe('disable_local_igmp on this machine', () => {
  const CONF = 'global_defs {\n disable_local_igmp\n}\n' + VI('eth0').replace(/ track_script \{[^}]*\}\n/, '');
  const withIgmp = (writable: boolean): HostProbe => ({ ...probe(['eth0'], []), igmpReportsWritable: () => writable });

  it("is keepalived's error, and off, where igmp_link_local_mcast_reports cannot be written", () => {
    const r = loadConfigText(CONF, 'k.conf', { configId: 'x', host: withIgmp(false) });
    expect(r.diagnostics.map((d) => [d.rule, d.line, d.exit, d.message])).toEqual([
      ['host-kernel', 2, 5, 'kernel does not support /proc/sys/net/ipv4/igmp_link_local_mcast_reports'],
    ]);
    expect(r.config.globalDefs.disableLocalIgmp).toBe(false);
  });

  it('is kept where it can be written, and not looked at without the host', () => {
    const ok = loadConfigText(CONF, 'k.conf', { configId: 'x', host: withIgmp(true) });
    expect(ok.diagnostics).toEqual([]);
    expect(ok.config.globalDefs.disableLocalIgmp).toBe(true);
    const plain = loadConfigText(CONF, 'k.conf', { configId: 'x' });
    expect(plain.diagnostics).toEqual([]);
    expect(plain.config.globalDefs.disableLocalIgmp).toBe(true);
  });
});
