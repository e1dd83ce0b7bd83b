// The Prometheus metrics, read at each scrape from the counters the daemon already keeps (the
// SIGUSR2 dump's, the load balancer's listing, the checker pool's): nothing is counted twice.
//
// - VRRP under keepalived-exporter's names and labels (mehdy/keepalived-exporter, the exporter
//   keepalived users run), so its dashboards and alerts work unchanged: keepalived_up,
//   keepalived_vrrp_state{iname,intf,vrid,ip_address} (one series per VIP, keepalived's numeric
//   state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT), the per-instance *_total counters with
//   {iname,intf,vrid,state}, keepalived_gratuitous_arp_delay_total, keepalived_script_status{name}
//   (0 BAD, 1 GOOD).
// - The load balancer modelled on haproxy's exporter (backend/server status, weight, sessions,
//   bytes, check status and duration, failures, up/down transitions), labelled as node_exporter's
//   IPVS collector labels services and destinations (proto, local_address, local_port,
//   remote_address, remote_port).
// - The process: reloads by result, the last reload, build info, and prom-client's process_* and
//   nodejs_* defaults.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { VrrpEngine } from '../vrrp/engine.js';
import { STATE_NUMBER } from '../vrrp/machine.js';
import type { ListedService } from '../lvs/ipvsadm-list.js';
import type { ResolvedRealServer, ResolvedVirtualServer } from '../config/model/index.js';
import type { ServerCheckStats } from '../check/pool.js';

/** A real server as the checker pool sees it. */
export interface CheckedServer {
  vs: ResolvedVirtualServer;
  rs: ResolvedRealServer;
  alive: boolean;
  weight: number;
  stats: Readonly<ServerCheckStats>;
}

/** How the daemon's reloads went: its own counts (nothing else keeps them). */
export interface ReloadStats {
  success: number;
  /** The new configuration had errors, or could not run here (prepare failed). */
  refused: number;
  /** When the last reload finished (Unix seconds), and whether it replaced the configuration. */
  lastAt?: number;
  lastOk?: boolean;
  lastSuccessAt?: number;
}

export interface MetricsSources {
  /** The running VRRP engine; none with -C. */
  engine(): VrrpEngine | undefined;
  /** The vrrp_scripts the instances track, and whether each is down now. */
  scripts(): { name: string; up: boolean }[];
  /** The load balancer's table (ipvsadm -Ln --stats), empty without one. */
  services(): ListedService[];
  /** Every checked real server, in service or not. */
  checked(): readonly CheckedServer[];
  reloads: Readonly<ReloadStats>;
  version: string;
}

type Labels<K extends string> = Partial<Record<K, string | number>>;

/** keepalived-exporter's per-instance counters: its metric name, help, and where we keep the count. */
const VRRP_COUNTERS: [string, string, (c: VrrpEngine['instances'][number]['runner']['state']['counters']) => number][] = [
  ['keepalived_advertisements_received_total', 'Advertisements received', (c) => c.advertRcvd],
  ['keepalived_advertisements_sent_total', 'Advertisements sent', (c) => c.advertSent],
  ['keepalived_become_master_total', 'Became master', (c) => c.becomeMaster],
  ['keepalived_release_master_total', 'Released master', (c) => c.releaseMaster],
  ['keepalived_packet_length_errors_total', 'Packet length errors', (c) => c.dropped.length ?? 0],
  ['keepalived_advertisements_interval_errors_total', 'Advertisement interval errors', (c) => c.dropped['interval-mismatch'] ?? 0],
  ['keepalived_ip_ttl_errors_total', 'TTL errors', (c) => c.dropped.ttl ?? 0],
  ['keepalived_invalid_type_received_total', 'Invalid type errors', (c) => c.dropped.type ?? 0],
  ['keepalived_address_list_errors_total', 'Address list errors', (c) => c.addressListErrors],
  ['keepalived_authentication_invalid_total', 'Authentication invalid', (c) => c.dropped['auth-type-invalid'] ?? 0],
  ['keepalived_authentication_mismatch_total', 'Authentication mismatch', (c) => c.dropped['auth-type'] ?? 0],
  ['keepalived_authentication_failure_total', 'Authentication failure', (c) => c.dropped['auth-failure'] ?? 0],
  ['keepalived_priority_zero_received_total', 'Priority zero received', (c) => c.priZeroRcvd],
  ['keepalived_priority_zero_sent_total', 'Priority zero sent', (c) => c.priZeroSent],
];

