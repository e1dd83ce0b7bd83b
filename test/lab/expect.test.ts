// finish(): split brains and verdicts from hand-built runs, whatever backend recorded them.
import { describe, expect, it } from 'vitest';
import { finish } from '../../src/lab/expect/index.js';
import type { LabRun, LabState, LabTransition } from '../../src/lab/model/result.js';
import type { Expectation, Fault, Scenario } from '../../src/lab/model/scenario.js';

const S = 1_000_000;
/** Without their spans (distributed over the unions). */
type FaultIn = Fault extends infer F ? (F extends Fault ? Omit<F, 'span'> : never) : never;
type ExpectIn = Expectation extends infer E ? (E extends Expectation ? Omit<E, 'span'> : never) : never;
const span = { file: 'lab.yaml', line: 3, col: 5 };

function scenario(expectations: ExpectIn[], faults: FaultIn[] = [], segments = [{ name: 'lan', members: ['lb1', 'lb2'] }]): Scenario {
  return {
    name: 't',
    file: 'lab.yaml',
    duration: 30 * S,
    seed: 1,
    nodes: ['lb1', 'lb2', 'lb3'].map((name) => ({ name, config: { file: `${name}.conf` }, impl: 'keepalived-ts', span })),
    segments: segments.map((s) => ({
      name: s.name,
      prefix: 24,
      members: s.members.map((node, i) => ({ node, interface: 'eth0', address: `10.0.0.${i + 1}` })),
      span,
    })),
    realServers: [],
    clients: [],
    faults: faults.map((f) => ({ ...f, span })),
    expectations: expectations.map((e, i) => ({ ...e, span: { ...span, line: 20 + i } })),
    span,
  };
}

const tr = (at: number, node: string, from: LabState, to: LabState, priority = 100, instance = 'VI_1'): LabTransition => ({
  at,
  node,
  instance,
  from,
  to,
  priority,
  reason: 'test',
});

function run(transitions: LabTransition[], more: Partial<LabRun> = {}): LabRun {
  return {
    scenario: 't',
    file: 'lab.yaml',
    backend: 'sim',
    seed: 1,
    duration: 30 * S,
    wallMs: 1,
    nodes: ['lb1', 'lb2', 'lb3'].map((name) => ({ name, impl: 'keepalived-ts', instances: [{ name: 'VI_1', vrid: 51, interface: 'eth0' }] })),
    transitions,
    faults: [],
    notifies: [],
    requests: [],
    realServers: [],
    servers: [],
    notes: [],
    ...more,
  };
}

/** lb1 MASTER from 3.61 s, lb2 BACKUP; lb1 killed at 10 s, lb2 MASTER at 13.26 s. */
const failoverRun = (): LabTransition[] => [
  tr(0, 'lb1', 'INIT', 'BACKUP'),
  tr(0, 'lb2', 'INIT', 'BACKUP', 90),
  tr(3_609_375, 'lb1', 'BACKUP', 'MASTER'),
  tr(10 * S, 'lb1', 'MASTER', 'STOPPED'),
  tr(13_260_000, 'lb2', 'BACKUP', 'MASTER', 90),
];

