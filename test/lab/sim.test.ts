// The sim backend: real keepalived.conf text on the daemon's engine, faults on a virtual clock.
// Times asserted exactly are keepalived's: Master_Down_Interval = 3 × advert_int + (256 − prio)/256 s,
// plus the segment's 100 µs one-way delay.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { labCommand } from '../../src/cli/lab.js';
import { loadScenario } from '../../src/lab/load/index.js';
import { finish } from '../../src/lab/expect/index.js';
import type { LabResult } from '../../src/lab/model/result.js';
import type { Expectation, Fault, LabClient, LabRealServer, Scenario } from '../../src/lab/model/scenario.js';
import { runSim } from '../../src/lab/sim/index.js';

const S = 1_000_000;
const span = { file: 'test.yaml', line: 1, col: 1 };
/** Spans that tell expectations apart in `where`. */
const at = (line: number) => ({ ...span, line });

type FaultIn = Fault extends infer F ? (F extends Fault ? Omit<F, 'span'> : never) : never;
type ExpectIn = Expectation extends infer E ? (E extends Expectation ? Omit<E, 'span'> : never) : never;

interface Spec {
  configs: Record<string, string>;
  /** Extra segments: interface → segment name (eth0 is on `lan`). */
  interfaces?: Record<string, string>;
  faults?: FaultIn[];
  expect?: ExpectIn[];
  servers?: Omit<LabRealServer, 'span' | 'segment' | 'body' | 'up'>[];
  clients?: Omit<LabClient, 'span' | 'segment'>[];
  duration?: number;
  seed?: number;
}

function scenario(spec: Spec): Scenario {
  const names = Object.keys(spec.configs);
  const ifaces = { eth0: 'lan', ...spec.interfaces };
  return {
    name: 'test',
    file: 'test.yaml',
    duration: spec.duration ?? 30 * S,
    seed: spec.seed ?? 1,
    nodes: names.map((name) => ({ name, config: { file: 'test.yaml', text: spec.configs[name] }, impl: 'keepalived-ts', span })),
    segments: [...new Set(Object.values(ifaces))].map((seg, k) => ({
      name: seg,
      prefix: 24,
      members: Object.entries(ifaces)
        .filter(([, s]) => s === seg)
        .flatMap(([ifname]) => names.map((node, i) => ({ node, interface: ifname, address: `10.0.${k}.${i + 1}` }))),
      span,
    })),
    realServers: (spec.servers ?? []).map((s) => ({ ...s, segment: 'lan', body: 'ok', up: true, span })),
    clients: (spec.clients ?? []).map((c) => ({ ...c, segment: 'lan', span })),
    faults: (spec.faults ?? []).map((f) => ({ ...f, span })),
    expectations: (spec.expect ?? []).map((e, i) => ({ ...e, span: at(10 + i) })),
    span,
  };
}

async function sim(spec: Spec): Promise<LabResult> {
  const sc = scenario(spec);
  return finish(sc, await runSim(sc));
}

const vrrp = (prio: number, extra = '', head = '') => `
global_defs {
  enable_script_security
  script_user root
}
${head}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    10.0.0.100/24
  }
${extra}
}
`;

const masterAt = (r: LabResult, node: string) => r.transitions.filter((t) => t.node === node && t.to === 'MASTER').map((t) => t.at);

