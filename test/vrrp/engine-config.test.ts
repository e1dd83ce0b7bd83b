// vrrp_startup_delay, unicast_fault_no_peer, notify_master_rx_lower_pri and the garp_* keywords
// from a keepalived.conf through the engine, on a simulated segment with the virtual clock.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { VirtualClock } from '../../src/core/clock.js';
import { SimSegment } from '../../src/net/sim-network.js';
import { VrrpEngine } from '../../src/vrrp/engine.js';
import { masterDownUs } from '../../src/vrrp/timers.js';

const S = 1_000_000;

const load = (text: string) => {
  const { config, diagnostics } = loadConfigText(text, 'k.conf', { configId: 'k' });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return config;
};

const instance = (name: string, vrid: number, prio: number, extra = '') => `
vrrp_instance ${name} {
  interface eth0
  virtual_router_id ${vrid}
  priority ${prio}
  virtual_ipaddress {
    192.168.1.${vrid}/24
  }
${extra}
}
`;

/** One engine per config on one segment; hook calls recorded as `time node what`. */
function lab(...texts: string[]) {
  const clock = new VirtualClock();
  const seg = new SimSegment(clock, 0);
  const events: string[] = [];
  const engines = texts.map((text, i) => {
    const node = String.fromCharCode(65 + i);
    const port = seg.attach(node, `192.168.1.${201 + i}`);
    const e = (what: string) => events.push(`${clock.now()} ${node} ${what}`);
    return new VrrpEngine(load(text), {
      clock,
      port: () => ({ send: (p, o) => port.send(p, o), onPacket: (cb) => port.onPacket(cb) }),
      primaryAddress: () => `192.168.1.${201 + i}`,
      hooks: {
        transition: (inst, from, to) => e(`${inst.name} ${from}->${to}`),
        garp: (inst, repeat, why) => e(`${inst.name} garp ${why} x${repeat}`),
        rxLowerPri: (inst, prio) => e(`${inst.name} rxLowerPri ${prio}`),
        log: (_level, message) => e(message),
      },
    });
  });
  return { clock, engines, events };
}

describe('vrrp_startup_delay from global_defs', () => {
  it('logs the delay, enters BACKUP at once and cannot become MASTER before delay + Master_Down_Interval', () => {
    const { clock, engines, events } = lab(`global_defs {\n  vrrp_startup_delay 2.5\n}\n${instance('VI_1', 51, 100)}`);
    engines[0].start();
    expect(events).toEqual(['0 A Delaying startup for 2.5 seconds', '0 A VI_1 INIT->BACKUP']);
    const at = 2.5 * S + masterDownUs(2, 100, S);
    clock.runUntil(at - 1);
    expect(engines[0].runner('VI_1')!.state.state).toBe('BACKUP');
    clock.runUntil(at);
    expect(events.at(-1)).toBe(`${at} A VI_1 BACKUP->MASTER`);
  });

  it('a reload keeps the first start’s end of the delay: no new delay, no new log line', () => {
    const text = `global_defs {\n  vrrp_startup_delay 70\n}\n${instance('VI_1', 51, 100)}`;
    const { clock, engines, events } = lab(text);
    engines[0].start();
    expect(events.slice(0, 2)).toEqual(['0 A The vrrp_startup_delay is very large - 70 seconds', '0 A Delaying startup for 70 seconds']);
    expect(engines[0].startupDelayUntil).toBe(70 * S);
    clock.runUntil(10 * S);
    const next = new VrrpEngine(load(text), {
      clock,
      port: () => ({ send: () => undefined, onPacket: () => undefined }),
      primaryAddress: () => '192.168.1.201',
      startupDelayUntil: engines[0].startupDelayUntil,
    });
    expect(next.startupDelayUntil).toBe(70 * S);
  });
});

describe('unicast_fault_no_peer', () => {
  it('without peers: the instance logs keepalived’s line and is FAULT from the start, unannounced (no transition, so no notify), and stays there', () => {
    const { clock, engines, events } = lab(instance('VI_1', 51, 100, '  unicast_fault_no_peer'));
    engines[0].start();
    clock.runUntil(20 * S);
    expect(events).toEqual(['0 A (VI_1) Cannot use unicast without any peers - going to fault state']);
    expect(engines[0].runner('VI_1')!.state.state).toBe('FAULT');
    // Nothing it tracks can bring it up.
    engines[0].setTracked('interface', 'eth0', true);
    expect(engines[0].runner('VI_1')!.state.state).toBe('FAULT');
  });

  it('with peers it runs as usual', () => {
    const { clock, engines } = lab(instance('VI_1', 51, 100, '  unicast_fault_no_peer\n  unicast_peer {\n    192.168.1.202\n  }'));
    engines[0].start();
    clock.runUntil(5 * S);
    expect(engines[0].runner('VI_1')!.state.state).toBe('MASTER');
  });
});