describe('split brains', () => {
  it('records overlapping masters per VRID and segment, with start and end', () => {
    const r = finish(
      scenario([]),
      run([
        tr(1 * S, 'lb1', 'BACKUP', 'MASTER'),
        tr(2 * S, 'lb2', 'BACKUP', 'MASTER'),
        tr(5 * S, 'lb1', 'MASTER', 'BACKUP'),
        tr(20 * S, 'lb1', 'BACKUP', 'MASTER'),
      ]),
    );
    expect(r.splitBrains).toEqual([
      { vrid: 51, instance: 'VI_1', nodes: ['lb1', 'lb2'], start: 2 * S, end: 5 * S },
      { vrid: 51, instance: 'VI_1', nodes: ['lb2', 'lb1'], start: 20 * S, end: null },
    ]);
  });

  it('a hand-over within one instant is not a split brain; the same VRID on another segment is not either', () => {
    const handover = finish(
      scenario([]),
      run([tr(1 * S, 'lb1', 'BACKUP', 'MASTER'), tr(2 * S, 'lb2', 'BACKUP', 'MASTER'), tr(2 * S, 'lb1', 'MASTER', 'BACKUP')]),
    );
    expect(handover.splitBrains).toEqual([]);
    const apart = finish(
      scenario(
        [],
        [],
        [
          { name: 'lan', members: ['lb1'] },
          { name: 'dmz', members: ['lb2'] },
        ],
      ),
      run([tr(1 * S, 'lb1', 'BACKUP', 'MASTER'), tr(2 * S, 'lb2', 'BACKUP', 'MASTER')]),
    );
    expect(apart.splitBrains).toEqual([]);
  });

  it('single-master: overlaps within the window pass, longer ones fail at start + window', () => {
    const transitions = [
      tr(1 * S, 'lb1', 'BACKUP', 'MASTER'),
      tr(2 * S, 'lb2', 'BACKUP', 'MASTER'),
      tr(2 * S + 150, 'lb2', 'MASTER', 'BACKUP'),
      tr(8 * S, 'lb2', 'BACKUP', 'MASTER'),
    ];
    const r = finish(
      scenario([
        { kind: 'single-master', window: S },
        { kind: 'single-master', window: 60 * S },
      ]),
      run(transitions),
    );
    expect(r.expectations[0]).toMatchObject({
      passed: false,
      at: 9 * S,
      where: 'lab.yaml:20:5',
      why: 'lb1 and lb2 were all MASTER of VRID 51 (VI_1) from 8.00s until the end of the run (30.00s): 22s, longer than the 1s window',
    });
    expect(r.expectations[1]).toMatchObject({ passed: true, why: '2 overlap(s), the longest 22s (lb1 and lb2, VRID 51 at 8.00s), within the 60s window' });
    expect(r.passed).toBe(false);
  });
});

describe('failover and master', () => {
  const faults: FaultIn[] = [{ at: 10 * S, kind: 'kill', node: 'lb1' }];

  it('names the moment, the delay after the fault and the bound', () => {
    const r = finish(
      scenario(
        [
          { kind: 'failover', after: 0, instance: 'VI_1', to: 'lb2', within: 4 * S },
          { kind: 'failover', after: 0, instance: 'VI_1', to: 'lb2', within: 2 * S },
        ],
        faults,
      ),
      run(failoverRun(), { faults: [{ at: 10 * S, index: 0, text: 'kill lb1' }] }),
    );
    expect(r.expectations[0]).toMatchObject({
      index: 0,
      passed: true,
      text: 'VI_1 fails over to lb2 within 4s after kill lb1',
      why: "lb2 became MASTER at 13.26s, 3.26s after 'kill lb1' at 10.00s (bound 4s)",
    });
    expect(r.expectations[1]).toMatchObject({ passed: false, at: 12 * S, why: "lb2 became MASTER at 13.26s, 3.26s after 'kill lb1' at 10.00s (bound 2s)" });
  });

  it('uses the time the backend applied the fault, not the nominal one', () => {
    const r = finish(
      scenario([{ kind: 'failover', after: 0, instance: 'VI_1', to: 'lb2', within: 3 * S }], faults),
      run(failoverRun(), { faults: [{ at: 10_500_000, index: 0, text: 'kill lb1' }] }),
    );
    expect(r.expectations[0]).toMatchObject({ passed: true, why: "lb2 became MASTER at 13.26s, 2.76s after 'kill lb1' at 10.50s (bound 3s)" });
  });

  it('never: says what the node and the master were at the deadline', () => {
    const ts = [tr(0, 'lb1', 'INIT', 'BACKUP'), tr(0, 'lb2', 'INIT', 'BACKUP', 90), tr(3_609_375, 'lb1', 'BACKUP', 'MASTER')];
    const r = finish(
      scenario(
        [{ kind: 'failover', after: 0, instance: 'VI_1', to: 'lb2', within: 4 * S }],
        [{ at: 10 * S, kind: 'script', node: 'lb1', script: 'chk', ok: false }],
      ),
      run(ts, { priorities: [{ at: 10 * S, node: 'lb1', instance: 'VI_1', priority: 95 }] }),
    );
    expect(r.expectations[0]).toMatchObject({
      passed: false,
      at: 14 * S,
      why: "lb2 never became MASTER of VI_1 after 'script chk on lb1 fails' at 10.00s: at 14.00s it was BACKUP (priority 90), MASTER: lb1 (since 3.61s); lb1's priority fell to 95, still above lb2's 90",
    });
  });

  it('master at a time: exactly that node, or nobody', () => {
    const r = finish(
      scenario([
        { kind: 'master', at: 5 * S, instance: 'VI_1', node: 'lb1' },
        { kind: 'master', at: 11 * S, instance: 'VI_1', node: 'lb2' },
        { kind: 'master', at: 11 * S, instance: 'VI_1', node: null },
      ]),
      run(failoverRun()),
    );
    expect(r.expectations.map((v) => [v.passed, v.why])).toEqual([
      [true, 'at 5.00s lb1 (since 3.61s) was MASTER of VI_1'],
      [false, 'at 11.00s nobody was MASTER of VI_1; expected lb2 alone'],
      [true, 'at 11.00s nobody was MASTER of VI_1'],
    ]);
    expect(r.expectations[1].at).toBe(11 * S);
  });
});

