// The scenario loader: the examples load clean, each kind of mistake is reported with its rule
// at its place, and the defaults (segment, addresses, sorting, labels) come out as documented.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import { loadScenario, loadScenarioText } from '../../src/lab/load/index.js';
import { formatTime, parseProbability, parseTime } from '../../src/lab/model/times.js';

const LAB = join(__dirname, '../../conf-examples/lab');
/** Scenarios under test sit next to the examples, so `pair/lb1.conf` resolves. */
const FILE = join(LAB, 'under-test.yaml');

/** 1-based line and column of the first occurrence of `needle` (after `after`, if given). */
function pos(text: string, needle: string, after = ''): string {
  const i = text.indexOf(needle, after ? text.indexOf(after) : 0);
  if (i < 0) throw new Error(`${needle} not in text`);
  const lines = text.slice(0, i).split('\n');
  return `${lines.length}:${lines[lines.length - 1].length + 1}`;
}

const PAIR = `nodes:\n  lb1: pair/lb1.conf\n  lb2: pair/lb2.conf\n`;
/** The pair with track_process (nginx, quorum 2). */
const PROCESS = `nodes:\n  lb1: process/lb1.conf\n  lb2: process/lb2.conf\n`;

describe('the examples in conf-examples/lab', () => {
  const files = readdirSync(LAB).filter((f) => f.endsWith('.yaml'));
  it('are the nine scenarios of the lab issue, IPv6, track_process and a large pair', () => {
    expect(files.sort()).toEqual([
      'flapping-track-script.yaml',
      'graceful-stop.yaml',
      'ipv6-failover.yaml',
      'large-pair.yaml',
      'master-killed.yaml',
      'partition-split-brain.yaml',
      'preempt-delay.yaml',
      'reload-broken-config.yaml',
      'sorry-server.yaml',
      'sync-group.yaml',
      'track-process.yaml',
      'weight-too-small.yaml',
    ]);
  });
  it.each(files)('%s loads without diagnostics', (f) => {
    const r = loadScenario(join(LAB, f));
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(r.scenario?.nodes.length).toBe(2);
    expect(r.scenario?.expectations.length).toBeGreaterThan(0);
  });
});

