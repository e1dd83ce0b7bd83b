// The VRRP state machine on a simulated segment with a virtual clock: every RFC transition,
// preemption, priority-0 takeover, split brain and healing, with exact timer values.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { SimSegment, type SimPort } from '../../src/net/sim-network.js';
import { VrrpRunner, type RunnerConfig } from '../../src/vrrp/instance.js';
import { runnerConfigFor as config } from './runner-config.js';
import { initialState, step, type MachineConfig } from '../../src/vrrp/machine.js';
import { AUTH_PASS, encodeAdvert } from '../../src/vrrp/packet.js';
import { masterDownUs, skewUs } from '../../src/vrrp/timers.js';

const S = 1_000_000;

interface Node {
  runner: VrrpRunner;
  port: SimPort;
  vips: boolean;
}

function lab(...cfgs: RunnerConfig[]) {
  const clock = new VirtualClock();
  const seg = new SimSegment(clock, 0);
  const nodes = cfgs.map((c) => {
    const port = seg.attach(c.name, c.primaryAddress);
    const node = {} as Node;
    node.vips = false;
    node.port = port;
    node.runner = new VrrpRunner(c, clock, port, { addAddresses: () => (node.vips = true), removeAddresses: () => (node.vips = false) });
    port.onPacket((p) => node.runner.receive(p));
    return node;
  });
  const states = () => nodes.map((n) => n.runner.state.state);
  const masters = () => nodes.filter((n) => n.runner.state.state === 'MASTER').map((n) => n.runner.cfg.name);
  return { clock, seg, nodes, states, masters };
}

describe('timers (keepalived µs arithmetic)', () => {
  it('matches the worked values of RFC 3768 / 5798', () => {
    expect(skewUs(2, 100, S)).toBe(609_375);
    expect(masterDownUs(2, 100, S)).toBe(3_609_375);
    expect(masterDownUs(2, 200, S)).toBe(3_218_750);
    expect(masterDownUs(3, 100, 100_000)).toBe(360_937.5);
    expect(skewUs(2, 100, 5 * S)).toBe(609_375); // v2 skew ignores the interval
  });
});

