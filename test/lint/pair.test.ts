import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { lintPair } from '../../src/lint/pair.js';

const cfg = (text: string, name: string) => loadConfigText(text, name, { configId: 'x' }).config;
const node = (prio: number, body = '', scriptWeight = -20) => `
global_defs {
 enable_script_security
 script_user root
}
vrrp_script chk_nginx {
 script "/bin/sh -c 'exec 3<>/dev/tcp/127.0.0.1/80'"
 interval 2
 weight ${scriptWeight}
}
vrrp_instance VI_1 {
 interface eth0
 virtual_router_id 51
 priority ${prio}
 advert_int 1
 authentication {
  auth_type PASS
  auth_pass 1111
 }
 virtual_ipaddress {
  192.168.1.100
 }
 track_script {
  chk_nginx
 }
${body}
}
`;

describe('pair lint', () => {
  it('shows a failover when the weight is larger than the priority gap', () => {
    const r = lintPair(cfg(node(100), 'a.conf'), cfg(node(90), 'b.conf'));
    expect(r.diagnostics).toEqual([]);
    expect(r.outcomes).toMatchObject([{ instance: 'VI_1', node: 'A', failover: true, before: { A: 100, B: 90 }, after: { A: 80, B: 90 } }]);
  });

  it("warns when a track_script weight cannot move mastership (the seed documents' mistake)", () => {
    const r = lintPair(cfg(node(100, '', -5), 'a.conf'), cfg(node(90, '', -5), 'b.conf'));
    expect(r.diagnostics.map((d) => [d.rule, d.file])).toEqual([['weight-too-small', 'a.conf']]);
    expect(r.diagnostics[0].message).toContain('100 → 95, still above');
    expect(r.diagnostics[0].hint).toContain('weight -11');
    expect(r.outcomes[0].failover).toBe(false);
  });

  it('handles positive weights tracked on both directors', () => {
    // Both add +20 while healthy: 120 vs 110. A failing drops to 100 < 110.
    const r = lintPair(cfg(node(100, '', 20), 'a.conf'), cfg(node(90, '', 20), 'b.conf'));
    expect(r.outcomes[0]).toMatchObject({ failover: true, before: { A: 120, B: 110 }, after: { A: 100, B: 110 } });
  });

  it('treats weight 0 as FAULT and a tracked interface without weight likewise', () => {
    const r = lintPair(cfg(node(100, ' track_interface {\n  eth1\n }', 0), 'a.conf'), cfg(node(90, '', 0), 'b.conf'));
    expect(r.outcomes.map((o) => [o.fault, o.after.A, o.failover])).toEqual([
      ['script chk_nginx fails on A', 'FAULT', true],
      ['interface eth1 down on A', 'FAULT', true],
    ]);
  });

  it('finds disagreements that break the election', () => {
    const b = node(100).replace('auth_pass 1111', 'auth_pass 2222').replace('advert_int 1', 'advert_int 2').replace('192.168.1.100', '192.168.1.101');
    const r = lintPair(cfg(node(100), 'a.conf'), cfg(b, 'b.conf'));
    expect(r.diagnostics.map((d) => d.rule).sort()).toEqual(['pair-advert-int-mismatch', 'pair-auth-mismatch', 'pair-priority-equal', 'pair-vip-mismatch']);
  });

  it('finds an instance that has no counterpart', () => {
    const r = lintPair(cfg(node(100), 'a.conf'), cfg(node(90).replace('virtual_router_id 51', 'virtual_router_id 52'), 'b.conf'));
    expect(r.diagnostics.map((d) => [d.rule, d.file])).toEqual([
      ['pair-vrid-missing', 'a.conf'],
      ['pair-vrid-missing', 'b.conf'],
    ]);
  });
});

describe('pair lint of virtual servers', () => {
  const vs = (sched: string, rs: string[]) =>
    `virtual_server 192.168.1.100 80 {\n lvs_sched ${sched}\n lvs_method DR\n protocol TCP\n${rs.map((r) => ` real_server ${r} 80 {\n  TCP_CHECK {\n  }\n }\n`).join('')}}\n`;
  it('finds a virtual server on one side only, and differing schedulers and pools', () => {
    const a = cfg(
      node(100) +
        vs('wrr', ['10.0.0.1', '10.0.0.2']) +
        'virtual_server 192.168.1.100 443 {\n lvs_sched rr\n lvs_method DR\n protocol TCP\n real_server 10.0.0.1 443 {\n }\n}\n',
      'a.conf',
    );
    const b = cfg(node(90) + vs('rr', ['10.0.0.1']), 'b.conf');
    const r = lintPair(a, b);
    expect(r.diagnostics.map((d) => [d.rule, d.file, d.message.split(':')[0]])).toEqual([
      ['pair-vs-mismatch', 'b.conf', 'virtual_server [192.168.1.100]'],
      ['pair-vs-mismatch', 'b.conf', 'virtual_server [192.168.1.100]'],
      ['pair-vs-missing', 'a.conf', 'virtual_server [192.168.1.100]'],
    ]);
    expect(r.diagnostics[0].message).toContain('lvs_sched differs ("wrr" vs "rr")');
    expect(r.diagnostics[2].message).toContain('[192.168.1.100]:tcp:443');
  });
});
