// VRRP blocks of keepalived.conf(5): vrrp_script, track_file, vrrp_track_process, bfd_instance,
// vrrp_sync_group, vrrp_instance, static addresses/routes/rules and their list items.
import type { Span } from '../diagnostics.js';
import type { Item, Located, Named, ScriptRef, TrackRef } from './common.js';

/** One line of virtual_ipaddress / static_ipaddress. No mask means /32 (IPv4) or /128 (IPv6). */
export interface VirtualAddress extends Item {
  address: string;
  family: 4 | 6;
  prefix: number;
  brd?: string;
  dev?: string;
  scope?: string;
  label?: string;
  peer?: string;
  preferredLft?: string;
  trackGroup?: string;
  /** Bare options: home, -nodad, mngtmpaddr, noprefixroute, autojoin, no_track, use_vmac. */
  flags: string[];
}

/** One line of virtual_routes / static_routes, in `ip route` syntax. */
export interface RouteSpec extends Item {
  /** The words as written, for iproute2. */
  args: string[];
  to?: string;
  via?: string;
  dev?: string;
  src?: string;
  table?: string;
  metric?: number;
  blackhole: boolean;
  noTrack: boolean;
}

/** One line of virtual_rules / static_rules, in `ip rule` syntax. */
export interface RuleSpec extends Item {
  args: string[];
  from?: string;
  to?: string;
  table?: string;
  preference?: number;
  noTrack: boolean;
}

export interface UnicastPeer extends Item {
  address: string;
  family: 4 | 6;
  minTtl?: number;
  maxTtl?: number;
}

export interface TrackInterface extends Item {
  name: string;
  weight?: number;
  reverse: boolean;
}

export interface Authentication extends Located {
  authType?: 'PASS' | 'AH';
  authPass?: string;
}

export interface VrrpScript extends Named {
  script?: ScriptRef;
  interval: number;
  /** Seconds; unset means the interval (keepalived). */
  timeout?: number;
  weight: number;
  weightReverse: boolean;
  rise: number;
  fall: number;
  user?: { user: string; group?: string };
  initFail: boolean;
}

export interface TrackFile extends Named {
  file?: string;
  weight: number;
  weightReverse: boolean;
  initFile?: { value?: number; overwrite: boolean };
}

export interface TrackProcess extends Named {
  /** The name (or first word of the command line), then any parameters to match. */
  process?: string[];
  /** `param_match` alone is `exact`. */
  paramMatch?: 'exact' | 'initial' | 'partial';
  weight: number;
  weightReverse: boolean;
  quorum: number;
  quorumMax?: number;
  forkDelay?: number;
  terminateDelay?: number;
  delay?: number;
  fullCommand: boolean;
}

export interface BfdInstance extends Named {
  neighborIp?: string;
  sourceIp?: string;
  minRx: number;
  minTx: number;
  idleTx: number;
  multiplier: number;
  passive: boolean;
  ttl?: number;
  hoplimit?: number;
  maxHops?: number;
  weight: number;
  weightReverse: boolean;
  vrrp: boolean;
  checker: boolean;
}

/** The notify keywords shared by instances and sync groups. */
export interface Notifies {
  notifyMaster?: ScriptRef;
  notifyBackup?: ScriptRef;
  notifyFault?: ScriptRef;
  notifyStop?: ScriptRef;
  notifyDeleted?: ScriptRef | true;
  notify?: ScriptRef;
  notifyPriorityChanges: boolean;
  smtpAlert?: boolean;
}

export interface SyncGroup extends Named, Notifies {
  group: string[];
  trackInterface: TrackInterface[];
  trackScript: TrackRef[];
  trackFile: TrackRef[];
  trackProcess: TrackRef[];
  trackBfd: TrackRef[];
  globalTracking: boolean;
  syncGroupTrackingWeight: boolean;
}

