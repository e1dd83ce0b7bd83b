import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { runLint } from '../../src/lint/rules.js';
import { Diagnostics, exitCodeOf, formatDiagnostic, KEPT_PER_RULE } from '../../src/config/diagnostics.js';

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

  it('lists a repeated finding up to its bound, then one summary line that keeps the verdict', () => {
    // keepalived -t says nothing about untracked scripts; ours lists the first ones and counts the rest.
    const n = KEPT_PER_RULE.advice + 50;
    const d = lint(`~SEQ(i,1,${n}) vrrp_script s$i { script /bin/true }\n`);
    expect(d).toHaveLength(KEPT_PER_RULE.advice + 1);
    expect(d.slice(0, -1).every((x) => x.rule === 'vrrp-script-unused' && x.message.startsWith('vrrp_script s'))).toBe(true);
    expect(formatDiagnostic(d[d.length - 1])).toBe(
      `k.conf:1:15: warning: 50 more 'vrrp-script-unused' findings not shown (the first ${KEPT_PER_RULE.advice} are listed; each of the others is the same kind of finding) [vrrp-script-unused]`,
    );
    expect(JSON.parse(JSON.stringify(d[d.length - 1]))).toMatchObject({
      rule: 'vrrp-script-unused',
      message: "50 more 'vrrp-script-unused' findings not shown",
      exit: 0,
    });
    // Findings that decide the exit code keep theirs in the summary.
    const errs = new Diagnostics();
    for (let i = 0; i < KEPT_PER_RULE.verdict + 3; i++)
      errs.error({ file: 'k.conf', line: i + 1, col: 1 }, 'unknown-keyword', `Unknown keyword 'k${i}'`, { exit: i === 10_001 ? 4 : 5 });
    expect(errs.items).toHaveLength(KEPT_PER_RULE.verdict + 1);
    expect(errs.items[errs.items.length - 1]).toMatchObject({
      line: KEPT_PER_RULE.verdict + 1,
      severity: 'error',
      exit: 4,
      message: "3 more 'unknown-keyword' findings not shown",
    });
    expect(exitCodeOf(errs.items)).toBe(4);
  });
});
