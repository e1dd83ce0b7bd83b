// A finding as a scenario file `keepalived-ts lab` runs again, on sim or netns: the base's nodes
// and wiring written out in full, the fault run's timeline with labels, and the expectation the
// finding breaks. Pure: text out; config paths are written relative to the directory the file
// goes to, so the directory can be moved together with the configs.
import { relative } from 'node:path';
import { Document, isMap, isSeq } from 'yaml';
import type { Fault, Scenario } from '../model/scenario.js';
import { formatTime } from '../model/times.js';
import type { Finding } from './judge.js';
import type { FaultRun } from './space.js';

type Ref = { file: string; text?: string };

export function findingYaml(base: Scenario, run: FaultRun, finding: Finding, opts: { dir: string; title: string }): string {
  const ref = (c: Ref): string => (c.text !== undefined ? c.text : relative(opts.dir, c.file) || c.file);
  const nodes = Object.fromEntries(
    base.nodes.map((n) => [
      n.name,
      n.impl === 'keepalived' || n.configId !== undefined
        ? { config: ref(n.config), ...(n.impl === 'keepalived' ? { impl: 'keepalived' } : {}), ...(n.configId ? { 'config-id': n.configId } : {}) }
        : ref(n.config),
    ]),
  );
  const segments = Object.fromEntries(
    base.segments.map((s) => [
      s.name,
      { prefix: s.prefix, members: Object.fromEntries(s.members.map((m) => [m.node, { interface: m.interface, address: m.address }])) },
    ]),
  );
  const doc: Record<string, unknown> = {
    name: opts.title,
    description: finding.why,
    duration: formatTime(run.duration),
    seed: base.seed,
    nodes,
    segments,
  };
  if (base.realServers.length)
    doc['real-servers'] = Object.fromEntries(
      base.realServers.map((r) => [r.name, { address: r.address, port: r.port, body: r.body, up: r.up, segment: r.segment }]),
    );
  if (base.clients.length)
    doc.clients = Object.fromEntries(base.clients.map((c) => [c.name, { target: target(c.target.address, c.target.port), rate: c.rate, segment: c.segment }]));
  doc.timeline = run.faults.map((f, i) => ({ at: formatTime(f.at), ...faultYaml(f, ref), label: run.labels[i] }));
  doc.expect = [finding.expect];
  const header = [
    `# Found by keepalived-ts lab --explore ${base.file}`,
    `# ${finding.severity === 'limit' ? 'limit' : 'problem'}: ${finding.kind} (${finding.subject})`,
    `# Rerun: keepalived-ts lab THIS.yaml [--backend netns]; the expectation below fails while the finding stands.`,
  ];
  // One line per timeline entry and expectation, as people write them.
  const yaml = new Document(doc);
  for (const key of ['timeline', 'expect']) {
    const seq = yaml.get(key);
    if (isSeq(seq)) for (const item of seq.items) if (isMap(item)) item.flow = true;
  }
  return `${header.join('\n')}\n${yaml.toString({ lineWidth: 0 })}`;
}

function target(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function faultYaml(f: Fault, ref: (c: Ref) => string): Record<string, unknown> {
  switch (f.kind) {
    case 'kill':
    case 'stop':
    case 'start':
      return { [f.kind]: f.node };
    case 'partition':
      return { partition: { segment: f.segment, groups: f.groups } };
    case 'heal':
      return { heal: f.segment };
    case 'link':
      return {
        link: {
          node: f.node,
          segment: f.segment,
          ...(f.loss !== undefined ? { loss: f.loss } : {}),
          ...(f.delay !== undefined ? { delay: formatTime(f.delay) } : {}),
          ...(f.duplicate !== undefined ? { duplicate: f.duplicate } : {}),
        },
      };
    case 'script':
      return { script: { node: f.node, name: f.script, result: f.ok ? 'ok' : 'fail' } };
    case 'file':
      return { file: { node: f.node, name: f.file, value: f.value } };
    case 'interface':
      return { interface: { node: f.node, name: f.interface, state: f.up ? 'up' : 'down' } };
    case 'process':
      return { process: { node: f.node, name: f.name, ...(f.state ? { state: f.state } : { count: f.count }) } };
    case 'server':
      return { server: { name: f.server, state: f.up ? 'up' : 'down' } };
    case 'reload':
      return { reload: { node: f.node, config: ref(f.config) } };
  }
}
