// global_defs and the root-level keywords of keepalived.conf(5).
import type { Located, ScriptRef } from './common.js';

export interface LvsSyncDaemon {
  interface: string;
  instance?: string;
  id?: number;
  maxlen?: number;
  port?: number;
  ttl?: number;
  group?: string;
}

export interface GlobalDefs extends Located {
  routerId?: string;
  notificationEmail: string[];
  notificationEmailFrom?: string;
  smtpServer?: { host: string; port: number };
  smtpHeloName?: string;
  smtpConnectTimeout: number;
  smtpAlert?: boolean;
  smtpAlertVrrp?: boolean;
  smtpAlertChecker?: boolean;
  noEmailFaults: boolean;
  noCheckerEmails: boolean;
  checkerLogAllFailures?: boolean;
  scriptUser?: { user: string; group?: string };
  enableScriptSecurity: boolean;
  setSupplementaryGroups: boolean;
  useSymlinkPaths?: boolean;
  startupScript?: ScriptRef;
  startupScriptTimeout: number;
  shutdownScript?: ScriptRef;
  shutdownScriptTimeout: number;
  notifyFifo?: string[];
  notifyFifoScript?: ScriptRef;
  vrrpNotifyFifo?: string[];
  vrrpNotifyFifoScript?: ScriptRef;
  lvsNotifyFifo?: string[];
  lvsNotifyFifoScript?: ScriptRef;
  fifoWriteVrrpStatesOnReload: boolean;
  vrrpNotifyPriorityChanges?: boolean;
  vrrpMcastGroup4: string;
  vrrpMcastGroup6: string;
  defaultInterface: string;
  vrrpVersion: 2 | 3;
  v3ChecksumAsV2?: boolean;
  vrrpGarpMasterDelay: number;
  vrrpGarpMasterRepeat: number;
  vrrpGarpLowerPrioDelay?: number;
  vrrpGarpLowerPrioRepeat?: number;
  vrrpGarpMasterRefresh: number;
  vrrpGarpMasterRefreshRepeat: number;
  vrrpGarpInterval: number;
  vrrpGnaInterval: number;
  vrrpMinGarp?: boolean;
  vrrpGarpExtraIf?: { all: boolean; delay: number };
  vrrpDownTimerAdverts: number;
  vrrpLowerPrioNoAdvert?: boolean;
  vrrpHigherPrioSendAdvert?: boolean;
  vrrpCheckUnicastSrc: boolean;
  vrrpSkipCheckAdvAddr?: boolean;
  vrrpStrict: boolean;
  vrrpOwnerIgnoreAdverts?: boolean;
  vrrpStartupDelay: number;
  vrrpDelayAfterBoot?: number;
  logUnknownVrids?: boolean;
  vmacPrefix?: string;
  vmacAddrPrefix?: string;
  vrrpRxBufsPolicy?: string[];
  vrrpRxBufsMultiplier?: number;
  disableLocalIgmp: boolean;
  dynamicInterfaces?: string[];
  /** `nftables [NAME]` (or `vrrp_iptables`, which keepalived 2.2.7 without iptables takes as `nftables`). */
  nftables?: string[];
  nftablesPriority?: number;
  nftablesCounters: boolean;
  nftablesIfindex?: boolean;
  nftablesIpvs?: string[];
  nftablesIpvsPriority?: number;
  nftablesIpvsStartFwmark?: number;
  vrrpIpsets?: string[];
  lvsSyncDaemon?: LvsSyncDaemon;
  lvsTimeouts?: { tcp?: number; tcpfin?: number; udp?: number };
  lvsFlush: boolean;
  lvsFlushOnStop?: string[];
  processNames: boolean;
  processName?: string;
  vrrpProcessName?: string;
  checkerProcessName?: string;
  bfdProcessName?: string;
  vrrpPriority?: number;
  checkerPriority?: number;
  bfdPriority?: number;
  vrrpNoSwap: boolean;
  checkerNoSwap: boolean;
  bfdNoSwap: boolean;
  vrrpCpuAffinity?: number[];
  checkerCpuAffinity?: number[];
  bfdCpuAffinity?: number[];
  vrrpRtPriority?: number;
  checkerRtPriority?: number;
  bfdRtPriority?: number;
  vrrpRlimitRttime?: number;
  checkerRlimitRttime?: number;
  bfdRlimitRttime?: number;
  maxAutoPriority?: number;
  minAutoPriorityDelay?: number;
  snmpSocket?: string;
  enableSnmpVrrp: boolean;
  enableSnmpChecker: boolean;
  enableSnmpRfc: boolean;
  enableSnmpRfcv2: boolean;
  enableSnmpRfcv3: boolean;
  enableTraps: boolean;
  enableDbus: boolean;
  dbusServiceName?: string;
  tmpConfigDirectory?: string;
  configSaveDir?: string;
  umask?: number;
  randomSeed?: number;
  reloadCheckConfig?: string | true;
  reloadTimeFile?: string;
  reloadRepeat: boolean;
  reloadFile?: string | true;
  includeCheck?: string[];
  dataUseInstance?: boolean;
  stateFileLocation?: string;
  statsFileLocation?: string;
  jsonFileLocation?: string;
  jsonVersion?: number;
  rsInitNotifies: boolean;
  iprouteUsrDir?: string;
  iprouteEtcDir?: string;
  linkbeatUsePolling: boolean;
  /** Netlink buffer tuning keywords, kept verbatim: no effect in keepalived-ts. */
  netlinkBuffers: Record<string, number>;
}

export interface GarpGroup extends Located {
  garpInterval?: number;
  gnaInterval?: number;
  interface?: string;
  interfaces: string[];
}

export interface LinkbeatInterface {
  name: string;
  method?: 'MII' | 'ETHTOOL' | 'IOCTL';
}

export interface InterfaceDelay {
  name: string;
  downDelay: number;
  upDelay: number;
}

/** keepalived's DEFAULT_NFTABLES_TABLE. */
export const DEFAULT_NFT_TABLE = 'keepalived';

/**
 * The table name a reload compares (keepalived's parent: only what `nftables` or `vrrp_iptables`
 * set; the VRRP process falls back to the default without them).
 */
export const nftTableKeyword = (g: GlobalDefs): string | undefined => (g.nftables ? (g.nftables[0] ?? DEFAULT_NFT_TABLE) : undefined);
