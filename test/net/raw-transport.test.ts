// The raw VRRP transport: unit tests against a stand-in socket (no privileges needed), then interop
// with the real keepalived across network namespaces (root + iproute2 + keepalived; skipped, with
// the reason printed, when any is missing).
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createRawTransport, type RawSocketLike, type RawSocketModule, TransportError } from '../../src/net/raw-transport.js';
import type { ReceivedPacket } from '../../src/net/transport.js';
import { type Advert, AUTH_PASS, type DecodedAdvert, decodeAdvert, encodeAdvert, passAuthData, VRRP_MCAST4 } from '../../src/vrrp/packet.js';
import { type Host, type Keepalived, type Lab, type Proc, createLab, keepalivedCapability, netnsCapability, poll } from '../helpers/netns.js';

// ---------------------------------------------------------------------------------------------
// A stand-in for raw-socket 1.8.1's Socket.

class FakeSocket extends EventEmitter implements RawSocketLike {
  options: { level: number; option: number; value: number | Buffer; length?: number }[] = [];
  sent: { buffer: Buffer; address: string }[] = [];
  sendError: Error | null = null;
  wrap?: RawSocketLike['wrap'];
  failOption?: { option: number; message: string };
  closed = false;
  setOption(level: number, option: number, value: number | Buffer, length?: number): void {
    if (this.failOption?.option === option) throw new Error(this.failOption.message);
    this.options.push({ level, option, value: Buffer.isBuffer(value) ? Buffer.from(value) : value, length });
  }
  send(buffer: Buffer, offset: number, length: number, address: string, cb: (error: Error | null, bytes: number) => void): this {
    this.sent.push({ buffer: Buffer.from(buffer.subarray(offset, offset + length)), address });
    const err = this.sendError;
    setImmediate(() => cb(err, err ? 0 : length));
    return this;
  }
  close(): this {
    this.closed = true;
    this.emit('close');
    return this;
  }
  option(option: number) {
    return this.options.find((o) => o.option === option);
  }
}

function fakeModule(socket: FakeSocket, createError?: Error): RawSocketModule & { created: { protocol: number }[] } {
  const created: { protocol: number }[] = [];
  return {
    created,
    AddressFamily: { IPv4: 1, IPv6: 2 },
    createSocket(o) {
      if (createError) throw createError;
      created.push(o);
      return socket;
    },
  };
}

/** An IPv4 packet as the kernel hands it to a raw socket. */
function ipPacket(payload: Buffer, o: { src?: string; dst?: string; ttl?: number; proto?: number; totalLength?: number } = {}): Buffer {
  const b = Buffer.alloc(20 + payload.length);
  b[0] = 0x45;
  b.writeUInt16BE(o.totalLength ?? b.length, 2);
  b[8] = o.ttl ?? 255;
  b[9] = o.proto ?? 112;
  Buffer.from((o.src ?? '10.0.0.1').split('.').map(Number)).copy(b, 12);
  Buffer.from((o.dst ?? VRRP_MCAST4).split('.').map(Number)).copy(b, 16);
  payload.copy(b, 20);
  return b;
}

/** Let the stand-in socket's callbacks (one per setImmediate) run. */
const settle = async (rounds = 10): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

const v2advert = (priority: number, vip = '10.0.0.100'): Buffer =>
  encodeAdvert({ version: 2, vrid: 51, priority, family: 4, addresses: [vip], adverIntSec: 1, authType: AUTH_PASS, authData: passAuthData('s3cret') });