const SERVICE_LABELS = ['proto', 'local_address', 'local_port'] as const;
const SERVER_LABELS = [...SERVICE_LABELS, 'remote_address', 'remote_port'] as const;
type ServiceLabel = (typeof SERVICE_LABELS)[number];
type ServerLabel = (typeof SERVER_LABELS)[number];

const serviceLabels = (proto: string, address: string, port: number): Labels<ServiceLabel> => ({ proto, local_address: address, local_port: port });

/** The registry a scrape reads: every value is taken from `src` when scraped. */
export function metricsRegistry(src: MetricsSources): Registry {
  const register = new Registry();
  // Each metric is emptied and refilled from the source at the scrape. A count the daemon keeps is
  // a Prometheus counter, set by inc() from zero.
  const metric =
    (kind: 'gauge' | 'counter') =>
    <K extends string>(name: string, help: string, labelNames: readonly K[], fill: (set: (l: Labels<K>, v: number) => void) => void): void => {
      const opts = { name, help, labelNames, registers: [register] };
      if (kind === 'gauge')
        new Gauge<K>({
          ...opts,
          collect() {
            this.reset();
            fill((l, v) => this.set(l, v));
          },
        });
      else
        new Counter<K>({
          ...opts,
          collect() {
            this.reset();
            fill((l, v) => this.inc(l, v));
          },
        });
    };
  const gauge = metric('gauge');
  const counter = metric('counter');
  const instances = () => src.engine()?.instances ?? [];

  // ---- VRRP: keepalived-exporter's names and labels ------------------------------------------
  gauge('keepalived_up', 'Status', [], (set) => set({}, 1));
  gauge('keepalived_vrrp_state', 'State of vrrp', ['iname', 'intf', 'vrid', 'ip_address'], (set) => {
    for (const { inst, runner } of instances())
      for (const v of inst.virtualIpaddress)
        set({ iname: inst.name, intf: v.dev, vrid: runner.cfg.vrid, ip_address: `${v.address}/${v.prefix}` }, STATE_NUMBER[runner.state.state]);
  });
  const common = ['iname', 'intf', 'vrid', 'state'] as const;
  const commonOf = (m: VrrpEngine['instances'][number]): Labels<(typeof common)[number]> => ({
    iname: m.inst.name,
    intf: m.inst.interface,
    vrid: m.runner.cfg.vrid,
    state: m.runner.state.state,
  });
  for (const [name, help, read] of VRRP_COUNTERS)
    counter(name, help, common, (set) => {
      for (const m of instances()) set(commonOf(m), read(m.runner.state.counters));
    });
  counter('keepalived_gratuitous_arp_delay_total', 'Gratuitous ARP delay', common, (set) => {
    for (const m of instances()) set(commonOf(m), m.inst.garpMasterDelay);
  });
  gauge('keepalived_script_status', 'Tracker Script Status', ['name'], (set) => {
    for (const s of src.scripts()) set({ name: s.name }, s.up ? 1 : 0);
  });

  // ---- Load balancer: haproxy's exporter, on IPVS's services and destinations ----------------
  const totals: [string, string, keyof ListedService['stats']][] = [
    ['connections_total', 'Connections scheduled', 'conns'],
    ['incoming_packets_total', 'Packets in (UDP datagrams; 0 for TCP under the embedded forwarder)', 'inpkts'],
    ['outgoing_packets_total', 'Packets out (UDP datagrams; 0 for TCP under the embedded forwarder)', 'outpkts'],
    ['incoming_bytes_total', 'Payload bytes in', 'inbytes'],
    ['outgoing_bytes_total', 'Payload bytes out', 'outbytes'],
  ];
  for (const [suffix, help, key] of totals) {
    counter(`keepalived_virtual_server_${suffix}`, `${help}, by virtual server`, SERVICE_LABELS, (set) => {
      for (const s of src.services()) set(serviceLabels(s.protocol, s.address, s.port), s.stats[key]);
    });
    counter(`keepalived_real_server_${suffix}`, `${help}, by real server`, SERVER_LABELS, (set) => {
      for (const s of src.services())
        for (const d of s.servers) set({ ...serviceLabels(s.protocol, s.address, s.port), remote_address: d.address, remote_port: d.port }, d.stats[key]);
    });
  }
  gauge('keepalived_virtual_server_real_servers_up', 'Real servers in service (haproxy: backend active servers)', SERVICE_LABELS, (set) => {
    for (const s of src.services()) set(serviceLabels(s.protocol, s.address, s.port), s.servers.length);
  });
  const listed = (): Map<string, ListedService['servers'][number]> => {
    const m = new Map<string, ListedService['servers'][number]>();
    for (const s of src.services()) for (const d of s.servers) m.set(`${s.protocol} ${s.address} ${s.port} ${d.address} ${d.port}`, d);
    return m;
  };
  const serverOf = (c: CheckedServer): Labels<ServerLabel> | undefined =>
    c.vs.kind === 'address'
      ? { proto: c.vs.protocol, local_address: c.vs.address, local_port: c.vs.port, remote_address: c.rs.address, remote_port: c.rs.port }
      : undefined;
  const perServer = (name: string, help: string, read: (c: CheckedServer, d?: ListedService['servers'][number]) => number | undefined): void =>
    gauge(name, help, SERVER_LABELS, (set) => {
      const table = listed();
      for (const c of src.checked()) {
        const l = serverOf(c);
        const v = l && read(c, table.get(`${l.proto} ${l.local_address} ${l.local_port} ${l.remote_address} ${l.remote_port}`));
        if (l && v !== undefined) set(l, v);
      }
    });
  perServer('keepalived_real_server_up', 'Whether the real server is in service (1) or out (0) (haproxy: server status)', (c) => (c.alive ? 1 : 0));
  perServer('keepalived_real_server_weight', 'The weight the real server has now (health checks included)', (c) => c.weight);
  perServer('keepalived_real_server_active_connections', 'Active connections (ipvsadm ActiveConn)', (_c, d) => d?.activeConns ?? 0);
  perServer('keepalived_real_server_inactive_connections', 'Inactive connections (ipvsadm InActConn)', (_c, d) => d?.inactConns ?? 0);
  perServer('keepalived_real_server_check_status', 'Whether the last health check succeeded (1) or failed (0); absent before the first', (c) =>
    c.stats.lastOk === undefined ? undefined : c.stats.lastOk ? 1 : 0,
  );
  perServer('keepalived_real_server_check_duration_seconds', 'How long the last health check took', (c) => c.stats.lastDuration);
  const perServerCount = (name: string, help: string, read: (s: Readonly<ServerCheckStats>) => number): void =>
    counter(name, help, SERVER_LABELS, (set) => {
      for (const c of src.checked()) {
        const l = serverOf(c);
        if (l) set(l, read(c.stats));
      }
    });
  perServerCount('keepalived_real_server_checks_total', 'Health checks run', (s) => s.checks);
  perServerCount('keepalived_real_server_check_failures_total', 'Health checks that failed', (s) => s.failures);
  perServerCount('keepalived_real_server_check_up_down_total', 'Times the real server went from in service to out', (s) => s.downs);
  perServerCount('keepalived_real_server_check_down_up_total', 'Times the real server came back into service', (s) => s.ups);

  // ---- The process ----------------------------------------------------------------------------
  gauge(
    'keepalived_ts_build_info',
    'keepalived-ts build: its version, the keepalived version it follows, Node.js',
    ['version', 'keepalived_version', 'nodejs_version'],
    (set) => set({ version: src.version, keepalived_version: '2.2.7', nodejs_version: process.versions.node }, 1),
  );
  counter('keepalived_ts_reloads_total', 'Reloads (SIGHUP) by result: success, or refused (the running configuration kept)', ['result'], (set) => {
    set({ result: 'success' }, src.reloads.success);
    set({ result: 'refused' }, src.reloads.refused);
  });
  gauge('keepalived_ts_config_last_reload_successful', 'Whether the last reload replaced the configuration (1 before any reload)', [], (set) =>
    set({}, src.reloads.lastOk === false ? 0 : 1),
  );
  gauge('keepalived_ts_config_last_reload_success_timestamp_seconds', 'When the configuration was last loaded (start or reload), Unix seconds', [], (set) =>
    set({}, src.reloads.lastSuccessAt ?? 0),
  );
  collectDefaultMetrics({ register });
  return register;
}