export interface VrrpInstance extends Named, Notifies {
  /** The initial wish; every instance still starts in BACKUP unless it owns the address. */
  state: 'MASTER' | 'BACKUP';
  interface?: string;
  vrf?: string;
  /** Mandatory: 1..255. */
  virtualRouterId?: number;
  priority: number;
  /** Seconds; VRRPv2 needs whole seconds, v3 has centisecond resolution. */
  advertInt: number;
  /** Unset: global_defs vrrp_version (2), or 3 for IPv6. */
  version?: 2 | 3;
  nativeIpv6: boolean;
  debug?: number;
  nopreempt: boolean;
  preemptDelay: number;
  timerExpiredBackup?: number | true;
  /** `mcast_src_ip` and `unicast_src_ip` set the same field, as in keepalived. */
  unicastSrcIp?: string;
  /** Where unicast_src_ip was written (not its alias mcast_src_ip): one of the keywords that ask
   * for unicast, which keepalived reports when no peer follows. */
  unicastSrcIpAt?: Span;
  mcastDstIp?: string;
  trackSrcIp: boolean;
  unicastPeer: UnicastPeer[];
  unicastFaultNoPeer: boolean;
  unicastTtl?: number;
  checkUnicastSrc: boolean;
  oldUnicastChecksum?: true | 'never';
  v3ChecksumAsV2?: boolean;
  authentication?: Authentication;
  virtualIpaddress: VirtualAddress[];
  virtualIpaddressExcluded: VirtualAddress[];
  noVirtualIpaddress: boolean;
  promoteSecondaries: boolean;
  virtualRoutes: RouteSpec[];
  virtualRules: RuleSpec[];
  accept?: boolean;
  dontTrackPrimary: boolean;
  trackInterface: TrackInterface[];
  trackScript: TrackRef[];
  trackFile: TrackRef[];
  trackProcess: TrackRef[];
  trackBfd: TrackRef[];
  notifyMasterRxLowerPri?: ScriptRef;
  garpMasterDelay?: number;
  garpMasterRepeat?: number;
  garpLowerPrioDelay?: number;
  garpLowerPrioRepeat?: number;
  garpMasterRefresh?: number;
  garpMasterRefreshRepeat?: number;
  garpExtraIf?: { all: boolean; delay: number };
  downTimerAdverts?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  skipCheckAdvAddr?: boolean;
  strictMode?: boolean;
  ownerIgnoreAdverts?: boolean;
  kernelRxBufSize?: number;
  useVmac?: { name?: string; mac?: string };
  useVmacAddr: boolean;
  vmacXmitBase: boolean;
  useIpvlan?: { name?: string; args: string[] };
  linkbeatUsePolling: boolean;
  lvsSyncDaemonInterface?: string;
}

export interface StaticTrackGroup extends Named {
  group: string[];
}

// ---- resolved: what runs ------------------------------------------------------------------------

/** A virtual address with its interface: its own dev, else the instance's. */
export interface ResolvedVirtualAddress extends VirtualAddress {
  dev: string;
}

/** One tracked object of an instance (or of its sync group), with the weight that applies. */
export interface ResolvedTrack {
  kind: 'script' | 'interface' | 'process' | 'bfd' | 'file';
  name: string;
  /** The track line's weight, else the tracked object's, else 0 (0: failing means FAULT). */
  weight: number;
  /** With its own weight: the track line's reverse; else the object's weight_reverse, swapped by it. */
  reverse: boolean;
  /** Where the instance (or its sync group) tracks it. */
  at: Span;
  /** Tracked through a sync group rather than the instance itself. */
  viaGroup?: string;
  /** Weight ignored: sync group member without sync_group_tracking_weight, or address owner. */
  ignoredWeight?: string;
}

/**
 * An instance as it runs: what it inherits from global_defs filled in. It is a VrrpInstance too
 * (its fields narrowed), so code that reads only written fields takes either.
 */
