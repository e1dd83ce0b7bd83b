// Hand-built lab results for the report tests: what a backend would record for a failover, a
// split brain and a long flapping run, with times chosen so positions can be checked exactly.
import type { LabResult, LabState, LabTransition } from '../../src/lab/model/result.js';

export const S = 1_000_000;

const tr = (at: number, node: string, instance: string, from: LabState, to: LabState, priority: number, reason: string): LabTransition => ({
  at: Math.round(at * S),
  node,
  instance,
  from,
  to,
  priority,
  reason,
});

const pair = (): LabResult['nodes'] => [
  {
    name: 'lb1',
    impl: 'keepalived-ts',
    instances: [
      { name: 'VI_1', vrid: 51, interface: 'eth0' },
      { name: 'VI_2', vrid: 52, interface: 'eth0' },
    ],
  },
  {
    name: 'lb2',
    impl: 'keepalived-ts',
    instances: [
      { name: 'VI_1', vrid: 51, interface: 'eth0' },
      { name: 'VI_2', vrid: 52, interface: 'eth0' },
    ],
  },
];

/** lb1 killed at 5s, lb2 takes VI_1 at 8.609s, lb1 back at 12s and preempts; c1 fails 5–8s. */
export function failover(): LabResult {
  const requests: LabResult['requests'] = [];
  for (let s = 0; s < 20; s++) {
    const failed = s >= 5 && s <= 7 ? 10 : s === 8 ? 4 : 0;
    requests.push({ client: 'c1', second: s, ok: 10 - failed, failed, byServer: { rs1: Math.ceil((10 - failed) / 2), rs2: Math.floor((10 - failed) / 2) } });
  }
  return {
    scenario: 'failover-basic',
    file: 'lab/failover.yaml',
    backend: 'sim',
    seed: 1,
    duration: 20 * S,
    wallMs: 312,
    nodes: pair(),
    transitions: [
      tr(0, 'lb1', 'VI_1', 'INIT', 'BACKUP', 150, 'startup'),
      tr(0, 'lb2', 'VI_1', 'INIT', 'BACKUP', 100, 'startup'),
      tr(0, 'lb1', 'VI_2', 'INIT', 'BACKUP', 100, 'startup'),
      tr(0, 'lb2', 'VI_2', 'INIT', 'BACKUP', 150, 'startup'),
      tr(3.609, 'lb1', 'VI_1', 'BACKUP', 'MASTER', 150, 'master down timer'),
      tr(3.609, 'lb2', 'VI_2', 'BACKUP', 'MASTER', 150, 'master down timer'),
      tr(5, 'lb1', 'VI_1', 'MASTER', 'STOPPED', 150, 'node killed'),
      tr(5, 'lb1', 'VI_2', 'BACKUP', 'STOPPED', 100, 'node killed'),
      tr(8.609, 'lb2', 'VI_1', 'BACKUP', 'MASTER', 100, 'master down timer'),
      tr(12, 'lb1', 'VI_1', 'STOPPED', 'BACKUP', 150, 'node started'),
      tr(12, 'lb1', 'VI_2', 'STOPPED', 'BACKUP', 100, 'node started'),
      tr(12.5, 'lb1', 'VI_1', 'BACKUP', 'MASTER', 150, 'preempt: higher priority than the master (150 > 100)'),
      tr(12.501, 'lb2', 'VI_1', 'MASTER', 'BACKUP', 100, 'higher priority advert received'),
    ],
    faults: [
      { at: 5 * S, index: 0, text: 'kill lb1' },
      { at: 12 * S, index: 1, text: 'start lb1' },
    ],
    splitBrains: [],
    notifies: [
      { at: Math.round(3.609 * S), node: 'lb1', kind: 'INSTANCE', name: 'VI_1', state: 'MASTER', priority: 150 },
      { at: Math.round(8.609 * S), node: 'lb2', kind: 'INSTANCE', name: 'VI_1', state: 'MASTER', priority: 100 },
    ],
    requests,
    realServers: [
      { name: 'rs1', address: '10.0.0.21', port: 80 },
      { name: 'rs2', address: '10.0.0.22', port: 80 },
    ],
    servers: [{ at: 14 * S, node: 'lb1', server: 'rs2', inService: false, reason: 'HTTP_GET: connection refused' }],
    notes: [],
    expectations: [
      {
        index: 0,
        text: 'VI_1 fails over to lb2 within 4s after kill lb1',
        passed: true,
        why: 'lb2 became MASTER at 8.609s, 3.609s after kill lb1 (limit 4s)',
        where: 'lab/failover.yaml:31:5',
      },
      { index: 1, text: 'at most one MASTER per VRID (window 1s)', passed: true, why: 'no overlap', where: 'lab/failover.yaml:34:5' },
      {
        index: 2,
        text: 'every request of c1 succeeds except within 2s after each fault',
        passed: false,
        why: 'c1: 34 requests failed between 5s and 9s; 14 of them more than 2s after kill lb1',
        at: 7 * S,
        where: 'lab/failover.yaml:36:5',
      },
    ],
    passed: false,
  };
}

