// The firewall keywords of global_defs as keepalived 2.2.7 from Debian reads them (NFTABLES, no
// IPTABLES or LIBIPSET; its -t messages are in test/fixtures/broken/78-vrrp-iptables-nftables.conf):
// which table name and chain priority the daemon ends up with.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { exitCodeOf } from '../../src/config/diagnostics.js';
import { nftTableKeyword } from '../../src/config/model/index.js';

const load = (lines: string[]) => loadConfigText(`global_defs {\n${lines.map((l) => `  ${l}\n`).join('')}}\n`);

describe('nftables, nftables_priority, vrrp_iptables, vrrp_ipsets', () => {
  it('the first nftables names the table and sets the priority back to -1; a later one is reported and ignored', () => {
    const r = load(['nftables_priority -7', 'nftables one', 'nftables two']);
    expect(r.config.globalDefs.nftables).toEqual(['one']);
    expect(r.config.globalDefs.nftablesPriority).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.line, d.message, d.severity])).toEqual([[4, 'nftables already specified - ignoring', 'warning']]);
    expect(exitCodeOf(r.diagnostics)).toBe(5);
    expect(load(['nftables one', 'nftables_priority -7']).config.globalDefs.nftablesPriority).toBe(-7);
  });

  it('without a name, or without the keyword, the name a reload compares', () => {
    expect(nftTableKeyword(load(['nftables']).config.globalDefs)).toBe('keepalived');
    expect(nftTableKeyword(load([]).config.globalDefs)).toBeUndefined();
    expect(nftTableKeyword(load(['nftables fw']).config.globalDefs)).toBe('fw');
  });

  it('vrrp_iptables is nftables keepalived with keepalived\u2019s config error, whatever came before it', () => {
    const r = load(['nftables mine', 'nftables_priority -7', 'vrrp_iptables IN OUT']);
    expect(r.config.globalDefs.nftables).toEqual(['keepalived']);
    expect(r.config.globalDefs.nftablesPriority).toBeUndefined();
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option",
    ]);
    expect(exitCodeOf(r.diagnostics)).toBe(5);
    // Before nftables, it wins.
    expect(load(['vrrp_iptables', 'nftables mine']).config.globalDefs.nftables).toEqual(['keepalived']);
  });

  it('vrrp_ipsets is an unknown keyword to Debian\u2019s keepalived, and changes nothing', () => {
    const r = load(['vrrp_ipsets a b']);
    expect(r.diagnostics.map((d) => [d.rule, d.message])).toEqual([['unknown-keyword', "Unknown keyword 'vrrp_ipsets'"]]);
    expect(exitCodeOf(r.diagnostics)).toBe(5);
    expect(r.config.globalDefs.nftables).toBeUndefined();
  });
});