describe('no-failover', () => {
  const faults: FaultIn[] = [{ at: 10 * S, kind: 'script', node: 'lb1', script: 'chk', ok: false }];
  const base = [tr(0, 'lb1', 'INIT', 'BACKUP'), tr(0, 'lb2', 'INIT', 'BACKUP', 60), tr(3_609_375, 'lb1', 'BACKUP', 'MASTER')];

  it('passes with the priorities that kept the master: a weight too small', () => {
    const r = finish(
      scenario([{ kind: 'no-failover', after: 0, instance: 'VI_1', for: 10 * S }], faults),
      run(base, { priorities: [{ at: 10 * S, node: 'lb1', instance: 'VI_1', priority: 70 }] }),
    );
    expect(r.expectations[0]).toMatchObject({
      passed: true,
      text: 'VI_1 keeps its MASTER for 10s after script chk on lb1 fails',
      why: "lb1 stayed MASTER of VI_1 from 10.00s to 20.00s, after 'script chk on lb1 fails' at 10.00s: lb1's priority fell to 70, still above lb2's 60",
    });
  });

  it('fails at the moment mastership moved', () => {
    const ts = [...base, tr(13_300_000, 'lb2', 'BACKUP', 'MASTER', 60), tr(13_300_100, 'lb1', 'MASTER', 'BACKUP', 50)];
    const r = finish(
      scenario([{ kind: 'no-failover', after: 0, instance: 'VI_1', for: 10 * S }], faults),
      run(ts, { priorities: [{ at: 10 * S, node: 'lb1', instance: 'VI_1', priority: 50 }] }),
    );
    expect(r.expectations[0]).toMatchObject({
      passed: false,
      at: 13_300_000,
      why: "lb2 became MASTER of VI_1 at 13.30s, 3.3s after 'script chk on lb1 fails' at 10.00s; lb1's priority fell to 50, below lb2's 60",
    });
  });

  it('compares with the mastership just before the fault: a kill is a change at once', () => {
    const r = finish(
      scenario([{ kind: 'no-failover', after: 0, instance: 'VI_1', for: 10 * S }], [{ at: 10 * S, kind: 'kill', node: 'lb1' }]),
      run(failoverRun()),
    );
    expect(r.expectations[0]).toMatchObject({ passed: false, at: 10 * S });
    expect(r.expectations[0].why).toMatch(/^lb1 stopped being MASTER \(now STOPPED\) of VI_1 at 10\.00s, 0µs after 'kill lb1' at 10\.00s$/);
  });

  it('a master that steps down with nobody taking over is a change too', () => {
    const ts = [...base, tr(11 * S, 'lb1', 'MASTER', 'FAULT', 100)];
    const r = finish(scenario([{ kind: 'no-failover', after: 0, instance: 'VI_1', for: 10 * S }], faults), run(ts));
    expect(r.expectations[0]).toMatchObject({ passed: false, at: 11 * S });
    expect(r.expectations[0].why).toMatch(/^lb1 stopped being MASTER \(now FAULT\) of VI_1 at 11\.00s, 1s after/);
  });
});

