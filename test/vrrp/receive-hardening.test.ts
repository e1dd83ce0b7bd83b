// Receive hardening on the real path (raw sockets in network namespaces): forged unicast adverts
// with check_unicast_src, and a MASTER that keeps its advert interval under a flood of
// lower-priority adverts. Adverts are crafted by test/helpers/vrrp-send.py in another namespace.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { netnsSkip, REPO_ROOT } from '../helpers/netns.js';

const skip = netnsSkip('receive-hardening namespace tests');

const SENDER = join(REPO_ROOT, 'test/helpers/vrrp-send.py');
const SUBNET = 88;
const VIP = `10.99.${SUBNET}.100`;

function conf(inst: string): string {
  return `
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass s3cret
  }
  virtual_ipaddress {
    ${VIP}/24
  }
${inst}
}
`;
}

describe.skipIf(skip)('receive hardening in network namespaces', () => {
  // ours runs the daemon; theirs sends the crafted adverts.
  const pair = interopPair({ subnet: SUBNET, vips: [VIP] });

  const send = (args: string[], timeoutMs = 30_000) =>
    pair.lab.exec(pair.theirs, ['python3', SENDER, '--vrid', '51', '--vip', VIP, '--pass', 's3cret', ...args], { timeoutMs });
  // An off-link source (TEST-NET-3) at TTL 3 and priority 254, unicast to our address, 5 a second
  // for longer than a Master_Down_Interval.
  const forge = () => send(['--dst', pair.ours.address, '--src', '203.0.113.9', '--ttl', '3', '--prio', '254', '--rate', '5', '--seconds', '4.5']);
  const unicast = (check: boolean) =>
    `  unicast_src_ip ${pair.ours.address}\n  unicast_peer {\n    ${pair.theirs.address}\n  }\n${check ? '  check_unicast_src\n' : ''}`;

  it('check_unicast_src: a forged off-link unicast advert is dropped and logged, and the MASTER stays MASTER', async () => {
    const o = pair.startOurs(conf(unicast(true)), 'ucheck');
    const master = await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const r = await forge();
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { sent: number }).sent).toBeGreaterThan(15);
    await new Promise((res) => setTimeout(res, 300));
    const after = o.lines.slice(master.index + 1).map((l) => l.text);
    expect(after.filter((l) => /Entering/.test(l))).toEqual([]);
    // One line for the first drop, not one per packet: the rest go into a summary 10 s later.
    expect(after.filter((l) => /unicast source address 203\.0\.113\.9 not a unicast peer/.test(l))).toHaveLength(1);
    await pair.stop();
  }, 60_000);

  it('without check_unicast_src the same forged advert takes mastership, as with keepalived', async () => {
    const o = pair.startOurs(conf(unicast(false)), 'unocheck');
    const master = await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const r = await forge();
    expect(r.code, r.stderr).toBe(0);
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 5000, from: master.index + 1 });
    await pair.stop();
  }, 60_000);

  it('under a flood of lower-priority adverts the MASTER keeps its advert interval', async () => {
    const { lab } = pair;
    const dump = pair.spawn(
      lab.bridgeNs,
      ['tcpdump', '-i', 'p1', '-Q', 'in', '-nn', '-tt', '-l', '--immediate-mode', 'proto', '112', 'and', 'src', 'host', lab.hosts[0].address],
      { name: 'tcpdump-flood' },
    );
    await dump.waitForLine(/listening on/, { timeoutMs: 5000 });
    // No lower-priority GARPs: what is measured here is the receive path. Their default (5 arping
    // processes at the first lower advert, 5 more 5 s later) made one advert 100-200 ms late under
    // this flood on a loaded 2-core box; master-garps-netns.test.ts covers the GARPs themselves.
    const o = pair.startOurs(conf('  garp_lower_prio_repeat 0'), 'flood');
    const master = await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const floodStart = Date.now();
    // Valid adverts (same VRID and password) at priority 50, 5,000 a second for 8 s.
    const r = await send(['--prio', '50', '--rate', '5000', '--seconds', '8']);
    const floodEnd = Date.now();
    expect(r.code, r.stderr).toBe(0);
    const { sent } = JSON.parse(r.stdout) as { sent: number };
    expect(sent).toBeGreaterThan(8 * 5000 * 0.5);
    await new Promise((res) => setTimeout(res, 1000)); // tcpdump's last lines
    const ours = dump.lines
      .map((l) => /^(\d+\.\d+) IP (\S+) > \S+: VRRPv2, Advertisement, vrid 51, prio (\d+)/.exec(l.text))
      .filter((m): m is RegExpExecArray => m !== null && m[2] === lab.hosts[0].address)
      .map((m) => Number(m[1]) * 1000);
    // The flood's first advert gets one immediate reply, which restarts the advert timer: measure
    // from the second second on.
    const during = ours.filter((t) => t >= floodStart + 1500 && t <= floodEnd);
    const gaps = during.slice(1).map((t, i) => t - during[i]);
    const sortedGaps = [...gaps].sort((a, b) => a - b);
    const p99 = sortedGaps[Math.min(sortedGaps.length - 1, Math.ceil(0.99 * sortedGaps.length) - 1)];
    console.log(
      `flood: ${sent} adverts in ${((floodEnd - floodStart) / 1000).toFixed(1)} s; MASTER adverts ${during.length}, gaps p99 ${p99?.toFixed(1)} ms, min ${sortedGaps[0]?.toFixed(1)}, max ${sortedGaps.at(-1)?.toFixed(1)}`,
    );
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    // On a loaded 2-core machine: no advert early, none late by more than 50 ms (the bench has the
    // exact figures); far inside a BACKUP's Master_Down_Interval of 3.6 s either way.
    expect(Math.abs(p99 - 1000)).toBeLessThan(50);
    expect(sortedGaps[0]).toBeGreaterThan(950);
    expect(o.lines.slice(master.index + 1).filter((l) => /Entering/.test(l.text))).toEqual([]);
    // "forcing new election" once, then a summary: not one line per advert.
    expect(o.lines.length - master.index).toBeLessThan(10);
    await pair.stop();
  }, 60_000);
});