describe('sim backend: failover', () => {
  it('kill -9 of the master: the backup takes over one Master_Down_Interval after the last advert it heard', async () => {
    const r = await sim({
      configs: { lb1: vrrp(100), lb2: vrrp(90) },
      faults: [{ at: 10 * S, kind: 'kill', node: 'lb1' }],
      expect: [
        { kind: 'failover', after: 0, instance: 'VI_1', to: 'lb2', within: 3_648_438 },
        { kind: 'failover', after: 0, instance: 'VI_1', to: 'lb2', within: 3 * S },
        { kind: 'master', at: 20 * S, instance: 'VI_1', node: 'lb2' },
      ],
    });
    // lb1: MASTER at 3 + 156/256 s; its last advert left at 9.609375 s and arrived 100 µs later.
    expect(masterAt(r, 'lb1')).toEqual([3_609_375]);
    expect(masterAt(r, 'lb2')).toEqual([9_609_475 + 3 * S + (166 / 256) * S]);
    expect(r.transitions.find((t) => t.node === 'lb1' && t.at === 10 * S)).toMatchObject({ from: 'MASTER', to: 'STOPPED', reason: 'killed' });
    // A killed daemon runs no notify scripts.
    expect(r.notifies.filter((n) => n.node === 'lb1').map((n) => n.state)).toEqual(['BACKUP', 'MASTER']);
    const [within, tooTight, master] = r.expectations;
    expect(within).toMatchObject({ passed: true, why: "lb2 became MASTER at 13.26s, 3.26s after 'kill lb1' at 10.00s (bound 3.65s)", where: 'test.yaml:10:1' });
    expect(tooTight).toMatchObject({ passed: false, at: 13 * S, why: "lb2 became MASTER at 13.26s, 3.26s after 'kill lb1' at 10.00s (bound 3s)" });
    expect(master.passed).toBe(true);
    expect(r.passed).toBe(false);
    expect(r.vips!.at(-1)).toMatchObject({ address: '10.0.0.100', holders: ['lb2'], reachable: true });
  });

  it('graceful stop: priority 0 hands over within the skew time, and lb1 notifies STOP', async () => {
    const r = await sim({
      configs: { lb1: vrrp(100), lb2: vrrp(90) },
      faults: [{ at: 10 * S, kind: 'stop', node: 'lb1' }],
      expect: [
        { kind: 'failover', after: 0, instance: 'VI_1', to: 'lb2', within: (166 / 256) * S + 200 },
        { kind: 'notify', node: 'lb1', instance: 'VI_1', states: ['BACKUP', 'MASTER', 'STOP'] },
      ],
    });
    expect(masterAt(r, 'lb2')).toEqual([10 * S + 100 + (166 / 256) * S]);
    expect(r.transitions.find((t) => t.node === 'lb1' && t.at === 10 * S)).toMatchObject({ from: 'MASTER', to: 'STOPPED' });
    expect(r.expectations.map((v) => v.passed)).toEqual([true, true]);
  });

  it('a partition makes two masters (a split brain with start and end); healing leaves one', async () => {
    const r = await sim({
      configs: { lb1: vrrp(100), lb2: vrrp(90) },
      faults: [
        { at: 10 * S, kind: 'partition', segment: 'lan', groups: [['lb1'], ['lb2']] },
        { at: 20 * S, kind: 'heal', segment: 'lan' },
      ],
      expect: [
        { kind: 'single-master', window: S },
        { kind: 'master', at: 25 * S, instance: 'VI_1', node: 'lb1' },
      ],
    });
    // lb2 times out after lb1's last advert. After healing, lb2's next advert reaches lb1, which
    // answers at once at its higher priority ("forcing new election"): lb2 steps down 200 µs later.
    const start = 9_609_475 + 3 * S + (166 / 256) * S;
    expect(r.splitBrains).toEqual([{ vrid: 51, instance: 'VI_1', nodes: ['lb1', 'lb2'], start, end: start + 7 * S + 200 }]);
    expect(r.expectations[0]).toMatchObject({
      passed: false,
      at: start + S,
      why: 'lb1 and lb2 were all MASTER of VRID 51 (VI_1) from 13.26s to 20.26s: 7s, longer than the 1s window',
    });
    expect(r.expectations[1].passed).toBe(true);
    expect(r.faults.map((f) => f.text)).toEqual(['partition lan: [lb1] | [lb2]', 'heal lan']);
  });
});

