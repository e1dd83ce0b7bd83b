// disable_local_igmp in network namespaces, ours beside keepalived 2.2.7: the namespace's
// net.ipv4.igmp_link_local_mcast_reports is 0 while each daemon runs and 1 again after its stop,
// and a reload that would change the keyword is refused with keepalived's line.
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interopPair, type Who } from '../helpers/interop-pair.js';
import { keepalivedCapability, netnsSkip, poll, type Host } from '../helpers/netns.js';

const skip = netnsSkip('disable_local_igmp namespace tests');
const ka = keepalivedCapability();
const SUBNET = 67;
const VIP = `10.99.${SUBNET}.100`;

const conf = (disable: boolean): string => `
global_defs {
  router_id igmp
${disable ? '  disable_local_igmp\n' : ''}}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 67
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;

describe.skipIf(skip)('disable_local_igmp', () => {
  const pair = interopPair({ subnet: SUBNET, vips: [VIP], stopWith: { signal: 'SIGTERM', graceMs: 5000 } });
  const reports = async (h: Host): Promise<string> => (await pair.lab.exec(h, ['cat', '/proc/sys/net/ipv4/igmp_link_local_mcast_reports'])).stdout.trim();
  const whos: Who[] = ka.ok ? ['ours', 'keepalived'] : ['ours'];

  it.each(whos)(
    '%s: the sysctl is 0 while it runs and 1 again after its stop',
    async (who) => {
      const h = who === 'ours' ? pair.ours : pair.theirs;
      expect(await reports(h)).toBe('1');
      const d = pair.start(who, h, conf(true), `igmp-${who}`);
      await d.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 15_000 });
      await poll(async () => (await reports(h)) === '0' || undefined, { timeoutMs: 3000, what: 'igmp_link_local_mcast_reports 0' });
      await d.kill('SIGTERM', 5000);
      expect(await reports(h)).toBe('1');
    },
    40_000,
  );

  it('ours: a reload that drops it is refused, keeping the running configuration and the sysctl', async () => {
    const h = pair.ours;
    const d = pair.startOurs(conf(true), 'igmp-reload');
    await d.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 15_000 });
    writeFileSync(d.configFile, conf(false));
    d.signal('SIGHUP');
    await d.waitForLine(/Cannot change disable_local_igmp at a reload - please restart keepalived/, { timeoutMs: 10_000 });
    expect(await reports(h)).toBe('0');
    await d.kill('SIGTERM', 5000);
    expect(await reports(h)).toBe('1');
  }, 40_000);
});
