// keepalived's AH wrapping (ah.ts) and the sequence-number rules the machine applies to it.
// Interop with the real keepalived is test/vrrp/interop-ah.test.ts.
import { describe, expect, it } from 'vitest';
import { AH_LEN, openAh, sealAh } from '../../src/vrrp/ah.js';
import { initialState, step, type MachineConfig, type MachineState } from '../../src/vrrp/machine.js';
import { AUTH_AH, decodeAdvert, encodeAdvert } from '../../src/vrrp/packet.js';
import { NftFirewall } from '../../src/net/nft-firewall.js';
import type { ResolvedVrrpInstance } from '../../src/config/model/index.js';

const vrrp = encodeAdvert({ version: 2, vrid: 61, priority: 150, family: 4, addresses: ['10.0.0.100'], adverIntSec: 1, authType: AUTH_AH });
const fields = { src: '10.0.0.1', dst: '224.0.0.18', ttl: 255, id: 7, seq: 42, unicast: false };

/** The IPv4 header the transport writes and the receiver sees (TOS and checksum set by then). */
function header(payloadLength: number, o: { tos?: number; ttl?: number; src?: string } = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[1] = o.tos ?? 0xc0;
  h.writeUInt16BE(20 + payloadLength, 2);
  h.writeUInt16BE(fields.id, 4);
  h[8] = o.ttl ?? 255;
  h[9] = 51;
  h.writeUInt16BE(0xbeef, 10);
  Buffer.from((o.src ?? fields.src).split('.').map(Number)).copy(h, 12);
  Buffer.from([224, 0, 0, 18]).copy(h, 16);
  return h;
}

describe('AH (keepalived HMAC-MD5-96)', () => {
  const sealed = sealAh(vrrp, 'ahsecret', fields);

  it('carries next header 112, length 4, SPI = source, the sequence number and the VRRP message', () => {
    expect(sealed.length).toBe(AH_LEN + vrrp.length);
    expect([sealed[0], sealed[1]]).toEqual([112, 4]);
    expect([...sealed.subarray(4, 8)]).toEqual([10, 0, 0, 1]);
    expect(sealed.readUInt32BE(8)).toBe(42);
    expect(sealed.subarray(AH_LEN).equals(vrrp)).toBe(true);
  });

  it('verifies whatever TOS and checksum the packet got on the way, and refuses a wrong password or a changed field', () => {
    const ok = openAh(header(sealed.length), sealed, 'ahsecret', false);
    expect(ok.ok && ok.value.seq).toBe(42);
    expect(ok.ok && decodeAdvert(ok.value.vrrp, { family: 4, src: fields.src, dst: fields.dst }).ok).toBe(true);
    expect(openAh(header(sealed.length, { tos: 0 }), sealed, 'ahsecret', false).ok).toBe(true);
    const wrong = openAh(header(sealed.length), sealed, 'other', false);
    expect(wrong).toMatchObject({ ok: false, reason: 'auth-failure' });
    // The TTL is covered for multicast (keepalived zeroes it for unicast only).
    expect(openAh(header(sealed.length, { ttl: 254 }), sealed, 'ahsecret', false).ok).toBe(false);
    const tampered = Buffer.from(sealed);
    tampered[AH_LEN + 2] = 200; // priority
    expect(openAh(header(sealed.length), tampered, 'ahsecret', false)).toMatchObject({ ok: false, reason: 'auth-failure' });
  });

  it('refuses an SPI that is not the source address', () => {
    const other = sealAh(vrrp, 'ahsecret', { ...fields, src: '10.0.0.9' });
    const h = header(other.length, { src: '10.0.0.9' });
    other[7] = 1; // SPI 10.0.0.1, source 10.0.0.9: the ICV is then wrong too, as in keepalived the ICV comes first
    expect(openAh(h, other, 'ahsecret', false)).toMatchObject({ ok: false, reason: 'auth-failure' });
  });
});