describe('election on a simulated segment', () => {
  it('the higher priority becomes MASTER after its Master_Down_Interval; the other stays BACKUP', () => {
    const { clock, nodes, states } = lab(config('A', '192.168.1.1', 100), config('B', '192.168.1.2', 90));
    nodes.forEach((n) => n.runner.start());
    expect(states()).toEqual(['BACKUP', 'BACKUP']);
    clock.runUntil(3_609_374);
    expect(states()).toEqual(['BACKUP', 'BACKUP']);
    clock.runUntil(3_609_375);
    expect(states()).toEqual(['MASTER', 'BACKUP']);
    clock.advance(60 * S);
    expect(states()).toEqual(['MASTER', 'BACKUP']);
    expect(nodes[0].vips).toBe(true);
    expect(nodes[1].vips).toBe(false);
    expect(nodes[0].runner.state.counters.advertSent).toBe(61);
    expect(nodes[1].runner.state.counters.advertRcvd).toBe(61);
  });

  it("a master killed hard is replaced after the backup's Master_Down_Interval", () => {
    const { clock, nodes, states } = lab(config('A', '192.168.1.1', 100), config('B', '192.168.1.2', 90));
    nodes.forEach((n) => n.runner.start());
    clock.advance(10 * S);
    const lastAdvert = Math.floor((clock.now() - 3_609_375) / S) * S + 3_609_375;
    nodes[0].port.up = false; // kill -9: no priority-0 advert
    clock.advance(10 * S);
    expect(states()).toEqual(['MASTER', 'MASTER']); // A's runner does not know it is dead
    expect(nodes[1].runner.transitions.at(-1)).toMatchObject({
      to: 'MASTER',
      at: lastAdvert + masterDownUs(2, 90, S),
      reason: 'Receive advertisement timeout',
    });
  });

  it('a graceful stop sends priority 0 and the backup takes over after Skew_Time', () => {
    const { clock, nodes, states } = lab(config('A', '192.168.1.1', 100), config('B', '192.168.1.2', 90));
    nodes.forEach((n) => n.runner.start());
    clock.advance(10 * S);
    const t = clock.now();
    nodes[0].runner.stop();
    expect(nodes[0].vips).toBe(false);
    clock.advance(S);
    expect(states()).toEqual(['INIT', 'MASTER']);
    expect(nodes[1].runner.transitions.at(-1)!.at).toBe(t + skewUs(2, 90, S));
    expect(nodes[0].runner.state.counters.priZeroSent).toBe(1);
    expect(nodes[1].runner.state.counters.priZeroRcvd).toBe(1);
  });

  it('preempts: a restarted higher priority takes mastership back', () => {
    const { clock, nodes, masters } = lab(config('A', '192.168.1.1', 100), config('B', '192.168.1.2', 90));
    nodes[1].runner.start();
    clock.advance(10 * S);
    expect(masters()).toEqual(['B']);
    nodes[0].runner.start();
    clock.advance(10 * S);
    expect(masters()).toEqual(['A']);
    expect(nodes[1].runner.transitions.at(-1)!.reason).toBe('Master received advert from 192.168.1.1 with higher priority 100, ours 90');
  });

  it('does not preempt with nopreempt', () => {
    const { clock, nodes, masters } = lab(config('A', '192.168.1.1', 100, { preempt: false }), config('B', '192.168.1.2', 90));
    nodes[1].runner.start();
    clock.advance(10 * S);
    nodes[0].runner.start();
    clock.advance(60 * S);
    expect(masters()).toEqual(['B']);
  });

  it('preempts only after preempt_delay', () => {
    const { clock, nodes, masters } = lab(config('A', '192.168.1.1', 100, { preemptDelayUs: 10 * S }), config('B', '192.168.1.2', 90));
    nodes[1].runner.start();
    clock.advance(10 * S);
    nodes[0].runner.start();
    clock.advance(9 * S);
    expect(masters()).toEqual(['B']);
    clock.advance(6 * S);
    expect(masters()).toEqual(['A']);
    const took = nodes[0].runner.transitions.at(-1)!.at - 10 * S;
    expect(took).toBeGreaterThanOrEqual(10 * S);
    expect(took).toBeLessThan(10 * S + masterDownUs(2, 100, S) + S);
  });

  it('breaks equal priorities on the higher address', () => {
    const { clock, nodes, masters } = lab(config('A', '192.168.1.1', 100), config('B', '192.168.1.2', 100));
    nodes.forEach((n) => n.runner.start());
    clock.advance(20 * S);
    expect(masters()).toEqual(['B']);
  });

  it('heals a split brain: both MASTER while partitioned, the lower priority yields after', () => {
    const { clock, seg, nodes, masters } = lab(config('A', '192.168.1.1', 100), config('B', '192.168.1.2', 90));
    nodes.forEach((n) => n.runner.start());
    clock.advance(10 * S);
    seg.split([['A'], ['B']]);
    clock.advance(10 * S);
    expect(masters()).toEqual(['A', 'B']);
    seg.heal();
    clock.advance(2 * S);
    expect(masters()).toEqual(['A']);
    expect(nodes[1].vips).toBe(false);
  });

  it('moves mastership when tracking lowers the effective priority below the peer', () => {
    const { clock, nodes, masters } = lab(config('A', '192.168.1.1', 100), config('B', '192.168.1.2', 90));
    nodes.forEach((n) => n.runner.start());
    clock.advance(10 * S);
    nodes[0].runner.setPriority(95); // weight -5: not enough
    clock.advance(10 * S);
    expect(masters()).toEqual(['A']);
    nodes[0].runner.setPriority(70); // weight -30
    clock.advance(10 * S);
    expect(masters()).toEqual(['B']);
    nodes[0].runner.setPriority(100);
    clock.advance(10 * S);
    expect(masters()).toEqual(['A']);
  });

  it('FAULT releases mastership with priority 0, and leaves FAULT to BACKUP', () => {
    const { clock, nodes, states } = lab(config('A', '192.168.1.1', 100), config('B', '192.168.1.2', 90));
    nodes.forEach((n) => n.runner.start());
    clock.advance(10 * S);
    nodes[0].runner.setFault(true, 'interface eth0 down');
    clock.advance(S);
    expect(states()).toEqual(['FAULT', 'MASTER']);
    nodes[0].runner.setFault(false, 'interface eth0 up');
    expect(states()[0]).toBe('BACKUP');
    clock.advance(10 * S);
    expect(states()).toEqual(['MASTER', 'BACKUP']);
  });

  it('the address owner with state MASTER starts as MASTER at once', () => {
    const { clock, nodes, states } = lab(config('A', '192.168.1.1', 255, { wantMaster: true }), config('B', '192.168.1.2', 90));
    nodes.forEach((n) => n.runner.start());
    expect(states()).toEqual(['MASTER', 'BACKUP']);
    clock.advance(10 * S);
    expect(states()).toEqual(['MASTER', 'BACKUP']);
  });

  it('state MASTER below 255 still waits the full Master_Down_Interval at start (as keepalived 2.2.7)', () => {
    const { clock, nodes } = lab(config('A', '192.168.1.1', 150, { wantMaster: true }));
    nodes[0].runner.start();
    clock.advance(10 * S);
    expect(nodes[0].runner.transitions.at(-1)).toMatchObject({ to: 'MASTER', at: masterDownUs(2, 150, S) });
  });

  it('VRRPv3 with advert_int 0.1 fails over in under half a second', () => {
    const v3 = { version: 3 as const, advertIntUs: 100_000 };
    const { clock, nodes, masters } = lab(config('A', '192.168.1.1', 100, v3), config('B', '192.168.1.2', 90, v3));
    nodes.forEach((n) => n.runner.start());
    clock.advance(2 * S);
    expect(masters()).toEqual(['A']);
    nodes[0].port.up = false;
    const t = clock.now();
    clock.advance(S);
    const took = nodes[1].runner.transitions.at(-1)!.at - t;
    expect(took).toBeLessThan(500_000);
    expect(took).toBeGreaterThan(masterDownUs(3, 90, 100_000) - 100_000);
  });

  it("v3 backups adopt the master's advert interval", () => {
    const { clock, nodes } = lab(
      config('A', '192.168.1.1', 100, { version: 3, advertIntUs: 200_000 }),
      config('B', '192.168.1.2', 90, { version: 3, advertIntUs: S }),
    );
    nodes.forEach((n) => n.runner.start());
    clock.advance(10 * S);
    expect(nodes[1].runner.state.masterAdverIntUs).toBe(200_000);
  });
});