describe('sim backend: trackers', () => {
  const chk = 'vrrp_script chk {\n  script "/bin/true"\n  weight -30\n}';
  it('a track_script whose weight is too small: no failover, and the why gives the priorities', async () => {
    const r = await sim({
      configs: { lb1: vrrp(100, '  track_script {\n    chk\n  }', chk), lb2: vrrp(60) },
      faults: [{ at: 10 * S, kind: 'script', node: 'lb1', script: 'chk', ok: false }],
      expect: [
        { kind: 'no-failover', after: 0, instance: 'VI_1', for: 10 * S },
        { kind: 'failover', after: 0, instance: 'VI_1', to: 'lb2', within: 5 * S },
      ],
    });
    expect(r.priorities).toEqual([{ at: 10 * S, node: 'lb1', instance: 'VI_1', priority: 70 }]);
    expect(r.expectations[0]).toMatchObject({
      passed: true,
      why: "lb1 stayed MASTER of VI_1 from 10.00s to 20.00s, after 'script chk on lb1 fails' at 10.00s: lb1's priority fell to 70, still above lb2's 60",
    });
    expect(r.expectations[1]).toMatchObject({ passed: false, at: 15 * S });
    expect(r.expectations[1].why).toContain("lb1's priority fell to 70, still above lb2's 60");
  });

  it('a weight big enough moves mastership: the no-failover expectation fails at the moment it moved', async () => {
    const r = await sim({
      configs: { lb1: vrrp(100, '  track_script {\n    chk\n  }', chk), lb2: vrrp(80) },
      faults: [{ at: 10 * S, kind: 'script', node: 'lb1', script: 'chk', ok: false }],
      expect: [{ kind: 'no-failover', after: 0, instance: 'VI_1', for: 10 * S }],
    });
    // lb1 advertises 70 from 10.609375 s; lb2 (80) discards it as lower and times out.
    const moved = masterAt(r, 'lb2')[0];
    expect(moved).toBe(9_609_475 + 3 * S + (176 / 256) * S);
    expect(r.expectations[0]).toMatchObject({ passed: false, at: moved });
    expect(r.expectations[0].why).toMatch(
      /^lb2 became MASTER of VI_1 at 13\.30s, 3\.3s after 'script chk on lb1 fails' at 10\.00s; lb1's priority fell to 70, below lb2's 80$/,
    );
  });

  it('init_fail: the script counts as failed until `rise` good runs (the first at start, then one per interval)', async () => {
    const initFail = 'vrrp_script chk {\n  script "/bin/true"\n  weight -30\n  interval 2\n  rise 2\n  init_fail\n}';
    const r = await sim({ configs: { lb1: vrrp(100, '  track_script {\n    chk\n  }', initFail), lb2: vrrp(90) }, duration: 15 * S });
    expect(r.transitions.filter((t) => t.node === 'lb1').map((t) => `${t.from}->${t.to} ${t.priority}`)).toEqual(['INIT->BACKUP 70', 'BACKUP->MASTER 100']);
    // Runs at 0 s and 2 s make rise 2: the daemon's own tracker, so the same moment as on netns.
    expect(r.priorities).toEqual([{ at: 2 * S, node: 'lb1', instance: 'VI_1', priority: 100 }]);
    expect(masterAt(r, 'lb2')).toEqual([3 * S + (166 / 256) * S]);
  });

  it('preempt_delay: a returning higher-priority node waits before taking over', async () => {
    const spec = (extra: string): Spec => ({
      configs: { lb1: vrrp(100, extra), lb2: vrrp(90) },
      faults: [
        { at: 10 * S, kind: 'kill', node: 'lb1' },
        { at: 20 * S, kind: 'start', node: 'lb1' },
      ],
      duration: 40 * S,
    });
    const plain = await sim(spec(''));
    const delayed = await sim(spec('  preempt_delay 8'));
    // Without the delay lb1 preempts one down interval after starting; with it, 8 s after lb2's first advert.
    expect(masterAt(plain, 'lb1')).toEqual([3_609_375, 20 * S + 3_609_375]);
    const back = masterAt(delayed, 'lb1')[1];
    expect(back).toBeGreaterThan(28 * S);
    expect(back).toBeLessThan(28 * S + 3_609_375 + 1_000_000);
    expect(delayed.faults.map((f) => f.text)).toEqual(['kill lb1', 'start lb1']);
  });

  it('a vrrp_sync_group moves together: one interface down takes both instances to the other director', async () => {
    const group = (prio: number) => `
vrrp_sync_group G {
  group {
    VI_1
    VI_2
  }
}
${vrrp(prio)}
vrrp_instance VI_2 {
  interface eth1
  virtual_router_id 52
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    10.0.1.100/24
  }
}
`;
    const r = await sim({
      configs: { lb1: group(100), lb2: group(90) },
      interfaces: { eth1: 'backend' },
      faults: [{ at: 10 * S, kind: 'interface', node: 'lb1', interface: 'eth1', up: false }],
      expect: [
        { kind: 'failover', after: 0, instance: 'VI_1', to: 'lb2', within: 4 * S },
        { kind: 'failover', after: 0, instance: 'VI_2', to: 'lb2', within: 4 * S },
      ],
    });
    // VI_1's priority 0 goes out on eth0 but VI_2's cannot (eth1 is down), so lb2's group waits
    // for VI_2's down timer: both move together at 3 + 166/256 s after lb1's last advert.
    const moved = 9_609_475 + 3 * S + (166 / 256) * S;
    expect(masterAt(r, 'lb2')).toEqual([moved, moved]);
    expect(r.expectations.map((v) => [v.passed, v.why])).toEqual([
      [true, "lb2 became MASTER at 13.26s, 3.26s after 'interface eth1 on lb1 down' at 10.00s (bound 4s)"],
      [true, "lb2 became MASTER at 13.26s, 3.26s after 'interface eth1 on lb1 down' at 10.00s (bound 4s)"],
    ]);
    expect(r.notifies.filter((n) => n.kind === 'GROUP').map((n) => `${n.node} ${n.state}`)).toEqual([
      'lb1 BACKUP',
      'lb2 BACKUP',
      'lb1 MASTER',
      'lb1 FAULT',
      'lb2 MASTER',
    ]);
  });
});

