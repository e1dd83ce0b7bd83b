// The VIP sampler with a fake clock and recorded `ip addr` output: no namespaces, no ping.
import { describe, expect, it } from 'vitest';
import { inetAddresses, sampleVips, type SamplerIo, type Vip, type VipSample } from '../../../src/lab/netns/vip-sampler.js';

const LB1 = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 192.168.1.11/24 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet 192.168.1.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever`;
const LB2 = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 192.168.1.12/24 scope global eth0\\       valid_lft forever preferred_lft forever`;

describe('inetAddresses', () => {
  it('reads the IPv4 addresses of `ip -4 -o addr show`', () => {
    expect(inetAddresses(LB1)).toEqual(['127.0.0.1', '192.168.1.11', '192.168.1.100']);
  });
});

/** A clock that only moves when something sleeps or a command takes time. */
function fakeIo(opts: { commandMs: number; holders: (round: number) => { node: string; text: string }[]; answers: (round: number) => boolean }) {
  let now = 1000;
  let round = 0;
  const sleeps: number[] = [];
  const io: SamplerIo = {
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    addresses: async () => {
      now += opts.commandMs;
      return opts.holders(round);
    },
    ping: async () => opts.answers(round),
  };
  return {
    io,
    sleeps,
    next: () => round++,
    get now() {
      return now;
    },
  };
}

describe('sampleVips', () => {
  const vip: Vip = { segment: 'lan', address: '192.168.1.100' };

  it('samples on the whole seconds after t0, stamped at the start of each round', async () => {
    const f = fakeIo({
      commandMs: 120,
      holders: (r) =>
        r < 2
          ? [
              { node: 'lb1', text: LB1 },
              { node: 'lb2', text: LB2 },
            ]
          : [{ node: 'lb2', text: LB2 }],
      answers: (r) => r !== 2,
    });
    const samples: VipSample[] = [];
    await sampleVips([vip], f.io, {
      t0: 1000,
      recording: () => samples.length < 4,
      at: (mono) => Math.round((mono - 1000) * 1000),
      record: (s) => {
        samples.push(s);
        f.next();
      },
    });
    expect(samples.map((s) => s.at)).toEqual([0, 1_000_000, 2_000_000, 3_000_000]);
    expect(samples.map((s) => [s.reachable, s.holders])).toEqual([
      [true, ['lb1']],
      [true, ['lb1']],
      [false, []],
      [true, []],
    ]);
    // Each round waits out what is left of its second.
    expect(f.sleeps.slice(0, 3)).toEqual([880, 880, 880]);
  });

  it('does not sleep when a round overran its second, and catches up with the next one', async () => {
    let slow = true;
    const f = fakeIo({ commandMs: 0, holders: () => [], answers: () => true });
    const io: SamplerIo = { ...f.io, addresses: async () => (slow ? ((slow = false), f.io.sleep(1500).then(() => [])) : []) };
    const samples: VipSample[] = [];
    await sampleVips([vip], io, { t0: 1000, recording: () => samples.length < 3, at: (m) => Math.round((m - 1000) * 1000), record: (s) => samples.push(s) });
    // Round 0 took 1.5 s: round 1 starts at once (1.5 s), round 2 on its own second (2 s).
    expect(samples.map((s) => s.at)).toEqual([0, 1_500_000, 2_000_000]);
  });

  it('drops the round in progress when recording stops', async () => {
    let recording = true;
    const f = fakeIo({ commandMs: 10, holders: () => [], answers: () => true });
    const io: SamplerIo = { ...f.io, ping: async () => ((recording = false), true) };
    const samples: VipSample[] = [];
    await sampleVips([vip], io, { t0: 1000, recording: () => recording, at: () => 0, record: (s) => samples.push(s) });
    expect(samples).toEqual([]);
  });

  it('does nothing without VIPs', async () => {
    const f = fakeIo({ commandMs: 10, holders: () => [], answers: () => true });
    await sampleVips([], f.io, { t0: 0, recording: () => true, at: () => 0, record: () => expect.unreachable() });
    expect(f.sleeps).toEqual([]);
  });
});
