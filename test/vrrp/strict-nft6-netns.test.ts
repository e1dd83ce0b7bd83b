// no_accept's nftables rules for IPv6 VIPs, next to IPv4 ones, compared with the real keepalived
// 2.2.7 as the real `nft list ruleset` prints them: its ip6 table (global VIPs in `vips`, link-local
// ones by interface index or, with dont_track_primary, by name), the neighbour discovery it lets
// through, nftables NAME / nftables_priority / nftables_counters, the tables an earlier run left
// (deleted before the first), and a reload that changes the table name (refused, as keepalived's).
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { killKeepalivedNs, netnsSkip, poll, waitLinkLocal, type Proc } from '../helpers/netns.js';

const skip = netnsSkip('IPv6 no_accept nftables tests', { keepalived: true, nft: true });

const SUBNET = 164;
const VIP6 = 'fd00:164::100';
const VIP4 = `10.99.${SUBNET}.100`;

const conf = (table: string): string => `
global_defs {
  router_id n6
  vrrp_strict
  nftables ${table}
  nftables_priority -5
  nftables_counters
}
vrrp_instance V6 {
  state BACKUP
  interface eth0
  virtual_router_id 64
  priority 100
  advert_int 1
  virtual_ipaddress {
    fe80::164:100/64
    ${VIP6}/64
    fd00:164::101/64
  }
}
vrrp_instance V6n {
  state BACKUP
  interface eth0
  dont_track_primary
  virtual_router_id 65
  priority 100
  advert_int 1
  virtual_ipaddress {
    fe80::164:200/64
  }
}
vrrp_instance V4 {
  state BACKUP
  interface eth0
  virtual_router_id 66
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${VIP4}/24
  }
}
`;

/** Each table on its own, counters and set element order aside (which MASTER came first decides the table order). */
function tables(ruleset: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of ruleset.matchAll(/^table (\S+ \S+) \{\n([\s\S]*?)^\}/gm))
    out[m[1]] = m[2].replace(/counter packets \d+ bytes \d+/g, 'counter').replace(
      /elements = \{([^}]*)\}/g,
      (_, els: string) =>
        `elements = { ${els
          .split(/,\s*/)
          .map((e) => e.trim())
          .sort()
          .join(', ')} }`,
    );
  return out;
}

