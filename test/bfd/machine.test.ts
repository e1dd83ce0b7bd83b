// BFD session machine and codec against RFC 5880: the three-way handshake (6.2), detection time
// (6.8.4), transmit interval and jitter (6.8.2, 6.8.7), Poll/Final (6.5, 6.8.3), stopping, the
// passive role (6.1) and the reception checks of 6.8.6. Two sessions run on a simulated link.
import { describe, expect, it } from 'vitest';
import {
  initialSession,
  jittered,
  nextDeadline,
  stepSession,
  type SessionAction,
  type SessionConfig,
  type SessionEvent,
  type SessionState,
} from '../../src/bfd/machine.js';
import { decodeControl, encodeControl, type ControlPacket } from '../../src/bfd/packet.js';

const MS = 1000;
const cfg = (name: string, disc: number, over: Partial<SessionConfig> = {}): SessionConfig => ({
  name,
  localDiscriminator: disc,
  minTxUs: 10 * MS,
  idleTxUs: 1000 * MS,
  minRxUs: 10 * MS,
  multiplier: 5,
  passive: false,
  ...over,
});

/** Two sessions joined by a link of `delay` µs that can be cut; every draw of jitter is `rand`. */
class Link {
  readonly s: SessionState[] = [initialSession(), initialSession()];
  readonly log: { at: number; who: 0 | 1; action: SessionAction }[] = [];
  private queue: { at: number; to: 0 | 1; packet: ControlPacket }[] = [];
  now = 0;
  cut = [false, false];

  constructor(
    readonly cfgs: [SessionConfig, SessionConfig],
    readonly delay = 100,
    readonly rand = 0.5,
  ) {}

  private apply(who: 0 | 1, ev: SessionEvent): void {
    const r = stepSession(this.cfgs[who], this.s[who], ev);
    this.s[who] = r.state;
    for (const action of r.actions) {
      this.log.push({ at: this.now, who, action });
      // The wire in between: what goes out is what the other side decodes.
      if (action.type === 'send' && !this.cut[who]) {
        const decoded = decodeControl(encodeControl(action.packet));
        if ('drop' in decoded) throw new Error(`sent a packet the codec drops: ${decoded.drop}`);
        this.queue.push({ at: this.now + this.delay, to: who === 0 ? 1 : 0, packet: decoded });
      }
    }
  }

  start(who: 0 | 1): void {
    this.apply(who, { type: 'start', now: this.now, rand: this.rand });
  }

  stop(who: 0 | 1): void {
    this.apply(who, { type: 'stop', now: this.now });
  }

  run(until: number): void {
    for (;;) {
      const timers = ([0, 1] as const).map((w) => nextDeadline(this.s[w]) ?? Infinity);
      const pkt = this.queue.reduce((m, q) => Math.min(m, q.at), Infinity);
      const at = Math.min(pkt, ...timers);
      if (at > until) break;
      this.now = at;
      if (pkt === at) {
        const i = this.queue.findIndex((q) => q.at === at);
        const [q] = this.queue.splice(i, 1);
        this.apply(q.to, { type: 'packet', now: at, rand: this.rand, packet: q.packet });
      } else {
        const who = timers[0] === at ? 0 : 1;
        this.apply(who, { type: 'timer', now: at, rand: this.rand });
      }
    }
    this.now = until;
  }

  transitions(who: 0 | 1): string[] {
    return this.log
      .filter((l) => l.who === who && l.action.type === 'transition')
      .map((l) => (l.action.type === 'transition' ? `${l.action.from}>${l.action.to}` : ''));
  }

  sent(who: 0 | 1): { at: number; packet: ControlPacket }[] {
    return this.log.flatMap((l) => (l.who === who && l.action.type === 'send' ? [{ at: l.at, packet: l.action.packet }] : []));
  }
}

const packet = (over: Partial<ControlPacket> = {}): ControlPacket => ({
  diag: 0,
  state: 'Down',
  poll: false,
  final: false,
  cpi: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: 7,
  yourDiscriminator: 0,
  desiredMinTx: 1_000_000,
  requiredMinRx: 10_000,
  requiredMinEchoRx: 0,
  ...over,
});