describe('sim backend: reload', () => {
  it('a broken config is refused and changes nothing; a clean one keeps unchanged instances', async () => {
    const r = await sim({
      configs: { lb1: vrrp(100), lb2: vrrp(90) },
      faults: [
        { at: 10 * S, kind: 'reload', node: 'lb1', config: { file: 'test.yaml', text: vrrp(100).replace('virtual_router_id 51', 'virtual_router_id 999') } },
        { at: 15 * S, kind: 'reload', node: 'lb1', config: { file: 'test.yaml', text: vrrp(100) } },
      ],
      expect: [{ kind: 'no-failover', after: 0, instance: 'VI_1', for: 20 * S }],
    });
    expect(r.faults[0].text).toMatch(/^reload lb1 \(test\.yaml\): reload refused: [1-9]\d* error\(s\); the running configuration stays$/);
    expect(r.faults[1].text).toBe('reload lb1 (test.yaml): 1 instance(s) kept as they were, 0 (re)started');
    expect(r.transitions.filter((t) => t.at > 5 * S)).toEqual([]);
    expect(r.expectations[0].passed).toBe(true);
  });

  it('a changed priority is applied in place: no restart; the election then moves mastership', async () => {
    const r = await sim({
      configs: { lb1: vrrp(100), lb2: vrrp(90) },
      faults: [{ at: 10 * S, kind: 'reload', node: 'lb1', config: { file: 'test.yaml', text: vrrp(80) } }],
    });
    expect(r.faults[0].text).toBe('reload lb1 (test.yaml): 1 instance(s) kept as they were, 0 (re)started');
    // lb1 keeps MASTER at priority 80 (no INIT); lb2 at 90 preempts it through the election.
    expect(r.transitions.filter((t) => t.at >= 10 * S).map((t) => `${t.node} ${t.from}->${t.to}`)).toEqual(['lb2 BACKUP->MASTER', 'lb1 MASTER->BACKUP']);
  });

  it('VIPs added and removed by a reload change in place: the MASTER stays MASTER', async () => {
    const two = vrrp(100).replace('10.0.0.100/24', '10.0.0.100/24\n    10.0.0.101/24');
    const r = await sim({
      // The backup trusts the master it follows whatever addresses it lists (see the next test).
      configs: { lb1: vrrp(100), lb2: vrrp(90, '  skip_check_adv_addr') },
      faults: [
        { at: 10 * S, kind: 'reload', node: 'lb1', config: { file: 'test.yaml', text: two } },
        { at: 15 * S, kind: 'reload', node: 'lb1', config: { file: 'test.yaml', text: two.replace('    10.0.0.100/24\n', '') } },
      ],
      expect: [{ kind: 'no-failover', after: 0, instance: 'VI_1', for: 20 * S }],
    });
    expect(r.faults.map((f) => f.text)).toEqual([
      'reload lb1 (test.yaml): 1 instance(s) kept as they were, 0 (re)started',
      'reload lb1 (test.yaml): 1 instance(s) kept as they were, 0 (re)started',
    ]);
    expect(r.transitions.filter((t) => t.at > 5 * S)).toEqual([]);
    expect(r.vips!.filter((v) => v.at >= 10 * S).map((v) => `${v.at / S} ${v.address} ${v.holders.join(',')}`)).toEqual([
      '10 10.0.0.101 lb1',
      '15 10.0.0.100 ',
    ]);
    expect(r.expectations[0].passed).toBe(true);
  });

  it('a reload that changes the VIPs of one node only: its peer ignores adverts with another address list, as keepalived does, and both are MASTER', async () => {
    const two = vrrp(100).replace('10.0.0.100/24', '10.0.0.100/24\n    10.0.0.101/24');
    const r = await sim({
      configs: { lb1: vrrp(100), lb2: vrrp(90) },
      faults: [{ at: 10 * S, kind: 'reload', node: 'lb1', config: { file: 'test.yaml', text: two } }],
      duration: 16 * S,
    });
    // lb2 heard lb1's last good advert at 9 s (adverts every 1 s): it takes over one
    // Master_Down_Interval (3 × 1 s + skew) later, and lb1 ignores lb2's adverts in turn.
    const [takeover] = masterAt(r, 'lb2');
    expect(takeover).toBeGreaterThan(12 * S);
    expect(takeover).toBeLessThan(14 * S);
    expect(r.transitions.filter((t) => t.node === 'lb1' && t.at > 5 * S)).toEqual([]);
  });

  it('a changed identity (VRID) restarts the instance: its old runner steps down, the new one starts BACKUP', async () => {
    const r = await sim({
      configs: { lb1: vrrp(100), lb2: vrrp(90) },
      faults: [
        { at: 10 * S, kind: 'reload', node: 'lb1', config: { file: 'test.yaml', text: vrrp(100).replace('virtual_router_id 51', 'virtual_router_id 52') } },
      ],
    });
    expect(r.faults[0].text).toBe('reload lb1 (test.yaml): 0 instance(s) kept as they were, 1 (re)started');
    expect(r.transitions.filter((t) => t.at >= 10 * S && t.at < 11 * S).map((t) => `${t.node} ${t.from}->${t.to} ${t.priority}`)).toEqual([
      'lb1 MASTER->INIT 100',
      'lb1 INIT->BACKUP 100',
      'lb2 BACKUP->MASTER 90',
    ]);
  });
});

