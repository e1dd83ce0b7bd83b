// Where runtime code reads each keyword's value, for test/config/keyword-status.test.ts. By
// default a keyword is read under its own model field (`advert_int` → `inst.advertInt`). The
// entries below are the exceptions: the config layer (resolve-*.ts) folds the value into another
// field before anything runs (global defaults into each instance, checker addresses into jobs).

/** The code that runs a configuration. src/config (reading it), src/cli, src/lint and src/lab do not count. */
export const RUNTIME_DIRS = ['src/daemon', 'src/vrrp', 'src/check', 'src/lvs', 'src/bfd', 'src/net', 'src/proc', 'src/core'];

const checkerAddress = (block: string): [string, string[]][] => [
  [`${block} connect_ip`, ['host']],
  [`${block} connect_port`, ['port']],
];

/** 'BLOCK KEYWORD' → the fields runtime code reads it as (resolve-vrrp.ts, resolve-lvs.ts). */
export const READ_AS: Record<string, string[]> = Object.fromEntries([
  // global_defs defaults, inherited by every instance (resolveVrrpInstances).
  ['global_defs vrrp_mcast_group4', ['mcastGroup']],
  ['global_defs vrrp_mcast_group6', ['mcastGroup']],
  ['global_defs vrrp_version', ['version']],
  // strict mode at run time is what it folds into: no_accept (the firewall), lower_prio_no_advert...
  ['global_defs vrrp_strict', ['accept']],
  ['vrrp_instance strict_mode', ['accept']],
  ['global_defs vrrp_garp_master_delay', ['garpMasterDelay']],
  ['global_defs vrrp_garp_master_repeat', ['garpMasterRepeat']],
  ['global_defs vrrp_garp_lower_prio_delay', ['garpLowerPrioDelay']],
  ['global_defs vrrp_garp_lower_prio_repeat', ['garpLowerPrioRepeat']],
  ['global_defs vrrp_garp_master_refresh', ['garpMasterRefresh']],
  ['global_defs vrrp_garp_master_refresh_repeat', ['garpMasterRefreshRepeat']],
  ['global_defs vrrp_min_garp', ['garpMasterRepeat', 'garpMasterDelay']],
  ['global_defs vrrp_down_timer_adverts', ['downTimerAdverts']],
  ['global_defs vrrp_lower_prio_no_advert', ['lowerPrioNoAdvert']],
  ['global_defs vrrp_higher_prio_send_advert', ['higherPrioSendAdvert']],
  ['global_defs vrrp_check_unicast_src', ['checkUnicastSrc']],
  ['global_defs vrrp_skip_check_adv_addr', ['skipCheckAdvAddr']],
  ['vrrp_instance mcast_dst_ip', ['mcastGroup']],
  // use_vmac / use_ipvlan / vmac_xmit_base / vmac_prefix become the instance's `vmac` and
  // `sendInterface` (resolve-vmac.ts).
  ['vrrp_instance use_vmac', ['vmac']],
  ['vrrp_instance use_ipvlan', ['vmac']],
  ['vrrp_instance vmac_xmit_base', ['sendInterface', 'xmitBase']],
  ['global_defs vmac_prefix', ['vmac']],
  // use_vmac_addr / vmac_addr_prefix become the instance's addressVmacs; garp_extra_if (and the
  // global vrrp_garp_extra_if) its extraIfGarp (resolveVrrpInstances).
  ['vrrp_instance use_vmac_addr', ['addressVmacs']],
  ['global_defs vmac_addr_prefix', ['addressVmacs']],
  ['vrrp_instance garp_extra_if', ['extraIfGarp']],
  ['global_defs vrrp_garp_extra_if', ['extraIfGarp']],
  // Without peers it becomes the instance's configFault (resolveVrrpInstances).
  ['vrrp_instance unicast_fault_no_peer', ['configFault']],
  // Trackers of an instance and of its sync group become its `tracks` (resolveTracks); the sync
  // group's weight switches become each track's ignoredWeight.
  ['vrrp_instance track_script', ['tracks']],
  ['vrrp_instance track_file', ['tracks']],
  ['vrrp_instance track_bfd', ['tracks']],
  ['vrrp_sync_group track_script', ['tracks']],
  ['vrrp_sync_group track_file', ['tracks']],
  ['vrrp_sync_group track_bfd', ['tracks']],
  ['vrrp_sync_group sync_group_tracking_weight', ['ignoredWeight']],
  ['vrrp_sync_group global_tracking', ['ignoredWeight']],
  // The LVS side (resolveVirtualServers): the sorry server carries its method; checker addresses
  // and SMTP_CHECK host blocks become jobs; FILE_CHECK carries its track_file's path.
  ['virtual_server sorry_server_lvs_method', ['sorryServer']],
  ...['HTTP_GET', 'SSL_GET', 'TCP_CHECK', 'SMTP_CHECK', 'DNS_CHECK', 'UDP_CHECK', 'PING_CHECK', 'host'].flatMap(checkerAddress),
  // With the virtualhosts, each url's SNI name (resolveVirtualServers).
  ['SSL_GET enable_sni', ['urlSni']],
  ['SMTP_CHECK host', ['checks']],
  ['FILE_CHECK track_file', ['file']],
]);

/**
 * Implemented keywords whose whole effect is a check made when the config is read: they are read in
 * src/config/resolve*.ts, and nothing runs differently.
 */
export const LOAD_TIME_ONLY: Record<string, string> = {
  'vrrp_instance no_virtual_ipaddress': 'allows an instance without virtual addresses (no vip-none error)',
};

/**
 * Field names that runtime code reads for something else than the not-implemented keywords of the
 * same name: for those keywords the test cannot tell by name, and says which it skips.
 */
export const SHARED_NAMES: Record<string, string> = {
  group: 'vrrp_sync_group group',
  ttl: "the stats dump's TTL error counter",
  instance: 'lvs_sync_daemon inst VRRP_INSTANCE',
};
