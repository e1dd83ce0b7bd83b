// The IPv6 pieces that need no privileges: the VRRPv3 pseudo-header checksum (RFC 5798 §5.2.8),
// the hop-limit socket filter's program and our own address lookup, and the unsolicited NA.
import { describe, expect, it } from 'vitest';
import { inetChecksum } from '../../src/core/checksum.js';
import { addressOf, encodeProgram, HOP_LIMIT_CUT, hopLimitFprog, hopLimitProgram } from '../../src/net/hop-limit-filter.js';
import { unsolicitedNa } from '../../src/net/ndisc.js';
import { decodeAdvert, encodeAdvert } from '../../src/vrrp/packet.js';
import { readFileSync, openSync, readSync, closeSync } from 'node:fs';

/** A classic BPF interpreter for the instructions hopLimitProgram uses, over an IPv6 packet. */
function runBpf(insns: ReturnType<typeof hopLimitProgram>, ipv6: Buffer): number {
  const netOff = 0xfff00000;
  let a = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const [code, jt, jf, k] = insns[pc];
    if (code === 0x30) a = ipv6[k - netOff];
    else if (code === 0x15) pc += a === k ? jt : jf;
    else if (code === 0x06) return Math.min(k, ipv6.length - 40);
    else throw new Error(`opcode ${code}`);
  }
  throw new Error('fell off the program');
}

function ipv6(dst: string, hopLimit: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(40 + payload.length);
  b.writeUInt32BE(0x60000000, 0);
  b.writeUInt16BE(payload.length, 4);
  b[6] = 112;
  b[7] = hopLimit;
  b[24] = dst.startsWith('ff') ? 0xff : 0xfd;
  payload.copy(b, 40);
  return b;
}

describe('VRRPv3 over IPv6 on the wire', () => {
  it('checksums over the IPv6 pseudo-header (src, dst, upper-layer length, next header 112), as RFC 5798 §5.2.8 says', () => {
    const msg = encodeAdvert(
      { version: 3, vrid: 61, priority: 150, family: 6, addresses: ['fd00:99:8::100'], maxAdverIntCs: 100 },
      { src: 'fe80::1', dst: 'ff02::12' },
    );
    expect(msg.length).toBe(24);
    expect(msg.subarray(0, 6).toString('hex')).toBe('313d96010064');
    // Recomputed by hand: the pseudo-header then the message, checksum field zero.
    const pseudo = Buffer.alloc(40);
    Buffer.from('fe800000000000000000000000000001', 'hex').copy(pseudo, 0);
    Buffer.from('ff020000000000000000000000000012', 'hex').copy(pseudo, 16);
    pseudo.writeUInt32BE(24, 32);
    pseudo[39] = 112;
    const zeroed = Buffer.from(msg);
    zeroed.writeUInt16BE(0, 6);
    expect(msg.readUInt16BE(6)).toBe(inetChecksum(pseudo, zeroed));
    // Verified with the right addresses; another source fails.
    expect(decodeAdvert(msg, { family: 6, src: 'fe80::1', dst: 'ff02::12' }).ok).toBe(true);
    expect(decodeAdvert(msg, { family: 6, src: 'fe80::2', dst: 'ff02::12' })).toMatchObject({ ok: false, reason: 'checksum' });
    // From a raw socket with IPV6_CHECKSUM the kernel checked it (and dst may be unknown).
    expect(decodeAdvert(msg, { family: 6, src: 'fd00::2', dst: '::', checksumChecked: true }).ok).toBe(true);
    // keepalived: IPv6 is VRRPv3 only, and the length must be exact.
    expect(decodeAdvert(Buffer.concat([msg, Buffer.alloc(2)]), { family: 6, src: 'fe80::1', dst: 'ff02::12' })).toMatchObject({ ok: false, reason: 'length' });
    const v2 = Buffer.from(msg);
    v2[0] = 0x21;
    expect(decodeAdvert(v2, { family: 6, src: 'fe80::1', dst: 'ff02::12' })).toMatchObject({ ok: false, reason: 'family' });
  });

  it('the multicast filter keeps hop limit 255, cuts any other to the VRID, and leaves unicast to the other socket', () => {
    const msg = Buffer.alloc(24, 7);
    const m = hopLimitProgram('multicast');
    expect(runBpf(m, ipv6('ff02::12', 255, msg))).toBe(24);
    expect(runBpf(m, ipv6('ff02::12', 254, msg))).toBe(HOP_LIMIT_CUT);
    expect(runBpf(m, ipv6('ff02::12', 1, msg))).toBe(HOP_LIMIT_CUT);
    expect(runBpf(m, ipv6('fd00::1', 64, msg))).toBe(0);
    const u = hopLimitProgram('unicast');
    expect(runBpf(u, ipv6('fd00::1', 64, msg))).toBe(24);
    expect(runBpf(u, ipv6('ff02::12', 255, msg))).toBe(0);
    expect(encodeProgram([[0x06, 1, 2, 0x40000]]).toString('hex')).toBe('0600010200000400');
  });

  it('finds the address of its own buffer (/proc/self/syscall, checked in /proc/self/mem), and the sock_fprog points there', () => {
    const buf = Buffer.alloc(64);
    const at = addressOf(buf);
    expect(at).toBeDefined();
    buf.write('still here', 40);
    const fd = openSync('/proc/self/mem', 'r');
    const back = Buffer.alloc(10);
    readSync(fd, back, 0, 10, at! + 40n);
    closeSync(fd);
    expect(back.toString()).toBe('still here');
    const p = hopLimitFprog('multicast')!;
    expect(p.fprog.readUInt16LE(0)).toBe(hopLimitProgram('multicast').length);
    expect(hopLimitFprog('multicast')).toBe(p); // found once
    expect(readFileSync('/proc/self/maps', 'utf8').length).toBeGreaterThan(0);
  });

  it('builds keepalived\u2019s unsolicited NA: VIP to ff02::1, hop limit 255, Override (Router when forwarding), target and link-layer option', () => {
    const pkt = unsolicitedNa('fd00:99:8::100', '02:00:00:00:00:01', false);
    expect(pkt.length).toBe(40 + 32);
    expect([pkt[6], pkt[7]]).toEqual([58, 255]);
    expect(pkt.subarray(8, 24).toString('hex')).toBe('fd000099000800000000000000000100');
    expect(pkt.subarray(24, 40).toString('hex')).toBe('ff020000000000000000000000000001');
    const icmp = pkt.subarray(40);
    expect([icmp[0], icmp[1], icmp[4]]).toEqual([136, 0, 0x20]);
    expect(icmp.subarray(8, 24)).toEqual(pkt.subarray(8, 24));
    expect(icmp.subarray(24).toString('hex')).toBe('0201020000000001');
    // The checksum verifies: summing over pseudo-header and message gives 0.
    const pseudo = Buffer.alloc(40);
    pkt.subarray(8, 40).copy(pseudo, 0);
    pseudo.writeUInt32BE(32, 32);
    pseudo[39] = 58;
    expect(inetChecksum(pseudo, icmp)).toBe(0);
    expect(unsolicitedNa('fd00::1', '02:00:00:00:00:01', true).subarray(40)[4]).toBe(0xa0);
    expect(() => unsolicitedNa('fd00::1', 'nonsense', false)).toThrow(/not an Ethernet address/);
  });
});