describe('malformed scenarios', () => {
  const cases: { name: string; yaml: string; rule: string; at: [string, string?]; hint?: RegExp }[] = [
    { name: 'unknown key', yaml: `${PAIR}timelime: []\n`, rule: 'lab-unknown-key', at: ['timelime'], hint: /did you mean 'timeline'/ },
    {
      name: 'unknown key in a fault',
      yaml: `${PAIR}timeline:\n  - {at: 5s, link: {node: lb1, los: 30%}}\n`,
      rule: 'lab-unknown-key',
      at: ['los'],
      hint: /'loss'/,
    },
    { name: 'bad time', yaml: `${PAIR}timeline:\n  - {at: 5x, kill: lb1}\n`, rule: 'lab-value', at: ['5x'], hint: /250ms/ },
    { name: 'bad probability', yaml: `${PAIR}timeline:\n  - {at: 5s, link: {node: lb1, loss: 130%}}\n`, rule: 'lab-value', at: ['130%'] },
    {
      name: 'fault naming an unknown node',
      yaml: `${PAIR}timeline:\n  - {at: 5s, kill: lb3}\n`,
      rule: 'lab-unknown-node',
      at: ['lb3'],
      hint: /did you mean 'lb[12]'/,
    },
    {
      name: 'fault naming an unknown script',
      yaml: `${PAIR}timeline:\n  - {at: 5s, script: {node: lb1, name: chk_nginz, result: fail}}\n`,
      rule: 'lab-unknown-tracker',
      at: ['chk_nginz'],
      hint: /chk_nginx/,
    },
    {
      name: 'fault naming an unknown interface',
      yaml: `${PAIR}timeline:\n  - {at: 5s, interface: {node: lb2, name: eth7, state: down}}\n`,
      rule: 'lab-unknown-interface',
      at: ['eth7'],
    },
    {
      name: 'process fault naming a process no track_process counts',
      yaml: `${PROCESS}timeline:\n  - {at: 5s, process: {node: lb1, name: ngnix, state: down}}\n`,
      rule: 'lab-unknown-tracker',
      at: ['ngnix'],
      hint: /did you mean 'nginx'/,
    },
    {
      name: 'process fault on a node without track_process',
      yaml: `${PAIR}timeline:\n  - {at: 5s, process: {node: lb1, name: nginx, state: down}}\n`,
      rule: 'lab-unknown-tracker',
      at: ['nginx'],
      hint: /lb1's config has none/,
    },
    {
      name: 'process fault with state and count',
      yaml: `${PROCESS}timeline:\n  - {at: 5s, process: {node: lb1, name: nginx, state: down, count: 0}}\n`,
      rule: 'lab-entry-kind',
      at: ['{node'],
    },
    {
      name: 'process fault with neither state nor count',
      yaml: `${PROCESS}timeline:\n  - {at: 5s, process: {node: lb1, name: nginx}}\n`,
      rule: 'lab-missing-key',
      at: ['{node'],
      hint: /count: N/,
    },
    {
      name: 'process fault with a bad state',
      yaml: `${PROCESS}timeline:\n  - {at: 5s, process: {node: lb1, name: nginx, state: dead}}\n`,
      rule: 'lab-value',
      at: ['dead'],
    },
    {
      name: 'process fault with too many processes',
      yaml: `${PROCESS}timeline:\n  - {at: 5s, process: {node: lb1, name: nginx, count: 5000}}\n`,
      rule: 'lab-value',
      at: ['5000'],
    },
    { name: 'fault with two kinds', yaml: `${PAIR}timeline:\n  - {at: 5s, kill: lb1, stop: lb2}\n`, rule: 'lab-entry-kind', at: ['{at'] },
    { name: 'fault without a kind', yaml: `${PAIR}timeline:\n  - {at: 5s, label: x}\n`, rule: 'lab-entry-kind', at: ['{at'] },
    { name: 'fault without at', yaml: `${PAIR}timeline:\n  - {kill: lb1}\n`, rule: 'lab-missing-key', at: ['{kill'] },
    {
      name: 'expectation with an unknown instance',
      yaml: `${PAIR}timeline:\n  - {at: 5s, kill: lb1}\nexpect:\n  - {failover: {after: 0, instance: VI_2, to: lb2, within: 4s}}\n`,
      rule: 'lab-unknown-instance',
      at: ['VI_2'],
      hint: /VI_1/,
    },
    { name: 'master on a node without the instance', yaml: `${PAIR}expect:\n  - {master: {VI_9: lb1}, at: 4s}\n`, rule: 'lab-unknown-instance', at: ['VI_9'] },
    {
      name: 'unknown label',
      yaml: `${PAIR}timeline:\n  - {at: 5s, kill: lb1, label: master-dies}\nexpect:\n  - {failover: {after: master-dise, instance: VI_1, to: lb2, within: 4s}}\n`,
      rule: 'lab-unknown-label',
      at: ['master-dise'],
      hint: /master-dies/,
    },
    {
      name: 'index past the timeline',
      yaml: `${PAIR}timeline:\n  - {at: 5s, kill: lb1}\nexpect:\n  - {no-failover: {after: 3, instance: VI_1, for: 4s}}\n`,
      rule: 'lab-unknown-label',
      at: ['3,'],
    },
    {
      name: 'at on an expectation timed otherwise',
      yaml: `${PAIR}timeline:\n  - {at: 5s, kill: lb1}\nexpect:\n  - {failover: {after: 0, instance: VI_1, to: lb2, within: 4s}, at: 3s}\n`,
      rule: 'lab-unknown-key',
      at: ['at: 3s'],
      hint: /own timing/,
    },
    {
      name: 'label used twice',
      yaml: `${PAIR}timeline:\n  - {at: 5s, kill: lb1, label: x}\n  - {at: 6s, start: lb1, label: x}\n`,
      rule: 'lab-duplicate',
      at: ['x}', 'start'],
    },
    { name: 'YAML syntax error', yaml: `${PAIR}timeline:\n  - at: kill: lb1\n`, rule: 'lab-yaml', at: ['kill'] },
    { name: 'missing nodes', yaml: `name: nothing\ntimeline: []\n`, rule: 'lab-missing-key', at: ['name'] },
    { name: 'missing config file', yaml: `nodes:\n  lb1: pair/nope.conf\n`, rule: 'lab-file', at: ['pair/nope.conf'] },
    { name: 'heal of an unknown segment', yaml: `${PAIR}timeline:\n  - {at: 5s, heal: wan}\n`, rule: 'lab-unknown-name', at: ['wan'] },
    {
      name: 'partition naming a node twice',
      yaml: `${PAIR}timeline:\n  - {at: 5s, partition: [[lb1], [lb1, lb2]]}\n`,
      rule: 'lab-duplicate',
      at: ['lb1, lb2'],
    },
    { name: 'a node, a server and a client with one name', yaml: `${PAIR}real-servers:\n  lb2: 192.168.1.21:80\n`, rule: 'lab-duplicate', at: ['lb2: 1'] },
    { name: 'requests without clients', yaml: `${PAIR}expect:\n  - {requests: {window: 4s}}\n`, rule: 'lab-unknown-name', at: ['requests'] },
    {
      name: 'an error in inline config text, at its line in the YAML',
      yaml: 'nodes:\n  lb1:\n    config: |\n      vrrp_instance VI_1 {\n          interface eth0\n          virtual_router_id 51\n          priorty 150\n          virtual_ipaddress {\n              192.168.1.100/24\n          }\n      }\n',
      rule: 'unknown-keyword',
      at: ['priorty'],
    },
  ];
  it.each(cases)('$name: [$rule] at its place', ({ yaml, rule, at, hint }) => {
    const r = loadScenarioText(yaml, FILE);
    expect(r.scenario).toBeUndefined();
    const d = r.diagnostics.find((x) => x.rule === rule);
    expect(d, r.diagnostics.map(formatDiagnostic).join('\n')).toBeDefined();
    expect(`${d!.line}:${d!.col}`).toBe(pos(yaml, at[0], at[1]));
    expect(d!.file).toBe(FILE);
    if (hint) expect(d!.hint).toMatch(hint);
  });

  it('a broken node config also gets one line in the scenario saying the lab will not run it', () => {
    const r = loadScenarioText(cases[cases.length - 1].yaml, FILE);
    expect(r.diagnostics.map((d) => d.rule)).toContain('lab-node-config');
  });

  it('lists every problem of a file, not only the first', () => {
    const yaml = `${PAIR}timeline:\n  - {at: 5x, kill: lb3}\n  - {at: 6s, stop: lb4}\nexpect:\n  - {master: {VI_1: lb9}, at: 1s}\n`;
    expect(loadScenarioText(yaml, FILE).diagnostics.map((d) => d.rule)).toEqual(['lab-value', 'lab-unknown-node', 'lab-unknown-node']);
  });

  it('warns about what the run will not reach or use, and still loads', () => {
    const yaml = `${PAIR}duration: 10s\nclients:\n  user: {target: 192.168.1.100:8080}\ntimeline:\n  - {at: 12s, kill: lb1}\n`;
    const r = loadScenarioText(yaml, FILE);
    expect(r.diagnostics.map((d) => `${d.severity} ${d.rule} ${d.line}`)).toEqual(['warning lab-not-in-config 6', 'warning lab-after-end 8']);
    expect(r.scenario).toBeDefined();
  });

  it('reports faults that make no sense where the timeline has got to', () => {
    const yaml = `${PAIR}timeline:\n  - {at: 1s, start: lb1}\n  - {at: 2s, heal: true}\n  - {at: 3s, stop: lb2}\n  - {at: 4s, kill: lb2}\n`;
    const r = loadScenarioText(yaml, FILE);
    expect(r.diagnostics.map((d) => `${d.severity} ${d.rule} ${d.line}`)).toEqual(['error lab-sequence 5', 'warning lab-sequence 6', 'error lab-sequence 8']);
  });

  it('reports a bad timeline entry once, without the sequence errors it would cause', () => {
    // Without the `kil` entry, lb1 would still run at 12s: "cannot start" would be noise.
    const yaml = `${PAIR}timeline:\n  - {at: 6s, kil: lb1}\n  - {at: 12s, start: lb1}\n  - {at: 13s, stop: lb3}\n`;
    const d = loadScenarioText(yaml, FILE).diagnostics;
    expect(d.map((x) => `${x.rule} ${x.line}`)).toEqual(['lab-unknown-key 5', 'lab-unknown-node 7']);
  });

  it('reports `node:` for `nodes:` once, not every reference to a node', () => {
    const yaml = `node:\n  lb1: pair/lb1.conf\n  lb2: pair/lb2.conf\ntimeline:\n  - {at: 6s, kill: lb1, label: x}\nexpect:\n  - {failover: {after: x, instance: VI_1, to: lb2, within: 4s}}\n  - {no-failover: {after: x, instance: VI_1, for: 4s}}\n`;
    const d = loadScenarioText(yaml, FILE).diagnostics;
    expect(d.map((x) => `${x.rule} ${x.line}:${x.col} ${x.hint}`)).toEqual(["lab-unknown-key 1:1 did you mean 'nodes'?"]);
    // Without any key that looks like it, the missing key is the error.
    expect(loadScenarioText(`timeline:\n  - {at: 6s, kill: lb1}\n`, FILE).diagnostics.map((x) => x.rule)).toEqual(['lab-missing-key']);
  });

  it('with `nodes` misspelt or a node config in error, real servers, clients and VIPs are not checked against configs', () => {
    const rest = `real-servers:\n  web1: 192.168.1.21:80\nclients:\n  user: {target: 192.168.1.100:80, rate: 20}\nexpect:\n  - {vip: 192.168.1.100, at: 12s}\n`;
    const misspelt = loadScenarioText(`node:\n  lb1: pair/lb1.conf\n  lb2: pair/lb2.conf\n${rest}`, FILE).diagnostics;
    expect(misspelt.map((x) => `${x.rule} ${x.line}`)).toEqual(['lab-unknown-key 1']);
    const broken = loadScenarioText(`nodes:\n  lb1: pair/lb1.conf\n  lb2: pair/no-such.conf\n${rest}`, FILE).diagnostics;
    expect(broken.map((x) => `${x.severity} ${x.line}`)).toEqual(['error 3']);
    // With the configs loaded, the same lines are checked: the VIP is lb1's, 192.168.1.99 is nobody's.
    const ok = loadScenarioText(
      `nodes:\n  lb1: pair/lb1.conf\n  lb2: pair/lb2.conf\n${rest.replace('vip: 192.168.1.100', 'vip: 192.168.1.99')}`,
      FILE,
    ).diagnostics;
    expect(ok.map((x) => `${x.rule} ${x.line}`)).toContain('lab-not-in-config 9');
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = loadScenarioText(`${PAIR}${s}`, FILE);
        expect(Array.isArray(r.diagnostics)).toBe(true);
      }),
      { numRuns: 200 },
    );
    for (const text of [
      '',
      'null',
      '[]',
      '- 1',
      'nodes: 5',
      'nodes: {lb1: {}}',
      'nodes: {a: [1]}',
      'expect: [[], {}, 1]',
      'timeline: {a: 1}',
      'nodes: &x [*x]',
      'nodes: &x {a: *x}',
    ]) {
      expect(() => loadScenarioText(text, FILE)).not.toThrow();
    }
  });

  it('a scenario file that does not exist', () => {
    const r = loadScenario(join(LAB, 'missing.yaml'));
    expect(r.diagnostics.map((d) => d.rule)).toEqual(['lab-file']);
  });
});

