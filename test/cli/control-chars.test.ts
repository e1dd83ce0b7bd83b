// Control characters in configs and scenarios are shown, never sent raw to the terminal: escape
// sequences (ESC [ ..., OSC titles, C1 CSI) in config words, scenario names and labels come out
// as \x1b, \x9b... in diagnostics, the lab's timeline, its failure lines and the daemon's log.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = join(__dirname, '../../dist/keepalived-ts.mjs');
const PAIR = join(__dirname, '../../conf-examples/lab/pair');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
const dir = mkdtempSync(join(tmpdir(), 'kt-control-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Raw controls other than newline (and the tab a terminal only moves over).
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;

/** A config whose words carry an erase-screen, a window-title change and a C1 CSI (byte 0x9b). */
const hostile = join(dir, 'hostile.conf');
writeFileSync(
  hostile,
  Buffer.concat([
    Buffer.from('\x1b[2Jbogus_keyword\nvrrp_instance VI_\x1b]0;owned\x07 {\n interface eth0\n virtual_router_id 51\n priority 1'),
    Buffer.from([0x9b]),
    Buffer.from('5\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n'),
  ]),
);

describe('control characters in echoed input', () => {
  it('-t: diagnostics show them escaped', () => {
    const r = run(['-t', '-f', hostile]);
    expect(r.status).toBe(5);
    expect(r.stderr).not.toMatch(RAW);
    expect(r.stderr).toContain("Unknown keyword '\\x1b[2Jbogus_keyword'");
    expect(r.stderr).toContain('\\x9b');
  });

  it('lint: text and JSON output show them escaped', () => {
    const t = run(['lint', hostile]);
    expect(t.stdout).not.toMatch(RAW);
    expect(t.stdout).toContain('\\x1b[2Jbogus_keyword');
    const j = run(['lint', '--format', 'json', hostile]);
    expect(j.stdout).not.toMatch(RAW);
    const parsed = JSON.parse(j.stdout) as { diagnostics: { message: string }[] };
    // The JSON keeps the value as it was: escaping is only how it is written.
    expect(parsed.diagnostics.map((d) => d.message).join('\n')).toContain('\x1b[2Jbogus_keyword');
  });

  it('the daemon: log lines show them escaped', () => {
    const r = run(['-n', '-l', '-C', '-f', hostile, '-p', join(dir, 'missing/lb.pid')], { KEEPALIVED_TS_CONTROL: join(dir, 'ctl.sock') });
    expect(r.status).toBe(1);
    expect(r.stdout).not.toMatch(RAW);
    const msgs = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs.some((m) => m.includes("Unknown keyword '\\x1b[2Jbogus_keyword'"))).toBe(true);
  });

  it("lab: a scenario's name and file name are escaped in the timeline, the failure lines and --json", () => {
    // File names are user input too: they start every failure line.
    const scenario = join(dir, 'hostile\x1b[31m.yaml');
    writeFileSync(
      scenario,
      [
        'name: "evil \\e[2J\\e]0;title\\a \\x9b1m \\u202e"',
        'duration: 12s',
        'nodes:',
        `  lb1: ${PAIR}/lb1.conf`,
        `  lb2: ${PAIR}/lb2.conf`,
        'timeline:',
        '  - {at: 4s, kill: lb1, label: "dies\\e[31m"}',
        'expect:',
        // Wrong on purpose: lb2 takes over, so this fails and prints a failure line.
        '  - {failover: {after: "dies\\e[31m", instance: VI_1, to: lb1, within: 4s}}',
        '',
      ].join('\n'),
    );
    const r = run(['lab', scenario]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.stdout).not.toMatch(RAW);
    expect(r.stdout).toContain('evil \\x1b[2J\\x1b]0;title\\x07 \\x9b1m \\u202e');
    expect(r.stdout).toMatch(/hostile\\x1b\[31m\.yaml:\d+:\d+: expectation failed: /);
    const j = run(['lab', scenario, '--json']);
    expect(j.stdout).not.toMatch(RAW);
    expect(j.stderr).not.toMatch(RAW);
    expect((JSON.parse(j.stdout) as { scenario: string }).scenario).toBe('evil \x1b[2J\x1b]0;title\x07 \x9b1m \u202e');
  });
});