describe('sim backend: determinism and speed', () => {
  const lossy = (seed: number): Spec => ({
    configs: { lb1: vrrp(100), lb2: vrrp(90) },
    faults: [{ at: 5 * S, kind: 'link', node: 'lb1', segment: 'lan', loss: 0.5, duplicate: 0.2 }],
    duration: 120 * S,
    seed,
  });
  const strip = (r: LabResult) => ({ ...r, wallMs: 0 });

  it('the same scenario and seed give the same run; another seed another one', async () => {
    const a = await sim(lossy(7));
    const b = await sim(lossy(7));
    const c = await sim(lossy(8));
    expect(a.transitions.length).toBeGreaterThan(4); // the loss does make lb2 flap
    expect(strip(b)).toEqual(strip(a));
    expect(c.transitions).not.toEqual(a.transitions);
  });

  it('ten minutes of virtual time in well under a second', async () => {
    const r = await sim({ ...lossy(3), duration: 600 * S });
    expect(r.wallMs).toBeLessThan(1000);
  });
});

describe('sim backend: clients through the load balancer', () => {
  const lvs = (prio: number) => `${vrrp(prio)}
virtual_server 10.0.0.100 80 {
  delay_loop 2
  lb_algo rr
  lb_kind DR
  real_server 10.0.0.11 80 {
    TCP_CHECK {
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }
  real_server 10.0.0.12 80 {
    TCP_CHECK {
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }
  }
}
`;
  const base: Spec = {
    configs: { lb1: lvs(100), lb2: lvs(90) },
    servers: [
      { name: 'web1', address: '10.0.0.11', port: 80 },
      { name: 'web2', address: '10.0.0.12', port: 80 },
    ],
    clients: [{ name: 'c1', target: { address: '10.0.0.100', port: 80 }, rate: 10 }],
  };

  it('a real server going down fails requests until the checker takes it out, then rr sends all to the other', async () => {
    const r = await sim({
      ...base,
      faults: [{ at: 10 * S, kind: 'server', server: 'web1', up: false }],
      expect: [
        { kind: 'requests', client: 'c1', window: 6 * S },
        { kind: 'requests', client: 'c1', window: S / 2 },
      ],
    });
    const out = r.servers.filter((s) => !s.inService);
    expect(out.map((s) => `${s.node} ${s.server}`).sort()).toEqual(['lb1 web1', 'lb2 web1']);
    expect(out.every((s) => s.at > 10 * S && s.at < 16 * S && s.reason === 'web1 refused the connection')).toBe(true);
    const after = r.requests.filter((b) => b.second >= 17);
    expect(after.every((b) => b.failed === 0 && b.ok === 10 && b.byServer.web2 === 10)).toBe(true);
    expect(r.requests.filter((b) => b.second < 10).every((b) => b.failed === 0 && (b.byServer.web1 ?? 0) > 0)).toBe(true);
    expect(r.expectations[0].passed).toBe(true);
    expect(r.expectations[1]).toMatchObject({ passed: false, at: 11 * S });
    expect(r.expectations[1].why).toMatch(/failed outside the 500ms fault windows, in seconds? 11(–1\d)?: web1 refused the connection ×\d+$/);
  });

  it('requests go where the last gratuitous ARP pointed: to a killed master until the backup announces', async () => {
    const r = await sim({ ...base, faults: [{ at: 10 * S, kind: 'kill', node: 'lb1' }], expect: [{ kind: 'requests', window: 4 * S }] });
    const failed = r.requests.filter((b) => b.failed);
    expect(failed.map((b) => b.second)).toEqual([10, 11, 12, 13]);
    expect(Object.keys(failed[0].failures!)).toEqual(['lb1 is down (its ARP entry for 10.0.0.100 is stale)']);
    expect(r.requests.filter((b) => b.second >= 14).every((b) => b.ok === 10)).toBe(true);
    expect(r.expectations[0].passed).toBe(true);
  });
});