describe('IPv6, VMAC and track_process scenarios', () => {
  const node = (prio: number, vip: string, extra = '') =>
    `    config: |\n      vrrp_instance VI_1 {\n          interface eth0\n          virtual_router_id 60\n          priority ${prio}\n${extra}          virtual_ipaddress {\n              ${vip}\n          }\n      }\n`;
  const segments = (yaml: string) => loadScenarioText(yaml, FILE).scenario!.segments.map((g) => g.members.map((m) => `${m.node}:${m.interface} ${m.address}`));

  it('derives an IPv6 segment from an IPv6 VIP: the next free hosts of its /64, skipping the VIP', () => {
    expect(segments(`nodes:\n  a:\n${node(150, '2001:db8:7::1/64')}  b:\n${node(100, '2001:db8:7::1/64')}`)).toEqual([
      ['a:eth0 2001:db8:7::2', 'b:eth0 2001:db8:7::3'],
    ]);
  });
  it('a VIP on a VMAC belongs to the interface the VMAC sits on', () => {
    expect(segments(`nodes:\n  a:\n${node(150, '10.9.0.100/24', '          use_vmac\n')}  b:\n${node(100, '10.9.0.100/24', '          use_vmac\n')}`)).toEqual([
      ['a:eth0 10.9.0.1', 'b:eth0 10.9.0.2'],
    ]);
  });
  it('a process fault names a vrrp_track_process or its process; state up means as many as at the start (the quorum)', () => {
    const r = loadScenarioText(
      `${PROCESS}timeline:\n  - {at: 5s, process: {node: lb1, name: nginx, state: down}}\n  - {at: 6s, process: {node: lb1, name: nginx, state: up}}\n  - {at: 7s, process: {node: lb2, name: nginx, count: 3}}\n`,
      FILE,
    );
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(r.scenario!.faults.map(({ span: _, ...f }) => f)).toEqual([
      { at: 5_000_000, kind: 'process', node: 'lb1', name: 'nginx', processes: ['nginx'], count: 0, state: 'down' },
      { at: 6_000_000, kind: 'process', node: 'lb1', name: 'nginx', processes: ['nginx'], count: 2, state: 'up' },
      { at: 7_000_000, kind: 'process', node: 'lb2', name: 'nginx', processes: ['nginx'], count: 3 },
    ]);
  });
});

