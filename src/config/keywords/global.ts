// Keyword table of global_defs, garp_group, linkbeat_interfaces and interface_up_down_delays.
import { defineBlock, keywords, type BuildContext, type KeywordSpec } from '../schema.js';
import type { Statement } from '../syntax.js';
import { address, bool, custom, decimal, flag, int, parseIp, parsePort, script, umaskValue, userGroup, word, words } from '../values.js';
import { DEFAULT_NFT_TABLE, type GarpGroup, type GlobalDefs, type InterfaceDelay, type LinkbeatInterface, type LvsSyncDaemon } from '../model/global.js';
import { garpDelay, garpExtraIf, garpRefresh, nameList } from './vrrp.js';

const g = keywords<GlobalDefs>();
// keepalived's VRRP_GARP_DELAY, VRRP_GARP_REP and VRRP_GARP_REFRESH_REP: vrrp_min_garp changes only
// what still has these values.
const GARP_MASTER_DELAY = 5;
const GARP_MASTER_REPEAT = 5;
const GARP_REFRESH_REPEAT = 1;
const timer = (max: number) => decimal(0, max);
const ints = custom<number[]>('<CPU>...', (a) =>
  a.every((w) => /^\d+$/.test(w.text))
    ? { value: a.map((w) => Number(w.text)) }
    : { error: 'CPU numbers must be whole numbers', word: a.find((w) => !/^\d+$/.test(w.text)) },
);

const PROC = 'keepalived-ts is one Node.js process: no per-process names, scheduling, CPU affinity or memory locking';

/** One keyword per subsystem process (vrrp_, checker_, bfd_) with the same argument type. */
function perProcess(suffix: string, type: Parameters<typeof g.k>[1], doc: string, extra: Partial<KeywordSpec> = {}): KeywordSpec[] {
  return ['vrrp', 'checker', 'bfd'].map((p) => ({
    name: `${p}_${suffix}`,
    field: `${p}${suffix.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`,
    type,
    doc: `${doc} (${p} process).`,
    notImplemented: PROC,
    ...extra,
  }));
}

const NETLINK_BUFS = [
  'vrrp_netlink_cmd_rcv_bufs',
  'vrrp_netlink_monitor_rcv_bufs',
  'process_monitor_rcv_bufs',
  'lvs_netlink_cmd_rcv_bufs',
  'lvs_netlink_monitor_rcv_bufs',
];
const netlinkKeywords: KeywordSpec[] = NETLINK_BUFS.flatMap((n) => [n, `${n}_force`]).map((name) => ({
  name,
  field: 'netlinkBuffers',
  type: name.endsWith('_force') ? bool : int(0, 2147483647),
  doc: `Netlink socket buffer tuning (${name}).`,
  notImplemented: 'keepalived-ts has no netlink sockets to size',
  apply: (v: number | boolean, obj: GlobalDefs) => {
    obj.netlinkBuffers[name] = Number(v);
  },
}));

const smtpServer = custom<{ host: string; port: number }>('<IP|NAME> [PORT]', (a) => {
  if (!a[0]) return { error: 'missing the SMTP server' };
  if (!a[1]) return { value: { host: a[0].text, port: 25 } };
  const p = parsePort(a[1]);
  return 'error' in p ? p : { value: { host: a[0].text, port: p.value } };
});

const lvsSyncDaemon = custom<LvsSyncDaemon>('<IF> [[inst] VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group IP]', (a) => {
  if (!a[0]) return { error: 'missing the interface', hint: 'write: lvs_sync_daemon eth0 VI_1' };
  const v: LvsSyncDaemon = { interface: a[0].text };
  const nums: Record<string, [number, number]> = { id: [0, 255], maxlen: [1, 65507], port: [1, 65535], ttl: [1, 255] };
  for (let i = 1; i < a.length; i++) {
    const t = a[i].text;
    if (t in nums) {
      const r = int(...nums[t]).parse(a.slice(i + 1, i + 2));
      if ('error' in r) return r;
      (v as unknown as Record<string, number>)[t] = r.value;
      i++;
    } else if (t === 'group') {
      const r = a[i + 1] ? parseIp(a[++i]) : { error: "'group' needs an address" };
      if ('error' in r) return r;
      v.group = r.value.address;
    } else if (t === 'inst') v.instance = a[++i]?.text;
    else v.instance = t;
  }
  return { value: v };
});

