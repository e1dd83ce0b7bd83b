// SIGUSR1 and SIGUSR2 dumps, at keepalived's paths (/tmp/keepalived.data, /tmp/keepalived.stats)
// and in its spirit: a per-instance text block operators can grep. Files are written mode 0600,
// as keepalived's umask makes them, and by rename from a new file: a symlink or hard link someone
// put at the path in /tmp is replaced, never written through.
import { hostname } from 'node:os';
import { replaceFile } from './files.js';
import type { VrrpEngine } from '../vrrp/engine.js';

interface Log {
  info(msg: string): void;
  error(msg: string): void;
}

/** keepalived's data dump: its global definitions (router_id, default the host name), then the instances. */
export function dataDump(engine: VrrpEngine, routerId: string = hostname()): string {
  const out = ['------< Global definitions >------', ` Router ID = ${routerId}`, '------< VRRP Topology >------'];
  for (const { inst, runner } of engine.instances) {
    const s = runner.state;
    out.push(
      ` VRRP Instance = ${inst.name}`,
      `   VRRP Version = ${runner.cfg.version}`,
      `   State = ${s.state}`,
      `   Interface = ${inst.interface}`,
      `   Virtual Router ID = ${runner.cfg.vrid}`,
      `   Priority = ${runner.cfg.priority}`,
      `   Effective priority = ${s.effectivePriority}`,
      `   Advert interval = ${runner.cfg.advertIntUs / 1e6} sec`,
      `   Preempt = ${runner.cfg.preempt ? 'enabled' : 'disabled'}`,
      `   Preempt delay = ${runner.cfg.preemptDelayUs / 1e6} secs`,
      `   Master router = ${s.masterAddress ?? '(none)'}`,
      `   Virtual IP (${inst.virtualIpaddress.length}):`,
      ...inst.virtualIpaddress.map((v) => `     ${v.address}/${v.prefix} dev ${v.dev}`),
    );
  }
  return out.join('\n') + '\n';
}

export function statsDump(engine: VrrpEngine): string {
  const out: string[] = [];
  for (const { inst, runner } of engine.instances) {
    const c = runner.state.counters;
    const d = c.dropped;
    out.push(
      `VRRP Instance: ${inst.name}`,
      '  Advertisements:',
      `    Received: ${c.advertRcvd}`,
      `    Sent: ${c.advertSent}`,
      `  Became master: ${c.becomeMaster}`,
      `  Released master: ${c.releaseMaster}`,
      '  Packet Errors:',
      `    Length: ${d.length ?? 0}`,
      `    TTL: ${d.ttl ?? 0}`,
      `    Invalid Type: ${d.type ?? 0}`,
      `    Advertisement Interval: ${d['interval-mismatch'] ?? 0}`,
      `    Address List: ${c.addressListErrors}`,
      `    Checksum: ${d.checksum ?? 0}`,
      `    Version: ${d.version ?? 0}`,
      '  Authentication Errors:',
      `    Invalid Type: ${d['auth-type'] ?? 0}`,
      `    Type Mismatch: ${d['auth-type'] ?? 0}`,
      `    Failure: ${d['auth-failure'] ?? 0}`,
      '  Priority Zero:',
      `    Received: ${c.priZeroRcvd}`,
      `    Sent: ${c.priZeroSent}`,
    );
  }
  const unknown = Object.entries(engine.unknownVrid);
  if (unknown.length) out.push('Unknown VRIDs:', ...unknown.map(([k, n]) => `  ${k}: ${n}`));
  return out.join('\n') + '\n';
}

function write(path: string, text: string, log: Log): void {
  try {
    replaceFile(path, text, 0o600);
    log.info(`Wrote ${path}`);
  } catch (e) {
    log.error(`Cannot write ${path}: ${(e as Error).message}`);
  }
}

export const writeDataDump = (path: string, engine: VrrpEngine, routerId: string | undefined, log: Log): void => write(path, dataDump(engine, routerId), log);
export const writeStatsDump = (path: string, engine: VrrpEngine, log: Log): void => write(path, statsDump(engine), log);

/** STATS_CLEAR (keepalived --signum=STATS_CLEAR): the counters the stats dump shows back to zero. */
export function clearStats(engine: VrrpEngine): void {
  for (const { runner } of engine.instances) runner.clearCounters();
  for (const k of Object.keys(engine.unknownVrid)) delete engine.unknownVrid[k];
}
