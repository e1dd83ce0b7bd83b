// A list block written without '{' (virtual_ipaddress ADDRESS, notification_email ADDRESS...):
// keepalived's alloc_value_block takes the lines that follow as its items, up to the first '}',
// whichever block that '}' was written for. When it was the enclosing block's, that block reads
// on past it. keepalived 2.2.7 -t's verdict on the same text is in test/fixtures/broken (79-81);
// these tests hold what the model makes of it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';

const FIXTURES = join(__dirname, '../fixtures/broken');
const load = (text: string) => loadConfigText(text, 'lists.conf', { configId: 'x' });
const fixture = (name: string) => load(readFileSync(join(FIXTURES, name), 'utf8'));
const flagged = (r: ReturnType<typeof load>) => r.diagnostics.filter((d) => d.exit !== 0).map((d) => `${d.line} ${d.rule}`);

describe("list blocks without '{'", () => {
  it("a list that reads its instance's '}' leaves the instance reading on to the next '}'", () => {
    const r = fixture('79-list-block-without-brace-reads-on.conf');
    const [v, w] = r.config.vrrpInstances;
    expect(v.name).toBe('V');
    expect(v.virtualIpaddress.map((a) => a.address)).toEqual(['10.1.1.1']);
    // Line 7 is read inside V by the VRRP pass, and at the top level by the others.
    expect(v.priority).toBe(100);
    expect(
      flagged(r)
        .filter((f) => f.startsWith('7 ') || f.startsWith('8 '))
        .sort(),
    ).toEqual(['7 unknown-keyword', '8 unknown-keyword']);
    // W's track_interface took the VIP block's lines (13-16): W has no VIP.
    expect(w.name).toBe('W');
    expect(w.virtualIpaddress).toEqual([]);
    expect(r.diagnostics.filter((d) => d.line === 13).map((d) => d.message)).toEqual(['Block track_interface has extra parameters eth0 ...']);
  });

  it('a line read in two places is reported once', () => {
    const r = fixture('79-list-block-without-brace-reads-on.conf');
    const at8 = r.diagnostics.filter((d) => d.line === 8);
    expect(at8.map((d) => d.message)).toEqual(["Unknown keyword 'bogus1'"]);
  });

  it('at the top level the list reads through the next block up to its first inner }', () => {
    const r = fixture('80-list-block-without-brace-top-level.conf');
    expect(r.config.staticIpaddress.map((a) => a.address)).toEqual(['10.8.8.8', '10.1.1.1']);
    // V's lines were addresses: only W is an instance.
    expect(r.config.vrrpInstances.map((i) => i.name)).toEqual(['W']);
    expect(flagged(r)).toContain('11 unknown-keyword');
  });

  it('notification_email ADDRESS reads the rest of global_defs as addresses, and global_defs reads on', () => {
    const r = fixture('81-list-block-without-brace-global.conf');
    expect(r.config.globalDefs.notificationEmail).toEqual(['notification_email_from', 'keepalived@example.com', 'router_id', 'LVS_DEVEL']);
    expect(r.config.globalDefs.routerId).toBeUndefined();
    // The parent's pass reads the instances inside global_defs; the VRRP pass reads them as usual.
    expect(r.config.vrrpInstances.map((i) => i.name)).toEqual(['VI_1', 'VI_2']);
    expect(flagged(r)).toEqual(expect.arrayContaining(['2 block-expected', '6 unknown-keyword', '7 unknown-keyword', '18 unknown-keyword']));
    expect(flagged(r).some((f) => f.startsWith('19 ') || f.startsWith('27 '))).toBe(false);
  });

  it("a list without '{' or words is read the same way, with a warning only", () => {
    const r = load('vrrp_instance V {\n interface eth0\n virtual_router_id 5\n virtual_ipaddress\n  10.1.1.1\n }\n}\n');
    expect(r.config.vrrpInstances[0].virtualIpaddress.map((a) => a.address)).toEqual(['10.1.1.1']);
    expect(r.diagnostics.map((d) => `${d.line} ${d.severity} ${d.rule}`).sort()).toEqual([
      '4 warning block-expected',
      '7 error brace-extra',
      '7 error unknown-keyword',
    ]);
  });

  it('reads on across the batches the tokenizer hands over, and the end of the input closes it', () => {
    // 600 top-level lines, then a list that reads the rest of the file: no '}' ever ends it.
    const scripts = Array.from({ length: 600 }, (_, i) => `vrrp_script s${i} {\n script /bin/true\n}\n`).join('');
    const tail = Array.from({ length: 600 }, (_, i) => `10.2.${i >> 8}.${i & 255}/32\n`).join('');
    const r = load(`${scripts}static_ipaddress\n${tail}`);
    expect(r.config.staticIpaddress).toHaveLength(600);
    expect(r.config.vrrpScripts).toHaveLength(600);
  });

  it('a top-level block that reads on past its own } is closed by a later stray }', () => {
    const head = Array.from({ length: 300 }, (_, i) => `vrrp_script s${i} {\n script /bin/true\n}\n`).join('');
    const r = load(`${head}global_defs {\n notification_email\n}\n router_id R1\n}\nrouter_id R2\n`);
    expect(r.config.globalDefs.routerId).toBe('R1');
    // As keepalived 2.2.7 -t says: the empty list at its '}' (903); the other passes read 904-906
    // at the top level; 905 closes nothing there; 906 is at the top level for every pass.
    expect(flagged(r).sort()).toEqual(['902 notification-email-empty', '904 unknown-keyword', '905 brace-extra', '905 unknown-keyword', '906 unknown-keyword']);
    expect(r.diagnostics.find((d) => d.rule === 'notification-email-empty')?.endLine).toBe(903);
  });
});

describe("list blocks without '{' in two passes at once", () => {
  it("global_defs reads on in the parent's pass while an instance reads on in the VRRP pass", () => {
    const r = fixture('82-list-block-without-brace-two-passes.conf');
    // keepalived's VRRP process: VI_1 reads its list's second line and its own lines after the
    // list's '}' (the priority at 11), up to the '}' at 13.
    expect(r.config.vrrpInstances.map((i) => [i.name, i.virtualIpaddress.map((a) => a.address)])).toEqual([
      ['VI_1', ['10.1.1.2']],
      ['VI_2', ['192.168.100.10']],
      ['VI_3', ['192.168.100.11']],
    ]);
    // The parent's global_defs reads up to the stray '}' at 22; router_id was an address.
    expect(r.config.globalDefs.routerId).toBeUndefined();
  });
});