describe('sim backend: IPv6, strict mode, VMAC, track_process', () => {
  const v6 = (prio: number) => `
vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 60
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    2001:db8::100/64
  }
}
`;

  it('IPv6: VRRPv3 adverts from each link-local address; the VIP moves on a kill', async () => {
    const r = await sim({
      configs: { lb1: v6(150), lb2: v6(100) },
      faults: [
        { at: 10 * S, kind: 'kill', node: 'lb1' },
        { at: 16 * S, kind: 'start', node: 'lb1' },
      ],
    });
    expect(masterAt(r, 'lb1')[0]).toBe(3 * S + (106 / 256) * S);
    // lb2 steps down on lb1's advert: its source is lb1's EUI-64 link-local address (MAC 02:00:00:01:00:01).
    expect(r.transitions.find((t) => t.node === 'lb2' && t.from === 'MASTER')?.reason).toBe(
      'Master received advert from fe80::ff:fe01:1 with higher priority 150, ours 100',
    );
    const held = r.vips!.filter((v) => v.address === '2001:db8::100' && v.reachable).map((v) => v.holders.join('+'));
    expect(held.filter((h, i) => h !== held[i - 1])).toEqual(['lb1', 'lb2', 'lb1+lb2', 'lb1']);
  });

  it('an IPv4 and an IPv6 instance on one interface run side by side', async () => {
    const r = await sim({ configs: { lb1: vrrp(150) + v6(100), lb2: vrrp(100) + v6(150) } });
    expect(
      r.transitions
        .filter((t) => t.to === 'MASTER')
        .map((t) => `${t.node} ${t.instance}`)
        .sort(),
    ).toEqual(['lb1 VI_1', 'lb2 VI_6']);
  });

  it('vrrp_strict: a non-owner MASTER drops traffic to its VIP (no_accept), so it does not answer; accept lifts that', async () => {
    const strict = (prio: number, extra = '') => vrrp(prio, extra).replace('global_defs {', 'global_defs {\n  vrrp_strict');
    const r = await sim({ configs: { lb1: strict(150), lb2: strict(100) } });
    expect(masterAt(r, 'lb1')).toHaveLength(1);
    expect(r.vips!.at(-1)).toMatchObject({ address: '10.0.0.100', holders: ['lb1'], reachable: false });
    const v3 = await sim({ configs: { lb1: strict(150, '  version 3\n  accept'), lb2: strict(100, '  version 3\n  accept') } });
    expect(v3.vips!.at(-1)).toMatchObject({ holders: ['lb1'], reachable: true });
    // IPv6 VIPs too: the daemon's ip6 table drops them as its ip table does.
    const strict6 = (prio: number) => `global_defs {\n  vrrp_strict\n}\n${v6(prio)}`;
    const r6 = await sim({ configs: { lb1: strict6(150), lb2: strict6(100) } });
    expect(r6.vips!.at(-1)).toMatchObject({ address: '2001:db8::100', holders: ['lb1'], reachable: false });
  });

  it('use_vmac: adverts go through the VMAC on eth0, the VIP sits on it, and a link fault on eth0 takes it down', async () => {
    const r = await sim({
      configs: { lb1: vrrp(150, '  use_vmac'), lb2: vrrp(100, '  use_vmac') },
      faults: [{ at: 10 * S, kind: 'interface', node: 'lb1', interface: 'eth0', up: false }],
      expect: [{ kind: 'single-master', window: 0 }],
    });
    expect(r.expectations[0].passed).toBe(true);
    expect(masterAt(r, 'lb1')).toHaveLength(1);
    expect(r.transitions.find((t) => t.node === 'lb1' && t.to === 'FAULT')?.at).toBeLessThan(10.3 * S);
    expect(masterAt(r, 'lb2')).toHaveLength(1);
    expect(r.vips!.at(-1)).toMatchObject({ address: '10.0.0.100', segment: 'lan', holders: ['lb2'], reachable: true });
  });

  it('use_vmac: clients keep the virtual MAC in their neighbour table; it follows the MASTER', async () => {
    const lvs = (prio: number) => `${vrrp(prio, '  use_vmac')}
virtual_server 10.0.0.100 80 {
  lb_algo rr
  lb_kind DR
  real_server 10.0.0.11 80 {
  }
}
`;
    const r = await sim({
      configs: { lb1: lvs(150), lb2: lvs(100) },
      servers: [{ name: 'web1', address: '10.0.0.11', port: 80 }],
      clients: [{ name: 'c1', target: { address: '10.0.0.100', port: 80 }, rate: 10 }],
      faults: [{ at: 10 * S, kind: 'stop', node: 'lb1' }],
      duration: 16 * S,
    });
    const failed = r.requests.filter((b) => b.failed);
    // lb1 stops at 10 s; lb2 is MASTER 0.61 s later and its adverts move 00:00:5e:00:01:33 to it.
    expect(failed.map((b) => b.second)).toEqual([10]);
    expect(Object.keys(failed[0].failures!)).toEqual(['lb1 is down (its ARP entry for 10.0.0.100 is stale)']);
  });

  it('track_process: a process fault changes what the daemon counts; quorum lost and gained at its next scan and delay', async () => {
    const tp = `vrrp_track_process nginx {
  process nginx
  quorum 2
  delay 1
  weight -60
}`;
    const r = await sim({
      configs: { lb1: vrrp(150, '  track_process {\n    nginx\n  }', tp), lb2: vrrp(100) },
      faults: [
        { at: 10.5 * S, kind: 'process', node: 'lb1', name: 'nginx', processes: ['nginx'], count: 1 },
        { at: 20.5 * S, kind: 'process', node: 'lb1', name: 'nginx', processes: ['nginx'], count: 2, state: 'up' },
      ],
    });
    // Scans at whole seconds: the loss is seen at 11 s and counts after delay 1 at 12 s; the return
    // is seen at 21 s and counts at once (a new process, not a fork of a counted one).
    expect(r.priorities!.filter((p) => p.node === 'lb1').map((p) => [p.at, p.priority])).toEqual([
      [12 * S, 90],
      [21 * S, 150],
    ]);
    expect(masterAt(r, 'lb2')).toHaveLength(1);
    expect(masterAt(r, 'lb1')).toHaveLength(2);
  });
});