describe.skipIf(skip)('no_accept nftables rules for IPv6 VIPs, as keepalived 2.2.7 sets them', () => {
  // Both daemons run on a; b pings and resolves the VIPs.
  const pair = interopPair({
    subnet: SUBNET,
    setup: async ({ lab, theirs: b }) => {
      await lab.exec(b, ['ip', '-6', 'addr', 'add', 'fd00:164::2/64', 'dev', 'eth0', 'nodad']);
      await waitLinkLocal(lab);
    },
    cleanup: async ({ lab, ours: a }) => {
      await killKeepalivedNs(a.ns);
      await dropVips();
      await lab.exec(a, ['nft', 'flush', 'ruleset']);
    },
  });
  /** What a kill -9 leaves on the interface (the link-local VIPs would become the adverts' source). */
  const dropVips = async (): Promise<void> => {
    const { lab, ours: a } = pair;
    await lab.exec(a, ['ip', 'addr', 'flush', 'dev', 'eth0', 'to', `${VIP4}/32`]);
    for (const v of [VIP6, 'fd00:164::101', 'fe80::164:100', 'fe80::164:200']) await lab.exec(a, ['ip', '-6', 'addr', 'del', `${v}/64`, 'dev', 'eth0']);
  };

  const ruleset = async (): Promise<string> => {
    const r = await pair.lab.exec(pair.ours, ['nft', 'list', 'ruleset']);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  /** Once all three instances are MASTER and their VIPs are in the sets. */
  const fullRuleset = (what: string): Promise<string> =>
    poll(
      async () => {
        const r = await ruleset();
        const all = [VIP4, VIP6, 'fd00:164::101', 'fe80::164:100', 'fe80::164:200'].every((v) => r.includes(v));
        return all && !r.includes('left_over') ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what },
    );
  const masters = async (p: Proc): Promise<void> => {
    for (const i of ['V6', 'V6n', 'V4']) await p.waitForLine(new RegExp(`\\(${i}\\) Entering MASTER STATE`), { timeoutMs: 20_000 });
  };

  it('the same ip and ip6 tables as keepalived; neighbour discovery passes, traffic to the VIP does not; gone at the stop', async () => {
    const { lab, ours: a, theirs: b } = pair;
    const k = pair.startKeepalived(conf('ka_fw'), 'n6', { host: a });
    await masters(k);
    const theirs = tables(await fullRuleset('keepalived rules'));
    // keepalived SIGKILLed: its tables stay, and ours deletes them before making its own.
    await killKeepalivedNs(a.ns);
    await dropVips();
    expect(Object.keys(tables(await ruleset())).sort()).toEqual(['ip ka_fw', 'ip6 ka_fw']);
    // Marked, to tell what is left from what ours makes.
    for (const f of ['ip', 'ip6']) expect((await lab.exec(a, ['nft', 'add', 'chain', f, 'ka_fw', 'left_over'])).code).toBe(0);

    const o = pair.startOurs(conf('ka_fw'), 'n6', { host: a });
    await masters(o);
    const mine = tables(await fullRuleset('our rules'));
    await o.waitForLine(/Deleting old ip ka_fw table/, { timeoutMs: 5000 });
    await o.waitForLine(/Deleting old ip6 ka_fw table/, { timeoutMs: 5000 });
    expect(Object.keys(mine).sort()).toEqual(['ip ka_fw', 'ip6 ka_fw']);
    expect(mine['ip6 ka_fw']).toBe(theirs['ip6 ka_fw']);
    expect(mine['ip ka_fw']).toBe(theirs['ip ka_fw']);
    expect(mine['ip6 ka_fw']).toMatch(/type filter hook input priority filter - 5; policy accept;\n\t\ticmpv6 type @neighbor-discovery counter accept/);
    expect(mine['ip6 ka_fw']).toMatch(/set vips_link_local_name \{\n\t\ttype ipv6_addr \. ifname\n\t\telements = \{ fe80::164:200 \. "eth0" \}/);

    // What the rules do: the VIP does not answer, but its neighbour advert goes out (b learns its MAC).
    const ping = await lab.exec(b, ['ping', '-6', '-c', '1', '-W', '1', VIP6]);
    expect(ping.code).not.toBe(0);
    const neigh = (await lab.exec(b, ['ip', '-6', 'neigh', 'show', VIP6, 'dev', 'eth0'])).stdout;
    expect(neigh).toMatch(/lladdr [0-9a-f:]{17}/);
    expect(neigh).not.toMatch(/FAILED|INCOMPLETE/);

    await o.kill('SIGTERM', 5000);
    expect(await ruleset()).toBe('');
  }, 90_000);

  it('a reload that changes the table name is refused, as keepalived refuses it; one that changes the priority is not', async () => {
    const { lab, ours: a } = pair;
    const k = pair.startKeepalived(conf('tab_a'), 'rl', { host: a });
    await masters(k);
    writeFileSync(k.configFile, conf('tab_b'));
    let from = k.lines.length;
    await lab.exec(a, ['kill', '-HUP', String(k.pid)]);
    const theirLine = await k.waitForLine(/Cannot change nftables table name/, { timeoutMs: 10_000, from });
    await killKeepalivedNs(a.ns);
    await dropVips();
    await lab.exec(a, ['nft', 'flush', 'ruleset']);

    const o = pair.startOurs(conf('tab_a'), 'rl', { host: a });
    await masters(o);
    await fullRuleset('our rules');
    writeFileSync(o.configFile, conf('tab_b'));
    from = o.lines.length;
    await lab.exec(a, ['kill', '-HUP', String(o.pid)]);
    const ourLine = await o.waitForLine(/Cannot change nftables table name/, { timeoutMs: 10_000, from });
    expect(ourLine.text).toContain(theirLine.text.replace(/^.*?: /, ''));
    expect(Object.keys(tables(await ruleset())).sort()).toEqual(['ip tab_a', 'ip6 tab_a']);

    // Removing the keyword changes the name keepalived compares too (its VRRP process would use the default).
    writeFileSync(o.configFile, conf('tab_a').replace('nftables tab_a', ''));
    from = o.lines.length;
    await lab.exec(a, ['kill', '-HUP', String(o.pid)]);
    await o.waitForLine(/Cannot change nftables table name/, { timeoutMs: 10_000, from });

    writeFileSync(o.configFile, conf('tab_a').replace('nftables_priority -5', 'nftables_priority -9'));
    from = o.lines.length;
    await lab.exec(a, ['kill', '-HUP', String(o.pid)]);
    await o.waitForLine(/Reload finished/, { timeoutMs: 10_000, from });
    // The chains made at the first MASTER keep their priority, as keepalived's do.
    expect(await ruleset()).toMatch(/priority filter - 5;/);
  }, 90_000);
});
