// SIGUSR1 and SIGUSR2 dumps, at keepalived's paths (/tmp/keepalived.data, /tmp/keepalived.stats)
// and in its spirit: a per-instance text block operators can grep. Files get mode 0666 under the
// umask, as keepalived's fopen() does (0600 under its default 0177), and by rename from a new file: a symlink or hard link someone
// put at the path in /tmp is replaced, never written through.
import { realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { replaceFile } from './files.js';
import { underUmask } from './umask.js';
import type { VrrpEngine } from '../vrrp/engine.js';
import type { RawTransportStats } from '../net/raw-transport.js';
import { printable } from '../core/text.js';
import type { ScriptRef, VrrpInstance } from '../config/model/index.js';
import { STATE_NUMBER } from '../vrrp/machine.js';

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
    replaceFile(path, text, underUmask(0o666));
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

/** keepalived's cmd_str(): each word in single quotes, the program by its real path. */
export function cmdStr(s: ScriptRef): string {
  let prog = s.argv[0] ?? s.command;
  try {
    prog = realpathSync(prog);
  } catch {
    // as written
  }
  return [prog, ...s.argv.slice(1)].map((w) => `'${w}'`).join(' ');
}

/** keepalived's format_ipaddress() as its JSON dump shows a VIP: `addr[/prefix] dev IF scope S[ set]`. */
function formatVip(v: VrrpInstance['virtualIpaddress'][number], set: boolean): string {
  const full = v.family === 4 ? 32 : 128;
  const parts = [v.prefix === full ? v.address : `${v.address}/${v.prefix}`];
  if (v.brd) parts.push(`brd ${v.brd}`);
  parts.push(`dev ${v.dev}`, `scope ${v.scope ?? 'global'}`);
  if (v.label) parts.push(`label ${v.label}`);
  if (v.peer) parts.push(`peer ${v.peer}/${v.prefix}`);
  if (set) parts.push('set');
  return parts.join(' ');
}

/**
 * The JSON dump (keepalived --signum=JSON): keepalived 2.2.7's vrrp_json.c array, one object per
 * instance with its "data" and "stats", the fields in its order and under its names (Debian's
 * build: VMAC, firewall and VRRP_AUTH fields included). `wallNow`/`monoNowUs` turn the engine's
 * monotonic transition times into keepalived's wall-clock last_transition.
 */
export function jsonDump(engine: VrrpEngine, wallNow: number, monoNowUs: number): string {
  const out = engine.instances.map(({ inst, runner }) => {
    const s = runner.state;
    const c = s.counters;
    const d = c.dropped;
    const last = runner.transitions.at(-1);
    const master = s.state === 'MASTER';
    const data: Record<string, unknown> = {
      iname: inst.name,
      dont_track_primary: inst.dontTrackPrimary ? 1 : 0,
      skip_check_adv_addr: inst.skipCheckAdvAddr ? 1 : 0,
      strict_mode: inst.strictMode ? 1 : 0,
      // With use_vmac / use_ipvlan keepalived's instance interface is the one it made.
      vmac_ifname: inst.vmac?.ifname ?? '',
      ifp_ifname: inst.vmac?.ifname ?? inst.interface,
      // The priority of the last master whose advert was accepted; 0 before any (as keepalived).
      master_priority: s.masterPriority ?? 0,
      last_transition: Number((last ? wallNow - (monoNowUs - last.at) / 1e6 : 0).toFixed(6)),
      garp_delay: inst.garpMasterDelay,
      garp_refresh: inst.garpMasterRefresh,
      garp_rep: inst.garpMasterRepeat,
      garp_refresh_rep: inst.garpMasterRefreshRepeat,
      garp_lower_prio_delay: inst.garpLowerPrioDelay,
      garp_lower_prio_rep: inst.garpLowerPrioRepeat,
      lower_prio_no_advert: runner.cfg.lowerPrioNoAdvert ? 1 : 0,
      higher_prio_send_advert: runner.cfg.higherPrioSendAdvert ? 1 : 0,
      vrid: runner.cfg.vrid,
      base_priority: runner.cfg.priority,
      effective_priority: s.effectivePriority,
      vipset: master,
      promote_secondaries: false,
      adver_int: runner.cfg.advertIntUs / 1e6,
      master_adver_int: s.masterAdverIntUs / 1e6,
      accept: inst.accept ? 1 : 0,
      nopreempt: !runner.cfg.preempt,
      preempt_delay: Math.floor(runner.cfg.preemptDelayUs / 1e6),
      state: STATE_NUMBER[s.state],
      wantstate: STATE_NUMBER[s.state],
      version: runner.cfg.version,
      smtp_alert: !!inst.smtpAlert,
      notify_deleted: !!inst.notifyDeleted,
    };
    const scripts: [string, ScriptRef | true | undefined][] = [
      ['script_backup', inst.notifyBackup],
      ['script_master', inst.notifyMaster],
      ['script_fault', inst.notifyFault],
      ['script_stop', inst.notifyStop],
      ['script_deleted', inst.notifyDeleted],
      ['script', inst.notify],
      ['script_master_rx_lower_pri', inst.notifyMasterRxLowerPri],
    ];
    for (const [k, v] of scripts) if (v && v !== true) data[k] = cmdStr(v);
    const list = (k: string, items: string[]): void => {
      if (items.length) data[k] = items;
    };
    list(
      'vips',
      inst.virtualIpaddress.map((v) => formatVip(v, master)),
    );
    list(
      'evips',
      inst.virtualIpaddressExcluded.map((v) => formatVip(v, master)),
    );
    list(
      'track_ifp',
      inst.trackInterface.map((t) => t.name),
    );
    const byName = new Map(engine.config.vrrpScripts.map((v) => [v.name, v]));
    list(
      'track_script',
      inst.trackScript.flatMap((t) => {
        const sc = byName.get(t.name)?.script;
        return sc ? [cmdStr(sc)] : [];
      }),
    );
    data.auth_type = runner.cfg.authType;
    if (runner.cfg.authType) data.auth_data = runner.cfg.authPass ?? '';
    const stats = {
      advert_rcvd: c.advertRcvd,
      advert_sent: c.advertSent,
      become_master: c.becomeMaster,
      release_master: c.releaseMaster,
      packet_len_err: d.length ?? 0,
      advert_interval_err: d['interval-mismatch'] ?? 0,
      ip_ttl_err: d.ttl ?? 0,
      invalid_type_rcvd: d.type ?? 0,
      addr_list_err: c.addressListErrors,
      invalid_authtype: d['auth-type-invalid'] ?? 0,
      authtype_mismatch: d['auth-type'] ?? 0,
      auth_failure: d['auth-failure'] ?? 0,
      pri_zero_rcvd: c.priZeroRcvd,
      pri_zero_sent: c.priZeroSent,
    };
    return { data, stats };
  });
  // keepalived's json_writer escapes '/' as '\/'.
  return JSON.stringify(out).replace(/\//g, '\\/');
}

/** keepalived writes no JSON file when it has no VRRP instance (vrrp_print_json). */
export function writeJsonDump(path: string, engine: VrrpEngine, log: Log, monoNowUs: number): void {
  if (!engine.instances.length) return;
  write(path, jsonDump(engine, Date.now() / 1000, monoNowUs), log);
}
