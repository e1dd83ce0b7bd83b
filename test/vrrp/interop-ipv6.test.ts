// VRRPv3 over IPv6: keepalived-ts and the real keepalived 2.2.7 in one election, in network
// namespaces made by the test, multicast (ff02::12 from the link-local addresses) and unicast
// (unicast_src_ip/unicast_peer); what goes on the wire (tcpdump: hop limit 255, unsolicited NAs);
// and a forged advert whose hop limit is not 255 is dropped and counted.
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { netnsSkip, poll, REPO_ROOT, waitLinkLocal, type Host, type Keepalived } from '../helpers/netns.js';

const skip = netnsSkip('IPv6 interop tests', { keepalived: true });

const VIP = 'fd00:99:8::100';
// Master_Down_Interval for priority 100, advert_int 1 (v3: 3 * 1 s + (256 - 100) / 256 s).
const DOWN_MS = 3609;

function conf(o: { prio: number; state?: string; unicast?: { src: string; peer: string }; top?: string }): string {
  return `
global_defs {
  router_id r${o.prio}
  vrrp_gna_interval 0.01
}
${o.top ?? ''}
vrrp_instance VI_6 {
  state ${o.state ?? 'BACKUP'}
  interface eth0
  virtual_router_id 61
  priority ${o.prio}
  advert_int 1
  ${o.unicast ? `unicast_src_ip ${o.unicast.src}\n  unicast_peer {\n    ${o.unicast.peer}\n  }` : ''}
  virtual_ipaddress {
    ${VIP}/64
  }
}
`;
}

