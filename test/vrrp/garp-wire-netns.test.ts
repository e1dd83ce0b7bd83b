// Gratuitous ARPs on the wire (issue 14 item 3): the daemon writes the frames itself (cap), with
// keepalived 2.2.7's count, order and spacing for garp_master_repeat / garp_master_delay and
// vrrp_garp_interval, seen by tcpdump on the bridge; and a peer's neighbour entry for the VIP
// moves to the new MASTER's MAC with no traffic of its own.
import { describe, expect, it } from 'vitest';
import { interopPair, type Who } from '../helpers/interop-pair.js';
import { keepalivedCapability, netnsSkip, poll, type Host, type Proc } from '../helpers/netns.js';

const skip = netnsSkip('GARP wire namespace tests');
const ka = keepalivedCapability();

const SUBNET = 94;
const VIPS = [`10.99.${SUBNET}.101`, `10.99.${SUBNET}.102`, `10.99.${SUBNET}.103`];

const conf = (global: string, inst: string, prio = 255, vips = VIPS) => `
global_defs {
${global}
}
vrrp_instance VI_1 {
  state ${prio === 255 ? 'MASTER' : 'BACKUP'}
  interface eth0
  virtual_router_id 64
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
${vips.map((v) => `    ${v}/24`).join('\n')}
  }
${inst}
}
`;

interface Garp {
  t: number;
  vip: string;
  mac: string;
}