describe('BFD control packet codec', () => {
  it('round-trips every field, with the layout of RFC 5880 4.1', () => {
    const p = packet({
      diag: 3,
      state: 'Up',
      poll: true,
      detectMult: 5,
      myDiscriminator: 0xdeadbeef,
      yourDiscriminator: 2,
      desiredMinTx: 300_000,
      requiredMinRx: 200_000,
    });
    const b = encodeControl(p);
    expect(b.toString('hex')).toBe('23e00518deadbeef00000002000493e000030d4000000000');
    expect(decodeControl(b)).toEqual(p);
  });

  it('drops what section 6.8.6 discards, each with its reason', () => {
    const good = encodeControl(packet());
    const with_ = (i: number, v: number): Buffer => Object.assign(Buffer.from(good), { [i]: v });
    expect(decodeControl(good.subarray(0, 20))).toEqual({ drop: 'length' });
    expect(decodeControl(with_(0, 2 << 5))).toEqual({ drop: 'version' });
    expect(decodeControl(with_(3, 30))).toEqual({ drop: 'length' });
    expect(decodeControl(with_(2, 0))).toEqual({ drop: 'detect-mult' });
    expect(decodeControl(with_(1, good[1] | 0x01))).toEqual({ drop: 'multipoint' });
    expect(decodeControl(with_(1, good[1] | 0x04))).toEqual({ drop: 'length' });
    expect(decodeControl(encodeControl(packet({ myDiscriminator: 0 })))).toEqual({ drop: 'my-discriminator' });
    expect(decodeControl(encodeControl(packet({ state: 'Up', yourDiscriminator: 0 })))).toEqual({ drop: 'your-discriminator' });
    // Your Discriminator 0 is fine while the sender is Down: it has not heard us yet.
    expect('drop' in decodeControl(encodeControl(packet({ state: 'Down', yourDiscriminator: 0 })))).toBe(false);
  });
});

