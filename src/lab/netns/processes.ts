// The processes of the netns lab: a daemon per node (our keepalived-ts or the real keepalived),
// the real servers and the clients, each in its namespace (scripts.ts has the two small programs).
// What their output means is logs.ts's business, what to record the lab's (index.ts).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { LabClient, LabNode, LabRealServer } from '../model/scenario.js';
import type { LabState } from '../model/result.js';
import type { LabConfig } from './config.js';
import { type NetnsHost, type OutputLine, type Proc } from './host.js';
import type { KeepalivedLog } from './logs.js';
import { gatedArgv, START_GATE_ENV } from './start-gate.js';

/** Client request timeout: short, so that a request to a dead director fails within its second. */
export const REQUEST_TIMEOUT_MS = 800;

export interface NodeRt {
  node: LabNode;
  ns: string;
  dir: string;
  conf: LabConfig;
  confFile: string;
  proc?: Proc;
  /** Why the current process is going away (set by kill/stop faults), for the STOPPED transition;
   * `mono` when that moment is the signal rather than the exit (SIGKILL: no last words). */
  ending?: { why: string; mono?: number; signalled?: number };
  states: Map<string, LabState>;
  /** Effective priority per instance: our daemon logs it; keepalived's starts at the config
   * priority and follows its "Changing effective priority" lines. */
  prio: Map<string, number>;
  /** keepalived: its log reader, which keeps the lines that give a transition its reason. */
  log: KeepalivedLog;
  /** Inside interface name per segment. */
  ifaces: Map<string, string>;
}

export interface EndpointRt {
  name: string;
  ns: string;
  proc?: Proc;
}

export interface DaemonBins {
  /** The real keepalived (default: `keepalived` on PATH). */
  keepalivedBin?: string;
  /** Our daemon's bundle. */
  daemonBin?: string;
}

/** The command line of a node's daemon; `vrrpOnly` runs keepalived without its checker process (-P). */
export function daemonArgv(rt: NodeRt, bins: DaemonBins, vrrpOnly: boolean): string[] {
  const id = rt.node.configId ? ['-i', rt.node.configId] : [];
  const pid = (n: string) => join(rt.dir, n);
  if (rt.node.impl === 'keepalived') {
    const argv = [
      bins.keepalivedBin ?? 'keepalived',
      '-n',
      '-l',
      '-D',
      '-f',
      rt.confFile,
      '-p',
      pid('keepalived.pid'),
      '-r',
      pid('vrrp.pid'),
      '-c',
      pid('checkers.pid'),
      ...id,
    ];
    if (vrrpOnly) argv.push('-P');
    return argv;
  }
  return [process.execPath, bins.daemonBin!, '-f', rt.confFile, '-n', '-l', '-D', '-p', pid('keepalived.pid'), '-r', pid('vrrp.pid'), ...id];
}

/** Whether the namespace has kernel IPVS (the ip_vs module). */
export function ipvsAvailable(ns: string): boolean {
  return spawnSync('ip', ['netns', 'exec', ns, 'test', '-e', '/proc/net/ip_vs']).status === 0;
}

/** Start a node's daemon as its process group, in its run directory, with its own control socket. */
export function spawnDaemon(host: NetnsHost, rt: NodeRt, argv: string[], onLine: (line: OutputLine) => void, gate?: string): Proc {
  // Ours waits at its gate itself, configuration loaded; keepalived behind a shell that waits.
  const gated = gate && rt.node.impl === 'keepalived' ? gatedArgv(gate, argv) : argv;
  return host.spawn(rt.ns, gated, {
    name: `${rt.node.name} (${rt.node.impl})`,
    group: true,
    cwd: rt.dir,
    // One filesystem for all namespaces: each daemon gets its own control socket.
    env: {
      ...process.env,
      KEEPALIVED_TS_CONTROL: join(rt.dir, 'control.sock'),
      ...(gate && rt.node.impl === 'keepalived-ts' ? { [START_GATE_ENV]: gate } : {}),
    },
    onLine,
  });
}

/** A real server (server.mjs in the run directory `dir`), once it listens. */
export async function startServer(host: NetnsHost, dir: string, s: EndpointRt, rs: LabRealServer): Promise<void> {
  if (s.proc?.running) return;
  s.proc = host.spawn(s.ns, [process.execPath, join(dir, 'server.mjs'), rs.address, String(rs.port), rs.body], { name: `real server ${s.name}` });
  await s.proc.waitForLine(/^listening$/, { timeoutMs: 5000 });
}

/** A client (client.mjs in the run directory `dir`): a line per request it made. */
export function startClient(host: NetnsHost, dir: string, e: EndpointRt, c: LabClient, onLine: (line: OutputLine) => void): void {
  e.proc = host.spawn(e.ns, [process.execPath, join(dir, 'client.mjs'), c.target.address, String(c.target.port), String(c.rate), String(REQUEST_TIMEOUT_MS)], {
    name: `client ${c.name}`,
    onLine,
  });
}