describe.skipIf(skip)('VRRPv3 over IPv6 with keepalived 2.2.7 in network namespaces', () => {
  const unicastAddr = (h: Host): string => `fd00:99:9::${h.index + 1}`;
  const pair = interopPair({
    subnet: 8,
    vips: [VIP],
    setup: async ({ lab }) => {
      for (const h of lab.hosts) await lab.exec(h, ['ip', '-6', 'addr', 'add', `${unicastAddr(h)}/64`, 'dev', 'eth0', 'nodad']);
      // The link-local address is the advert source: wait for it to leave DAD.
      await waitLinkLocal(lab);
    },
  });

  // kill -9 of keepalived's VRRP child itself: killed through its parent, the child gets
  // keepalived's parent-death SIGTERM and sends priority 0 (measured: takeover in ~0.65 s).
  const kill9 = async (k: Keepalived): Promise<void> => {
    process.kill(Number(readFileSync(k.vrrpPidFile, 'utf8').trim()), 'SIGKILL');
    await k.kill('SIGKILL', 0);
  };
  const linkLocal = async (h: Host): Promise<string> => {
    const out = (await pair.lab.exec(h, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).stdout;
    return /inet6 (fe80::[0-9a-f:]+)\//.exec(out)![1];
  };

  it('multicast: ours MASTER with the VIP (nodad), adverts at hop limit 255 and unsolicited NAs on the wire; keepalived takes over after kill -9 within Master_Down_Interval + 0.5 s', async () => {
    const { lab, ours, theirs } = pair;
    const k = pair.startKeepalived(conf({ prio: 100 }), 'a');
    const cap = pair.spawn(theirs, ['tcpdump', '-l', '-n', '-v', '-i', 'eth0', 'ip6 proto 112 or icmp6'], { name: 'tcpdump6-a' });
    await cap.waitForLine(/listening on/, { timeoutMs: 10_000 });
    const o = pair.startOurs(conf({ prio: 150 }), 'a');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    // keepalived may have been MASTER alone for a moment; ours preempts it.
    await poll(
      () =>
        /Entering BACKUP STATE/.test(
          k
            .output()
            .split(/Entering MASTER STATE/)
            .pop()!,
        )
          ? true
          : undefined,
      {
        timeoutMs: 10_000,
        intervalMs: 50,
        what: 'keepalived BACKUP',
      },
    );
    await pair.waitVip(theirs, false, 3000, 'no VIP on keepalived');
    // keepalived adds IPv6 VIPs without DAD; so do we.
    expect((await lab.exec(ours, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout).toMatch(new RegExp(`${VIP}/64 .*nodad`));

    // On the wire: our adverts from our link-local address to ff02::12 with hop limit 255, VRRPv3,
    // and an unsolicited NA for the VIP from the VIP to ff02::1 (Override set).
    const ll = await linkLocal(ours);
    const ours255 = `hlim 255, next-header VRRP (112) payload length: 24) ${ll} > ff02::12: VRRPv3, Advertisement, vrid 61, prio 150, intvl 100cs, length 24, addrs: ${VIP}`;
    await poll(() => (cap.output().includes(ours255) ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 50,
      what: 'our advert in the capture',
    });
    const mac = (await lab.exec(ours, ['cat', '/sys/class/net/eth0/address'])).stdout.trim();
    const na = new RegExp(
      `hlim 255, next-header ICMPv6 \\(58\\) payload length: 32\\) ${VIP} > ff02::1: \\[icmp6 sum ok\\] ICMP6, neighbor advertisement, length 32, tgt is ${VIP}, Flags \\[override\\]\\s+destination link-address option \\(2\\), length 8 \\(1\\): ${mac}`,
      'g',
    );
    await poll(() => ((cap.output().match(na)?.length ?? 0) >= 5 ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 50,
      what: 'our 5 unsolicited NAs (garp_master_repeat) in the capture',
    });
    expect(cap.output()).not.toMatch(new RegExp(`${ll} > ff02::12:[^\\n]*\\n?[^\\n]*bad`));

    const killedAt = Date.now();
    await o.kill('SIGKILL', 0);
    const from = k.lines.length;
    const line = await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from });
    console.info(`IPv6 multicast failover, ours killed -> keepalived MASTER: ${line.at - killedAt} ms`);
    expect(line.at - killedAt).toBeLessThan(DOWN_MS + 500);
    await pair.waitVip(theirs, true, 3000, 'VIP on keepalived');
    await pair.stop();
  }, 60_000);

  it('multicast, roles swapped: keepalived MASTER, ours BACKUP takes over after kill -9 within Master_Down_Interval + 0.5 s', async () => {
    const { lab, ours } = pair;
    const k = pair.startKeepalived(conf({ prio: 150 }), 'b');
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const dumps = join(lab.dir, 'dumps-b');
    mkdirSync(dumps, { mode: 0o700 });
    const o = pair.startOurs(conf({ prio: 100 }), 'b', { env: { TMPDIR: dumps } });
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 5000));
    expect(o.output()).not.toMatch(/Entering MASTER STATE/);
    // Ours hears keepalived's adverts (and drops none).
    o.signal('SIGUSR2');
    const stats = await poll(() => (existsSync(join(dumps, 'keepalived.stats')) ? readFileSync(join(dumps, 'keepalived.stats'), 'utf8') : undefined), {
      timeoutMs: 5000,
      intervalMs: 50,
      what: 'the stats dump',
    });
    expect(Number(/Received: (\d+)/.exec(stats)![1])).toBeGreaterThanOrEqual(4);
    expect(await pair.hasVip(ours)).toBe(false);

    const killedAt = Date.now();
    await kill9(k);
    const line = await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    console.info(`IPv6 multicast failover, keepalived killed -> ours MASTER: ${line.at - killedAt} ms`);
    expect(line.at - killedAt).toBeLessThan(DOWN_MS + 500);
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    await pair.stop();
  }, 60_000);

  it('unicast (unicast_src_ip/unicast_peer IPv6), both roles: one MASTER, kill -9 failover within Master_Down_Interval + 0.5 s', async () => {
    const { ours, theirs } = pair;
    const uo = { src: unicastAddr(ours), peer: unicastAddr(theirs) };
    const ut = { src: unicastAddr(theirs), peer: unicastAddr(ours) };
    // Ours MASTER, keepalived BACKUP.
    const k = pair.startKeepalived(conf({ prio: 100, unicast: ut }), 'c');
    const o = pair.startOurs(conf({ prio: 150, unicast: uo }), 'c');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await k.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    expect(await pair.hasVip(theirs)).toBe(false);
    let killedAt = Date.now();
    await o.kill('SIGKILL', 0);
    let from = k.lines.length;
    let line = await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from });
    console.info(`IPv6 unicast failover, ours killed -> keepalived MASTER: ${line.at - killedAt} ms`);
    expect(line.at - killedAt).toBeLessThan(DOWN_MS + 500);
    await pair.waitVip(theirs, true, 3000, 'VIP on keepalived');

    // Ours back at priority 100: BACKUP under keepalived's MASTER; then keepalived is killed.
    const o2 = pair.startOurs(conf({ prio: 100, unicast: uo }), 'c2');
    await o2.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 2000));
    expect(o2.output()).not.toMatch(/Entering MASTER STATE/);
    from = o2.lines.length;
    killedAt = Date.now();
    await kill9(k);
    line = await o2.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from });
    console.info(`IPv6 unicast failover, keepalived killed -> ours MASTER: ${line.at - killedAt} ms`);
    // keepalived at 100 too: ours' Master_Down_Interval is the same 3.609 s.
    expect(line.at - killedAt).toBeLessThan(DOWN_MS + 500);
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    await pair.stop();
  }, 60_000);

  it('a forged higher-priority advert with hop limit 64 is dropped and counted; the same at hop limit 255 is obeyed', async () => {
    const { lab, theirs } = pair;
    const dumps = join(lab.dir, 'dumps-f');
    mkdirSync(dumps, { mode: 0o700 });
    const o = pair.startOurs(conf({ prio: 150 }), 'f', { env: { TMPDIR: dumps } });
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const mastered = o.lines.length;
    const src = await linkLocal(theirs);
    const forge = async (hopLimit: number) => {
      const p = await lab.spawnNode(
        theirs,
        `
import { createRequire } from 'node:module';
import { encodeAdvert } from './src/vrrp/packet.ts';
import { ipv6Packet } from './src/net/raw-transport.ts';
const raw = createRequire(import.meta.url)('raw-socket');
const s = raw.createSocket({ protocol: 255, addressFamily: raw.AddressFamily.IPv6 });
s.setOption(1, 25, Buffer.from('eth0\\0'), 5);
const dst = 'ff02::12';
const msg = encodeAdvert({ version: 3, vrid: 61, priority: 254, family: 6, addresses: ['${VIP}'], maxAdverIntCs: 100 }, { src: '${src}', dst });
const pkt = ipv6Packet(msg, '${src}', dst, ${hopLimit}, 0xc0);
let n = 0;
const tick = () => s.send(pkt, 0, pkt.length, dst, (e) => { if (e) { console.log('ERR', e.message); process.exit(1); } if (++n === 3) { console.log('sent'); setTimeout(() => process.exit(0), 100); } else setTimeout(tick, 200); });
tick();
`,
        { resolveDir: REPO_ROOT, name: `forge-${hopLimit}` },
      );
      await p.waitForLine(/^sent$/, { timeoutMs: 10_000 });
    };
    await forge(64);
    await o.waitForLine(/invalid TTL\/HL\. Received less than 255 and expect 255/, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(o.lines.slice(mastered).some((l) => /Entering BACKUP STATE/.test(l.text))).toBe(false);
    // Counted: SIGUSR2's stats dump, keepalived's "TTL" packet error line, one per forged advert.
    o.signal('SIGUSR2');
    const stats = await poll(() => (existsSync(join(dumps, 'keepalived.stats')) ? readFileSync(join(dumps, 'keepalived.stats'), 'utf8') : undefined), {
      timeoutMs: 5000,
      intervalMs: 50,
      what: 'the stats dump',
    });
    expect(stats).toMatch(/Packet Errors:\n(?:.*\n)*?\s+TTL: 3\n/);
    const before = o.lines.length;
    await forge(255);
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 5000, from: before });
    await pair.stop();
  }, 60_000);

  it('mixed: an IPv4 and an IPv6 instance in one daemon, with an IPv6 virtual_route; both MASTER over keepalived, both handed back at SIGTERM', async () => {
    const { lab, ours, theirs } = pair;
    const VIP4 = '10.99.8.100';
    const mixed = (prio: number) => `
global_defs {
  router_id m${prio}
}
vrrp_instance VI_4 {
  state BACKUP
  interface eth0
  virtual_router_id 62
  priority ${prio}
  advert_int 1
  version 3
  virtual_ipaddress {
    ${VIP4}/24
  }
}
vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  virtual_router_id 62
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/64
  }
  virtual_routes {
    fd00:99:77::/64 via fd00:99:9::9 dev eth0
  }
}
`;
    const k = pair.startKeepalived(mixed(100), 'm');
    const o = pair.startOurs(mixed(150), 'm');
    await o.waitForLine(/\(VI_4\) Entering MASTER STATE/, { timeoutMs: 10_000 });
    await o.waitForLine(/\(VI_6\) Entering MASTER STATE/, { timeoutMs: 10_000 });
    await pair.waitVip(ours, true, 3000, 'IPv6 VIP on ours');
    await poll(async () => ((await lab.addresses(ours)).includes(VIP4) ? true : undefined), { timeoutMs: 3000, intervalMs: 20, what: 'IPv4 VIP on ours' });
    const route = await poll(async () => (await lab.exec(ours, ['ip', '-6', 'route', 'show', 'fd00:99:77::/64'])).stdout.trim() || undefined, {
      timeoutMs: 3000,
      intervalMs: 20,
      what: 'the IPv6 virtual route',
    });
    expect(route).toMatch(/fd00:99:77::\/64 via fd00:99:9::9 dev eth0 proto keepalived/);
    await poll(
      () =>
        /\(VI_6\) Entering BACKUP STATE/.test(
          k
            .output()
            .split(/\(VI_6\) Entering MASTER STATE/)
            .pop()!,
        )
          ? true
          : undefined,
      {
        timeoutMs: 10_000,
        intervalMs: 50,
        what: 'keepalived VI_6 BACKUP',
      },
    );
    // keepalived logs the state before it removes the addresses: poll for them to go.
    await pair.waitVip(theirs, false, 3000, 'IPv6 VIP gone from keepalived');
    await poll(async () => (!(await lab.addresses(theirs)).includes(VIP4) ? true : undefined), {
      timeoutMs: 3000,
      intervalMs: 20,
      what: 'IPv4 VIP gone from keepalived',
    });

    const from = k.lines.length;
    await o.kill('SIGTERM', 5000);
    expect(o.exitCode).toBe(0);
    expect(await pair.hasVip(ours)).toBe(false);
    expect(await lab.addresses(ours)).not.toContain(VIP4);
    expect((await lab.exec(ours, ['ip', '-6', 'route', 'show', 'fd00:99:77::/64'])).stdout.trim()).toBe('');
    await k.waitForLine(/\(VI_4\) Entering MASTER STATE/, { timeoutMs: 5000, from });
    await k.waitForLine(/\(VI_6\) Entering MASTER STATE/, { timeoutMs: 5000, from });
    await pair.waitVip(theirs, true, 3000, 'IPv6 VIP on keepalived');
    await pair.stop();
    await lab.exec(theirs, ['ip', 'addr', 'del', `${VIP4}/24`, 'dev', 'eth0']);
  }, 60_000);
});
