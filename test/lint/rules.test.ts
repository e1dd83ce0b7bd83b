import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { runLint } from '../../src/lint/rules.js';

const lint = (text: string) => runLint(loadConfigText(text, 'k.conf', { configId: 'x' }).config);
const SEC = 'global_defs {\n enable_script_security\n script_user root\n}\n';
const VI = (name: string, vrid: number, extra = '', vip = '10.0.0.1') =>
  `vrrp_instance ${name} {\n interface eth0\n virtual_router_id ${vrid}\n${extra}\n virtual_ipaddress {\n  ${vip}\n }\n}\n`;

describe('lint rules', () => {
  it('finds a VIP listed in two instances, at the second one', () => {
    const d = lint(VI('VI_1', 1) + VI('VI_2', 2));
    expect(d.map((x) => [x.rule, x.line])).toEqual([['vip-duplicate', 14]]);
    expect(d[0].message).toContain('vrrp_instance VI_1');
  });

  it('finds a vrrp_script that nobody tracks', () => {
    const d = lint(`${SEC}vrrp_script chk {\n script "/bin/true"\n}\n${VI('VI_1', 1)}`);
    expect(d.map((x) => x.rule)).toEqual(['vrrp-script-unused']);
    expect(d[0].hint).toContain('track_script { chk }');
  });

  it('finds unquoted script arguments that keepalived drops', () => {
    const d = lint(`${SEC}vrrp_script chk {\n script /usr/bin/killall -0 nginx\n}\n${VI('VI_1', 1, ' track_script {\n chk\n }')}`);
    expect(d.map((x) => [x.rule, x.line])).toEqual([['script-unquoted-args', 6]]);
    expect(d[0].hint).toBe('quote the whole command: "/usr/bin/killall -0 nginx"');
  });

  it('finds shell syntax in scripts that run without a shell, but not when a shell runs them', () => {
    const bad = lint(
      `${SEC}vrrp_script a {\n script "[ -f /etc/keepalived/down ] && exit 1"\n}\nvrrp_script b {\n script "</dev/tcp/127.0.0.1/80"\n}\nvrrp_script c {\n script "/bin/sh -c '[ -f /x ] && exit 1'"\n}\n${VI('VI_1', 1, ' track_script {\n a\n b\n c\n }')}`,
    );
    expect(bad.map((x) => [x.rule, x.line])).toEqual([
      ['script-needs-shell', 6],
      ['script-needs-shell', 9],
    ]);
  });
});
