// vrrp_startup_delay, garp_master_refresh and the garp_lower_prio bursts on the pure machine and
// its runner, with the virtual clock: timings exact (keepalived 2.2.7 vrrp_scheduler.c
// vrrp_init_instance_sands, vrrp.c vrrp_state_master_tx and vrrp_state_master_rx).
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { SimSegment } from '../../src/net/sim-network.js';
import { VrrpRunner, type RunnerConfig } from '../../src/vrrp/instance.js';
import { initialState, MAX_PENDING_GARPS, step, type MachineConfig, type MachineState } from '../../src/vrrp/machine.js';
import { masterDownUs } from '../../src/vrrp/timers.js';
import { runnerConfigFor as config } from './runner-config.js';

const S = 1_000_000;

/** Runners on one segment; every hook call is recorded with its time. */
function lab(...cfgs: RunnerConfig[]) {
  const clock = new VirtualClock();
  const seg = new SimSegment(clock, 0);
  const events: string[] = [];
  const sent: { at: number; from: string; priority: number }[] = [];
  const runners = cfgs.map((c) => {
    const port = seg.attach(c.name, c.primaryAddress);
    const r = new VrrpRunner(
      c,
      clock,
      {
        send: (payload, opts) => {
          sent.push({ at: clock.now(), from: c.name, priority: payload[2] });
          port.send(payload, opts);
        },
      },
      {
        transition: (_r, from, to) => events.push(`${clock.now()} ${c.name} ${from}->${to}`),
        announce: () => events.push(`${clock.now()} ${c.name} announce`),
        garp: (_r, repeat, why) => events.push(`${clock.now()} ${c.name} garp ${why} x${repeat}`),
        rxLowerPri: () => events.push(`${clock.now()} ${c.name} rxLowerPri`),
      },
    );
    port.onPacket((p) => r.receive(p));
    return r;
  });
  return { clock, seg, runners, events, sent };
}

describe('vrrp_startup_delay', () => {
  const down100 = masterDownUs(2, 100, S); // 3.609375 s

  it('a BACKUP starts at once, but its down timer runs from the end of the delay', () => {
    const { clock, runners, events, sent } = lab(config('A', '192.168.1.1', 100));
    runners[0].start(5 * S);
    expect(events).toEqual(['0 A INIT->BACKUP']);
    expect(runners[0].state.masterDownAt).toBe(5 * S + down100);
    clock.runUntil(5 * S + down100 - 1);
    expect(runners[0].state.state).toBe('BACKUP');
    expect(sent).toEqual([]);
    clock.runUntil(5 * S + down100);
    expect(runners[0].state.state).toBe('MASTER');
    expect(sent[0]).toEqual({ at: 5 * S + down100, from: 'A', priority: 100 });
  });

  it('an advert heard during the delay restarts the down timer from the end of the delay, not from now', () => {
    const { clock, runners } = lab(config('A', '192.168.1.1', 200, { wantMaster: true }), config('B', '192.168.1.2', 100));
    runners[0].start();
    runners[1].start(20 * S);
    clock.runUntil(10 * S);
    expect(runners.map((r) => r.state.state)).toEqual(['MASTER', 'BACKUP']);
    expect(runners[1].state.masterDownAt).toBe(20 * S + down100);
    // After the delay, adverts count from their arrival again.
    clock.runUntil(25 * S + 1);
    expect(runners[1].state.masterDownAt).toBe(runners[0].state.adverAt! - S + down100);
  });

  it('priority 0 during the delay: Skew_Time from the end of the delay', () => {
    const cfg: MachineConfig = config('A', '192.168.1.1', 100);
    const b = step(cfg, initialState(cfg), { type: 'start', now: 0, delayUntil: 5 * S }).state;
    const advert = { version: 2 as const, vrid: 51, priority: 0, family: 4 as const, addresses: ['192.168.1.100'], adverIntSec: 1, authType: 0 };
    const r = step(cfg, b, { type: 'advert', now: S, src: '192.168.1.2', ttl: 255, advert });
    expect(r.state.masterDownAt).toBe(5 * S + 609_375);
  });

  it('the address owner waits unannounced in INIT and goes MASTER 1 µs after the delay (keepalived: a 1 µs down timer)', () => {
    const { clock, runners, events, sent } = lab(config('A', '192.168.1.1', 255, { wantMaster: true }));
    runners[0].start(3 * S);
    clock.runUntil(3 * S);
    expect(events).toEqual([]);
    expect(sent).toEqual([]);
    clock.runUntil(3 * S + 1);
    expect(events).toEqual([`${3 * S + 1} A INIT->MASTER`, `${3 * S + 1} A announce`]);
    expect(sent).toEqual([{ at: 3 * S + 1, from: 'A', priority: 255 }]);
  });

  it('a delay already over changes nothing (a reload, or a start after it ended)', () => {
    const { clock, runners } = lab(config('A', '192.168.1.1', 255, { wantMaster: true }), config('B', '192.168.1.2', 100));
    clock.runUntil(10 * S);
    runners[0].start(5 * S);
    runners[1].start(5 * S);
    expect(runners[0].state.state).toBe('MASTER');
    expect(runners[1].state.masterDownAt).toBe(10 * S + down100);
  });

  it('leaving FAULT during the delay: the down timer counts from its end too', () => {
    const cfg: MachineConfig = config('A', '192.168.1.1', 100);
    let s: MachineState = step(cfg, initialState(cfg), { type: 'fault', now: 0, fault: true, reason: 'x' }).state;
    s = step(cfg, s, { type: 'start', now: 0, delayUntil: 8 * S }).state;
    expect(s.state).toBe('FAULT');
    // The runner passes the delay at start; an instance FAULT then has not seen it: like keepalived,
    // whose delay is global, the engine gives it at start whatever the state.
    s = step(cfg, { ...s, delayUntil: 8 * S }, { type: 'fault', now: 2 * S, fault: false, reason: 'up' }).state;
    expect(s.masterDownAt).toBe(8 * S + down100);
  });
});