describe('raw transport against a stand-in socket', () => {
  it('opens one protocol-112 socket bound to the interface, joined to 224.0.0.18, writing its own IPv4 header', () => {
    const sock = new FakeSocket();
    const mod = fakeModule(sock);
    const t = createRawTransport({ ifname: 'eth7', family: 4, rawSocket: mod, ifindex: 0x0102 });
    expect(mod.created).toEqual([{ protocol: 112, addressFamily: 1, bufferSize: 4096 }]);
    expect(sock.option(25)).toMatchObject({ level: 1, value: Buffer.from('eth7\0'), length: 5 }); // SO_BINDTODEVICE
    expect(sock.option(3)).toMatchObject({ level: 0, value: 1 }); // IP_HDRINCL
    expect(sock.option(32)).toMatchObject({ level: 0, value: Buffer.from('00000000000000000201' + '0000', 'hex'), length: 12 }); // IP_MULTICAST_IF ip_mreqn
    expect(sock.option(33)).toMatchObject({ level: 0, value: 255 }); // IP_MULTICAST_TTL
    expect(sock.option(34)).toMatchObject({ level: 0, value: 0 }); // IP_MULTICAST_LOOP
    expect(sock.option(49)).toMatchObject({ level: 0, value: 0 }); // IP_MULTICAST_ALL
    expect(sock.option(35)).toMatchObject({ level: 0, value: Buffer.from('e0000012' + '00000000' + '02010000', 'hex'), length: 12 }); // IP_ADD_MEMBERSHIP
    expect([t.ifname, t.ifindex]).toEqual(['eth7', 0x0102]);
    t.close();
    expect(sock.closed).toBe(true);
  });

  it("sends at once through raw-socket's native sendto when nothing waits, and falls back to its poll on EAGAIN", async () => {
    // raw-socket's own send waits for a writable poll, a later turn of the event loop: a MASTER's
    // first advert would leave after whatever follows the transition (a notify's fork).
    const sock = new FakeSocket();
    const direct: string[] = [];
    let full = false;
    sock.wrap = {
      send: (buffer: Buffer, _o: number, _l: number, address: string, cb: (bytes: number) => void) => {
        if (full) throw new Error('Resource temporarily unavailable');
        direct.push(address);
        cb(buffer.length);
      },
    };
    const errors: TransportError[] = [];
    const t = createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(sock), ifindex: 2, onError: (e) => errors.push(e) });
    t.send(v2advert(200), { src: '10.99.1.2', dst: '10.99.1.1' });
    t.send(v2advert(200), { src: '10.99.1.2', dst: '10.99.1.3' });
    // Both on the wire before send() returned, none through the poll path.
    expect(direct).toEqual(['10.99.1.1', '10.99.1.3']);
    expect(sock.sent).toEqual([]);
    expect(t.stats).toMatchObject({ sent: 2, sendErrors: 0 });
    // The kernel's buffer is full: raw-socket's queue takes it, and writes it once writable.
    full = true;
    t.send(v2advert(200), { src: '10.99.1.2', dst: '10.99.1.4' });
    expect(sock.sent.map((x) => x.address)).toEqual(['10.99.1.4']);
    await settle();
    expect(t.stats).toMatchObject({ sent: 3, sendErrors: 0 });
    // Another failure is one, counted and reported as before.
    full = false;
    sock.wrap.send = () => {
      throw new Error('Network is unreachable');
    };
    t.send(v2advert(200), { src: '10.99.1.2', dst: '10.99.1.5' });
    expect(t.stats.sendErrors).toBe(1);
    expect(errors.map((e) => [e.op, e.code])).toEqual([['send', 'ENETUNREACH']]);
    t.close();
  });

  it('sends TTL 255, TOS 0xc0, protocol 112 and our source address; counts sends when the kernel accepts them', async () => {
    const sock = new FakeSocket();
    const t = createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(sock), ifindex: 2 });
    const payload = v2advert(200);
    t.send(payload, { src: '10.99.1.2', dst: VRRP_MCAST4 });
    t.send(payload, { src: '10.99.1.2', dst: '10.99.1.1', ttl: 64 });
    expect(t.stats.sent).toBe(0); // counted when raw-socket reports the sendto() result
    expect(sock.sent).toHaveLength(1); // one at a time: the next one once this one is written
    await settle();
    expect(t.stats).toMatchObject({ sent: 2, sendErrors: 0 });
    const [m, u] = sock.sent;
    expect(m.address).toBe(VRRP_MCAST4);
    expect(m.buffer.subarray(0, 20).toString('hex')).toBe(
      '45c0' + (20 + payload.length).toString(16).padStart(4, '0') + '00000000' + 'ff70' + '0000' + '0a630102' + 'e0000012',
    );
    expect(m.buffer.subarray(20).equals(payload)).toBe(true);
    expect(u.address).toBe('10.99.1.1');
    expect([u.buffer[8], u.buffer.subarray(16, 20).toString('hex')]).toEqual([64, '0a630101']);
    expect(() => t.send(payload, { src: 'fe80::1', dst: VRRP_MCAST4 })).toThrow(/not an IPv4 address/);
    expect(() => t.send(payload, { src: '10.0.0.1', dst: VRRP_MCAST4, ttl: 256 })).toThrow(RangeError);
    t.close();
  });

  it('sends scheduled adverts before waiting replies, and bounds its queue, counting what it drops', async () => {
    const sock = new FakeSocket();
    const t = createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(sock), ifindex: 2, maxQueue: 4 });
    const prio = () => sock.sent.map((x) => x.buffer[20 + 2]);
    t.send(v2advert(1), { src: '10.0.0.2', dst: VRRP_MCAST4 }); // handed over at once
    for (const p of [11, 12, 13]) t.send(v2advert(p), { src: '10.0.0.2', dst: VRRP_MCAST4, reply: true });
    t.send(v2advert(2), { src: '10.0.0.2', dst: VRRP_MCAST4 });
    // Full (4 waiting): a new reply is dropped; a new advert pushes out the oldest reply.
    t.send(v2advert(14), { src: '10.0.0.2', dst: VRRP_MCAST4, reply: true });
    t.send(v2advert(3), { src: '10.0.0.2', dst: VRRP_MCAST4 });
    expect(t.stats.sendDropped).toBe(2);
    await settle();
    expect(prio()).toEqual([1, 2, 3, 12, 13]);
    expect(t.stats).toMatchObject({ sent: 5, sendDropped: 2, sendErrors: 0 });

    // A socket that never reports back (a stuck interface): the queue stays at maxQueue.
    const stuck = new FakeSocket();
    stuck.send = function (this: FakeSocket, buffer: Buffer, offset: number, length: number, address: string) {
      this.sent.push({ buffer: Buffer.from(buffer.subarray(offset, offset + length)), address });
      return this;
    };
    const t2 = createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(stuck), ifindex: 2, maxQueue: 4 });
    for (let i = 0; i < 1000; i++) t2.send(v2advert(100), { src: '10.0.0.2', dst: VRRP_MCAST4, reply: i % 2 === 0 });
    expect(stuck.sent).toHaveLength(1);
    expect(t2.stats.sendDropped).toBe(1000 - 1 - 4);
    t.close();
    t2.close();
  });

  it('drain() waits until every queued packet is handed to the kernel, so a close right after a stop loses no priority-0 advert', async () => {
    const sock = new FakeSocket();
    const t = createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(sock), ifindex: 2 });
    for (const p of [100, 100, 0]) t.send(v2advert(p), { src: '10.0.0.2', dst: VRRP_MCAST4 });
    expect(sock.sent).toHaveLength(1); // one in flight, two waiting
    expect(await t.drain(1000)).toBe(true);
    t.close();
    expect(sock.sent.map((x) => x.buffer[20 + 2])).toEqual([100, 100, 0]);
    expect(t.stats.sent).toBe(3);
    expect(await t.drain(1000)).toBe(true); // closed: nothing left to wait for

    // Without it, close() drops what is still waiting: the case drain() exists for.
    const sock2 = new FakeSocket();
    const t2 = createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(sock2), ifindex: 2 });
    for (const p of [100, 0]) t2.send(v2advert(p), { src: '10.0.0.2', dst: VRRP_MCAST4 });
    t2.close();
    await settle();
    expect(sock2.sent.map((x) => x.buffer[20 + 2])).toEqual([100]);

    // A socket that never reports back: drain() gives up after its bound.
    const stuck = new FakeSocket();
    stuck.send = function (this: FakeSocket) {
      return this;
    };
    const t3 = createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(stuck), ifindex: 2 });
    t3.send(v2advert(0), { src: '10.0.0.2', dst: VRRP_MCAST4 });
    const started = Date.now();
    expect(await t3.drain(50)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    t3.close();
  });

  it('counts a refused send and reports it with its errno name, never throwing', async () => {
    const sock = new FakeSocket();
    const errors: TransportError[] = [];
    const t = createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(sock), ifindex: 2, onError: (e) => errors.push(e) });
    sock.sendError = new Error('Network is unreachable');
    t.send(v2advert(100), { src: '10.0.0.2', dst: '192.0.2.1' });
    await settle();
    expect(t.stats).toMatchObject({ sent: 0, sendErrors: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ op: 'send', code: 'ENETUNREACH', ifname: 'eth0' });
    expect(errors[0].message).toBe(
      'raw-transport eth0: send 10.0.0.2 -> 192.0.2.1 failed: Network is unreachable (ENETUNREACH); no route to the destination from this interface (is the interface down?)',
    );
    t.close();
    t.send(v2advert(100), { src: '10.0.0.2', dst: VRRP_MCAST4 });
    expect(t.stats.sendErrors).toBe(2);
    expect(errors[1]).toMatchObject({ op: 'send', code: 'ECLOSED' });
    expect(sock.sent).toHaveLength(1);
  });

  it('delivers well-formed packets as copies and counts malformed ones by decodeIpv4 reason', () => {
    const sock = new FakeSocket();
    const t = createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(sock), ifindex: 2 });
    const got: ReceivedPacket[] = [];
    t.onPacket((p) => got.push(p));
    const payload = v2advert(150);
    const shared = Buffer.concat([ipPacket(payload, { src: '10.0.0.9', ttl: 255 }), Buffer.alloc(6)]); // + Ethernet padding
    sock.emit('message', shared, '10.0.0.9');
    shared.fill(0); // raw-socket reuses its receive buffer
    expect(got).toEqual([{ src: '10.0.0.9', dst: VRRP_MCAST4, ttl: 255, payload, ifname: 'eth0' }]);
    sock.emit('message', Buffer.alloc(12), '10.0.0.9');
    sock.emit('message', Buffer.from([0x65, ...Buffer.alloc(39)]), '10.0.0.9');
    sock.emit('message', ipPacket(payload, { totalLength: 200 }), '10.0.0.9');
    sock.emit('message', ipPacket(payload, { proto: 17 }), '10.0.0.9');
    expect(t.stats.received).toBe(1);
    expect(t.stats.dropped).toEqual({ 'ip-header-invalid': 2, length: 1, 'not-vrrp': 1 });
    expect(got).toHaveLength(1);
    t.close();
    sock.emit('message', ipPacket(payload), '10.0.0.9');
    expect(t.stats.received).toBe(1);
  });

  it('isolates a throwing callback and reports socket read errors instead of crashing', () => {
    const sock = new FakeSocket();
    const errors: TransportError[] = [];
    const t = createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(sock), ifindex: 2, onError: (e) => errors.push(e) });
    const seen: number[] = [];
    t.onPacket(() => {
      throw new Error('engine bug');
    });
    t.onPacket((p) => seen.push(p.payload[2]));
    sock.emit('message', ipPacket(v2advert(77)), '10.0.0.1');
    expect(seen).toEqual([77]);
    expect(errors.map((e) => [e.op, e.message])).toEqual([['callback', 'raw-transport eth0: packet callback threw: engine bug']]);
    sock.emit('error', new Error('Bad file descriptor'));
    expect(t.stats.receiveErrors).toBe(1);
    expect(errors[1]).toMatchObject({ op: 'receive', code: 'EBADF' });
    t.close();
  });

  it('turns open failures into TransportErrors that say what to do', () => {
    let err: unknown;
    try {
      createRawTransport({ ifname: 'eth0', family: 4, rawSocket: fakeModule(new FakeSocket(), new Error('Operation not permitted')), ifindex: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({
      op: 'open',
      code: 'EPERM',
      message: 'raw-transport eth0: cannot open a raw IPv4 socket for protocol 112: Operation not permitted (EPERM); raw sockets need root or CAP_NET_RAW',
    });

    const sock = new FakeSocket();
    sock.failOption = { option: 25, message: 'No such device' };
    expect(() => createRawTransport({ ifname: 'eth9', family: 4, rawSocket: fakeModule(sock), ifindex: 9 })).toThrow(
      'raw-transport eth9: setsockopt SO_BINDTODEVICE failed: No such device (ENODEV); no such interface in this network namespace',
    );
    expect(sock.closed).toBe(true);

    expect(() => createRawTransport({ ifname: 'no-such-if0', family: 4, rawSocket: fakeModule(new FakeSocket()) })).toThrow(
      /no interface no-such-if0 \(\/sys\/class\/net\/no-such-if0\/ifindex: .*ENOENT/,
    );
    // IPv6 without a hop-limit filter (no /proc/self/syscall or mem) does not open: multicast adverts could not be checked.
    const s6 = new FakeSocket();
    expect(() => createRawTransport({ ifname: 'eth0', family: 6, rawSocket: fakeModule(s6), ifindex: 2, hopLimitFilter: () => undefined })).toThrow(
      /cannot build the hop-limit socket filter/,
    );
    expect(s6.closed).toBe(true);
    expect(() => createRawTransport({ ifname: 'a-very-long-ifname', family: 4, rawSocket: fakeModule(new FakeSocket()), ifindex: 2 })).toThrow(
      /invalid interface name/,
    );
  });
});

describe('raw transport over IPv6 against stand-in sockets', () => {
  const fprog = (kind: string) => ({ fprog: Buffer.from(kind.padEnd(16, '.')) });
  function open6() {
    const sockets = [new FakeSocket(), new FakeSocket()];
    const created: unknown[] = [];
    const mod: RawSocketModule = {
      AddressFamily: { IPv4: 1, IPv6: 2 },
      createSocket(o) {
        created.push(o);
        return sockets[created.length - 1];
      },
    };
    const t = createRawTransport({ ifname: 'eth6', family: 6, rawSocket: mod, ifindex: 6, hopLimitFilter: fprog });
    return { t, created, mcast: sockets[0], uni: sockets[1] };
  }

  it('opens a multicast socket (ff02::12 joined, IPV6_HDRINCL, kernel checksum check, hop-limit filter) and a unicast one', () => {
    const { created, mcast, uni } = open6();
    expect(created).toEqual([
      { protocol: 112, addressFamily: 2, bufferSize: 4096 },
      { protocol: 112, addressFamily: 2, bufferSize: 4096 },
    ]);
    expect(mcast.option(25)?.value).toEqual(Buffer.from('eth6\0'));
    expect(mcast.option(36)).toMatchObject({ level: 41, value: 1 }); // IPV6_HDRINCL
    expect(mcast.option(7)).toMatchObject({ level: 41, value: 6 }); // IPV6_CHECKSUM at offset 6
    expect(mcast.option(18)).toMatchObject({ level: 41, value: 255 }); // IPV6_MULTICAST_HOPS
    const join = mcast.option(20)!.value as Buffer; // IPV6_JOIN_GROUP: ff02::12 on ifindex 6
    expect(join.subarray(0, 16).toString('hex')).toBe('ff020000000000000000000000000012');
    expect(join.readInt32LE(16)).toBe(6);
    expect((mcast.option(26)!.value as Buffer).toString()).toMatch(/^multicast/);
    expect((uni.option(26)!.value as Buffer).toString()).toMatch(/^unicast/);
    expect(uni.option(20)).toBeUndefined();
    expect(uni.option(7)).toMatchObject({ level: 41, value: 6 });
  });

  it('sends an IPv6 header it wrote (hop limit 255, traffic class 0xc0, next header 112, our source) to the group', async () => {
    const { t, mcast } = open6();
    const msg = encodeAdvert(
      { version: 3, vrid: 9, priority: 100, family: 6, addresses: ['fd00::1'], maxAdverIntCs: 100 },
      { src: 'fe80::1', dst: 'ff02::12' },
    );
    t.send(msg, { src: 'fe80::1', dst: 'ff02::12' });
    await settle();
    const { buffer, address } = mcast.sent[0];
    expect(address).toBe('ff02::12');
    expect(buffer.readUInt32BE(0) >>> 0).toBe(0x6c000000);
    expect(buffer.readUInt16BE(4)).toBe(msg.length);
    expect([buffer[6], buffer[7]]).toEqual([112, 255]);
    expect(buffer.subarray(8, 24).toString('hex')).toBe('fe800000000000000000000000000001');
    expect(buffer.subarray(40)).toEqual(msg);
    expect(() => t.send(msg, { src: '10.0.0.1', dst: 'ff02::12' })).toThrow(/not an IPv6 address/);
  });

  it('tells a hop limit of 255, a cut (not 255) multicast advert, and a unicast one (hop limit unknown) apart', () => {
    const { t, mcast, uni } = open6();
    const got: ReceivedPacket[] = [];
    t.onPacket((p) => got.push(p));
    const msg = encodeAdvert(
      { version: 3, vrid: 9, priority: 100, family: 6, addresses: ['fd00::1'], maxAdverIntCs: 100 },
      { src: 'fe80::2', dst: 'ff02::12' },
    );
    mcast.emit('message', msg, 'fe80::2');
    mcast.emit('message', msg.subarray(0, 2), 'fe80::3');
    uni.emit('message', msg, 'fd00::2');
    expect(got.map((p) => [p.src, p.dst, p.ttl, p.payload.length, p.checksumChecked])).toEqual([
      ['fe80::2', 'ff02::12', 255, 24, true],
      ['fe80::3', 'ff02::12', 0, 2, true],
      ['fd00::2', '::', -1, 24, true],
    ]);
    t.close();
    expect(mcast.closed && uni.closed).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Real namespaces, real keepalived.

// The program our transport runs in inside a namespace: JSON commands on stdin, JSON events on stdout.
const CHILD = `
import { createInterface } from 'node:readline';
import { createRawTransport } from '../../src/net/raw-transport.js';
const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\\n');
let t: ReturnType<typeof createRawTransport>;
try {
  t = createRawTransport({ ifname: process.argv[2], family: 4, onError: (e) => out({ ev: 'error', op: e.op, code: e.code, message: e.message }) });
} catch (e: any) {
  out({ ev: 'open-error', name: e.name, code: e.code, message: e.message });
  process.exit(3);
}
t.onPacket((p) => out({ ev: 'packet', at: Date.now(), src: p.src, dst: p.dst, ttl: p.ttl, ifname: p.ifname, payload: p.payload.toString('hex') }));
let timer: NodeJS.Timeout | undefined;
let count = 0;
let lastSentAt = 0;
createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  const send = () => {
    t.send(Buffer.from(c.payload, 'hex'), { src: c.src, dst: c.dst });
    lastSentAt = Date.now();
    count++;
  };
  if (c.op === 'send') send();
  else if (c.op === 'repeat') {
    clearInterval(timer);
    count = 0;
    send();
    timer = setInterval(send, c.intervalMs);
  } else if (c.op === 'stop') clearInterval(timer);
  out({ ev: 'ok', id: c.id, count, lastSentAt, stats: t.stats });
}).on('close', () => {
  clearInterval(timer);
  t.close();
});
out({ ev: 'ready', ifindex: t.ifindex });
`;

interface ChildEvent {
  ev: string;
  [k: string]: unknown;
}
interface PacketEvent {
  at: number;
  src: string;
  dst: string;
  ttl: number;
  ifname: string;
  payload: string;
}
interface OkEvent {
  count: number;
  lastSentAt: number;
  stats: { sent: number; received: number; sendErrors: number; dropped: Record<string, number> };
}

/** Our transport running in a host namespace. */
class TransportChild {
  private nextId = 1;
  constructor(readonly proc: Proc) {}

  events(): ChildEvent[] {
    return this.proc.lines.filter((l) => l.stream === 'stdout' && l.text.startsWith('{')).map((l) => JSON.parse(l.text) as ChildEvent);
  }

  packets(): PacketEvent[] {
    return this.events().filter((e) => e.ev === 'packet') as unknown as PacketEvent[];
  }

  async command(c: Record<string, unknown>): Promise<OkEvent> {
    const id = this.nextId++;
    this.proc.write(`${JSON.stringify({ ...c, id })}\n`);
    const line = await this.proc.waitForLine(new RegExp(`"ev":"ok","id":${id},`), { timeoutMs: 5000 });
    return JSON.parse(line.text) as OkEvent;
  }

  /** Send payload now and then every intervalMs. */
  repeat(payload: Buffer, o: { src: string; dst: string; intervalMs?: number }): Promise<OkEvent> {
    return this.command({ op: 'repeat', payload: payload.toString('hex'), src: o.src, dst: o.dst, intervalMs: o.intervalMs ?? 1000 });
  }

  stop(): Promise<OkEvent> {
    return this.command({ op: 'stop' });
  }

  async waitForPackets(pred: (p: PacketEvent) => boolean, n: number, timeoutMs: number): Promise<PacketEvent[]> {
    return poll(
      () => {
        const ps = this.packets().filter(pred);
        return ps.length >= n ? ps : undefined;
      },
      { timeoutMs, what: `${n} matching packet(s) at our transport`, diagnose: () => this.proc.output().slice(-3000) },
    );
  }
}

const kaCap = keepalivedCapability();
const netCap = netnsCapability();
if (!kaCap.ok) console.warn(`[raw-transport.test] skipping the keepalived interop tests: ${kaCap.reason}`);
if (!netCap.ok) console.warn(`[raw-transport.test] skipping the namespace tests: ${netCap.reason}`);

const HERE = fileURLToPath(new URL('.', import.meta.url));
const VIP = '10.99.1.100';
const PASS = 's3cret';
const labs: Lab[] = [];
const measured: string[] = [];

afterAll(async () => {
  await Promise.all(labs.map((l) => l.teardown()));
  if (measured.length) console.log(`[raw-transport.test] measured:\n  ${measured.join('\n  ')}`);
}, 30_000);

/** A two-host lab, torn down when the test finishes (pass or fail) and again, if need be, in afterAll. */
async function newLab(onTestFinished: (fn: () => Promise<void>) => void): Promise<Lab> {
  const lab = await createLab({ hosts: 2 });
  labs.push(lab);
  onTestFinished(() => lab.teardown());
  return lab;
}

async function startChild(lab: Lab, host: Host, wrap?: string[]): Promise<TransportChild> {
  const proc = await lab.spawnNode(host, CHILD, { resolveDir: HERE, name: `transport-${host.index + 1}`, args: [host.ifname], wrap });
  await proc.waitForLine(/"ev":"(ready|open-error)"/, { timeoutMs: 10_000 });
  return new TransportChild(proc);
}

function keepalivedConfig(o: { version: 2 | 3; priority: number; unicastSrc?: string; unicastPeer?: string }): string {
  return `global_defs {
  router_id kt-interop
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority ${o.priority}
  advert_int 1
  version ${o.version}
${o.version === 2 ? `  authentication {\n    auth_type PASS\n    auth_pass ${PASS}\n  }\n` : ''}${
    o.unicastPeer ? `  unicast_src_ip ${o.unicastSrc}\n  unicast_peer {\n    ${o.unicastPeer}\n  }\n` : ''
  }  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

/** Start keepalived on host A and wait until it is MASTER with the VIP on eth0. */
async function startMaster(lab: Lab, a: Host, config: string): Promise<Keepalived> {
  const ka = lab.keepalived(a, config);
  await ka.waitForLine(/\(VI_1\) Entering MASTER STATE/, { timeoutMs: 15_000 });
  // A misspelt keyword would be logged and ignored, silently changing what the test means.
  const complaints = ka.lines.filter((l) => /Unknown keyword|\(Line \d+\)|WARNING/.test(l.text)).map((l) => l.text);
  if (complaints.length) throw new Error(`keepalived did not take the config as written:\n${complaints.join('\n')}`);
  await poll(async () => (await lab.addresses(a)).includes(VIP), { timeoutMs: 5000, what: `VIP ${VIP} on A's eth0` });
  return ka;
}

function advert(version: 2 | 3, priority: number): Advert {
  return version === 2
    ? { version: 2, vrid: 51, priority, family: 4, addresses: [VIP], adverIntSec: 1, authType: AUTH_PASS, authData: passAuthData(PASS) }
    : { version: 3, vrid: 51, priority, family: 4, addresses: [VIP], maxAdverIntCs: 100 };
}

const decodeFrom = (p: PacketEvent): DecodedAdvert => {
  const r = decodeAdvert(Buffer.from(p.payload, 'hex'), { family: 4, src: p.src, dst: p.dst });
  if (!r.ok) throw new Error(`keepalived's advert did not decode: ${r.reason} ${r.detail}`);
  return r.value;
};

describe.skipIf(!netCap.ok)('raw transport in a namespace', () => {
  it('fails to open without root with a clear EPERM error, and counts ENETUNREACH sends on a downed link', async ({ onTestFinished }) => {
    const lab = await newLab(onTestFinished);
    const [, b] = lab.hosts;
    const unprivileged = await startChild(lab, b, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
    const [openError] = unprivileged.events();
    expect(openError).toEqual({
      ev: 'open-error',
      name: 'TransportError',
      code: 'EPERM',
      message: 'raw-transport eth0: cannot open a raw IPv4 socket for protocol 112: Operation not permitted (EPERM); raw sockets need root or CAP_NET_RAW',
    });
    expect((await unprivileged.proc.exited).code).toBe(3);

    const child = await startChild(lab, b);
    expect(child.events()[0]).toMatchObject({ ev: 'ready' });
    // Bound to eth0, the kernel takes any destination as on-link: an unroutable one still "sends".
    await child.command({ op: 'send', payload: v2advert(100).toString('hex'), src: b.address, dst: '192.0.2.1' });
    await poll(async () => (await child.command({ op: 'stats' })).stats.sent === 1, { timeoutMs: 3000, what: 'the first send to be counted' });
    await lab.exec(b, ['ip', 'link', 'set', 'eth0', 'down']);
    await child.command({ op: 'send', payload: v2advert(100).toString('hex'), src: b.address, dst: VRRP_MCAST4 });
    const err = await child.proc.waitForLine(/"ev":"error"/, { timeoutMs: 5000 });
    expect(JSON.parse(err.text)).toEqual({
      ev: 'error',
      op: 'send',
      code: 'ENETUNREACH',
      message: `raw-transport eth0: send ${b.address} -> ${VRRP_MCAST4} failed: Network is unreachable (ENETUNREACH); no route to the destination from this interface (is the interface down?)`,
    });
    expect((await child.command({ op: 'stats' })).stats).toEqual({ sent: 1, received: 0, sendErrors: 1, dropped: {}, receiveErrors: 0, sendDropped: 0 });
  }, 30_000);
});

describe.skipIf(!kaCap.ok)(`interop with the real keepalived ${kaCap.version ?? ''}`, () => {
  for (const version of [2, 3] as const) {
    it.concurrent(
      `(a) receives keepalived's VRRPv${version} adverts with TTL 255, its source address and ${version === 2 ? 'the PASS data' : 'a pseudo-header checksum'}`,
      async ({ expect, onTestFinished }) => {
        const lab = await newLab(onTestFinished);
        const [a, b] = lab.hosts;
        const child = await startChild(lab, b);
        const ka = await startMaster(lab, a, keepalivedConfig({ version, priority: 150 }));
        const masterAt = ka.lines.find((l) => /Entering MASTER STATE/.test(l.text))!.at;
        const ps = await child.waitForPackets((p) => p.src === a.address && p.at >= masterAt, 3, 6000);
        for (const p of ps) {
          expect(p).toMatchObject({ src: a.address, dst: VRRP_MCAST4, ttl: 255, ifname: 'eth0' });
          const ad = decodeFrom(p);
          if (version === 2) {
            expect(ad).toEqual({
              version: 2,
              vrid: 51,
              priority: 150,
              family: 4,
              addresses: [VIP],
              authType: AUTH_PASS,
              adverIntSec: 1,
              authData: passAuthData(PASS),
            });
            expect(ad.authData!.toString('latin1')).toBe('s3cret\0\0');
          } else {
            expect(ad).toEqual({ version: 3, vrid: 51, priority: 150, family: 4, addresses: [VIP], maxAdverIntCs: 100, checksumMode: 'pseudo-header' });
          }
        }
        // The transport trimmed the payload to the IP total length: exactly one VRRP message.
        expect(Buffer.from(ps[0].payload, 'hex').length).toBe(version === 2 ? 20 : 12);
        const gaps = ps.slice(1).map((p, i) => p.at - ps[i].at);
        for (const g of gaps) {
          expect(g).toBeGreaterThan(900);
          expect(g).toBeLessThan(1300);
        }
        measured.push(`v${version}: keepalived MASTER ${masterAt - ka.lines[0].at} ms after its first log line; advert gaps ${gaps.join(', ')} ms`);
        expect(child.packets().some((p) => p.src === b.address)).toBe(false);
      },
      40_000,
    );
  }

  const cases = [
    { version: 2, unicast: false },
    { version: 3, unicast: false },
    { version: 2, unicast: true },
    { version: 3, unicast: true },
  ] as const;
  for (const { version, unicast } of cases) {
    const label = `v${version} ${unicast ? 'unicast' : 'multicast'}`;
    it.concurrent(
      `(b) ${label}: our priority-200 adverts make keepalived BACKUP; it retakes the VIP after Master_Down_Interval`,
      async ({ expect, onTestFinished }) => {
        const lab = await newLab(onTestFinished);
        const [a, b] = lab.hosts;
        const child = await startChild(lab, b);
        const ka = await startMaster(
          lab,
          a,
          keepalivedConfig({ version, priority: 100, ...(unicast ? { unicastSrc: a.address, unicastPeer: b.address } : {}) }),
        );
        const dst = unicast ? a.address : VRRP_MCAST4;
        if (unicast) {
          // keepalived's unicast adverts reach our transport too.
          const [p] = await child.waitForPackets((p) => p.src === a.address, 1, 5000);
          expect(p).toMatchObject({ dst: b.address, ttl: 255, ifname: 'eth0' });
          expect(decodeFrom(p)).toMatchObject({ version, vrid: 51, priority: 100 });
        }
        const mark = ka.lines.length;
        const payload = encodeAdvert(advert(version, 200), { src: b.address, dst });
        const started = await child.repeat(payload, { src: b.address, dst });
        const backup = await ka.waitForLine(/\(VI_1\) Entering BACKUP STATE/, { from: mark, timeoutMs: 5000 });
        await poll(async () => !(await lab.addresses(a)).includes(VIP), { timeoutMs: 5000, what: `VIP ${VIP} gone from A's eth0` });
        const backupMs = backup.at - started.lastSentAt;
        // Stay on well past one Master_Down_Interval: keepalived must keep accepting every advert.
        const holdUntil = Date.now() + 5000;
        await poll(
          async () => {
            expect((await lab.addresses(a)).includes(VIP)).toBe(false);
            return Date.now() >= holdUntil;
          },
          { timeoutMs: 8000, intervalMs: 250, what: 'the hold period' },
        );
        const stopped = await child.stop();
        expect(stopped.count).toBeGreaterThanOrEqual(5);
        expect(stopped.stats).toMatchObject({ sent: stopped.count, sendErrors: 0 });
        expect(ka.lines.slice(mark).filter((l) => /Entering MASTER STATE/.test(l.text))).toEqual([]);
        expect(ka.lines.slice(mark).filter((l) => /checksum|invalid|TTL/i.test(l.text))).toEqual([]);
        // Our adverts stop: keepalived takes over after its Master_Down_Interval, 3 x 1 s + (256-100)/256 s.
        const master = await ka.waitForLine(/\(VI_1\) Entering MASTER STATE/, { from: mark, timeoutMs: 8000 });
        const vipBack = await poll(async () => (await lab.addresses(a)).includes(VIP) && Date.now(), {
          timeoutMs: 3000,
          intervalMs: 20,
          what: `VIP ${VIP} back on A`,
        });
        const takeoverMs = master.at - stopped.lastSentAt;
        expect(takeoverMs).toBeGreaterThan(3300);
        expect(takeoverMs).toBeLessThan(4600);
        expect(ka.lines.slice(mark).some((l) => /Receive advertisement timeout/.test(l.text))).toBe(true);
        measured.push(
          `${label}: BACKUP ${backupMs} ms after our first advert; MASTER ${takeoverMs} ms and VIP back ${vipBack - stopped.lastSentAt} ms after our last (${stopped.count} adverts)`,
        );
        expect(child.packets().some((p) => p.src === b.address)).toBe(false);
      },
      60_000,
    );
  }

  for (const version of [2, 3] as const) {
    it.concurrent(
      `(c) v${version}: keepalived rejects our priority-200 adverts when their checksum is corrupt and stays MASTER`,
      async ({ expect, onTestFinished }) => {
        const lab = await newLab(onTestFinished);
        const [a, b] = lab.hosts;
        const child = await startChild(lab, b);
        const ka = await startMaster(lab, a, keepalivedConfig({ version, priority: 100 }));
        const mark = ka.lines.length;
        const good = encodeAdvert(advert(version, 200), { src: b.address, dst: VRRP_MCAST4 });
        const bad = Buffer.from(good);
        bad.writeUInt16BE(good.readUInt16BE(6) ^ 0x5a5a, 6);
        expect(decodeAdvert(bad, { family: 4, src: b.address, dst: VRRP_MCAST4 })).toMatchObject({ ok: false, reason: 'checksum' });
        await child.repeat(bad, { src: b.address, dst: VRRP_MCAST4, intervalMs: 500 });
        const until = Date.now() + 4500; // longer than keepalived's Master_Down_Interval
        await poll(
          async () => {
            expect((await lab.addresses(a)).includes(VIP)).toBe(true);
            return Date.now() >= until;
          },
          { timeoutMs: 8000, intervalMs: 250, what: 'the corrupt-advert period' },
        );
        const stopped = await child.stop();
        expect(stopped.stats).toMatchObject({ sent: stopped.count, sendErrors: 0 });
        const rejected = ka.lines.slice(mark).filter((l) => l.text.includes(`(VI_1) Invalid VRRPv${version} checksum`));
        expect(rejected.length).toBeGreaterThanOrEqual(stopped.count - 1);
        expect(ka.lines.slice(mark).filter((l) => /Entering BACKUP STATE/.test(l.text))).toEqual([]);
        measured.push(
          `v${version} corrupt checksum: ${rejected.length} "Invalid VRRPv${version} checksum" lines for ${stopped.count} adverts, keepalived stayed MASTER`,
        );
      },
      60_000,
    );
  }
});

if (!kaCap.ok) {
  describe('interop with the real keepalived', () => {
    it.skip(`skipped: ${kaCap.reason}`, () => {});
  });
}