describe('receive checks (dropped and counted by reason)', () => {
  it('an authentication mismatch is ignored by both sides, so both become MASTER', () => {
    const { clock, nodes, masters } = lab(
      config('A', '192.168.1.1', 100, { authType: AUTH_PASS, authPass: 'secret' }),
      config('B', '192.168.1.2', 90, { authType: AUTH_PASS, authPass: 'other' }),
    );
    nodes.forEach((n) => n.runner.start());
    clock.advance(10 * S);
    expect(masters()).toEqual(['A', 'B']);
    expect(nodes[0].runner.state.counters.dropped['auth-failure']).toBeGreaterThan(0);
    expect(nodes[1].runner.state.counters.dropped['auth-failure']).toBeGreaterThan(0);
  });

  it('VRRPv2 drops adverts with another interval', () => {
    const { clock, nodes, masters } = lab(config('A', '192.168.1.1', 100), config('B', '192.168.1.2', 90, { advertIntUs: 2 * S }));
    nodes.forEach((n) => n.runner.start());
    clock.advance(10 * S);
    expect(masters()).toEqual(['A', 'B']);
    expect(nodes[1].runner.state.counters.dropped['interval-mismatch']).toBeGreaterThan(0);
  });

  const cfg: MachineConfig = config('A', '192.168.1.1', 100);
  const advert = (over: object = {}) => ({
    version: 2 as const,
    vrid: 51,
    priority: 120,
    family: 4 as const,
    addresses: ['192.168.1.100'],
    adverIntSec: 1,
    authType: 0,
    authData: Buffer.alloc(8),
    ...over,
  });
  const backup = step(cfg, initialState(cfg), { type: 'start', now: 0 }).state;

  it.each([
    ['ttl', { ttl: 64 }, {}],
    ['vrid-unknown', {}, { vrid: 52 }],
    ['version', {}, { version: 3 }],
    ['own-packet', { src: '192.168.1.1' }, {}],
    ['auth-type', {}, { authType: 1 }],
    ['auth-type-invalid', {}, { authType: 7 }],
  ])('drops %s', (reason, ev, adv) => {
    const r = step(cfg, backup, { type: 'advert', now: 1, src: '192.168.1.2', ttl: 255, ...ev, advert: advert(adv) });
    expect(r.state.counters.dropped).toEqual({ [reason]: 1 });
    expect(r.state.masterDownAt).toBe(backup.masterDownAt);
  });

  it('unicast instances do not check the TTL (keepalived 2.2.7)', () => {
    const u = { ...cfg, unicast: true };
    const r = step(u, step(u, initialState(u), { type: 'start', now: 0 }).state, { type: 'advert', now: 1, src: '192.168.1.2', ttl: 64, advert: advert() });
    expect(r.state.counters.dropped).toEqual({});
    expect(r.state.masterAddress).toBe('192.168.1.2');
  });

  describe('check_unicast_src (keepalived 2.2.7 vrrp_check_packet)', () => {
    const peers = [
      { address: '192.168.1.2', minTtl: 0, maxTtl: 255 },
      { address: '192.168.1.3', minTtl: 250, maxTtl: 255 },
    ];
    const u: MachineConfig = { ...cfg, unicast: true, unicastSrcPeers: peers };
    const master = (c: MachineConfig) => {
      const b = step(c, initialState(c), { type: 'start', now: 0 }).state;
      return step(c, b, { type: 'timer', now: b.masterDownAt! }).state;
    };
    const forged = { type: 'advert' as const, now: 5 * S, src: '203.0.113.9', ttl: 3, advert: advert({ priority: 200 }) };

    it('drops an advert from an address that is not a unicast peer, and counts it; the MASTER stays', () => {
      const r = step(u, master(u), forged);
      expect(r.state.state).toBe('MASTER');
      expect(r.state.counters.dropped).toEqual({ 'unicast-src': 1 });
      expect(r.actions).toContainEqual({ type: 'drop', reason: 'unicast-src', detail: 'unicast source address 203.0.113.9 not a unicast peer' });
      // As in keepalived, it counts as received, but a forged priority 0 is not counted as one.
      const z = step(u, master(u), { ...forged, advert: advert({ priority: 0 }) });
      expect([z.state.counters.advertRcvd, z.state.counters.priZeroRcvd, z.actions.some((a) => a.type === 'send')]).toEqual([1, 0, false]);
    });

    it('without check_unicast_src the same forged advert takes mastership (keepalived does the same)', () => {
      const plain: MachineConfig = { ...cfg, unicast: true };
      const r = step(plain, master(plain), forged);
      expect(r.state.state).toBe('BACKUP');
      expect(r.state.masterAddress).toBe('203.0.113.9');
    });

    it("accepts a peer at any TTL by default, and enforces a peer's min_ttl/max_ttl", () => {
      const fromPeer = step(u, master(u), { ...forged, src: '192.168.1.2', ttl: 1 });
      expect(fromPeer.state.state).toBe('BACKUP');
      const low = step(u, master(u), { ...forged, src: '192.168.1.3', ttl: 64 });
      expect(low.state.state).toBe('MASTER');
      expect(low.state.counters.dropped).toEqual({ ttl: 1 });
      expect(low.actions).toContainEqual({ type: 'drop', reason: 'ttl', detail: 'TTL/HL 64 not in range 250 - 255' });
    });
  });

  describe('address list (keepalived vrrp_check_packet)', () => {
    const two = { ...cfg, addresses: ['192.168.1.100', '192.168.1.101'] };
    const twoBackup = step(two, initialState(two), { type: 'start', now: 0 }).state;
    const rx = (c: MachineConfig, s: typeof backup, addresses: string[], src = '192.168.1.2') =>
      step(c, s, { type: 'advert', now: 1, src, ttl: 255, advert: advert({ addresses }) });

    it('accepts our addresses in any order', () => {
      const r = rx(two, twoBackup, ['192.168.1.101', '192.168.1.100']);
      expect(r.state.counters.addressListErrors).toBe(0);
      expect(r.state.masterDownAt).toBe(1 + masterDownUs(2, 100, S));
    });

    it('ignores an advert with another address: counted as received and as an address list error', () => {
      const r = rx(cfg, backup, ['10.0.0.1']);
      expect(r.state.counters).toMatchObject({ advertRcvd: 1, addressListErrors: 1, dropped: { 'address-list': 1 } });
      expect(r.actions).toContainEqual({
        type: 'drop',
        reason: 'address-list',
        detail: 'ip address associated with VRID 51 not present in MASTER advert: 192.168.1.100',
      });
      expect(r.state.masterDownAt).toBe(backup.masterDownAt);
    });

    it('ignores an advert with another number of addresses before counting it as received', () => {
      const r = rx(two, twoBackup, ['192.168.1.100']);
      expect(r.state.counters).toMatchObject({ advertRcvd: 0, addressListErrors: 1 });
      expect(r.actions).toContainEqual({ type: 'drop', reason: 'address-list', detail: 'received an unexpected ip number count 1, expected 2!' });
      expect(r.state.masterDownAt).toBe(twoBackup.masterDownAt);
    });

    it('a MASTER does not yield to a higher priority with another address list', () => {
      const m = step(cfg, backup, { type: 'timer', now: backup.masterDownAt! }).state;
      expect(m.state).toBe('MASTER');
      expect(rx(cfg, m, ['10.0.0.1']).state.state).toBe('MASTER');
      expect(rx(cfg, m, ['192.168.1.100']).state.state).toBe('BACKUP');
    });

    it('skip_check_adv_addr: a BACKUP trusts the master it follows, and no one else', () => {
      const skip = { ...cfg, skipCheckAdvAddr: true };
      const following = rx(skip, step(skip, initialState(skip), { type: 'start', now: 0 }).state, ['192.168.1.100']).state;
      expect(following.masterAddress).toBe('192.168.1.2');
      const same = step(skip, following, { type: 'advert', now: 2, src: '192.168.1.2', ttl: 255, advert: advert({ addresses: ['10.0.0.1'] }) });
      expect(same.state.counters.addressListErrors).toBe(0);
      expect(same.state.masterDownAt).toBe(2 + masterDownUs(2, 100, S));
      const other = step(skip, following, { type: 'advert', now: 2, src: '192.168.1.3', ttl: 255, advert: advert({ addresses: ['10.0.0.1'] }) });
      expect(other.state.counters.addressListErrors).toBe(1);
      expect(other.state.masterDownAt).toBe(following.masterDownAt);
    });
  });

  it('malformed packets on the wire are counted, not thrown', () => {
    const { clock, nodes } = lab(config('A', '192.168.1.1', 100));
    nodes[0].runner.start();
    const good = encodeAdvert({ version: 2, vrid: 51, priority: 120, family: 4, addresses: ['192.168.1.100'], adverIntSec: 1, authType: 0 });
    const bad = Buffer.from(good);
    bad[7] ^= 0xff;
    nodes[0].runner.receive({ src: '192.168.1.9', dst: '224.0.0.18', ttl: 255, payload: bad });
    nodes[0].runner.receive({ src: '192.168.1.9', dst: '224.0.0.18', ttl: 255, payload: good.subarray(0, 5) });
    clock.advance(S);
    expect(nodes[0].runner.state.counters.dropped).toEqual({ checksum: 1, length: 1 });
  });

  it('a master answers a lower priority advert at once (forcing new election)', () => {
    const master = step(cfg, backup, { type: 'timer', now: backup.masterDownAt! }).state;
    expect(master.state).toBe('MASTER');
    const r = step(cfg, master, { type: 'advert', now: master.adverAt! - 10, src: '192.168.1.2', ttl: 255, advert: advert({ priority: 50 }) });
    expect(r.actions.filter((a) => a.type === 'send')).toEqual([{ type: 'send', priority: 100, reply: true }]);
    expect(r.state.state).toBe('MASTER');
    const quiet = step({ ...cfg, lowerPrioNoAdvert: true }, master, { type: 'advert', now: 5, src: '192.168.1.2', ttl: 255, advert: advert({ priority: 50 }) });
    expect(quiet.actions.some((a) => a.type === 'send')).toBe(false);
  });

  it('answers only the first of a stream of lower-priority adverts: replies stay at least advert_int apart', () => {
    let st = step(cfg, backup, { type: 'timer', now: backup.masterDownAt! }).state;
    const t0 = st.adverAt!;
    const replies: number[] = [];
    // 10,000 adverts a second for 3 s from a lower-priority sender, then silence, then one more.
    const times = [...Array.from({ length: 30_000 }, (_, i) => t0 + 100 * i), t0 + 4.5 * S];
    for (const now of times) {
      const r = step(cfg, st, { type: 'advert', now, src: '192.168.1.2', ttl: 255, advert: advert({ priority: 50 }) });
      if (r.actions.some((a) => a.type === 'send')) replies.push(now);
      st = r.state;
    }
    expect(replies).toEqual([t0, t0 + 4.5 * S]);
    // Priority 0 from a stream is answered the same way.
    const z = step(cfg, st, { type: 'advert', now: t0 + 4.5 * S + 10, src: '192.168.1.2', ttl: 255, advert: advert({ priority: 0 }) });
    expect(z.actions.some((a) => a.type === 'send')).toBe(false);
  });

  it('under a flood of lower-priority adverts the MASTER keeps sending every advert_int', () => {
    const { clock, nodes, seg } = lab(config('A', '192.168.1.1', 100));
    const [a] = nodes;
    const sentAt: number[] = [];
    const port = seg.attach('probe', '192.168.1.9');
    port.onPacket((p) => p.src === '192.168.1.1' && sentAt.push(clock.now()));
    a.runner.start();
    clock.advance(5 * S);
    const flood = encodeAdvert({ version: 2, vrid: 51, priority: 50, family: 4, addresses: ['192.168.1.100'], adverIntSec: 1, authType: 0 });
    const from = sentAt.length;
    for (let i = 0; i < 50_000; i++) {
      a.runner.receive({ src: '192.168.1.9', dst: '224.0.0.18', ttl: 255, payload: flood });
      clock.advance(200); // 5,000 a second for 10 s
    }
    const gaps = sentAt
      .slice(from)
      .map((t, i, xs) => (i ? t - xs[i - 1] : NaN))
      .slice(1);
    // One reply at the start of the flood, which restarts the advert timer; then one per second.
    expect(gaps.length).toBe(10);
    expect(gaps.slice(1).every((g) => g === S)).toBe(true);
    expect(a.runner.state.state).toBe('MASTER');
  });
});

describe('reconfigure (a reload that keeps the instance)', () => {
  const cfg = config('VI_1', '192.168.1.1', 100);
  const backup = step(cfg, initialState(cfg), { type: 'start', now: 0 }).state;
  const master = step(cfg, backup, { type: 'timer', now: backup.masterDownAt! }).state;

  it('a MASTER whose addresses changed stays MASTER, updates its addresses and advertises the new list at once', () => {
    const next = config('VI_1', '192.168.1.1', 100, { addresses: ['192.168.1.100', '192.168.1.101'] });
    const r = step(next, master, { type: 'reconfigure', now: 5 * S, addressesChanged: true });
    expect(r.state.state).toBe('MASTER');
    expect(r.actions).toEqual([{ type: 'updateAddresses' }, { type: 'send', priority: 100 }]);
    expect(r.state.adverAt).toBe(6 * S);
  });

  it('a BACKUP keeps its state and down timer; it holds no addresses to change', () => {
    const r = step(cfg, backup, { type: 'reconfigure', now: S, addressesChanged: true });
    expect(r.state.state).toBe('BACKUP');
    expect(r.state.masterDownAt).toBe(backup.masterDownAt);
    expect(r.actions).toEqual([]);
  });
});