describe('AH sequence numbers in the machine', () => {
  const cfg: MachineConfig = {
    name: 'VI_1',
    vrid: 61,
    version: 2,
    priority: 100,
    wantMaster: false,
    advertIntUs: 1_000_000,
    preempt: true,
    preemptDelayUs: 0,
    downTimerAdverts: 3,
    addresses: ['10.0.0.100'],
    primaryAddress: '10.0.0.2',
    authType: AUTH_AH,
    authPass: 'ahsecret',
    unicast: false,
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    skipCheckAdvAddr: false,
    garpRefreshUs: 0,
    garpRefreshRepeat: 1,
    extraIfGarpUs: 0,
    garpLowerPrioRepeat: 0,
    garpLowerPrioDelayUs: 0,
  };
  const advert = (priority: number, seq: number) => {
    const d = decodeAdvert(encodeAdvert({ version: 2, vrid: 61, priority, family: 4, addresses: ['10.0.0.100'], adverIntSec: 1, authType: AUTH_AH }), {
      family: 4,
      src: '10.0.0.1',
      dst: '224.0.0.18',
    });
    if (!d.ok) throw new Error(d.detail);
    return { type: 'advert' as const, now: 1, src: '10.0.0.1', ttl: 255, advert: { ...d.value, ahSeq: seq } };
  };

  it('a BACKUP takes a higher number, drops a replayed one, and goes on counting from it as MASTER', () => {
    let s: MachineState = step(cfg, initialState(cfg), { type: 'start', now: 0 }).state;
    s = step(cfg, s, advert(150, 10)).state;
    expect(s.ahSeq).toBe(10);
    const replay = step(cfg, s, advert(150, 10));
    expect(replay.state.counters.dropped['auth-failure']).toBe(1);
    expect(replay.actions).toContainEqual({
      type: 'drop',
      reason: 'auth-failure',
      detail: 'IPSEC-AH : sequence number 10 already processed. Packet dropped. Local(10)',
    });
    const master = step(cfg, s, { type: 'timer', now: 10_000_000 });
    expect(master.state.state).toBe('MASTER');
    expect(master.actions).toContainEqual({ type: 'send', priority: 100, seq: 11 });
  });

  it('a MASTER hearing a lower priority syncs past its number (keepalived: seq + 1, then its answer counts one more)', () => {
    let s: MachineState = step(cfg, initialState(cfg), { type: 'start', now: 0 }).state;
    s = step(cfg, s, { type: 'timer', now: 10_000_000 }).state;
    expect(s.state).toBe('MASTER');
    const r = step(cfg, s, { ...advert(50, 500), now: 10_000_001 });
    expect(r.actions).toContainEqual({ type: 'send', priority: 100, reply: true, seq: 502 });
    expect(r.state.ahSeq).toBe(502);
  });
});