describe('BFD session machine', () => {
  it('comes up by the three-way handshake, in one round trip and a half', () => {
    const l = new Link([cfg('a', 1), cfg('b', 2)]);
    l.start(0);
    l.start(1);
    l.run(5 * MS);
    expect(l.s.map((s) => s.state)).toEqual(['Up', 'Up']);
    // Both sent Down at start: each went Init on the other's Down, then Up on its Init.
    expect(l.transitions(0)).toEqual(['Down>Init', 'Init>Up']);
    expect(l.transitions(1)).toEqual(['Down>Init', 'Init>Up']);
    expect(l.s[0].remoteDiscriminator).toBe(2);
    expect(l.s[1].remoteDiscriminator).toBe(1);
  });

  it('Down to Up directly when the neighbour is already Init (section 6.8.6)', () => {
    const a = cfg('a', 1);
    const r = stepSession(a, initialSession(), { type: 'packet', now: 0, rand: 0, packet: packet({ state: 'Init', yourDiscriminator: 1 }) });
    expect(r.actions.filter((x) => x.type === 'transition')).toEqual([
      { type: 'transition', from: 'Down', to: 'Up', diag: 0, reason: 'the neighbour hears us' },
    ]);
  });

  it('sends at the idle rate until Up, then at min_tx, announcing the change with a Poll', () => {
    const l = new Link([cfg('a', 1), cfg('b', 2, { passive: true })], 100, 0);
    // b is passive: a's first packet is lost, so nothing happens until a's next one, 1 s later.
    l.cut[0] = true;
    l.start(0);
    l.start(1);
    l.run(1);
    l.cut[0] = false;
    expect(l.sent(1)).toEqual([]);
    l.run(999 * MS);
    expect(l.s[0].state).toBe('Down');
    l.run(1100 * MS);
    expect(l.s.map((s) => s.state)).toEqual(['Up', 'Up']);
    // While Up: packets every 10 ms (rand 0: no jitter), Desired Min TX 10 ms.
    const upSent = l.sent(0).filter((x) => x.at > 1010 * MS);
    expect(upSent.length).toBeGreaterThanOrEqual(8);
    const gaps = upSent.slice(1).map((x, i) => x.at - upSent[i].at);
    expect(Math.max(...gaps)).toBe(10 * MS);
    expect(upSent.every((x) => x.packet.desiredMinTx === 10 * MS)).toBe(true);
    // Going Up changed Desired Min TX (1 s to 10 ms): P until the neighbour's F, then no more.
    const polls = l.sent(0).filter((x) => x.packet.poll);
    const finals = l.sent(1).filter((x) => x.packet.final);
    expect(polls.length).toBeGreaterThan(0);
    expect(finals.length).toBeGreaterThan(0);
    expect(l.s.map((s) => s.polling)).toEqual([false, false]);
    expect(
      l
        .sent(0)
        .filter((x) => x.at > finals.at(-1)!.at + 200)
        .every((x) => !x.packet.poll),
    ).toBe(true);
  });

  it('goes Down with diag 1 one detection time after the last packet heard', () => {
    const l = new Link([cfg('a', 1), cfg('b', 2, { minTxUs: 20 * MS })]);
    l.start(0);
    l.start(1);
    l.run(500 * MS);
    expect(l.s.map((s) => s.state)).toEqual(['Up', 'Up']);
    l.cut[1] = true;
    const lastHeard = l.log.filter((x) => x.who === 1 && x.action.type === 'send').at(-1)!.at + 100;
    l.run(1000 * MS);
    const down = l.log.find((x) => x.who === 0 && x.action.type === 'transition' && x.action.to === 'Down')!;
    expect(down.action).toMatchObject({ diag: 1 });
    // b's multiplier 5 times max(a's min_rx 10 ms, b's desired min tx 20 ms) = 100 ms.
    expect(down.at - lastHeard).toBe(100 * MS);
    // b hears a's Down and follows with diag 3, then goes Init on a's next Down (it hears a);
    // a hears nothing and stays Down.
    const bDown = l.log.find((x) => x.who === 1 && x.action.type === 'transition' && x.action.to === 'Down')!;
    expect(bDown.action).toMatchObject({ from: 'Up', diag: 3 });
    expect(bDown.at - down.at).toBe(100);
    expect(l.transitions(1).slice(-2)).toEqual(['Up>Down', 'Down>Init']);
    expect(l.s[0].state).toBe('Down');
  });

  it('jitters each interval to 75-100% of it, 75-90% with a multiplier of 1', () => {
    expect([0, 0.5, 0.9999].map((r) => jittered(1_000_000, 3, r))).toEqual([1_000_000, 875_000, 750_025]);
    expect([0, 0.9999].map((r) => jittered(1_000_000, 1, r))).toEqual([1_000_000, 850_015]);
  });

  it('the slower side sets the pace: the transmit interval is the larger of min_tx and the neighbour min_rx', () => {
    const l = new Link([cfg('a', 1), cfg('b', 2, { minRxUs: 50 * MS })], 100, 0);
    l.start(0);
    l.start(1);
    l.run(1500 * MS);
    const up = l.sent(0).filter((x) => x.at > 1200 * MS);
    const gaps = up.slice(1).map((x, i) => x.at - up[i].at);
    expect(Math.min(...gaps)).toBe(50 * MS);
  });

  it('stop falls silent without AdminDown (as keepalived): the neighbour times out, diag 1', () => {
    const l = new Link([cfg('a', 1), cfg('b', 2)]);
    l.start(0);
    l.start(1);
    l.run(200 * MS);
    const sentBefore = l.sent(0).length;
    l.stop(0);
    l.run(2000 * MS);
    expect(l.sent(0).length).toBe(sentBefore);
    expect(l.s[0]).toMatchObject({ state: 'AdminDown', txAt: undefined, detectAt: undefined });
    expect(l.transitions(1).at(-1)).toBe('Up>Down');
    expect(l.s[1].diag).toBe(1);
  });

  it('a neighbour AdminDown takes an Up session Down with diag 3 (section 6.8.6)', () => {
    const a = cfg('a', 1);
    const up = stepSession(a, initialSession(), { type: 'packet', now: 0, rand: 0, packet: packet({ state: 'Init', yourDiscriminator: 1 }) }).state;
    const r = stepSession(a, up, { type: 'packet', now: 1, rand: 0, packet: packet({ state: 'AdminDown', diag: 7, yourDiscriminator: 1 }) });
    expect(r.state).toMatchObject({ state: 'Down', diag: 3, remoteState: 'AdminDown', remoteDiag: 7 });
  });

  it('a passive session says nothing until spoken to; a neighbour asking for no packets gets none', () => {
    const p = stepSession(cfg('p', 9, { passive: true }), initialSession(), { type: 'start', now: 0, rand: 0 });
    expect(p.actions).toEqual([]);
    const heard = stepSession(cfg('q', 3), initialSession(), { type: 'packet', now: 0, rand: 0, packet: packet({ requiredMinRx: 0 }) });
    expect(heard.state.state).toBe('Init');
    expect(heard.actions.filter((x) => x.type === 'send')).toEqual([]);
  });
});
