// The typed keepalived.conf: what the builder returns, with keepalived's defaults applied, and
// (`resolved`) the VRRP instances and LVS side as they run, with what each inherits filled in.
import type { Located } from './common.js';
import type { GarpGroup, GlobalDefs, InterfaceDelay, LinkbeatInterface } from './global.js';
import type { LvsTimeouts, ResolvedVirtualServer, SslConfig, VirtualServer, VirtualServerGroup } from './lvs.js';
import type {
  BfdInstance,
  ResolvedTrackFile,
  ResolvedVrrpInstance,
  ResolvedVrrpScript,
  RouteSpec,
  RuleSpec,
  StaticTrackGroup,
  SyncGroup,
  TrackFile,
  TrackProcess,
  VirtualAddress,
  VrrpInstance,
  VrrpScript,
} from './vrrp.js';

export type * from './common.js';
export type * from './global.js';
export { DEFAULT_NFT_TABLE, nftTableKeyword } from './global.js';
export type * from './lvs.js';
export type * from './vrrp.js';
export { WEIGHT_MAX } from './lvs.js';

export interface Config extends Located {
  // Root-level keywords (outside any block).
  netNamespace?: string;
  netNamespaceIpvs?: string;
  namespaceWithIpsets: boolean;
  instance?: string;
  usePidDir: boolean;
  linkbeatUsePolling: boolean;
  childWaitTime: number;

  globalDefs: GlobalDefs;
  linkbeatInterfaces: LinkbeatInterface[];
  interfaceUpDownDelays: InterfaceDelay[];
  trackGroups: StaticTrackGroup[];
  garpGroups: GarpGroup[];
  staticIpaddress: VirtualAddress[];
  staticRoutes: RouteSpec[];
  staticRules: RuleSpec[];
  vrrpScripts: VrrpScript[];
  trackFiles: TrackFile[];
  trackProcesses: TrackProcess[];
  bfdInstances: BfdInstance[];
  syncGroups: SyncGroup[];
  vrrpInstances: VrrpInstance[];
  virtualServerGroups: VirtualServerGroup[];
  virtualServers: VirtualServer[];
  ssl?: SslConfig;

  /** What runs, with every inherited or defaulted value filled in (resolve-vrrp.ts, resolve-lvs.ts). */
  resolved: {
    vrrpInstances: ResolvedVrrpInstance[];
    vrrpScripts: ResolvedVrrpScript[];
    trackFiles: ResolvedTrackFile[];
    virtualServers: ResolvedVirtualServer[];
    lvsTimeouts: LvsTimeouts;
  };
}

/** The configuration as the builder makes it, before resolving. */
export type WrittenConfig = Omit<Config, 'resolved'>;
