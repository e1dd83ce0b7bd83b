// vrrp_strict against the real keepalived 2.2.7 in network namespaces: the election in both roles
// with a kill -9 failover within Master_Down_Interval + 0.5 s, and the no_accept firewall that
// strict mode implies, compared as the real `nft list ruleset` prints it on each side.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { killKeepalivedNs, netnsSkip, poll, type Host } from '../helpers/netns.js';

const skip = netnsSkip('vrrp_strict interop tests', { keepalived: true, nft: true });

const SUBNET = 62;
const VIP = `10.99.${SUBNET}.100`;
const VIP2 = `10.99.${SUBNET}.101`;
const MASTER_DOWN_MS = 3609; // priority 100, advert_int 1, VRRPv2

const conf = (prio: number): string => `
global_defs {
  router_id s${prio}
  vrrp_strict
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 62
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
    ${VIP2}
  }
}
`;

describe.skipIf(skip)('vrrp_strict interop with keepalived 2.2.7, and its nftables rules', () => {
  // A kill -9 leaves the table behind, on either side.
  const pair = interopPair({
    subnet: SUBNET,
    vips: [VIP, VIP2],
    cleanup: async ({ lab, hosts }) => {
      for (const h of hosts) await lab.exec(h, ['nft', 'flush', 'ruleset']);
    },
  });

  const ruleset = async (h: Host): Promise<string> => {
    const r = await pair.lab.exec(h, ['nft', 'list', 'ruleset']);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };

  it('ours MASTER, keepalived BACKUP: the same ruleset on the MASTER side as keepalived sets; keepalived takes over after kill -9', async () => {
    const { lab, ours, theirs } = pair;
    const o = pair.startOurs(conf(150), 's1');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    const k = pair.startKeepalived(conf(100), 's1');
    await k.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 2500));
    expect(k.output()).not.toMatch(/Entering MASTER STATE/);
    // No table on a BACKUP, on either implementation.
    expect(await ruleset(theirs)).toBe('');
    const oursRules = await poll(async () => ((await ruleset(ours)).includes(VIP2) ? ruleset(ours) : undefined), { timeoutMs: 3000, what: 'our rules' });
    // What it does: traffic to a VIP is dropped on the non-owner MASTER (no_accept).
    const ping = await lab.exec(theirs, ['ping', '-c', '1', '-W', '1', VIP]);
    expect(ping.code).not.toBe(0);

    const killedAt = Date.now();
    await o.kill('SIGKILL', 0);
    const line = await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const took = line.at - killedAt;
    console.log(`strict: keepalived took over ${took} ms after kill -9 of ours (bound ${MASTER_DOWN_MS + 500})`);
    expect(took).toBeLessThan(MASTER_DOWN_MS + 500);
    await pair.waitVip(theirs, true, 3000, 'VIP on keepalived');
    const theirRules = await poll(async () => ((await ruleset(theirs)).includes(VIP2) ? ruleset(theirs) : undefined), {
      timeoutMs: 3000,
      what: 'keepalived rules',
    });
    expect(oursRules).toBe(theirRules);
    expect(oursRules).toMatch(/table ip keepalived/);
  }, 60_000);

  it('keepalived MASTER, ours BACKUP: ours takes over after kill -9 with keepalived\u2019s rules, and removes them at its stop', async () => {
    const { ours, theirs } = pair;
    const k = pair.startKeepalived(conf(150), 's2');
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    const o = pair.startOurs(conf(100), 's2');
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 2500));
    expect(o.output()).not.toMatch(/Entering MASTER STATE/);
    expect(await ruleset(ours)).toBe('');
    const theirRules = await poll(async () => ((await ruleset(theirs)).includes(VIP2) ? ruleset(theirs) : undefined), {
      timeoutMs: 3000,
      what: 'keepalived rules',
    });

    const killedAt = Date.now();
    await killKeepalivedNs(theirs.ns);
    const line = await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const took = line.at - killedAt;
    console.log(`strict: ours took over ${took} ms after kill -9 of keepalived (bound ${MASTER_DOWN_MS + 500})`);
    expect(took).toBeLessThan(MASTER_DOWN_MS + 500);
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    const oursRules = await poll(async () => ((await ruleset(ours)).includes(VIP2) ? ruleset(ours) : undefined), { timeoutMs: 3000, what: 'our rules' });
    expect(oursRules).toBe(theirRules);

    // SIGTERM: the table goes with the VIPs, as keepalived's does.
    await o.kill('SIGTERM', 5000);
    expect(await ruleset(ours)).toBe('');
    expect(await pair.hasVip(ours)).toBe(false);
  }, 60_000);

  it('a reload that drops the instance takes its VIPs out of the drop set', async () => {
    const { lab, ours } = pair;
    const o = pair.startOurs(conf(150), 's3');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    await poll(async () => (await ruleset(ours)).includes(VIP2) || undefined, { timeoutMs: 3000, what: 'our rules' });
    const other = conf(150)
      .replace('VI_1', 'VI_2')
      .replace('virtual_router_id 62', 'virtual_router_id 63')
      .replace(`${VIP}/24\n    ${VIP2}`, `10.99.${SUBNET}.200/24`);
    writeFileSync(join(lab.dir, 'ours-s3.conf'), other);
    const from = o.lines.length;
    await lab.exec(ours, ['kill', '-HUP', String(o.pid)]);
    await o.waitForLine(/Reload finished/, { timeoutMs: 10_000, from });
    await poll(async () => (!(await ruleset(ours)).includes(VIP2) ? true : undefined), { timeoutMs: 3000, what: 'VI_1 VIPs out of the set' });
    expect(await ruleset(ours)).not.toContain(VIP);
  }, 60_000);
});