export interface ResolvedVrrpInstance extends VrrpInstance {
  /** 0 when unset, as in keepalived (which reports it and does not start VRRP: vrid-missing). */
  virtualRouterId: number;
  /** Its own, else global_defs default_interface. */
  interface: string;
  /** Its own, else 3 for IPv6 addresses, else global_defs vrrp_version. */
  version: 2 | 3;
  /** The first VIP's family (4 without one). */
  family: 4 | 6;
  virtualIpaddress: ResolvedVirtualAddress[];
  virtualIpaddressExcluded: ResolvedVirtualAddress[];
  /** Each with its TTL range (min_ttl 0, max_ttl 255 when unset). */
  unicastPeer: ResolvedUnicastPeer[];
  /** mcast_dst_ip, else global_defs vrrp_mcast_group4/6. */
  mcastGroup: string;
  garpMasterDelay: number;
  garpMasterRepeat: number;
  garpLowerPrioDelay: number;
  garpLowerPrioRepeat: number;
  garpMasterRefresh: number;
  garpMasterRefreshRepeat: number;
  downTimerAdverts: number;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  skipCheckAdvAddr: boolean;
  strictMode: boolean;
  v3ChecksumAsV2: boolean;
  accept: boolean;
  /** The interface adverts go out and come in on: the VMAC or ipvlan unless vmac_xmit_base, else `interface`. */
  sendInterface: string;
  /** use_vmac / use_ipvlan: the interface keepalived creates on `interface` (VIPs without a dev go on it). */
  vmac?: ResolvedVmac;
  /** use_vmac_addr, or use_vmac on an address: the VMACs made for addresses on other interfaces
   * (or of the other family), named vmac_addr_prefix.VRID; the addresses go on them. */
  addressVmacs: ResolvedVmac[];
  /** garp_extra_if (vmac_garp_intvl, global vrrp_garp_extra_if): while MASTER, one gratuitous ARP
   * (or NA) every `intervalS` for the first of these addresses on each interface other than the
   * instance's own; undefined when off or when keepalived turns it off (no such interface). */
  extraIfGarp?: { intervalS: number; addresses: ResolvedVirtualAddress[] };
  /** Its sync group, if it is in one. */
  syncGroup?: string;
  /** Why it stays FAULT whatever it tracks (keepalived's num_config_faults), as keepalived logs it. */
  configFault?: string;
  /** Everything it tracks, its own then its sync group's, with the weights that apply. */
  tracks: ResolvedTrack[];
  /** As written (after keepalived's adjustments). */
  written: VrrpInstance;
}

/** A VMAC (macvlan, mode private) or ipvlan (mode l2) interface, as keepalived (vrrp_vmac.c) makes it. */
export interface ResolvedVmac {
  kind: 'macvlan' | 'ipvlan';
  /** Its name: the one written, else vmac_prefix (vrrp).VRID, the next free name if another instance has it. */
  ifname: string;
  /** The instance's interface it is made on. */
  base: string;
  /** macvlan: 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6), or the one written. */
  mac?: string;
  /** macvlan: private; ipvlan: its flags (bridge unless written). */
  mode: 'private' | 'bridge' | 'vepa';
  /** ipvlan: the address put on it (`ADDR/PREFIX`), also the adverts' source. */
  address?: string;
  /** The instance's address family: IPv4 instances get keepalived's sysctls and no IPv6 on it. */
  family: 4 | 6;
  xmitBase: boolean;
}

export interface ResolvedUnicastPeer extends UnicastPeer {
  minTtl: number;
  maxTtl: number;
}

/** A track_file as it runs: one with a file, its init_file value 0 when unset. */
export interface ResolvedTrackFile extends TrackFile {
  file: string;
  initFile?: { value: number; overwrite: boolean };
}

/** A vrrp_script as it runs (one without a script is dropped when resolving). */
export interface ResolvedVrrpScript extends VrrpScript {
  script: ScriptRef;
  /** Seconds: its timeout, else its interval. */
  timeout: number;
}