describe('no_accept nftables rules', () => {
  const vip = (address: string, dev = 'eth0', flags: string[] = []) => ({ address, dev, flags });
  const inst = {
    name: 'VI_1',
    accept: false,
    interface: 'eth0',
    dontTrackPrimary: false,
    priority: 100,
    virtualIpaddress: [vip('10.0.0.100')],
    virtualIpaddressExcluded: [vip('10.0.0.101')],
  } as unknown as ResolvedVrrpInstance;
  const rules = { priority: -1, counters: false, ifindex: false };
  /** nft as a recorder: `list table` finds the tables in `existing`, the rest succeeds. */
  const recorder = (existing: string[] = []) => {
    const scripts: string[] = [];
    const run = (s: string) => {
      scripts.push(s);
      const listed = /^list table (\S+ \S+)/.exec(s);
      return Promise.resolve({ ok: !listed || existing.includes(listed[1]), error: '' });
    };
    return { scripts, run };
  };

  it('creates keepalived\u2019s table with the first MASTER, moves VIPs in and out of the set, and deletes the table at the stop', async () => {
    const { scripts, run } = recorder();
    const fw = new NftFirewall({ table: 'keepalived', ...rules, run });
    await fw.add(inst);
    await fw.remove(inst);
    await fw.add(inst);
    await fw.close();
    expect(scripts.slice(0, 2)).toEqual(['list table ip keepalived\n', 'list table ip6 keepalived\n']);
    expect(scripts[2]).toBe(
      [
        'add table ip keepalived',
        'add set ip keepalived vips { type ipv4_addr; }',
        'add chain ip keepalived out { type filter hook output priority -1; policy accept; }',
        'add chain ip keepalived in { type filter hook input priority -1; policy accept; }',
        'add rule ip keepalived out ip saddr @vips drop',
        'add rule ip keepalived in ip daddr @vips drop',
        'add element ip keepalived vips { 10.0.0.100, 10.0.0.101 }',
        '',
      ].join('\n'),
    );
    expect(scripts.slice(3)).toEqual([
      'delete element ip keepalived vips { 10.0.0.100, 10.0.0.101 }\n',
      'add element ip keepalived vips { 10.0.0.100, 10.0.0.101 }\n',
      'delete table ip keepalived\n',
    ]);
  });

  it('IPv6 VIPs: the ip6 table with neighbour discovery let through, link-local VIPs by index or (dont_track_primary) by name', async () => {
    const log: string[] = [];
    const { scripts, run } = recorder(['ip6 fw']);
    const fw = new NftFirewall({ table: 'fw', priority: -5, counters: true, ifindex: false, run, log: (_l, m) => log.push(m) });
    const v6 = { ...inst, name: 'V6', virtualIpaddress: [vip('fe80::1'), vip('2001:db8::1'), vip('fe80::2', 'eth1')], virtualIpaddressExcluded: [] };
    const named = {
      ...v6,
      name: 'V6n',
      dontTrackPrimary: true,
      virtualIpaddress: [vip('fe80::3'), vip('fe80::4', 'eth1'), vip('fe80::5', 'eth1', ['no_track'])],
    };
    await fw.add(v6 as unknown as ResolvedVrrpInstance);
    await fw.add(named as unknown as ResolvedVrrpInstance);
    await fw.remove(v6 as unknown as ResolvedVrrpInstance);
    await fw.close();
    expect(log).toContain('Deleting old ip6 fw table');
    expect(scripts[2].split('\n')).toEqual([
      'delete table ip6 fw',
      'add table ip6 fw',
      'add chain ip6 fw out { type filter hook output priority -5; policy accept; }',
      'add chain ip6 fw in { type filter hook input priority -5; policy accept; }',
      'add chain ip6 fw in_link_local',
      'add chain ip6 fw out_link_local',
      'add set ip6 fw vips { type ipv6_addr; }',
      'add set ip6 fw neighbor-discovery { type icmpv6_type; flags constant; elements = { nd-neighbor-solicit, nd-neighbor-advert }; }',
      'add rule ip6 fw in icmpv6 type @neighbor-discovery counter accept',
      'add rule ip6 fw in ip6 daddr fe80::/10 counter goto in_link_local',
      'add rule ip6 fw out icmpv6 type @neighbor-discovery counter accept',
      'add rule ip6 fw out ip6 saddr fe80::/10 counter goto out_link_local',
      'add rule ip6 fw in ip6 daddr @vips counter drop',
      'add rule ip6 fw out ip6 saddr @vips counter drop',
      'add set ip6 fw vips_link_local { type ipv6_addr . iface_index; }',
      'add rule ip6 fw in_link_local ip6 daddr . iif @vips_link_local counter drop',
      'add rule ip6 fw out_link_local ip6 saddr . oif @vips_link_local counter drop',
      'add element ip6 fw vips { 2001:db8::1 }',
      'add element ip6 fw vips_link_local { fe80::1 . "eth0", fe80::2 . "eth1" }',
      '',
    ]);
    expect(scripts.slice(3)).toEqual([
      [
        'add set ip6 fw vips_link_local_name { type ipv6_addr . ifname; }',
        'add rule ip6 fw in_link_local ip6 daddr . iifname @vips_link_local_name counter drop',
        'add rule ip6 fw out_link_local ip6 saddr . oifname @vips_link_local_name counter drop',
        'add element ip6 fw vips_link_local { fe80::4 . "eth1" }',
        'add element ip6 fw vips_link_local_name { fe80::3 . "eth0", fe80::5 . "eth1" }',
        '',
      ].join('\n'),
      'delete element ip6 fw vips { 2001:db8::1 }\ndelete element ip6 fw vips_link_local { fe80::1 . "eth0", fe80::2 . "eth1" }\n',
      'delete table ip6 fw\n',
    ]);
  });

  it('nftables_ifindex puts every link-local VIP in the index set; a reload\u2019s options apply to what is made next', async () => {
    const { scripts, run } = recorder();
    const fw = new NftFirewall({ table: 'keepalived', ...rules, run });
    const named = { ...inst, name: 'V6n', dontTrackPrimary: true, virtualIpaddress: [vip('fe80::3')], virtualIpaddressExcluded: [] };
    await fw.add(inst);
    fw.configure({ priority: -9, counters: false, ifindex: true });
    await fw.add(named as unknown as ResolvedVrrpInstance);
    expect(scripts[2]).toContain('priority -1;');
    expect(scripts[3]).toContain('add chain ip6 keepalived in { type filter hook input priority -9; policy accept; }');
    expect(scripts[3]).toContain('add element ip6 keepalived vips_link_local { fe80::3 . "eth0" }');
    expect(scripts[3]).not.toContain('list table');
  });

  it('does nothing for an instance in accept mode', async () => {
    const { scripts, run } = recorder();
    const fw = new NftFirewall({ table: 'keepalived', ...rules, counters: true, run });
    await fw.add({ ...inst, accept: true });
    await fw.close();
    expect(scripts).toEqual([]);
  });
});
