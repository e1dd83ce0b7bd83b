// From the typed keepalived.conf model to what one VRRP instance runs with.
import type { Config, VrrpInstance } from '../config/model/index.js';
import type { RunnerConfig } from './instance.js';
import { AUTH_AH, AUTH_NONE, AUTH_PASS } from './packet.js';
import { US_PER_SEC } from './timers.js';

/** The interface an instance runs on: its own, or global_defs default_interface. */
export function interfaceOf(inst: VrrpInstance, cfg: Config): string {
  return inst.interface ?? cfg.globalDefs.defaultInterface;
}

export function runnerConfig(inst: VrrpInstance, cfg: Config, primaryAddress: string): RunnerConfig {
  const family = inst.virtualIpaddress[0]?.family ?? 4;
  const auth = inst.authentication?.authType;
  return {
    name: inst.name,
    vrid: inst.virtualRouterId ?? 0,
    version: inst.version ?? 2,
    priority: inst.priority,
    wantMaster: inst.state === 'MASTER',
    advertIntUs: Math.round(inst.advertInt * US_PER_SEC),
    preempt: !inst.nopreempt,
    preemptDelayUs: Math.round(inst.preemptDelay * US_PER_SEC),
    downTimerAdverts: inst.downTimerAdverts ?? cfg.globalDefs.vrrpDownTimerAdverts,
    addresses: inst.virtualIpaddress.map((v) => v.address),
    primaryAddress: inst.unicastSrcIp ?? primaryAddress,
    authType: inst.version === 3 ? AUTH_NONE : auth === 'PASS' ? AUTH_PASS : auth === 'AH' ? AUTH_AH : AUTH_NONE,
    authPass: inst.authentication?.authPass,
    unicast: inst.unicastPeer.length > 0,
    unicastSrcPeers:
      inst.unicastPeer.length > 0 && inst.checkUnicastSrc
        ? inst.unicastPeer.map((p) => ({ address: p.address, minTtl: p.minTtl ?? 0, maxTtl: p.maxTtl ?? 255 }))
        : undefined,
    lowerPrioNoAdvert: inst.lowerPrioNoAdvert ?? false,
    higherPrioSendAdvert: inst.higherPrioSendAdvert ?? false,
    family,
    peers: inst.unicastPeer.map((p) => p.address),
    mcastGroup: inst.mcastDstIp ?? (family === 4 ? cfg.globalDefs.vrrpMcastGroup4 : cfg.globalDefs.vrrpMcastGroup6),
    checksumMode: inst.v3ChecksumAsV2 ? 'message' : 'pseudo-header',
    syncGroup: cfg.syncGroups.find((g) => g.group.includes(inst.name))?.name,
  };
}
