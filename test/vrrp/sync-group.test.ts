// vrrp_sync_group: members move together (keepalived vrrp_sync.c semantics) on the simulated segment.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { buildSimLab } from '../../src/lab/sim/node.js';
import type { VrrpEngine } from '../../src/vrrp/engine.js';

const S = 1_000_000;
const conf = (prio: number, vi1Extra = '') => `
global_defs {
  enable_script_security
  script_user root
}
vrrp_script chk {
  script "/bin/true"
}
vrrp_sync_group G {
  group {
    VI_1
    VI_2
  }
  notify "/bin/true"
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority ${prio}
  virtual_ipaddress {
    192.168.1.100/24
  }
${vi1Extra}
}
vrrp_instance VI_2 {
  interface eth1
  virtual_router_id 52
  priority ${prio}
  virtual_ipaddress {
    10.0.0.100/24
  }
}
`;

/** `expected`: the error rules the configs are meant to draw (every other error fails the test). */
function directors(a: string, b: string, expected: readonly string[] = []) {
  const groupLog: string[] = [];
  const config = (name: string, text: string) => {
    const { config, diagnostics } = loadConfigText(text, `${name}.conf`, { configId: name });
    expect(diagnostics.filter((d) => d.severity === 'error' && !expected.includes(d.rule))).toEqual([]);
    return { name, config };
  };
  const segment = (ifname: string) => ({
    name: ifname,
    members: [
      { node: 'a', interface: ifname, address: '192.168.1.1' },
      { node: 'b', interface: ifname, address: '192.168.1.2' },
    ],
  });
  const lab = buildSimLab({
    delayUs: 50,
    segments: [segment('eth0'), segment('eth1')],
    nodes: [config('a', a), config('b', b)],
    observe: (name) => ({ groupTransition: (g, from, to) => groupLog.push(`${name} ${g.name} ${from}->${to}`) }),
  });
  const start = (name: string) => {
    const n = lab.nodes.get(name)!;
    n.start();
    return n.engine!;
  };
  const A = start('a');
  const B = start('b');
  const states = (e: VrrpEngine) => e.instances.map((i) => i.runner.state.state).join(',');
  return { clock: lab.clock, A, B, states, groupLog };
}

describe('vrrp_sync_group', () => {
  it('both members become MASTER together on one director', () => {
    const { clock, A, B, states, groupLog } = directors(conf(100), conf(90));
    clock.advance(5 * S);
    expect([states(A), states(B)]).toEqual(['MASTER,MASTER', 'BACKUP,BACKUP']);
    expect(groupLog).toEqual(['a G INIT->BACKUP', 'b G INIT->BACKUP', 'a G BACKUP->MASTER']);
  });

  it('one member going FAULT takes the whole group to FAULT, and the other director takes both', () => {
    const { clock, A, B, states, groupLog } = directors(conf(100), conf(90));
    clock.advance(5 * S);
    A.setTracked('interface', 'eth1', false);
    clock.advance(5 * S);
    expect([states(A), states(B)]).toEqual(['FAULT,FAULT', 'MASTER,MASTER']);
    expect(groupLog.slice(-2)).toEqual(['a G MASTER->FAULT', 'b G BACKUP->MASTER']);
    A.setTracked('interface', 'eth1', true);
    clock.advance(10 * S);
    expect([states(A), states(B)]).toEqual(['MASTER,MASTER', 'BACKUP,BACKUP']);
  });

  it('a group-level track_script moves every member: the other director takes the whole group', () => {
    const a = conf(100).replace('  notify "/bin/true"\n', '  notify "/bin/true"\n  track_script {\n    chk weight -30\n  }\n');
    const { clock, A, B, states } = directors(a, conf(90));
    clock.advance(5 * S);
    expect([states(A), states(B)]).toEqual(['MASTER,MASTER', 'BACKUP,BACKUP']);
    A.setTracked('script', 'chk', false);
    clock.advance(10 * S);
    expect([states(A), states(B)]).toEqual(['BACKUP,BACKUP', 'MASTER,MASTER']);
  });

  it('one member wanting MASTER is not enough: the group prefers BACKUP until all members want it', () => {
    // Only A's VI_1 drops (member weight counted with sync_group_tracking_weight); B's VI_2 still
    // hears A's VI_2 at 100, so B's group stays BACKUP and nothing is split across directors.
    const a = conf(100, '  track_script {\n    chk weight -30\n  }').replace('  notify "/bin/true"\n', '  notify "/bin/true"\n  sync_group_tracking_weight\n');
    const { clock, A, B, states } = directors(a, conf(90));
    clock.advance(5 * S);
    A.setTracked('script', 'chk', false);
    clock.advance(10 * S);
    expect([states(A), states(B)]).toEqual(['MASTER,MASTER', 'BACKUP,BACKUP']);
    expect(B.instances[0].runner.state.wantMaster).toBe(true);
    // When A dies altogether, B's second member times out too and the group moves at once.
    A.stop();
    clock.advance(5 * S);
    expect(states(B)).toBe('MASTER,MASTER');
  });

  it("without sync_group_tracking_weight a member's weighted tracker is ignored, as in keepalived", () => {
    // keepalived reports the weighted script of a member and drops it (sync-weighted-tracker).
    const { clock, A, B, states } = directors(conf(100, '  track_script {\n    chk weight -30\n  }'), conf(90), ['sync-weighted-tracker']);
    clock.advance(5 * S);
    A.setTracked('script', 'chk', false);
    clock.advance(10 * S);
    expect([states(A), states(B)]).toEqual(['MASTER,MASTER', 'BACKUP,BACKUP']);
  });
});