describe.skipIf(skip)('gratuitous ARP frames on the wire', () => {
  // h1 and h2 run the daemons, h3 is the peer whose neighbour table moves.
  const pair = interopPair({ subnet: SUBNET, hosts: 3, vips: [`10.99.${SUBNET}.96/27`], stopWith: { signal: 'SIGTERM', graceMs: 3000, reverse: true } });

  /** tcpdump on a host's bridge port: the frames it sends, with epoch timestamps and MACs. */
  const capture = async (port: string, tag: string): Promise<Proc> => {
    const d = pair.spawn(pair.lab.bridgeNs, ['tcpdump', '-i', port, '-Q', 'in', '-e', '-nn', '-tt', '-l', '--immediate-mode', 'arp'], {
      name: `tcpdump-${tag}`,
    });
    await d.waitForLine(/listening on/, { timeoutMs: 5000 });
    return d;
  };
  const garps = (d: Proc): Garp[] =>
    d.lines.flatMap((l) => {
      // 1765065950.035958 02:..:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.99.94.101 (ff:ff:ff:ff:ff:ff) tell 10.99.94.101, length 28
      const m = /^(\d+\.\d+) (\S+) > ff:ff:ff:ff:ff:ff, .*Request who-has (\S+) \(ff:ff:ff:ff:ff:ff\) tell (\S+),/.exec(l.text);
      return m && m[3] === m[4] ? [{ t: Number(m[1]), vip: m[3], mac: m[2] }] : [];
    });
  const whos: Who[] = ka.ok ? ['ours', 'keepalived'] : ['ours'];
  const seen: Partial<Record<Who, string[]>> = {};

  it.each(whos)(
    '%s: garp_master_repeat 3, garp_master_delay 2: 3 frames per VIP at once, in VIP order, and 3 more 2 s later, from the interface MAC',
    async (who) => {
      const { lab } = pair;
      const [h1] = pair.hosts;
      const dump = await capture('p1', `burst-${who}`);
      const p = pair.start(who, h1, conf('', '  garp_master_repeat 3\n  garp_master_delay 2'), 'burst');
      await p.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
      await poll(() => garps(dump).length >= 18, { timeoutMs: 15_000, what: '18 GARPs', diagnose: () => dump.lines.map((l) => l.text).join('\n') });
      await new Promise((r) => setTimeout(r, 1000));
      const g = garps(dump);
      const mac = (await lab.exec(h1, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
      expect(g.length, JSON.stringify(g)).toBe(18);
      expect(new Set(g.map((x) => x.mac))).toEqual(new Set([mac]));
      const order = g.map((x) => x.vip);
      expect(order).toEqual([...VIPS, ...VIPS, ...VIPS, ...VIPS, ...VIPS, ...VIPS]);
      const t0 = g[0].t;
      // A burst goes out back to back; the second one garp_master_delay later.
      expect(g[8].t - t0, JSON.stringify(g)).toBeLessThan(0.5);
      expect(g[9].t - t0).toBeGreaterThan(1.8);
      expect(g[9].t - t0).toBeLessThan(3);
      expect(g[17].t - g[9].t).toBeLessThan(0.5);
      await pair.stop();
    },
    60_000,
  );

  it.each(whos)(
    '%s: vrrp_garp_interval 0.2: one frame per 0.2 s on the interface, a repeat of a waiting one adds nothing',
    async (who) => {
      const [h1] = pair.hosts;
      const dump = await capture('p1', `paced-${who}`);
      const p = pair.start(who, h1, conf('  vrrp_garp_interval 0.2', '  garp_master_repeat 3\n  garp_master_delay 2'), 'paced');
      await p.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
      // keepalived (queue_garp): the first VIP at once, then each VIP once more, 0.2 s apart; the
      // same after garp_master_delay: 8 frames.
      await poll(() => garps(dump).length >= 8, { timeoutMs: 15_000, what: '8 GARPs', diagnose: () => dump.lines.map((l) => l.text).join('\n') });
      await new Promise((r) => setTimeout(r, 1500));
      const g = garps(dump);
      const t0 = g[0].t;
      const desc = g.map((x) => `${(x.t - t0).toFixed(3)} ${x.vip}`).join(', ');
      seen[who] = g.map((x) => x.vip);
      expect(
        g.map((x) => x.vip),
        desc,
      ).toEqual([VIPS[0], ...VIPS, VIPS[0], ...VIPS]);
      for (let i = 1; i < g.length; i++) expect(g[i].t - g[i - 1].t, desc).toBeGreaterThan(0.18);
      expect(g[3].t - t0, desc).toBeLessThan(1);
      expect(g[4].t - t0, desc).toBeGreaterThan(1.8);
      if (who === 'keepalived' && seen.ours) expect(seen.ours).toEqual(seen.keepalived);
      await pair.stop();
    },
    60_000,
  );

  it('a peer\u2019s neighbour entry for the VIP moves to the new MASTER\u2019s MAC', async () => {
    const { lab } = pair;
    const [h1, h2, h3] = pair.hosts;
    const vip = VIPS[0];
    const a = pair.start('ours', h1, conf('', '  garp_master_delay 0\n  garp_master_repeat 2', 255, [vip]), 'neigh-1');
    await a.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    const b = pair.start('ours', h2, conf('', '  garp_master_delay 0\n  garp_master_repeat 2', 100, [vip]), 'neigh-2');
    await b.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 15_000 });
    const mac = async (h: Host) => (await lab.exec(h, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
    const [mac1, mac2] = [await mac(h1), await mac(h2)];
    // The peer learns the VIP at the first MASTER by talking to it.
    const ping = await lab.exec(h3, ['ping', '-c', '1', '-W', '2', vip]);
    expect(ping.code, ping.stdout).toBe(0);
    const neigh = async () => (await lab.exec(h3, ['ip', '-4', 'neigh', 'show', vip, 'dev', 'eth0'])).stdout;
    expect(await neigh()).toContain(mac1);
    // The MASTER goes; the peer sends nothing more, so only the new MASTER's GARPs can move the entry.
    await a.kill('SIGKILL', 3000);
    await b.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    let last = '';
    await poll(async () => (last = await neigh()).includes(mac2), { timeoutMs: 5000, what: `the neighbour entry at ${mac2}`, diagnose: () => last });
    await pair.stop();
  }, 60_000);
});
