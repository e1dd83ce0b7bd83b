// auth_type AH against the real keepalived 2.2.7 in network namespaces: each side accepts the
// other's AH-signed adverts (one MASTER, the VIP where it belongs, kill -9 failover within
// Master_Down_Interval + 0.5 s in both roles), and forged AH adverts with a bad ICV are dropped
// and counted as authentication failures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { killKeepalivedNs, netnsSkip } from '../helpers/netns.js';

const skip = netnsSkip('AH interop tests', { keepalived: true });

const SUBNET = 61;
const VIP = `10.99.${SUBNET}.100`;
// Master_Down_Interval at priority 100, advert_int 1 (VRRPv2): 3 s + Skew_Time 0.609 s.
const MASTER_DOWN_MS = 3609;

const conf = (prio: number, pass = 'ahsecret'): string => `
global_defs {
  router_id r${prio}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 61
  priority ${prio}
  advert_int 1
  authentication {
    auth_type AH
    auth_pass ${pass}
  }
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;

describe.skipIf(skip)('auth_type AH interop with keepalived 2.2.7', () => {
  const pair = interopPair({ subnet: SUBNET, vips: [VIP] });

  // SIGUSR2 writes keepalived.stats into TMPDIR: the lab's own directory.
  const startOurs = (text: string, tag: string) => pair.startOurs(text, tag, { env: { TMPDIR: pair.lab.dir } });

  it('ours MASTER with keepalived BACKUP; forged AH adverts are dropped and counted; keepalived takes over after kill -9', async () => {
    const { lab, ours, theirs } = pair;
    // Both start BACKUP (keepalived refuses state MASTER with AH): ours first, so the election is not a start-up race.
    const o = startOurs(conf(150), 'ah1');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    const mastered = o.lines.length;
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    const k = pair.startKeepalived(conf(100), 'ah1');
    await k.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    // keepalived accepts our adverts: it stays BACKUP over several intervals with no AH complaint.
    await new Promise((r) => setTimeout(r, 3000));
    expect(k.output()).not.toMatch(/Entering MASTER STATE|IPSEC|auth/i);
    expect(await pair.hasVip(theirs)).toBe(false);

    // Forged adverts from the other namespace: priority 200, a well-formed AH header with the right
    // SPI and a huge sequence number, but an ICV made without the password.
    const forge = [
      'import socket, struct, os',
      `src = socket.inet_aton('${theirs.address}')`,
      `vip = socket.inet_aton('${VIP}')`,
      'def csum(b):',
      '  s = sum(struct.unpack("!%dH" % (len(b)//2), b))',
      '  s = (s >> 16) + (s & 0xffff); s += s >> 16',
      '  return (~s) & 0xffff',
      'v = bytearray(bytes([0x21, 61, 200, 1, 2, 1, 0, 0]) + vip + bytes(8))',
      'v[6:8] = struct.pack("!H", csum(bytes(v)))',
      's = socket.socket(socket.AF_INET, socket.SOCK_RAW, 51)',
      's.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)',
      "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'eth0')",
      'for i in range(5):',
      '  ah = bytes([112, 4, 0, 0]) + src + struct.pack("!I", 0x7fffffff + i) + os.urandom(12)',
      "  s.sendto(ah + bytes(v), ('224.0.0.18', 0))",
    ].join('\n');
    const r = await lab.exec(theirs, ['python3', '-c', forge]);
    expect(r.code, r.stderr).toBe(0);
    await new Promise((res) => setTimeout(res, 1500));
    expect(o.lines.slice(mastered).filter((l) => /Entering BACKUP STATE/.test(l.text))).toEqual([]);
    expect(await pair.hasVip(ours)).toBe(true);
    const from = o.lines.length;
    await lab.exec(ours, ['kill', '-USR2', String(o.pid)]);
    await o.waitForLine(/Wrote .*keepalived\.stats/, { timeoutMs: 10_000, from });
    const stats = readFileSync(join(lab.dir, 'keepalived.stats'), 'utf8');
    // keepalived also drops them (it counts them as its own auth failures).
    expect(Number(/^ {4}Failure: (\d+)$/m.exec(stats)?.[1])).toBe(5);
    expect(o.output()).toMatch(/IPSEC-AH : invalid IPSEC HMAC-MD5 value/);
    expect(k.output()).not.toMatch(/Entering MASTER STATE/);

    const killedAt = Date.now();
    await o.kill('SIGKILL', 0);
    const kFrom = k.lines.length;
    const line = await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000, from: kFrom });
    const took = line.at - killedAt;
    console.log(`AH: keepalived took over ${took} ms after kill -9 of ours (bound ${MASTER_DOWN_MS + 500})`);
    expect(took).toBeLessThan(MASTER_DOWN_MS + 500);
    await pair.waitVip(theirs, true, 3000, 'VIP on keepalived');
    await pair.stop();
  }, 60_000);

  it('keepalived MASTER with ours BACKUP; ours takes over after kill -9; a wrong password does not authenticate', async () => {
    const { ours, theirs } = pair;
    const k = pair.startKeepalived(conf(150), 'ah2');
    const o = startOurs(conf(100), 'ah2');
    await k.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 3000));
    // ours accepts keepalived's AH adverts: no takeover, no drop.
    expect(o.output(), o.output()).not.toMatch(/Entering MASTER STATE|IPSEC/);
    await pair.waitVip(theirs, true, 3000, 'VIP on keepalived');

    const killedAt = Date.now();
    await killKeepalivedNs(theirs.ns);
    const line = await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const took = line.at - killedAt;
    console.log(`AH: ours took over ${took} ms after kill -9 of keepalived (bound ${MASTER_DOWN_MS + 500})`);
    expect(took).toBeLessThan(MASTER_DOWN_MS + 500);
    await pair.waitVip(ours, true, 3000, 'VIP on ours');
    await pair.stop();

    // The same pair with different passwords: neither authenticates the other, both go MASTER.
    const k2 = pair.startKeepalived(conf(150, 'other'), 'ah3');
    const o2 = startOurs(conf(100), 'ah3');
    await k2.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    await o2.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    expect(o2.output()).toMatch(/IPSEC-AH : invalid IPSEC HMAC-MD5 value/);
    await pair.stop();
  }, 60_000);
});
