// A VIP on another interface (`dev eth1`) makes its instance FAULT while that interface is down,
// unless the address says no_track (keepalived 2.2.7 vrrp_complete_instance: TRACK_ADDR), ours
// against keepalived in the same namespace: eth2 (no_track) going down changes nothing, eth1 going
// down is FAULT, and back up BACKUP then MASTER with the VIPs back. Ours hears it from the link
// monitor's netlink events.
import { describe, expect, it } from 'vitest';
import { oneHostLab } from '../helpers/interop-pair.js';
import { killKeepalivedNs, netnsSkip, poll, type Keepalived } from '../helpers/netns.js';

const skip = netnsSkip('VIP interface tracking tests', { keepalived: true });

const SUBNET = 153;
const VIP1 = `10.99.${SUBNET + 1}.100`;

const conf = `
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 53
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.99.${SUBNET}.100/24
    ${VIP1}/24 dev eth1
    10.99.${SUBNET + 2}.100/24 dev eth2 no_track
  }
}
`;

describe.skipIf(skip)('VIP interfaces tracked, ours and keepalived 2.2.7', () => {
  const lab = oneHostLab({
    subnet: SUBNET,
    setup: async () => {
      for (const n of [1, 2]) {
        await lab.exec(lab.host, ['ip', 'link', 'add', `eth${n}`, 'type', 'veth', 'peer', 'name', `peer${n}`]);
        await lab.exec(lab.host, ['ip', 'addr', 'add', `10.99.${SUBNET + n}.1/24`, 'dev', `eth${n}`]);
        for (const dev of [`peer${n}`, `eth${n}`]) await lab.exec(lab.host, ['ip', 'link', 'set', dev, 'up']);
      }
    },
  });

  const link = (dev: string, state: 'up' | 'down') => lab.exec(lab.host, ['ip', 'link', 'set', dev, state]);
  const onEth1 = async (): Promise<boolean> => (await lab.exec(lab.host, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth1'])).stdout.includes(`${VIP1}/`);
  const states = (d: Keepalived, from: number): string[] => d.lines.slice(from).flatMap((l) => /Entering (\w+) STATE/.exec(l.text)?.[1] ?? []);

  const run = async (real: boolean) => {
    const tag = real ? 'ka' : 'ours';
    const d = real ? lab.keepalived(lab.host, conf, { name: `vip-if-${tag}` }) : lab.ours(lab.host, conf, { name: `vip-if-${tag}` });
    await d.waitForLine(/Entering MASTER STATE/, { timeoutMs: 20_000 });
    await poll(async () => (await onEth1()) || undefined, { timeoutMs: 5000, what: `${VIP1} on eth1 (${tag})` });
    let from = d.lines.length;
    await link('eth2', 'down');
    await new Promise((r) => setTimeout(r, 2500));
    const noTrack = states(d, from);
    from = d.lines.length;
    await link('eth1', 'down');
    await d.waitForLine(/Entering FAULT STATE/, { timeoutMs: 10_000, from });
    const vipInFault = await onEth1();
    await link('eth1', 'up');
    await d.waitForLine(/Entering MASTER STATE/, { timeoutMs: 20_000, from });
    await poll(async () => (await onEth1()) || undefined, { timeoutMs: 5000, what: `${VIP1} back on eth1 (${tag})` });
    const tracked = states(d, from);
    await link('eth2', 'up');
    if (real) await killKeepalivedNs(lab.host.ns);
    else await d.kill('SIGTERM', 5000);
    return { noTrack, tracked, vipInFault };
  };

  it('eth2 (no_track) down: nothing; eth1 down: FAULT, the VIPs gone; eth1 up: BACKUP, MASTER, as keepalived', async () => {
    const theirs = await run(true);
    const ours = await run(false);
    console.log('VIP interface tracking:', JSON.stringify({ keepalived: theirs, ours }));
    expect(theirs).toEqual({ noTrack: [], tracked: ['FAULT', 'BACKUP', 'MASTER'], vipInFault: false });
    expect(ours).toEqual(theirs);
  }, 120_000);
});