describe('the validated scenario', () => {
  const CONF = (name: string, prio: number, extra = '') =>
    `    config: |\n      global_defs {\n          enable_script_security\n      }\n      vrrp_script chk {\n          script "/bin/true"\n          weight -60\n      }\n      track_file tf1 {\n          file /tmp/tf1\n      }\n      vrrp_instance VI_1 {\n          interface eth0\n          virtual_router_id 51\n          priority ${prio}\n${extra}          virtual_ipaddress {\n              10.1.2.100/24\n          }\n          track_script {\n              chk\n          }\n      }\n` +
    `    config-id: ${name}\n`;
  const yaml = [
    'name: defaults',
    'nodes:',
    `  a:\n${CONF('a', 150)}`,
    `  b:\n${CONF('b', 100, '          mcast_src_ip 10.1.2.50\n')}    impl: keepalived`,
    '  c: pair/lb2.conf',
    'real-servers:',
    '  web1: 10.1.2.1:80',
    'timeline:',
    '  - {at: 9s, start: a, label: back}',
    '  - {at: 1.5s, kill: a, label: dies}',
    '  - {at: 250ms, file: {node: b, name: tf1, value: 10}}',
    '  - {at: 2m, link: {node: b, loss: 30%, delay: 50ms}}',
    '  - {at: 3, partition: [[a]], label: cut}',
    'expect:',
    '  - {failover: {after: dies, instance: VI_1, to: b, within: 4s}}',
    '  - {no-failover: {after: 0, instance: VI_1, for: 2s}}',
    '  - {master: {VI_1: none}, at: 500ms}',
    '  - {single-master: true}',
  ].join('\n');
  const r = loadScenarioText(yaml, FILE);

  it('loads (web1 is in no virtual_server: a warning)', () => {
    expect(r.diagnostics.map((d) => d.rule)).toEqual(['lab-not-in-config']);
  });
  it('inline configs are kept as text; paths are resolved against the scenario', () => {
    const [a, b, c] = r.scenario!.nodes;
    expect(a).toMatchObject({ name: 'a', impl: 'keepalived-ts', configId: 'a', config: { file: FILE } });
    expect(a.config.text).toContain('vrrp_instance VI_1 {\n    interface eth0');
    expect(b.impl).toBe('keepalived');
    expect(c.config).toEqual({ file: join(LAB, 'pair/lb2.conf') });
    expect(c.configId).toBe('c'); // default: the node's name
  });
  it('derives one segment "lan": the source address (mcast_src_ip) where set, else free addresses of the VIP subnet in node order', () => {
    // web1 has .1; b sends from .50; the VIP is .100.
    expect(r.scenario!.segments.map(({ span: _, ...s }) => s)).toEqual([
      {
        name: 'lan',
        prefix: 24,
        members: [
          { node: 'a', interface: 'eth0', address: '10.1.2.2' },
          { node: 'b', interface: 'eth0', address: '10.1.2.50' },
          { node: 'c', interface: 'eth0', address: '192.168.1.12' },
        ],
      },
    ]);
    expect(r.scenario!.realServers[0]).toMatchObject({ name: 'web1', segment: 'lan', up: true, body: 'web1' });
  });
  it('sorts faults by time in µs, and maps labels and written indexes onto the sorted list', () => {
    const s = r.scenario!;
    expect(s.faults.map((f) => [f.at, f.kind])).toEqual([
      [250_000, 'file'],
      [1_500_000, 'kill'],
      [3_000_000, 'partition'],
      [9_000_000, 'start'],
      [120_000_000, 'link'],
    ]);
    expect(s.faults[2]).toMatchObject({ segment: 'lan', groups: [['a'], ['b', 'c']] });
    expect(s.faults[4]).toMatchObject({ node: 'b', segment: 'lan', loss: 0.3, delay: 50_000 });
    expect(s.faults[4]).not.toHaveProperty('duplicate');
    expect(s.expectations[0]).toMatchObject({ kind: 'failover', after: 1, within: 4_000_000 });
    // `after: 0` is the first entry as written: `start a` at 9 s, the fourth after sorting.
    expect(s.expectations[1]).toMatchObject({ kind: 'no-failover', after: 3, for: 2_000_000 });
    expect(s.expectations[2]).toMatchObject({ kind: 'master', node: null, at: 500_000 });
    expect(s.expectations[3]).toMatchObject({ kind: 'single-master', window: 0 });
  });
  it('lasts until the last fault or expectation plus 10 s, with seed 1, when not told', () => {
    expect(r.scenario!.duration).toBe(130_000_000);
    expect(r.scenario!.seed).toBe(1);
  });
  it('carries spans to the YAML', () => {
    expect(r.scenario!.faults[0].span).toEqual({ file: FILE, ...lineCol(pos(yaml, 'file:')) });
  });
});

