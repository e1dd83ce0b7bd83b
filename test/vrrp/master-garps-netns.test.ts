// garp_master_refresh, vrrp_startup_delay and notify_master_rx_lower_pri on real interfaces, each
// run with keepalived 2.2.7 too: the same config, the same timings seen by tcpdump on the bridge.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopPair, type Who } from '../helpers/interop-pair.js';
import { keepalivedCapability, netnsSkip, poll, REPO_ROOT, type Proc } from '../helpers/netns.js';

const skip = netnsSkip('master GARP namespace tests');
const ka = keepalivedCapability();

const SENDER = join(REPO_ROOT, 'test/helpers/vrrp-send.py');
const SUBNET = 91;
const VIP = `10.99.${SUBNET}.100`;

const conf = (global: string, inst: string) => `
global_defs {
  script_user root
  enable_script_security
${global}
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 61
  priority 255
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
${inst}
}
`;

describe.skipIf(skip)('MASTER gratuitous ARPs and start-up delay in network namespaces', () => {
  // Each case runs on host 1 (ours or keepalived); host 2 sends the lower-priority adverts.
  const pair = interopPair({ subnet: SUBNET, vips: [VIP], stopWith: { signal: 'SIGTERM', graceMs: 2000, reverse: true } });
  const start = (who: Who, text: string, tag: string) => pair.start(who, pair.ours, text, tag);
  /** tcpdump on host 1's bridge port: frames it sends, with epoch timestamps. */
  const capture = async (filter: string[], tag: string): Promise<Proc> => {
    const d = pair.spawn(pair.lab.bridgeNs, ['tcpdump', '-i', 'p1', '-Q', 'in', '-nn', '-tt', '-l', '--immediate-mode', ...filter], { name: `tcpdump-${tag}` });
    await d.waitForLine(/listening on/, { timeoutMs: 5000 });
    return d;
  };
  const whos: Who[] = ka.ok ? ['ours', 'keepalived'] : ['ours'];

  it.each(whos)(
    '%s: garp_master_refresh 2 with repeat 2 sends 2 GARPs for the VIP with every second advert',
    async (who) => {
      const dump = await capture(['arp', 'or', 'proto', '112'], `refresh-${who}`);
      start(who, conf('', '  garp_master_delay 0\n  garp_master_repeat 1\n  garp_master_refresh 2\n  garp_master_refresh_repeat 2'), 'refresh');
      // The first advert, then 9 more seconds.
      const adverts = () => dump.lines.filter((l) => /VRRPv2, Advertisement/.test(l.text));
      await poll(() => adverts().length >= 10, { timeoutMs: 25_000, what: '10 adverts', diagnose: () => dump.lines.map((l) => l.text).join('\n') });
      const first = dump.lines.indexOf(adverts()[0]);
      const t0 = Number(/^(\d+\.\d+)/.exec(dump.lines[first].text)![1]);
      const garps = dump.lines
        .filter((l) => new RegExp(`ARP, (Request who-has|Reply) ${VIP.replace(/\./g, '\\.')} `).test(l.text))
        .map((l) => Number(/^(\d+\.\d+)/.exec(l.text)![1]) - t0)
        .filter((t) => t < 9.5);
      // Seconds after the first advert, rounded: 1 GARP on becoming MASTER (with the first advert),
      // then 2 at each refresh, sent with the adverts at 2, 4, 6 and 8 s.
      const bySecond = new Map<number, number>();
      for (const t of garps) bySecond.set(Math.round(t), (bySecond.get(Math.round(t)) ?? 0) + 1);
      expect(
        [...bySecond.entries()].sort((a, b) => a[0] - b[0]),
        garps.map((t) => t.toFixed(3)).join(' '),
      ).toEqual([
        [0, 1],
        [2, 2],
        [4, 2],
        [6, 2],
        [8, 2],
      ]);
      await pair.stop();
    },
    60_000,
  );

  it.each(whos)(
    '%s: vrrp_startup_delay 2 holds the address owner back: its first advert comes 2 s after the "Delaying startup" line',
    async (who) => {
      const dump = await capture(['proto', '112'], `delay-${who}`);
      const p = start(who, conf('  vrrp_startup_delay 2', ''), 'delay');
      const said = await p.waitForLine(/Delaying startup for 2 seconds/, { timeoutMs: 10_000 });
      await poll(() => dump.lines.find((l) => /VRRPv2, Advertisement/.test(l.text)), { timeoutMs: 10_000, what: 'the first advert' });
      const advertAt = Number(/^(\d+\.\d+)/.exec(dump.lines.find((l) => /VRRPv2, Advertisement/.test(l.text))!.text)![1]) * 1000;
      // The line reaches us a little after it was written: the gap seen is at most the real one.
      const gap = advertAt - said.at;
      expect(gap).toBeGreaterThan(1500);
      expect(gap).toBeLessThan(3000);
      await pair.stop();
    },
    60_000,
  );

  it.each(whos)(
    '%s: a lower-priority advert brings the global defaults, 5 GARPs at once and 5 more 5 s later (not the instance garp_master_*)',
    async (who) => {
      const dump = await capture(['arp'], `lower-${who}`);
      const p = start(who, conf('', '  garp_master_delay 0\n  garp_master_repeat 1'), 'lower');
      await p.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
      // The MASTER's own announcement (1 GARP) is out before the lower advert comes.
      await new Promise((r) => setTimeout(r, 1500));
      const before = dump.lines.length;
      const r = await pair.lab.exec(pair.theirs, ['python3', SENDER, '--vrid', '61', '--vip', VIP, '--prio', '50', '--count', '1']);
      expect(r.code, r.stderr).toBe(0);
      const sentAt = Date.now() / 1000;
      const garps = () =>
        dump.lines
          .slice(before)
          .filter((l) => l.text.includes(` ${VIP} `))
          .map((l) => Number(/^(\d+\.\d+)/.exec(l.text)![1]) - sentAt);
      await poll(() => garps().length >= 10, { timeoutMs: 10_000, what: '10 GARPs', diagnose: () => garps().join(' ') });
      await new Promise((res) => setTimeout(res, 1000));
      const t = garps();
      expect(t.length, t.join(' ')).toBe(10);
      // Seconds after the sender was done: about 0 and about 5.
      expect(
        t.slice(0, 5).every((x) => x > -1 && x < 1.5),
        t.join(' '),
      ).toBe(true);
      expect(
        t.slice(5).every((x) => x > 4 && x < 6.5),
        t.join(' '),
      ).toBe(true);
      await pair.stop();
    },
    60_000,
  );
  it.each(whos)(
    '%s: unicast_fault_no_peer without peers: the line, then nothing: no state entered, no advert, no VIP',
    async (who) => {
      const dump = await capture(['proto', '112'], `nopeer-${who}`);
      const p = start(who, conf('', '  unicast_fault_no_peer'), 'nopeer');
      await p.waitForLine(/\(VI_1\) Cannot use unicast without any peers - going to fault state/, { timeoutMs: 10_000 });
      // An owner would be MASTER at once; 2.5 s more covers a start that is still going.
      await new Promise((r) => setTimeout(r, 2500));
      expect(dump.lines.filter((l) => /VRRP/.test(l.text))).toEqual([]);
      expect(p.lines.filter((l) => /Entering/.test(l.text))).toEqual([]);
      expect(await pair.lab.addresses(pair.ours)).not.toContain(VIP);
      await pair.stop();
    },
    60_000,
  );

  it.each(whos)(
    '%s: notify_master_rx_lower_pri runs with its own arguments when the MASTER hears a lower priority',
    async (who) => {
      const mark = join(pair.lab.dir, `rx-lower-pri-${who}`);
      const p = start(who, conf('', `  notify_master_rx_lower_pri "/usr/bin/touch ${mark}"`), 'rxlower');
      await p.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
      expect(existsSync(mark)).toBe(false);
      const r = await pair.lab.exec(pair.theirs, ['python3', SENDER, '--vrid', '61', '--vip', VIP, '--prio', '50', '--count', '1']);
      expect(r.code, r.stderr).toBe(0);
      await poll(() => existsSync(mark), { timeoutMs: 5000, what: `${mark} from the notify script`, diagnose: () => p.lines.map((l) => l.text).join('\n') });
      expect(readFileSync(mark, 'utf8')).toBe('');
      await pair.stop();
    },
    60_000,
  );
});