describe('garp_master_refresh (keepalived vrrp_state_master_tx: with the first advert once due)', () => {
  it('refresh 5 s at advert_int 1: a burst with the adverts at 5 s, 10 s, 15 s after becoming MASTER', () => {
    const { clock, runners, events } = lab(config('A', '192.168.1.1', 255, { wantMaster: true, garpRefreshUs: 5 * S, garpRefreshRepeat: 3 }));
    runners[0].start();
    clock.runUntil(16 * S);
    expect(events.filter((e) => e.includes('garp'))).toEqual([`${5 * S} A garp refresh x3`, `${10 * S} A garp refresh x3`, `${15 * S} A garp refresh x3`]);
  });

  it('a refresh that is not a multiple of advert_int waits for the next advert, and counts from it', () => {
    const { clock, runners, events } = lab(config('A', '192.168.1.1', 255, { wantMaster: true, garpRefreshUs: 2.5 * S }));
    runners[0].start();
    clock.runUntil(10 * S);
    expect(events.filter((e) => e.includes('garp'))).toEqual([`${3 * S} A garp refresh x1`, `${6 * S} A garp refresh x1`, `${9 * S} A garp refresh x1`]);
  });

  it('0 (the default) sends none; a BACKUP sends none', () => {
    const { clock, runners, events } = lab(
      config('A', '192.168.1.1', 255, { wantMaster: true }),
      config('B', '192.168.1.2', 100, { garpRefreshUs: S, garpRefreshRepeat: 2 }),
    );
    runners.forEach((r) => r.start());
    clock.runUntil(20 * S);
    expect(events.filter((e) => e.includes('garp'))).toEqual([]);
  });

  it('starts again from each new mastership, and from a reload that keeps the MASTER', () => {
    const cfg = config('A', '192.168.1.1', 100, { garpRefreshUs: 4 * S });
    const { clock, runners, events } = lab(cfg);
    runners[0].start();
    const m = masterDownUs(2, 100, S);
    clock.runUntil(m + 2 * S);
    runners[0].reconfigure(cfg, false);
    clock.runUntil(m + 7 * S);
    // Adverts go at the reload (m+2) and every second from it: the refresh at m+6, not m+4.
    expect(events.filter((e) => e.includes('garp'))).toEqual([`${m + 6 * S} A garp refresh x1`]);
  });
});