describe('lower priority adverts heard by a MASTER', () => {
  // A: 150 with nopreempt peers; B comes up later at 100 and, not hearing A at first, goes MASTER.
  const split = (extra = '') => lab(instance('VI_1', 51, 150, extra), instance('VI_1', 51, 100));

  it('garp_lower_prio defaults to vrrp_garp_master_delay/repeat (5 s, 5): a burst and another 5 s later; the notify hook runs', () => {
    const { clock, engines, events } = split();
    engines[0].start();
    clock.runUntil(10 * S);
    engines[1].start();
    // B's start-up has it BACKUP; make it speak as a MASTER would: its first advert after a takeover.
    engines[1].runner('VI_1')!.group('MASTER', 'test: B forced MASTER');
    clock.runUntil(clock.now() + 1000);
    const heard = events.findIndex((e) => e.endsWith('A VI_1 rxLowerPri 150'));
    expect(heard).toBeGreaterThan(0);
    const t = Number(events[heard].split(' ')[0]);
    expect(events).toContain(`${t} A VI_1 garp lower-prio x5`);
    clock.runUntil(t + 5 * S);
    expect(events).toContain(`${t + 5 * S} A VI_1 garp lower-prio x5`);
  });

  it('sync group: the other members send their own lower-priority GARPs', () => {
    const a = `vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n}\n${instance('VI_1', 51, 150, '  garp_lower_prio_repeat 2\n  garp_lower_prio_delay 0')}${instance('VI_2', 52, 150, '  garp_lower_prio_repeat 3\n  garp_lower_prio_delay 0')}`;
    const { clock, engines, events } = lab(a, instance('VI_1', 51, 100));
    engines[0].start();
    clock.runUntil(10 * S);
    expect(engines[0].runner('VI_2')!.state.state).toBe('MASTER');
    engines[1].start();
    engines[1].runner('VI_1')!.group('MASTER', 'test: B forced MASTER');
    clock.runUntil(clock.now() + 1000);
    const t = Number(events.find((e) => e.endsWith('rxLowerPri 150'))?.split(' ')[0]);
    expect(events.filter((e) => /garp|rxLowerPri/.test(e))).toEqual([
      `${t} A VI_1 garp lower-prio x2`,
      `${t} A VI_1 rxLowerPri 150`,
      `${t} A VI_2 garp lower-prio x3`,
    ]);
  });

  it('garp_master_refresh from global_defs reaches every instance', () => {
    const { clock, engines, events } = lab(
      `global_defs {\n  vrrp_garp_master_refresh 2\n  vrrp_garp_master_refresh_repeat 4\n}\n${instance('VI_1', 51, 255, '  state MASTER')}`,
    );
    engines[0].start();
    clock.runUntil(4 * S);
    expect(events.filter((e) => e.includes('garp'))).toEqual([`${2 * S} A VI_1 garp refresh x4`, `${4 * S} A VI_1 garp refresh x4`]);
  });
});

describe('unicast_ttl', () => {
  /** The TTL of each advert the engine sends for this config, through a port that records them. */
  const ttls = (extra: string): number[] => {
    const clock = new VirtualClock();
    const sent: number[] = [];
    const engine = new VrrpEngine(load(instance('VI_1', 51, 100, extra)), {
      clock,
      port: () => ({ send: (_p, o) => sent.push(o.ttl ?? -1), onPacket: () => undefined }),
      primaryAddress: () => '192.168.1.201',
      hooks: {},
    });
    engine.start();
    clock.runUntil(10 * S);
    return [...new Set(sent)];
  };
  const peers = '  unicast_peer {\n    192.168.1.202\n  }';

  it('sets the TTL of unicast adverts; 255 without it, and for multicast', () => {
    expect(ttls(`${peers}\n  unicast_ttl 2`)).toEqual([2]);
    expect(ttls(peers)).toEqual([255]);
    expect(ttls('')).toEqual([255]);
  });
});
