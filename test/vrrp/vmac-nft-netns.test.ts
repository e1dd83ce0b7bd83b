// The IGMP/MLD rules keepalived 2.2.7 adds to its nftables table for each VMAC (vrrp_nftables.c
// nft_setup_igmp: vmac_map, vmac_set, the `dup to ... device oif map @vmac_map` rules and the
// router solicitation drop), compared with ours as the real `nft list ruleset` prints them: with
// use_vmac alone (before any MASTER) and with vrrp_strict's VIP rules beside them once MASTER.
import { describe, expect, it } from 'vitest';
import { oneHostLab } from '../helpers/interop-pair.js';
import { killKeepalivedNs, netnsSkip, poll, waitLinkLocal, type Keepalived } from '../helpers/netns.js';

const skip = netnsSkip('VMAC nftables tests', { keepalived: true, nft: true });

const SUBNET = 155;

const conf = (strict: boolean): string => `
global_defs {
  router_id vmacnft${strict ? '\n  vrrp_strict' : ''}
}
vrrp_instance V4 {
  state BACKUP
  interface eth0
  use_vmac
  virtual_router_id 55
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.99.${SUBNET}.100/24
  }
}
vrrp_instance V6 {
  state BACKUP
  interface eth0
  use_vmac
  virtual_router_id 56
  priority 100
  advert_int 1
  virtual_ipaddress {
    fd00:${SUBNET}::100/64
  }
}
`;

describe.skipIf(skip)('the IGMP/MLD rules for VMACs in the nftables table, ours and keepalived 2.2.7', () => {
  const lab = oneHostLab({ subnet: SUBNET, setup: waitLinkLocal });

  const ruleset = async (): Promise<string> => (await lab.exec(lab.host, ['nft', 'list', 'ruleset'])).stdout;

  const observe = async (real: boolean, strict: boolean): Promise<{ early: string; master: string; after: string }> => {
    const name = `vmac-nft-${real ? 'ka' : 'ours'}-${strict ? 'strict' : 'plain'}`;
    const d: Keepalived = real ? lab.keepalived(lab.host, conf(strict), { name }) : lab.ours(lab.host, conf(strict), { name });
    // The VMACs' rules come with the VMACs, before any MASTER.
    const early = await poll(async () => ((await ruleset()).includes('nd-router-solicit') ? ruleset() : undefined), {
      timeoutMs: 15_000,
      what: `the VMAC rules (${name})`,
      diagnose: () => d.tail(20),
    });
    await poll(async () => (d.lines.filter((l) => /Entering MASTER STATE/.test(l.text)).length >= 2 ? true : undefined), {
      timeoutMs: 20_000,
      what: `two MASTERs (${name})`,
    });
    // The VIP rules follow the state change: let them land.
    await new Promise((r) => setTimeout(r, 1500));
    const master = await ruleset();
    if (real) await killKeepalivedNs(lab.host.ns);
    else await d.kill('SIGTERM', 5000);
    const after = await ruleset();
    for (const dev of ['vrrp.55', 'vrrp.56']) await lab.exec(lab.host, ['ip', 'link', 'del', 'dev', dev]);
    await lab.exec(lab.host, ['nft', 'flush', 'ruleset']);
    return { early, master, after };
  };

  it('use_vmac alone: the vmac_map/vmac_set and their rules as keepalived makes them, gone at the stop', async () => {
    const theirs = await observe(true, false);
    const ours = await observe(false, false);
    console.log('keepalived use_vmac ruleset:\n' + theirs.master);
    expect(theirs.early).toContain('dup to ip daddr device oif map @vmac_map drop');
    expect(theirs.early).toContain('"vrrp.56" : "eth0"');
    expect(ours.early).toBe(theirs.early);
    expect(ours.master).toBe(theirs.master);
    expect(ours.after).toBe('');
  }, 120_000);

  it('with vrrp_strict: the VIP drop rules after the VMAC rules, the same ruleset as keepalived', async () => {
    const theirs = await observe(true, true);
    const ours = await observe(false, true);
    console.log('keepalived use_vmac + vrrp_strict ruleset:\n' + theirs.master);
    expect(theirs.master).toContain('ip saddr @vips drop');
    expect(ours.master).toBe(theirs.master);
  }, 120_000);
});