function lineCol(s: string): { line: number; col: number } {
  const [line, col] = s.split(':').map(Number);
  return { line, col };
}

describe('derived wiring with two legs', () => {
  it('puts each interface name on its own segment, named after it, with addresses from its VIP subnet', () => {
    const r = loadScenarioText('nodes:\n  lb1: sync/lb1.conf\n  lb2: sync/lb2.conf\n', FILE);
    expect(r.diagnostics).toEqual([]);
    expect(r.scenario!.segments.map((s) => [s.name, s.prefix, s.members.map((m) => `${m.node}:${m.interface}=${m.address}`)])).toEqual([
      ['eth0', 24, ['lb1:eth0=192.168.3.1', 'lb2:eth0=192.168.3.2']],
      ['eth1', 24, ['lb1:eth1=10.0.0.1', 'lb2:eth1=10.0.0.2']],
    ]);
  });
  it('asks which segment a shorthand partition means', () => {
    const yaml = 'nodes:\n  lb1: sync/lb1.conf\n  lb2: sync/lb2.conf\ntimeline:\n  - {at: 5s, partition: [[lb1], [lb2]]}\n';
    const d = loadScenarioText(yaml, FILE).diagnostics;
    expect(d.map((x) => `${x.rule} ${x.line}:${x.col} ${x.hint}`)).toEqual(['lab-missing-key 5:25 one of: eth0, eth1']);
  });
});

