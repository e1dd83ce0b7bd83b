// SIGUSR1 and SIGUSR2 dumps, at keepalived's paths (/tmp/keepalived.data, /tmp/keepalived.stats)
// and in its spirit: a per-instance text block operators can grep. Files are written mode 0600,
// as keepalived's umask makes them, and by rename from a new file: a symlink or hard link someone
// put at the path in /tmp is replaced, never written through.
import { hostname } from 'node:os';
import { replaceFile } from './files.js';
import type { VrrpEngine } from '../vrrp/engine.js';
import type { RawTransportStats } from '../net/raw-transport.js';
import { printable } from '../core/text.js';

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
      ` VRRP Instance = ${printable(inst.name)}`,
      `   VRRP Version = ${runner.cfg.version}`,
      `   State = ${s.state}`,
      `   Interface = ${printable(inst.interface)}`,
      `   Virtual Router ID = ${runner.cfg.vrid}`,
      `   Priority = ${runner.cfg.priority}`,
      `   Effective priority = ${s.effectivePriority}`,
      `   Advert interval = ${runner.cfg.advertIntUs / 1e6} sec`,
      `   Preempt = ${runner.cfg.preempt ? 'enabled' : 'disabled'}`,
      `   Preempt delay = ${runner.cfg.preemptDelayUs / 1e6} secs`,
      `   Master router = ${s.masterAddress ?? '(none)'}`,
      `   Virtual IP (${inst.virtualIpaddress.length}):`,
      ...inst.virtualIpaddress.map((v) => `     ${v.address}/${v.prefix} dev ${printable(v.dev)}`),
    );
  }
  return out.join('\n') + '\n';
}

/** What the stats dump shows beyond keepalived's per-instance blocks (the keepalived-ts section). */
export interface StatsExtras {
  /** The VRRP raw sockets, by interface. */
  sockets?: { ifname: string; stats: RawTransportStats }[];
  /** The load balancer's services: IPVS totals and the forwarder's own counters (Balancer.counters()). */
  services?: { service: string; totals: Record<string, number>; forwarder?: Record<string, number> }[];
}

const counts = (o: Record<string, number>): string =>
  Object.entries(o)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

/**
 * SIGUSR2: keepalived 2.2.7's vrrp_print_stats block for each instance, line for line (built
 * with VRRP_AUTH, as distributions build it), then a "keepalived-ts" section keepalived has not:
 * each instance's drops by reason, adverts for VRIDs no instance has, the VRRP sockets' counters
 * and the load balancer's. STATS_CLEAR zeroes the per-instance counters (drops included), as
 * keepalived does; the socket and load-balancer counters count on.
 */
export function statsDump(engine: VrrpEngine, extras: StatsExtras = {}): string {
  const out: string[] = [];
  for (const { inst, runner } of engine.instances) {
    const c = runner.state.counters;
    const d = c.dropped;
    out.push(
      `VRRP Instance: ${printable(inst.name)}`,
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
      '  Authentication Errors:',
      `    Invalid Type: ${d['auth-type-invalid'] ?? 0}`,
      `    Type Mismatch: ${d['auth-type'] ?? 0}`,
      `    Failure: ${d['auth-failure'] ?? 0}`,
      '  Priority Zero:',
      `    Received: ${c.priZeroRcvd}`,
      `    Sent: ${c.priZeroSent}`,
    );
  }
  out.push('------< keepalived-ts >------', 'VRRP drops by reason:');
  for (const { inst, runner } of engine.instances) {
    const dropped = Object.fromEntries(Object.entries(runner.state.counters.dropped).sort(([a], [b]) => a.localeCompare(b)));
    out.push(`  ${printable(inst.name)}: ${counts(dropped)}`);
  }
  out.push(`Adverts for unknown VRIDs: ${counts(Object.fromEntries(Object.entries(engine.unknownVrid).map(([k, n]) => [printable(k), n])))}`);
  out.push('VRRP sockets:');
  for (const { ifname, stats: s } of extras.sockets ?? [])
    out.push(
      `  ${printable(ifname)}: sent ${s.sent}, received ${s.received}, send errors ${s.sendErrors}, send queue drops ${s.sendDropped}, receive errors ${s.receiveErrors}, dropped: ${counts(s.dropped)}`,
    );
  out.push('Virtual servers:');
  for (const { service, totals, forwarder } of extras.services ?? [])
    out.push(`  ${printable(service)}: ${counts(totals)}${forwarder ? `; forwarder: ${counts(forwarder)}` : ''}`);
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
export const writeStatsDump = (path: string, engine: VrrpEngine, log: Log, extras?: StatsExtras): void => write(path, statsDump(engine, extras), log);

/** STATS_CLEAR (keepalived --signum=STATS_CLEAR): the counters the stats dump shows back to zero. */
export function clearStats(engine: VrrpEngine): void {
  for (const { runner } of engine.instances) runner.clearCounters();
  for (const k of Object.keys(engine.unknownVrid)) delete engine.unknownVrid[k];
}