describe('garp_extra_if (keepalived vrrp_state_master_tx: with the first advert once due, apart from the refresh)', () => {
  it('2 s at advert_int 1: one round at 2, 4, 6 s after becoming MASTER, none at the mastership itself', () => {
    const { clock, runners, events } = lab(config('A', '192.168.1.1', 255, { wantMaster: true, extraIfGarpUs: 2 * S, garpRefreshUs: 3 * S }));
    runners[0].start();
    clock.runUntil(6.5 * S);
    expect(events.filter((e) => e.includes('extra-if'))).toEqual([`${2 * S} A garp extra-if x1`, `${4 * S} A garp extra-if x1`, `${6 * S} A garp extra-if x1`]);
    // The refresh keeps its own timer.
    expect(events.filter((e) => e.includes('refresh'))).toEqual([`${3 * S} A garp refresh x1`, `${6 * S} A garp refresh x1`]);
  });

  it('a BACKUP sends none', () => {
    const { clock, runners, events } = lab(config('A', '192.168.1.1', 255, { wantMaster: true }), config('B', '192.168.1.2', 100, { extraIfGarpUs: S }));
    runners.forEach((r) => r.start());
    clock.runUntil(10 * S);
    expect(events.filter((e) => e.includes('extra-if'))).toEqual([]);
  });
});