describe('times and probabilities', () => {
  it.each([
    ['5s', 5e6],
    ['250ms', 250e3],
    ['1.5s', 1.5e6],
    ['2m', 120e6],
    [5, 5e6],
    [0.25, 250e3],
    ['.5s', 500e3],
    ['100us', 100],
  ] as const)('%s is %d µs', (v, us) => {
    expect(parseTime(v)).toBe(us);
  });
  it.each(['5x', '-1s', '', 's', '1 2s', true, null])('%s is not a time', (v) => {
    expect(parseTime(v)).toBeUndefined();
  });
  it('reads percentages and fractions, nothing outside 0..1', () => {
    expect([
      parseProbability('30%'),
      parseProbability(0.3),
      parseProbability('100%'),
      parseProbability('130%'),
      parseProbability(-0.1),
      parseProbability('0.3'),
    ]).toEqual([0.3, 0.3, 1, undefined, undefined, undefined]);
  });
  it('formats µs back in the shortest unit', () => {
    expect([formatTime(0), formatTime(250e3), formatTime(1.5e6), formatTime(20e6), formatTime(1500)]).toEqual(['0s', '250ms', '1.5s', '20s', '1.5ms']);
  });
});

describe('the long forms', () => {
  it('partition with a segment, a link entry that clears the link, a vip that no config has', () => {
    const yaml = `${PAIR}timeline:\n  - {at: 5s, partition: {segment: lan, groups: [lb1, [lb2]]}}\n  - {at: 6s, link: {node: lb2}}\nexpect:\n  - {vip: {address: 192.168.1.200, reachable: false}, at: 7s}\n`;
    const r = loadScenarioText(yaml, FILE);
    expect(r.diagnostics.map((d) => `${d.rule} ${d.line}`)).toEqual(['lab-not-in-config 8']);
    expect(r.scenario!.faults.map(({ span: _, ...f }) => f)).toEqual([
      { at: 5e6, kind: 'partition', segment: 'lan', groups: [['lb1'], ['lb2']] },
      { at: 6e6, kind: 'link', node: 'lb2', segment: 'lan' },
    ]);
    expect(r.scenario!.expectations[0]).toMatchObject({ kind: 'vip', address: '192.168.1.200', reachable: false, at: 7e6 });
  });
});