/** A partition of the LAN at 4s: both masters of VI_1 from 7.6s until the heal at 9s settles. */
export function splitBrain(): LabResult {
  return {
    scenario: 'partition-lan',
    file: 'lab/partition.yaml',
    backend: 'netns',
    seed: 7,
    duration: 15 * S,
    wallMs: 15_480,
    nodes: pair().map((n) => ({ ...n, instances: n.instances.slice(0, 1) })),
    transitions: [
      tr(0, 'lb1', 'VI_1', 'INIT', 'BACKUP', 150, 'startup'),
      tr(0, 'lb2', 'VI_1', 'INIT', 'BACKUP', 100, 'startup'),
      tr(3.6, 'lb1', 'VI_1', 'BACKUP', 'MASTER', 150, 'master down timer'),
      tr(7.6, 'lb2', 'VI_1', 'BACKUP', 'MASTER', 100, 'master down timer'),
      tr(9.05, 'lb2', 'VI_1', 'MASTER', 'BACKUP', 100, 'higher priority advert received'),
    ],
    faults: [
      { at: 4 * S, index: 0, text: 'partition lan: [lb1] | [lb2]' },
      { at: 9 * S, index: 1, text: 'heal lan' },
    ],
    splitBrains: [{ vrid: 51, instance: 'VI_1', nodes: ['lb1', 'lb2'], start: 7.6 * S, end: 9.05 * S }],
    notifies: [],
    requests: [],
    realServers: [],
    servers: [],
    notes: [],
    expectations: [
      {
        index: 0,
        text: 'at most one MASTER per VRID (window 1s)',
        passed: false,
        why: 'VI_1 (VRID 51) had two masters, lb1 and lb2, for 1.450s from 7.600s',
        at: 7.6 * S,
        where: 'lab/partition.yaml:22:5',
      },
    ],
    passed: false,
  };
}

/** An hour of lb1 flapping VI_1 every minute (a tracked script failing on and off). */
export function longRun(): LabResult {
  const base = splitBrain();
  const transitions: LabTransition[] = base.transitions.slice(0, 3);
  const faults: LabResult['faults'] = [];
  for (let m = 1; m < 60; m++) {
    const up = m % 2 === 0;
    transitions.push(tr(m * 60, 'lb1', 'VI_1', up ? 'FAULT' : 'MASTER', up ? 'MASTER' : 'FAULT', 150, up ? 'script chk ok' : 'script chk failed'));
    transitions.push(
      tr(m * 60 + 3.2, 'lb2', 'VI_1', up ? 'MASTER' : 'BACKUP', up ? 'BACKUP' : 'MASTER', 100, up ? 'higher priority advert received' : 'master down timer'),
    );
    faults.push({ at: m * 60 * S, index: m - 1, text: `script lb1 chk ${up ? 'ok' : 'fails'}` });
  }
  return { ...base, scenario: 'flapping-hour', duration: 3600 * S, transitions, faults, splitBrains: [], expectations: [], passed: true };
}

/**
 * A pass with what looks bad: a 1.45s split brain that the expectation's window allows, a 100µs
 * one at a preemption, failed requests no expectation forbids, and a real server no checker
 * reported on (keepalived ran VRRP only).
 */
export function toleratedSplit(): LabResult {
  const base = splitBrain();
  return {
    ...base,
    scenario: 'partition-tolerated',
    transitions: [
      ...base.transitions,
      tr(12, 'lb2', 'VI_1', 'BACKUP', 'MASTER', 100, 'master down timer'),
      tr(12.0001, 'lb2', 'VI_1', 'MASTER', 'BACKUP', 100, 'higher priority advert received'),
    ],
    splitBrains: [...base.splitBrains, { vrid: 51, instance: 'VI_1', nodes: ['lb1', 'lb2'], start: 12 * S, end: 12 * S + 100 }],
    requests: [{ client: 'c1', second: 8, ok: 6, failed: 4, byServer: { rs1: 6 } }],
    realServers: [{ name: 'rs1', address: '10.0.0.21', port: 80 }],
    notes: ['lb2: no kernel IPVS here (ip_vs), so keepalived runs VRRP only (-P): its virtual servers are not set up'],
    expectations: [
      { ...base.expectations[0], text: 'at most one MASTER per VRID (window 2s)', passed: true, why: 'the longest split brain lasted 1.450s', at: undefined },
    ],
    passed: true,
  };
}

/** User-controlled strings trying HTML injection and terminal escapes. */
export function hostile(): LabResult {
  const r = failover();
  r.scenario = '<script>alert(1)</script>';
  r.file = 'lab/"evil".yaml';
  r.transitions[4].reason = 'reason with <img src=x onerror="alert(2)"> and \x1b[2J\x1b[31mclear';
  r.faults[0].text = 'kill <b>lb1</b> & \u202eevil';
  r.expectations[2].why = '</td></tr></table><script>alert(3)</script>';
  return r;
}