/** keepalived's global_parser.c: alone, the whole table; `VS`, our virtual servers; anything else is an error. */
const lvsFlushOnStop = custom<string[]>('[VS]', (a) => {
  if (!a[0]) return { value: [] };
  if (a[0].text === 'VS') return { value: ['VS'] };
  return { error: `Unknown lvs_flush_on_stop type ${a[0].text}`, hint: 'write: lvs_flush_on_stop, or lvs_flush_on_stop VS' };
});

const lvsTimeouts = custom<{ tcp?: number; tcpfin?: number; udp?: number }>('[tcp S] [tcpfin S] [udp S]', (a) => {
  const v: Record<string, number> = {};
  for (let i = 0; i < a.length; i += 2) {
    const k = a[i].text;
    if (!['tcp', 'tcpfin', 'udp'].includes(k) || !a[i + 1] || !/^\d+$/.test(a[i + 1].text))
      return { error: `invalid lvs_timeouts part '${k}'`, hint: 'write: lvs_timeouts tcp 900 tcpfin 120 udp 300', word: a[i] };
    v[k] = Number(a[i + 1].text);
  }
  return { value: v };
});

const optionalPath = custom<string | true>('[PATH]', (a) => ({ value: a[0]?.text ?? true }));

export const globalDefsBlock = defineBlock<GlobalDefs>({
  name: 'global_defs',
  doc: 'Settings for the whole daemon: identity, email, script security, VRRP and LVS defaults.',
  // netlinkBuffers starts empty; the netlink keywords' apply() fill it.
  header: () => ({ netlinkBuffers: {} }),
  keywords: [
    g.k('router_id', word, { doc: 'Name of this machine in email alerts, SNMP (routerId and every trap) and the SIGUSR1 data dump (default: host name).' }),
    g.b('notification_email', nameList('notification_email', 'Addresses to send alerts to.'), {
      default: [],
      doc: 'Addresses to send alerts to, one per line; with smtp_server, alerts are sent.',
    }),
    g.k('notification_email_from', word, { doc: 'Sender address of alerts (default USER@HOST, the daemon user at the host name).' }),
    g.k('smtp_server', smtpServer, { doc: 'SMTP relay for alerts, port 25 unless given: plain SMTP, HELO, no TLS or AUTH, as keepalived.' }),
    g.k('smtp_helo_name', word, { doc: 'HELO name for SMTP (default: host name).' }),
    g.k('smtp_connect_timeout', int(1, 3600), { default: 30, doc: 'Seconds to wait for the SMTP server: to connect, and for each reply.' }),
    g.k('smtp_alert', bool, { doc: 'Default of smtp_alert for VRRP instances, sync groups, real and virtual servers.' }),
    g.k('smtp_alert_vrrp', bool, { doc: 'Default of smtp_alert for VRRP instances and sync groups (before global smtp_alert).' }),
    g.k('smtp_alert_checker', bool, { doc: 'Default of smtp_alert for real and virtual servers (before global smtp_alert).' }),
    g.k('no_email_faults', flag, { default: false, doc: 'No emails for FAULT transitions.' }),
    g.k('no_checker_emails', flag, {
      default: false,
      doc: 'Email only when a real server is added or removed, not each time one of its checkers changes.',
    }),
    g.k('checker_log_all_failures', bool, {
      notImplemented: 'checker failures are logged when a server changes state only',
      doc: 'Log every checker failure, not only state changes.',
    }),
    g.k('script_user', userGroup, { doc: 'User (and group) scripts run as; default keepalived_script if it exists.' }),
    g.k('enable_script_security', flag, { default: false, doc: 'Refuse to run scripts as root from paths writable by others.' }),
    g.k('set_supplementary_groups', flag, {
      since: '2.4.4',
      default: false,
      notImplemented: 'scripts run with the primary group of their user only',
      doc: 'Give scripts the supplementary groups of their user.',
    }),
    g.k('use_symlink_paths', bool, {
      since: '2.3.0',
      notImplemented: 'script paths are checked as written; symbolic links are not treated specially',
      doc: 'Do not resolve symbolic links in script paths.',
    }),
    g.k('startup_script', script({ user: true }), {
      doc: 'Run once before VRRP and the checkers start; the start waits for it (up to startup_script_timeout).',
    }),
    g.k('startup_script_timeout', int(1, 1000), {
      default: 10,
      doc: 'Seconds before the startup script is killed (SIGTERM, SIGKILL 2 s later).',
    }),
    g.k('shutdown_script', script({ user: true }), {
      doc: 'Run once everything has stopped; the exit waits for it (up to shutdown_script_timeout).',
    }),
    g.k('shutdown_script_timeout', int(1, 1000), {
      default: 10,
      doc: 'Seconds before the shutdown script is killed (SIGTERM, SIGKILL 2 s later).',
    }),
    g.k('notify_fifo', words, {
      doc: 'FIFO to write VRRP and checker state changes to: NAME [USER [GROUP]] (created 0600, owned by USER, else the script user).',
    }),
    g.k('notify_fifo_script', script({ user: true }), {
      doc: 'Script that reads notify_fifo (its name is appended); no timeout.',
    }),
    g.k('vrrp_notify_fifo', words, {
      doc: 'FIFO for VRRP state changes: `INSTANCE "VI_1" MASTER 100`, `GROUP "G1" BACKUP 0`.',
    }),
    g.k('vrrp_notify_fifo_script', script({ user: true }), {
      doc: 'Script that reads vrrp_notify_fifo (its name is appended); no timeout.',
    }),
    g.k('lvs_notify_fifo', words, {
      doc: 'FIFO for checker state changes: `VS [VIP]:tcp:80 UP`, `RS [RIP]:tcp:80 [VIP]:tcp:80 DOWN`.',
    }),
    g.k('lvs_notify_fifo_script', script({ user: true }), {
      doc: 'Script that reads lvs_notify_fifo (its name is appended); no timeout.',
    }),
    g.k('fifo_write_vrrp_states_on_reload', flag, {
      default: false,
      notImplemented: 'after a reload the FIFOs get only the state changes, not the states kept',
      doc: 'Write every instance state to the FIFO after a reload.',
    }),
    g.k('vrrp_notify_priority_changes', bool, {
      notImplemented: 'no MASTER_PRIORITY / BACKUP_PRIORITY lines are written to the FIFOs',
      doc: 'Report priority changes on the FIFO.',
    }),
    g.k('vrrp_mcast_group4', address, { default: '224.0.0.18', doc: 'IPv4 multicast group for adverts.' }),
    g.k('vrrp_mcast_group6', address, { default: 'ff02::12', doc: 'IPv6 multicast group for adverts.' }),
    g.k('default_interface', word, { default: 'eth0', doc: 'Interface for addresses that name none.' }),
    g.k(
      'vrrp_version',
      custom<2 | 3>('2|3', (a) =>
        a[0]?.text === '2' || a[0]?.text === '3'
          ? { value: Number(a[0].text) as 2 | 3 }
          : { error: `invalid VRRP version '${a[0]?.text ?? ''}'`, hint: 'write 2 or 3', word: a[0], rule: 'value-enum' },
      ),
      { default: 2, doc: 'Default VRRP version of instances.' },
    ),
    g.k('v3_checksum_as_v2', bool, { since: '2.2.8', doc: 'VRRPv3 checksum without the IPv4 pseudo-header, for every instance.' }),
    g.k('vrrp_garp_master_delay', garpDelay, { default: GARP_MASTER_DELAY, doc: 'Seconds before the second gratuitous ARP burst (0: none).' }),
    g.k('vrrp_garp_master_repeat', int(1, 1000000), { default: GARP_MASTER_REPEAT, doc: 'Gratuitous ARPs per burst.' }),
    g.k('vrrp_garp_lower_prio_delay', garpDelay, {
      doc: 'Delay of the burst sent on hearing a lower priority (default: master delay).',
    }),
    g.k('vrrp_garp_lower_prio_repeat', int(0, 1000000), {
      doc: 'Gratuitous ARPs on hearing a lower priority (default: master repeat).',
    }),
    g.k('vrrp_garp_master_refresh', garpRefresh, {
      default: 0,
      doc: 'Seconds between refresh bursts while master, sent with an advert (0: off).',
    }),
    g.k('vrrp_garp_master_refresh_repeat', int(1, 1000000), {
      default: GARP_REFRESH_REPEAT,
      doc: 'Gratuitous ARPs per refresh.',
    }),
    g.k('vrrp_garp_interval', decimal(0.000001, 4294.967295), {
      default: 0,
      doc: 'Seconds between gratuitous ARPs on one interface (those asked for sooner wait, once each).',
    }),
    g.k('vrrp_gna_interval', decimal(0.000001, 4294.967295), {
      default: 0,
      doc: 'Seconds between unsolicited neighbour adverts on one interface.',
    }),
    g.k('vrrp_min_garp', bool, {
      doc: 'One gratuitous ARP, no repeats and no second burst (garp settings given before it with other than their defaults are kept).',
      // keepalived's vrrp_min_garp_handler: only what still has its default value changes, so a
      // setting given before it keeps its value and one given after it wins.
      apply: (on: boolean, g: GlobalDefs) => {
        g.vrrpMinGarp = on;
        if (!on) return;
        // (The refresh interval's default, 0, is also its minimal value.)
        if (g.vrrpGarpMasterRepeat === GARP_MASTER_REPEAT) g.vrrpGarpMasterRepeat = 1;
        if (g.vrrpGarpMasterRefreshRepeat === GARP_REFRESH_REPEAT) g.vrrpGarpMasterRefreshRepeat = 0;
        if (g.vrrpGarpMasterDelay === GARP_MASTER_DELAY) g.vrrpGarpMasterDelay = 0;
      },
    }),
    g.k('vrrp_garp_extra_if', garpExtraIf, {
      deprecated: ['vrrp_vmac_garp_intvl'],
      doc: 'garp_extra_if for every instance that does not set it.',
    }),
    g.k('vrrp_down_timer_adverts', int(1, 100), { default: 3, doc: 'Adverts a backup misses before taking over.' }),
    g.k('vrrp_lower_prio_no_advert', bool, { doc: 'Do not answer lower priority adverts (default: off unless strict).' }),
    g.k('vrrp_higher_prio_send_advert', bool, { doc: 'Send one advert before yielding to a higher priority.' }),
    g.k('vrrp_check_unicast_src', flag, { default: false, doc: 'check_unicast_src for every unicast instance.' }),
    g.k('vrrp_skip_check_adv_addr', bool, {
      doc: 'Skip the address list check for the current master.',
    }),
    g.k('vrrp_strict', flag, {
      default: false,
      doc: 'Enforce RFC compliance (no auth, no unicast, firewall rules for no_accept).',
    }),
    g.k('vrrp_owner_ignore_adverts', flag, {
      since: '2.3.3',
      notImplemented: 'an address owner handles received adverts like any master',
      doc: 'Address owners ignore received adverts.',
    }),
    g.k('vrrp_startup_delay', timer(1000), {
      default: 0,
      doc: 'Seconds after start during which instances stay BACKUP (an owner waits) before their timers can run out.',
    }),
    g.k('vrrp_delay_after_boot', timer(1000), {
      since: '2.4.0',
      notImplemented: 'VRRP starts at once',
      doc: 'Delay VRRP start if the system booted less than this long ago.',
    }),
    g.k('log_unknown_vrids', flag, {
      notImplemented: 'adverts for other VRIDs are dropped without a log line',
      doc: 'Log adverts for VRIDs not configured here.',
    }),
    g.k('vmac_prefix', word, { doc: 'Name prefix of VMAC interfaces (vrrp).' }),
    g.k('vmac_addr_prefix', word, {
      doc: 'Name prefix of the VMACs of use_vmac_addr (default: vmac_prefix, else vrrp).',
    }),
    g.k('vrrp_rx_bufs_policy', words, {
      notImplemented: 'receive buffers keep the system default size',
      doc: 'How receive buffers are sized: MTU, ADVERT or a number.',
    }),
    g.k('vrrp_rx_bufs_multiplier', int(1, 1000), { notImplemented: 'receive buffers keep the system default size', doc: 'Receive buffer multiplier (3).' }),
    g.k('disable_local_igmp', flag, {
      default: false,
      doc: "No IGMP reports for the VRRP group: net.ipv4.igmp_link_local_mcast_reports is 0 while VRRP runs (put back at stop), and the VMACs' IPv4 IGMP rule is left out. A reload may not change it.",
    }),
    g.k('dynamic_interfaces', words, { doc: 'Allow interfaces that do not exist yet; [allow_if_changes].' }),
    g.k('nftables', words, {
      // The first one names the table (a later one, or one after vrrp_iptables, is reported and
      // ignored); it sets the chain priority back to -1, as keepalived's handler does.
      apply: (v: string[], o: GlobalDefs) => {
        if (o.nftables !== undefined) return;
        o.nftables = v;
        o.nftablesPriority = undefined;
      },
      check: (v: string[], o: GlobalDefs, at, ctx) => {
        if (o.nftables !== v) ctx.diags.warning(at.head, 'keyword-repeated', 'nftables already specified - ignoring', { exit: 5 });
      },
      doc: 'Use nftables for the no_accept drop rules, in table NAME (keepalived) of families ip and ip6; the first one counts, and a reload cannot change it.',
    }),
    g.k('nftables_priority', int(-2147483648, 2147483647), {
      doc: 'nftables chain priority (-1); a later `nftables` or `vrrp_iptables` sets it back to -1.',
    }),
    g.k('nftables_counters', flag, {
      default: false,
      doc: 'Add counters to the nftables rules.',
    }),
    g.k('nftables_ifindex', bool, {
      doc: 'Match IPv6 link-local VIPs by interface index (set vips_link_local), even with dont_track_primary.',
    }),
    g.k('nftables_ipvs', words, {
      notImplemented: 'no nftables fwmark rules for virtual_server_group',
      doc: 'nftables table for virtual_server_group fwmarks.',
    }),
    g.k('nftables_ipvs_priority', int(-2147483648, 2147483647), {
      notImplemented: 'no nftables fwmark rules for virtual_server_group',
      doc: 'Priority of the IPVS nftables chain.',
    }),
    g.k('nftables_ipvs_start_fwmark', int(1, 2147483647), {
      notImplemented: 'no nftables fwmark rules for virtual_server_group',
      doc: 'First fwmark for virtual_server_group (1000).',
    }),
    // keepalived 2.2.7 as Debian builds it (NFTABLES, without IPTABLES and LIBIPSET: `keepalived -v`)
    // takes vrrp_iptables as `nftables keepalived` with a config error, and does not know vrrp_ipsets.
    g.k('vrrp_iptables', words, {
      field: 'nftables',
      apply: (_v: string[], o: GlobalDefs) => {
        o.nftables = [DEFAULT_NFT_TABLE];
        o.nftablesPriority = undefined;
      },
      check: (_v: string[], _o: GlobalDefs, at, ctx) =>
        ctx.diags.warning(
          at.head,
          'deprecated-keyword',
          "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option",
          { exit: 5, hint: 'write: nftables' },
        ),
      doc: "keepalived 2.2.7 built without iptables (Debian's): the no_accept rules go in nftables table `keepalived`, with keepalived's config error.",
    }),
    g.k('vrrp_ipsets', words, {
      check: (_v: string[], _o: GlobalDefs, at, ctx) =>
        ctx.diags.warning(at.head, 'unknown-keyword', "Unknown keyword 'vrrp_ipsets'", {
          exit: 5,
          hint: 'keepalived 2.2.7 as Debian builds it has no ipset support; the no_accept rules are nftables sets',
        }),
      ignored: 'keepalived 2.2.7 as Debian builds it (without LIBIPSET) does not know it: reported as keepalived reports it, an unknown keyword',
      doc: 'ipset names for the iptables rules (keepalived built with iptables and libipset only).',
    }),
    g.k('lvs_sync_daemon', lvsSyncDaemon, {
      deprecated: ['lvs_sync_daemon_interface'],
      doc: "Run IPVS's connection sync daemon on this interface (kernel IPVS, through ipvsadm): master while the VRRP instance is MASTER, backup otherwise; without an instance, both. id defaults to the instance's virtual_router_id (else 0).",
    }),
    g.k('lvs_timeouts', lvsTimeouts, {
      doc: 'Idle timeouts in seconds: established TCP (900), half-closed TCP (120), UDP flows (300); 0 keeps the default. For the embedded forwarder, and kernel IPVS (ipvsadm --set).',
    }),
    g.k('lvs_flush', flag, { default: false, doc: 'Flush the whole IPVS table at start-up (kernel IPVS; the embedded forwarder has no kernel table).' }),
    g.k('lvs_flush_on_stop', lvsFlushOnStop, {
      doc: 'At stop, flush the whole IPVS table (alone), or remove our virtual servers without their real servers first (VS) (kernel IPVS).',
    }),
    g.k('process_names', flag, { default: false, notImplemented: PROC, doc: 'Give each child process its own name.' }),
    g.k('process_name', word, { notImplemented: PROC, doc: 'Name of the parent process.' }),
    g.k('vrrp_process_name', word, { notImplemented: PROC, doc: 'Name of the VRRP process.' }),
    g.k('checker_process_name', word, { notImplemented: PROC, doc: 'Name of the checker process.' }),
    g.k('bfd_process_name', word, { notImplemented: PROC, doc: 'Name of the BFD process.' }),
    ...perProcess('priority', int(-20, 19), 'Scheduling nice value'),
    ...perProcess('no_swap', flag, 'Lock memory so the process is never swapped', { default: false }),
    ...perProcess('cpu_affinity', ints, 'CPUs the process may run on'),
    ...perProcess('rt_priority', int(1, 99), 'Real-time scheduling priority'),
    ...perProcess('rlimit_rttime', int(2, 2147483647), 'CPU µs a real-time process may use before blocking'),
    g.k('max_auto_priority', int(-1, 99), { notImplemented: PROC, doc: 'Raise to real-time priority up to this when timers run late (0: off).' }),
    g.k('min_auto_priority_delay', int(1, 10000000), { notImplemented: PROC, doc: 'µs of lateness before raising priority.' }),
    g.k('snmp_socket', word, {
      doc: 'AgentX socket of the SNMP master agent: unix:PATH, tcp:HOST:PORT or HOST:PORT (default unix:/var/agentx/master; -A overrides it).',
    }),
    g.k('enable_snmp_vrrp', flag, {
      default: false,
      aliases: ['enable_snmp_keepalived'],
      doc: "Serve KEEPALIVED-MIB's global and VRRP parts (sync groups and members, instances, addresses) through AgentX; -x as well.",
    }),
    g.k('enable_snmp_checker', flag, {
      default: false,
      doc: "Serve KEEPALIVED-MIB's global and checker parts (virtual and real servers) through AgentX; -x as well.",
    }),
    g.k('enable_snmp_rfc', flag, { default: false, notImplemented: 'only KEEPALIVED-MIB is served', doc: 'Serve the RFC VRRP MIBs.' }),
    g.k('enable_snmp_rfcv2', flag, { default: false, notImplemented: 'only KEEPALIVED-MIB is served', doc: 'Serve the RFC 2787 VRRP MIB.' }),
    g.k('enable_snmp_rfcv3', flag, { default: false, notImplemented: 'only KEEPALIVED-MIB is served', doc: 'Serve the RFC 6527 VRRPv3 MIB.' }),
    g.k('enable_traps', flag, {
      default: false,
      doc: "Send KEEPALIVED-MIB's traps: instance and sync group state changes (with enable_snmp_vrrp), real server and quorum changes (with enable_snmp_checker).",
    }),
    g.k('enable_dbus', flag, { default: false, notImplemented: 'keepalived-ts has no D-Bus interface', doc: 'Serve the D-Bus interface.' }),
    g.k('dbus_service_name', word, { notImplemented: 'keepalived-ts has no D-Bus interface', doc: 'D-Bus service name (org.keepalived.Vrrp1).' }),
    g.k('tmp_config_directory', word, { notImplemented: 'no flattened copy of the config is written', doc: 'Where the flattened config copy is written.' }),
    g.k('config_save_dir', word, { notImplemented: 'no copy of the config is saved', doc: 'Where to save a copy of each config read.' }),
    g.k('umask', umaskValue, {
      doc: 'umask of the daemon, its files (dumps, FIFOs) and its scripts: a number or bits like IWGRP|IWOTH (default 0177); -u on the command line wins.',
    }),
    g.k('random_seed', int(0, 4294967295), { notImplemented: 'timer jitter and ${_RANDOM} use a random seed', doc: 'Seed for ${_RANDOM} and timer jitter.' }),
    g.k('reload_check_config', optionalPath, { doc: 'Test a new config before reloading; log to the given file.' }),
    g.k('reload_time_file', word, { notImplemented: 'reloads happen on SIGHUP only', doc: 'File holding a time at which to reload.' }),
    g.k('reload_repeat', flag, { default: false, notImplemented: 'reloads happen on SIGHUP only', doc: 'Reload at the reload_time_file time every day.' }),
    g.k('reload_file', optionalPath, { notImplemented: 'reloads happen on SIGHUP only', doc: 'File whose creation triggers a reload.' }),
    g.k('include_check', words, {
      notImplemented: 'includes are read as keepalived reads them by default',
      doc: 'Default checks for include: readable, match, wildcard_match, brace_match.',
    }),
    g.k('data_use_instance', bool, { notImplemented: 'dumps keep their default file names', doc: 'Add the instance name to dump file names.' }),
    g.k('state_file_location', word, {
      since: '2.3.3',
      aliases: ['state_dump_file'],
      notImplemented: 'the SIGUSR1 dump goes to /tmp/keepalived.data',
      doc: 'Path of the SIGUSR1 data dump.',
    }),
    g.k('stats_file_location', word, {
      since: '2.3.3',
      aliases: ['stats_dump_file'],
      notImplemented: 'the SIGUSR2 dump goes to /tmp/keepalived.stats',
      doc: 'Path of the SIGUSR2 statistics dump.',
    }),
    g.k('json_file_location', word, {
      since: '2.3.3',
      aliases: ['json_dump_file'],
      notImplemented: 'the JSON dump goes to /tmp/keepalived.json',
      doc: 'Path of the JSON dump.',
    }),
    g.k('json_version', int(1, 2), {
      since: '2.2.8',
      notImplemented: "the JSON dump has keepalived 2.2.7's format (version 1)",
      doc: 'Format of the JSON dump.',
    }),
    g.k('rs_init_notifies', flag, {
      default: false,
      doc: 'A real server in service from the start (or from the reload that adds it) runs notify_up and writes its FIFO line and trap.',
    }),
    g.k('iproute_usr_dir', word, { since: '2.3.2', notImplemented: 'iproute2 table names are not looked up', doc: 'Directory of iproute2 tables under /usr.' }),
    g.k('iproute_etc_dir', word, { since: '2.3.2', notImplemented: 'iproute2 table names are not looked up', doc: 'Directory of iproute2 tables under /etc.' }),
    g.k('linkbeat_use_polling', flag, {
      default: false,
      notImplemented: 'link state is read the same way for every interface',
      doc: 'Poll link state instead of listening to netlink.',
    }),
    ...netlinkKeywords,
  ],
});

