// The IPv6 hop-limit check (RFC 5798 §7.1: multicast adverts must arrive with hop limit 255) done
// in the kernel by a classic BPF socket filter, because raw-socket 1.8.1 reads with recvfrom():
// neither the IPv6 header nor IPV6_RECVHOPLIMIT's ancillary data ever reach us, and
// IPV6_MINHOPCOUNT is accepted on a raw socket but not enforced (measured: hop limits 64 and 1
// still arrived).
//
// A socket filter sees the packet with negative offsets relative to its IPv6 header (SKF_NET_OFF),
// even though a raw IPv6 socket is handed only the payload, and its return value is how many bytes
// to keep. So it does not drop a bad hop limit: it cuts the packet to HOP_LIMIT_CUT bytes (VRRP
// version/type and VRID), which no real advert can be (one has at least 24), and the transport
// reports it as such; the instance counts and logs it as keepalived does (ip_ttl_err).
//
// SO_ATTACH_FILTER takes a struct sock_fprog holding a pointer to the instructions, and JavaScript
// has no pointers. The kernel tells us where our own Buffer is: a read() of /proc/self/syscall
// into that Buffer writes there the syscall in progress, the read itself, whose second argument
// is the Buffer's address. We check it by writing random bytes and reading them back at that
// address through /proc/self/mem (both files need only access to ourselves, as ptrace does). One
// read and one check: both programs in 1-14 ms with the daemon loaded on a busy 2-core box, where
// the scan of our anonymous memory for a marker it replaces took 0.6-2.5 s and left the RSS 83 MB
// higher (50 -> 133 MB: the pages it read stayed in). The kernel copies the program at attach
// time; the buffer is kept anyway.
//
// Cleaner ways that do not work here: IPV6_RECVHOPLIMIT or IPV6_HOPLIMIT need recvmsg(), which
// raw-socket does not call; IPV6_UNICAST_HOPS/IPV6_MULTICAST_HOPS set the hop limit we send;
// ICMP6_FILTER is for ICMPv6 only; an nftables rule would be host state outside our socket;
// SO_ATTACH_BPF takes an eBPF program's fd, whose loading (bpf()) takes pointers too.
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** Bytes the filter keeps of a multicast packet whose hop limit is not 255. */
export const HOP_LIMIT_CUT = 2;

const SKF_NET_OFF = 0xfff00000; // -0x100000 as the unsigned 32-bit k
const BPF_LD_B_ABS = 0x30;
const BPF_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const KEEP_ALL = 0x40000;

type Insn = [code: number, jt: number, jf: number, k: number];

/**
 * The instructions for one of the two IPv6 VRRP sockets of an interface:
 * - 'multicast': a packet to a multicast group keeps all its bytes if its hop limit is 255, else
 *   HOP_LIMIT_CUT; a unicast packet is dropped (the other socket takes it);
 * - 'unicast': a unicast packet is kept whole (keepalived checks no hop limit there, only
 *   unicast_peer's min_ttl/max_ttl); a multicast one is dropped.
 */
export function hopLimitProgram(kind: 'multicast' | 'unicast'): Insn[] {
  const loadDstFirstByte: Insn = [BPF_LD_B_ABS, 0, 0, SKF_NET_OFF + 24];
  if (kind === 'unicast') return [loadDstFirstByte, [BPF_JEQ_K, 0, 1, 0xff], [BPF_RET_K, 0, 0, 0], [BPF_RET_K, 0, 0, KEEP_ALL]];
  return [
    loadDstFirstByte,
    [BPF_JEQ_K, 1, 0, 0xff], // multicast: on to the hop limit
    [BPF_RET_K, 0, 0, 0],
    [BPF_LD_B_ABS, 0, 0, SKF_NET_OFF + 7],
    [BPF_JEQ_K, 1, 0, 255],
    [BPF_RET_K, 0, 0, HOP_LIMIT_CUT],
    [BPF_RET_K, 0, 0, KEEP_ALL],
  ];
}

/** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k each (host order: little endian here). */
export function encodeProgram(insns: Insn[], into: Buffer = Buffer.alloc(insns.length * 8)): Buffer {
  insns.forEach(([code, jt, jf, k], i) => {
    into.writeUInt16LE(code, i * 8);
    into[i * 8 + 2] = jt;
    into[i * 8 + 3] = jf;
    into.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return into;
}

const MARKER = 32;
/** Bytes of the program buffer at least (see hopLimitFprog). */
const PROGRAM_BUFFER_MIN = 256;

/** The address of buf's first byte, from /proc/self/syscall, checked through /proc/self/mem;
 * undefined when either cannot be read or the two disagree. */
export function addressOf(buf: Buffer): bigint | undefined {
  if (buf.length < 64) throw new RangeError('addressOf needs a buffer of at least 64 bytes');
  // "NR fd buf count ...": the read() (or pread64()) of this very buffer, in hex.
  const sys = openSync('/proc/self/syscall', 'r');
  let line: string;
  try {
    line = buf.toString('latin1', 0, readSync(sys, buf, 0, buf.length, null));
  } finally {
    closeSync(sys);
  }
  const arg = line.split(' ')[2];
  if (!arg?.startsWith('0x')) return undefined;
  const at = BigInt(arg);
  randomFillSync(buf, 0, MARKER);
  const mem = openSync('/proc/self/mem', 'r');
  try {
    const back = Buffer.alloc(MARKER);
    readSync(mem, back, 0, MARKER, at);
    return back.equals(buf.subarray(0, MARKER)) ? at : undefined;
  } finally {
    closeSync(mem);
  }
}

export interface AttachedProgram {
  /** struct sock_fprog, for setsockopt(SOL_SOCKET, SO_ATTACH_FILTER). */
  fprog: Buffer;
}

// One program buffer per kind for the process, found once.
const cache = new Map<string, AttachedProgram>();
const keep: Buffer[] = [];

/** The sock_fprog of hopLimitProgram(kind), or undefined when our memory cannot be read (no /proc). */
export function hopLimitFprog(kind: 'multicast' | 'unicast'): AttachedProgram | undefined {
  const known = cache.get(kind);
  if (known) return known;
  const insns = hopLimitProgram(kind);
  // Over V8's 64-byte limit for typed arrays kept inside the JS heap, which a GC may move: this
  // one's bytes are malloc'd and stay where addressOf found them until the kernel copies them.
  const buf = Buffer.alloc(Math.max(PROGRAM_BUFFER_MIN, MARKER + insns.length * 8));
  let at: bigint | undefined;
  try {
    at = addressOf(buf);
  } catch {
    at = undefined;
  }
  if (at === undefined) return undefined;
  encodeProgram(insns, buf.subarray(MARKER));
  keep.push(buf);
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(insns.length, 0);
  fprog.writeBigUInt64LE(at + BigInt(MARKER), 8);
  const p = { fprog };
  cache.set(kind, p);
  return p;
}