describe('garp_lower_prio_repeat / garp_lower_prio_delay and notify_master_rx_lower_pri', () => {
  const lower = (priority = 50) => ({
    type: 'advert' as const,
    src: '192.168.1.2',
    ttl: 255,
    advert: { version: 2 as const, vrid: 51, priority, family: 4 as const, addresses: ['192.168.1.100'], adverIntSec: 1, authType: 0 },
  });
  const masterOf = (cfg: MachineConfig): MachineState => {
    const b = step(cfg, initialState(cfg), { type: 'start', now: 0 }).state;
    return step(cfg, b, { type: 'timer', now: b.masterDownAt! }).state;
  };
  const cfg: MachineConfig = config('A', '192.168.1.1', 100, { garpLowerPrioRepeat: 5, garpLowerPrioDelayUs: 5 * S });
  const t0 = masterDownUs(2, 100, S);

  it('a MASTER hearing a lower priority sends a burst at once, runs the notify, and sends a second burst after the delay', () => {
    const r = step(cfg, masterOf(cfg), { ...lower(), now: t0 + 0.5 * S });
    expect(r.actions.filter((a) => a.type !== 'log')).toEqual([
      { type: 'send', priority: 100, reply: true },
      { type: 'garp', repeat: 5, why: 'lower-prio' },
      { type: 'rxLowerPri' },
    ]);
    expect(r.state.lowerGarpAt).toEqual([t0 + 5.5 * S]);
    const at = step(cfg, r.state, { type: 'timer', now: t0 + 5.5 * S });
    expect(at.actions.filter((a) => a.type === 'garp')).toEqual([{ type: 'garp', repeat: 5, why: 'lower-prio' }]);
    expect(at.state.lowerGarpAt).toBeUndefined();
  });

  it('an equal priority from a lower address counts as lower; a higher priority does not', () => {
    expect(step(cfg, masterOf(cfg), { ...lower(100), src: '192.168.1.0', now: t0 + 1 }).actions).toContainEqual({ type: 'rxLowerPri' });
    const higher = step(cfg, masterOf(cfg), { ...lower(150), now: t0 + 1 });
    expect(higher.state.state).toBe('BACKUP');
    expect(higher.actions.some((a) => a.type === 'garp' || a.type === 'rxLowerPri')).toBe(false);
  });

  it('garp_lower_prio_repeat 0: no GARPs, the notify still runs; delay 0: no second burst', () => {
    const none = { ...cfg, garpLowerPrioRepeat: 0 };
    const r = step(none, masterOf(none), { ...lower(), now: t0 + 1 });
    expect(r.actions.filter((a) => a.type === 'garp' || a.type === 'rxLowerPri')).toEqual([{ type: 'rxLowerPri' }]);
    const once = { ...cfg, garpLowerPrioDelayUs: 0 };
    expect(step(once, masterOf(once), { ...lower(), now: t0 + 1 }).state.lowerGarpAt).toBeUndefined();
  });

  it('the first of a stream only, as the immediate reply: a flood brings one burst and one notify', () => {
    const c = { ...cfg, garpLowerPrioDelayUs: 0 };
    let s = masterOf(c);
    const count = { garp: 0, notify: 0, reply: 0 };
    const heard = (now: number) => {
      while (s.adverAt! <= now) s = step(c, s, { type: 'timer', now: s.adverAt! }).state;
      const r = step(c, s, { ...lower(), now });
      s = r.state;
      count.garp += r.actions.filter((a) => a.type === 'garp').length;
      count.notify += r.actions.filter((a) => a.type === 'rxLowerPri').length;
      count.reply += r.actions.filter((a) => a.type === 'send').length;
    };
    // One a millisecond for 3 s: only the first.
    for (let k = 0; k < 3000; k++) heard(t0 + 1 + k * 1000);
    expect(count).toEqual({ garp: 1, notify: 1, reply: 1 });
    // After a quiet advert interval the next one gets all three again.
    heard(t0 + 1 + 2999 * 1000 + S);
    expect(count).toEqual({ garp: 2, notify: 2, reply: 2 });
  });

  it('lower_prio_no_advert: no reply, but the GARPs and the notify still follow', () => {
    const c = { ...cfg, lowerPrioNoAdvert: true };
    const r = step(c, masterOf(c), { ...lower(), now: t0 + 1 });
    expect(r.actions.filter((a) => a.type !== 'log')).toEqual([{ type: 'garp', repeat: 5, why: 'lower-prio' }, { type: 'rxLowerPri' }]);
    // keepalived's line without ", forcing new election" then.
    expect(r.actions).toContainEqual(
      expect.objectContaining({ type: 'log', message: '(A) Received advert from 192.168.1.2 with lower priority 50, ours 100' }),
    );
  });

  it('the second burst is not sent by an instance no longer MASTER (keepalived: no VIPs set)', () => {
    const r = step(cfg, masterOf(cfg), { ...lower(), now: t0 + 1 });
    const fault = step(cfg, r.state, { type: 'fault', now: t0 + S, fault: true, reason: 'x' });
    const at = step(cfg, fault.state, { type: 'timer', now: t0 + 1 + 5 * S });
    expect(at.actions.filter((a) => a.type === 'garp')).toEqual([]);
  });

  it(`at most ${MAX_PENDING_GARPS} second bursts wait, whatever the delay`, () => {
    const long = { ...cfg, garpLowerPrioDelayUs: 86400 * S };
    let s = masterOf(long);
    // One every two advert intervals: each is the first of its stream.
    for (let k = 0; k < 3 * MAX_PENDING_GARPS; k++) {
      const now = t0 + 1 + 2 * k * S;
      while (s.adverAt! <= now) s = step(long, s, { type: 'timer', now: s.adverAt! }).state;
      s = step(long, s, { ...lower(), now }).state;
    }
    expect(s.lowerGarpAt).toHaveLength(MAX_PENDING_GARPS);
  });

  it('sync group: another member sends its own lower-priority GARPs when told (syncLowerPri)', () => {
    const r = step(cfg, masterOf(cfg), { type: 'syncLowerPri', now: t0 + 1 });
    expect(r.actions).toEqual([{ type: 'garp', repeat: 5, why: 'lower-prio' }]);
    const backup = step(cfg, initialState(cfg), { type: 'start', now: 0 }).state;
    expect(step(cfg, backup, { type: 'syncLowerPri', now: 1 }).actions).toEqual([]);
  });
});