const gg = keywords<GarpGroup>();
export const garpGroupBlock = defineBlock<GarpGroup>({
  name: 'garp_group',
  doc: 'Rate limits for gratuitous ARP / neighbour adverts on a set of interfaces.',
  keywords: [
    gg.k('garp_interval', decimal(0, 2147.483647), { doc: 'Seconds between gratuitous ARPs.' }),
    gg.k('gna_interval', decimal(0, 2147.483647), { doc: 'Seconds between unsolicited neighbour adverts on these interfaces (instead of vrrp_gna_interval).' }),
    gg.k('interface', word, { doc: 'The interface the limits apply to.' }),
    gg.b('interfaces', nameList('interfaces', 'Interfaces the limits apply to.'), { default: [] }),
  ],
});

export const linkbeatBlock = defineBlock<{ items: LinkbeatInterface[] }>({
  name: 'linkbeat_interfaces',
  doc: 'Interfaces whose link state is polled: IF [MII|ETHTOOL|IOCTL].',
  keywords: [],
  item: {
    field: 'items',
    usage: 'IF [MII|ETHTOOL|IOCTL]',
    parse: (st: Statement, ctx: BuildContext) => {
      const m = st.args[0]?.text;
      if (m && !['MII', 'ETHTOOL', 'IOCTL'].includes(m)) ctx.error(st.args[0], 'value-enum', `invalid linkbeat method '${m}'`, 'write MII, ETHTOOL or IOCTL');
      return { name: st.keyword, method: m as LinkbeatInterface['method'] };
    },
  },
});

export const interfaceDelaysBlock = defineBlock<{ items: InterfaceDelay[] }>({
  name: 'interface_up_down_delays',
  doc: 'Delay acting on link changes: IF DOWN_DELAY [UP_DELAY] (seconds, at most 255).',
  keywords: [],
  item: {
    field: 'items',
    usage: 'IF DOWN_DELAY [UP_DELAY]',
    parse: (st: Statement, ctx: BuildContext) => {
      const d = decimal(0, 255).parse(st.args.slice(0, 1));
      const u = st.args[1] ? decimal(0, 255).parse(st.args.slice(1, 2)) : d;
      if ('error' in d || 'error' in u) {
        ctx.error(st.args[0] ?? st.head, 'value-range', `${st.keyword}: delays must be seconds between 0 and 255`, 'write: eth0 2 1');
        return undefined;
      }
      return { name: st.keyword, downDelay: d.value, upDelay: u.value };
    },
  },
});
