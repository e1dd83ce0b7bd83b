// keepalived -t reads the config once per process (parent, checker, VRRP, BFD), each pass with
// only its own blocks active (src/config/passes.ts). The verdicts below were each seen from
// keepalived 2.2.7 -t on the same text.
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/config/diagnostics.js';
import { loadConfigText } from '../../src/config/index.js';

const load = (text: string) => loadConfigText(text, 'passes.conf', { configId: 'x' });
const lines = (text: string) =>
  load(text)
    .diagnostics.filter((d) => d.exit !== 0)
    .map((d) => `${d.line} ${d.rule}`);

const VS = (at: string, sched: string) =>
  `virtual_server ${at} 80 {\n lvs_sched ${sched}\n lvs_method NAT\n protocol TCP\n real_server 10.0.0.2 80 {\n  weight 1\n }\n}\n`;
const VI = (name: string, vrid: string, extra = '') =>
  `vrrp_instance ${name} {\n interface eth0\n virtual_router_id ${vrid}\n priority 100\n${extra} virtual_ipaddress {\n  10.0.0.10\n }\n}\n`;

describe("keepalived's passes over the config", () => {
  it('a stop in the VRRP pass keeps the checker findings after it and drops the VRRP ones', () => {
    // Lines: VS 1-8 (bad scheduler at 2), VI_1 9-17 (advert_int without a value at 13),
    // VI_2 18-25 (VRID out of range at 20), VS 26-33 (bad scheduler at 27).
    const text = VS('10.0.0.1', 'bogus') + VI('VI_1', '1', ' advert_int\n') + VI('VI_2', '300') + VS('10.0.0.3', 'bogus2');
    // keepalived also says at each virtual_server that it has no scheduler (unlined).
    expect(lines(text)).toEqual(['2 value-enum', '1 vs-sched-missing', '13 value-missing', '27 value-enum', '26 vs-sched-missing']);
    expect(exitCodeOf(load(text).diagnostics)).toBe(2);
  });

  it('a stop in the VRRP pass drops the cross-checks of the VRRP pass', () => {
    // keepalived would look up chk_x (track-missing) only after reading on.
    const text = 'vrrp_script {\n script /bin/true\n}\n' + VI('VI_1', '1', ' track_script {\n  chk_x\n }\n');
    expect(lines(text)).toEqual(['1 value-missing']);
  });

  it("a stop in the parent's pass (global_defs) ends the test before any other pass", () => {
    const text = VS('10.0.0.1', 'bogus') + 'global_defs {\n vrrp_garp_master_delay\n}\n' + VS('10.0.0.3', 'bogus2');
    expect(lines(text)).toEqual(['10 value-missing']);
  });

  it('without a stop every pass reports everything', () => {
    const text = VS('10.0.0.1', 'bogus') + VI('VI_2', '300');
    expect(lines(text)).toEqual(['2 value-enum', '1 vs-sched-missing', '11 value-range', '9 vrid-missing']);
  });

  it('lines escaping a checker block through an ignored brace are not read by the VRRP pass', () => {
    // `bogus {` is ignored, so its '}' (line 5) closes the virtual_server for the checker pass;
    // the VRRP pass skips the virtual_server by counting braces, to line 17, and never sees VI_9.
    const text =
      'virtual_server 10.0.0.1 80 {\n protocol TCP\n bogus {\n  x 1\n }\n' +
      ' vrrp_instance VI_9 {\n  interface eth0\n  virtual_router_id 400\n  priority 100\n }\n' +
      ' real_server 10.0.0.2 80 {\n  weight 1\n }\n}\n' +
      VI('VI_1', '1');
    const r = load(text);
    const found = r.diagnostics.filter((d) => d.exit !== 0).map((d) => `${d.line} ${d.message}`);
    expect(found).toContain("14 Unknown keyword '}'");
    expect(found.some((f) => f.includes('400'))).toBe(false);
    expect(r.config.vrrpInstances.map((v) => v.name)).toEqual(['VI_1']);
  });

  it("a block left open at the end of the input has no '}' to report", () => {
    const text = 'virtual_server 10.0.0.1 80 {\n protocol TCP\n bogus {\n  x 1\n }\n real_server 10.0.0.2 80 {\n  weight 1\n }\n';
    const found = load(text).diagnostics.map((d) => `${d.line} ${d.rule}`);
    expect(found).toContain('1 brace-missing');
    expect(found.filter((f) => f.endsWith('unknown-keyword') && !f.startsWith('3 ') && !f.startsWith('4 '))).toEqual([
      '6 unknown-keyword',
      '7 unknown-keyword',
      '8 unknown-keyword',
    ]);
  });
});