describe('requests, vip and notify', () => {
  const bucket = (second: number, ok: number, failed: number, failures?: Record<string, number>) => ({
    client: 'c1',
    second,
    ok,
    failed,
    byServer: { web1: ok },
    ...(failures ? { failures } : {}),
  });

  it('requests: failures within the window after a fault are excused, others are reported with reasons', () => {
    const requests = [
      bucket(4, 10, 0),
      bucket(5, 4, 6, { 'lb1 is down': 6 }),
      bucket(6, 7, 3, { 'lb1 is down': 3 }),
      bucket(9, 9, 1, { 'web1 refused the connection': 1 }),
    ];
    const faults: FaultIn[] = [{ at: 5 * S, kind: 'kill', node: 'lb1' }];
    const recorded = { requests, faults: [{ at: 5 * S, index: 0, text: 'kill lb1' }] };
    const r = finish(
      scenario(
        [
          { kind: 'requests', window: 2 * S },
          { kind: 'requests', client: 'c1', window: 5 * S },
          { kind: 'requests', client: 'c2', window: 5 * S },
        ],
        faults,
      ),
      run([], recorded),
    );
    expect(r.expectations[0]).toMatchObject({
      passed: false,
      at: 9 * S,
      why: '1 of 40 request(s) of the clients failed outside the 2s fault windows, in second 9: web1 refused the connection ×1',
    });
    expect(r.expectations[1]).toMatchObject({ passed: true, why: 'all 30 request(s) of c1 outside the 5s fault windows succeeded (10 failed within them)' });
    expect(r.expectations[2]).toMatchObject({ passed: false, why: 'no requests of c2 were recorded' });
  });

  it('vip: from the samples; a backend without them fails the expectation saying so', () => {
    const vips = [
      { at: 3 * S, address: '10.0.0.100', segment: 'lan', reachable: true, holders: ['lb1'] },
      { at: 10 * S, address: '10.0.0.100', segment: 'lan', reachable: false, holders: [] },
    ];
    const exps: ExpectIn[] = [
      { kind: 'vip', at: 5 * S, address: '10.0.0.100', reachable: true },
      { kind: 'vip', at: 12 * S, address: '10.0.0.100', reachable: true },
    ];
    const r = finish(scenario(exps), run([], { vips }));
    expect(r.expectations.map((v) => [v.passed, v.why])).toEqual([
      [true, 'at 5.00s 10.0.0.100 answered, held by lb1 (since 3.00s)'],
      [false, 'at 12.00s 10.0.0.100 did not answer, held by nobody (since 10.00s)'],
    ]);
    expect(finish(scenario(exps), run([])).expectations[0]).toMatchObject({ passed: false, why: 'the sim backend did not record the VIPs' });
  });

  it('notify: the states in order, exactly', () => {
    const notifies = ['BACKUP', 'MASTER', 'STOP'].map((state, i) => ({
      at: i * S,
      node: 'lb1',
      kind: 'INSTANCE' as const,
      name: 'VI_1',
      state,
      priority: 100,
    }));
    const r = finish(
      scenario([
        { kind: 'notify', node: 'lb1', instance: 'VI_1', states: ['BACKUP', 'MASTER', 'STOP'] },
        { kind: 'notify', node: 'lb1', instance: 'VI_1', states: ['BACKUP', 'FAULT'] },
      ]),
      run([], { notifies }),
    );
    expect(r.expectations[0]).toMatchObject({ passed: true, why: 'lb1 notified VI_1: BACKUP (0.00s), MASTER (1.00s), STOP (2.00s)' });
    expect(r.expectations[1]).toMatchObject({
      passed: false,
      at: S,
      why: 'lb1 notified VI_1: BACKUP (0.00s), MASTER (1.00s), STOP (2.00s); expected BACKUP, FAULT',
    });
  });
});
