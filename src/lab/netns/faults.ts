// The scenario's faults, done for real to the netns lab: signals, bridge ports, netem, files,
// SIGHUP.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Fault, LabNode } from '../model/scenario.js';
import type { LabConfig } from './config.js';
import { run, runOk } from './host.js';
import type { EndpointRt, NodeRt } from './processes.js';
import type { PartitionPlan, Topology } from './topology.js';

/** What the faults act on: the lab (index.ts). */
export interface FaultTarget {
  readonly topology: Topology;
  readonly servers: Map<string, EndpointRt>;
  node(name: string): NodeRt;
  startDaemon(rt: NodeRt): void;
  startServer(name: string): Promise<void>;
  /** The lab's version of a node configuration, for the node's run directory. */
  rewrite(config: { file: string; text?: string }, dir: string, node: LabNode): LabConfig;
  writeConfig(rt: NodeRt): void;
}

/**
 * Do the fault; resolves with the performance.now() at which it took effect: once the bridge
 * ports have moved, the qdisc is in place, the file is written, the server is up or gone; for a
 * kill or stop, when the signal was sent (what follows is the daemon's own doing).
 */
export async function applyFault(lab: FaultTarget, f: Fault, prepared?: PartitionPlan): Promise<number> {
  const effect = await apply(lab, f, prepared);
  const rt = f.kind === 'kill' || f.kind === 'stop' ? lab.node(f.node) : undefined;
  return rt?.ending?.signalled ?? effect ?? performance.now();
}

/** Does the fault; resolves with the moment it took effect when that comes before its end. */
async function apply(lab: FaultTarget, f: Fault, prepared: PartitionPlan | undefined): Promise<number | void> {
  const ip = (args: string[]) => runOk('ip', args);
  switch (f.kind) {
    case 'kill': {
      const rt = lab.node(f.node);
      const mono = performance.now();
      rt.ending = { why: 'killed (SIGKILL)', mono, signalled: mono };
      rt.proc?.signal('SIGKILL');
      await rt.proc?.exited;
      return;
    }
    case 'stop': {
      const rt = lab.node(f.node);
      rt.ending = { why: 'stopped (SIGTERM)', signalled: performance.now() };
      await rt.proc?.kill('SIGTERM', 5000);
      return;
    }
    case 'start': {
      const rt = lab.node(f.node);
      if (rt.proc?.running) throw new Error(`netns backend: start ${f.node} at ${f.span.file}:${f.span.line}: it is running`);
      // A SIGKILLed daemon left its VIPs behind (as on a real host); the new one starts clean.
      lab.startDaemon(rt);
      return;
    }
    case 'partition':
      return prepared ? lab.topology.cut(prepared) : lab.topology.partition(f.segment, f.groups);
    case 'heal':
      return lab.topology.heal(lab.topology.segment(f.segment));
    case 'link': {
      const rt = lab.node(f.node);
      const ifname = rt.ifaces.get(f.segment);
      const port = lab.topology.segment(f.segment).ports.get(f.node);
      if (!ifname || !port) throw new Error(`netns backend: ${f.node} is not on segment ${f.segment}`);
      // loss and duplicate are fractions (0..1), delay µs; nothing set clears the link.
      const netem = [
        ...(f.loss ? ['loss', `${f.loss * 100}%`] : []),
        ...(f.delay ? ['delay', `${f.delay / 1000}ms`] : []),
        ...(f.duplicate ? ['duplicate', `${f.duplicate * 100}%`] : []),
      ];
      for (const [ns, dev] of [
        [rt.ns, ifname],
        [lab.topology.switchNs, port],
      ]) {
        if (netem.length) await runOk('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'netem', ...netem]);
        else await run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', dev, 'root']);
      }
      return;
    }
    case 'script': {
      const rt = lab.node(f.node);
      const fail = rt.conf.scripts.get(f.script);
      if (!fail) throw new Error(`netns backend: ${f.node} has no vrrp_script ${f.script} (it has: ${[...rt.conf.scripts.keys()].join(', ') || 'none'})`);
      if (f.ok) rmSync(fail, { force: true });
      else writeFileSync(fail, '', { mode: 0o644 });
      return;
    }
    case 'file': {
      const rt = lab.node(f.node);
      const t = rt.conf.trackFiles.get(f.file) ?? [...rt.conf.trackFiles.values()].find((x) => x.original === f.file);
      if (!t) throw new Error(`netns backend: ${f.node} has no track_file ${f.file}`);
      writeFileSync(t.path, `${f.value}\n`, { mode: 0o644 });
      return;
    }
    case 'interface': {
      const rt = lab.node(f.node);
      await ip(['-n', rt.ns, 'link', 'set', f.interface, f.up ? 'up' : 'down']);
      return;
    }
    case 'server': {
      const s = lab.servers.get(f.server);
      if (!s) throw new Error(`netns backend: no real server ${f.server}`);
      if (f.up) await lab.startServer(f.server);
      else await s.proc?.kill('SIGTERM', 2000);
      return;
    }
    case 'reload': {
      const rt = lab.node(f.node);
      const next = lab.rewrite(f.config, rt.dir, rt.node);
      rt.conf = { ...next, scripts: new Map([...rt.conf.scripts, ...next.scripts]), trackFiles: new Map([...rt.conf.trackFiles, ...next.trackFiles]) };
      // keepalived reports no priority: assume the reloaded configuration's (ours logs its own).
      for (const inst of next.instances) if (rt.node.impl === 'keepalived' || !rt.prio.has(inst.name)) rt.prio.set(inst.name, inst.priority);
      for (const t of next.trackFiles.values()) if (!t.init && !existsSync(t.path)) writeFileSync(t.path, '0\n', { mode: 0o644 });
      lab.writeConfig(rt);
      // The parent only: keepalived's parent tells its children to reload.
      if (rt.proc?.running && rt.proc.pid !== undefined) process.kill(rt.proc.pid, 'SIGHUP');
      return;
    }
  }
}