describe('the example scenarios and the CLI', () => {
  const dir = fileURLToPath(new URL('../../conf-examples/lab/', import.meta.url));
  const examples = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it.each(examples)('%s meets its expectations on sim', async (file) => {
    const { scenario: sc, diagnostics } = loadScenario(join(dir, file));
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const r = finish(sc!, await runSim(sc!));
    expect(r.expectations.filter((v) => !v.passed)).toEqual([]);
    expect(r.expectations.length).toBeGreaterThan(0);
  });

  it('`lab` exits 1 and prints each failed expectation with its why and where', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lab-'));
    const yaml = join(tmp, 'tight.yaml');
    writeFileSync(
      yaml,
      `name: tight\nnodes:\n  lb1: ${join(dir, 'pair/lb1.conf')}\n  lb2: ${join(dir, 'pair/lb2.conf')}\ntimeline:\n  - {at: 6s, kill: lb1, label: dies}\nexpect:\n  - {failover: {after: dies, instance: VI_1, to: lb2, within: 1s}}\n`,
    );
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    let text: string;
    let jsonCode: number;
    try {
      code = await labCommand([yaml]);
      text = out.splice(0).join(''); // the timeline, then the failure lines
      jsonCode = await labCommand([yaml, '--json']);
    } finally {
      spy.mockRestore();
      errSpy.mockRestore();
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(code).toBe(1);
    expect(text).toContain(
      `${yaml}:8:6: expectation failed: VI_1 fails over to lb2 within 1s after kill lb1: lb2 became MASTER at 9.02s, 3.02s after 'kill lb1' at 6.00s (bound 1s)\n`,
    );
    expect(jsonCode).toBe(1);
    const j = JSON.parse(out.join('')) as Record<string, unknown> & { transitions: Record<string, unknown>[] };
    expect(j).toMatchObject({ passed: false, backend: 'sim', durationUs: 17 * S, expectations: [{ passed: false, atUs: 7 * S }] });
    // Every time is whole µs under a key that says so.
    expect(j.transitions.length).toBeGreaterThan(0);
    for (const t of j.transitions) {
      expect(Object.keys(t)).not.toContain('at');
      expect(Number.isInteger(t.atUs)).toBe(true);
    }
  });

  it('`lab` exits 3 on a scenario with errors, and --json still prints a document', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'lab-'));
    const yaml = join(tmp, 'bad.yaml');
    writeFileSync(yaml, `nodes:\n  lb1: ${join(dir, 'pair/lb1.conf')}\ntimeline:\n  - {at: 6s, kil: lb1}\n  - {at: 9s, start: lb1}\n`);
    const out: string[] = [];
    const err: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const errSpy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    let code: number;
    try {
      code = await labCommand([yaml, '--json']);
    } finally {
      spy.mockRestore();
      errSpy.mockRestore();
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(code).toBe(3);
    // One error, one line, at its place; not the "already running" it would cascade into.
    expect(err).toEqual([`${yaml}:4:14: error: unknown key 'kil' in a timeline entry (did you mean 'kill'?) [lab-unknown-key]\n`]);
    expect(JSON.parse(out.join(''))).toEqual({
      file: yaml,
      passed: false,
      error: 'the scenario has errors: it was not run',
      diagnostics: [
        {
          file: yaml,
          line: 4,
          col: 14,
          severity: 'error',
          rule: 'lab-unknown-key',
          message: "unknown key 'kil' in a timeline entry",
          hint: "did you mean 'kill'?",
        },
      ],
      summary: { errors: 1, warnings: 0 },
    });
  });
});
