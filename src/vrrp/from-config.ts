// From the typed keepalived.conf model to what one VRRP instance runs with.
import type { ResolvedVrrpInstance } from '../config/model/index.js';
import type { RunnerConfig } from './instance.js';
import { AUTH_AH, AUTH_NONE, AUTH_PASS } from './packet.js';
import { US_PER_SEC } from './timers.js';

export function runnerConfig(inst: ResolvedVrrpInstance, primaryAddress: string): RunnerConfig {
  const auth = inst.authentication?.authType;
  return {
    name: inst.name,
    vrid: inst.virtualRouterId,
    version: inst.version,
    priority: inst.priority,
    wantMaster: inst.state === 'MASTER',
    advertIntUs: Math.round(inst.advertInt * US_PER_SEC),
    preempt: !inst.nopreempt,
    preemptDelayUs: Math.round(inst.preemptDelay * US_PER_SEC),
    downTimerAdverts: inst.downTimerAdverts,
    addresses: inst.virtualIpaddress.map((v) => v.address),
    primaryAddress: inst.unicastSrcIp ?? primaryAddress,
    authType: inst.version === 3 ? AUTH_NONE : auth === 'PASS' ? AUTH_PASS : auth === 'AH' ? AUTH_AH : AUTH_NONE,
    authPass: inst.authentication?.authPass,
    unicast: inst.unicastPeer.length > 0,
    unicastSrcPeers:
      inst.unicastPeer.length > 0 && inst.checkUnicastSrc
        ? inst.unicastPeer.map((p) => ({ address: p.address, minTtl: p.minTtl, maxTtl: p.maxTtl }))
        : undefined,
    lowerPrioNoAdvert: inst.lowerPrioNoAdvert,
    higherPrioSendAdvert: inst.higherPrioSendAdvert,
    skipCheckAdvAddr: inst.skipCheckAdvAddr,
    family: inst.family,
    peers: inst.unicastPeer.map((p) => p.address),
    mcastGroup: inst.mcastGroup,
    checksumMode: inst.v3ChecksumAsV2 ? 'message' : 'pseudo-header',
    // keepalived 2.2.7: IPv4 adverts carry 255 unless unicast_ttl (the resolver drops it without
    // peers); for IPv6 unicast it lets the kernel choose, where we keep 255 (see README).
    ttl: inst.unicastPeer.length > 0 ? (inst.unicastTtl ?? 255) : 255,
    syncGroup: inst.syncGroup,
    garpRefreshUs: Math.round(inst.garpMasterRefresh * US_PER_SEC),
    garpRefreshRepeat: inst.garpMasterRefreshRepeat,
    extraIfGarpUs: inst.extraIfGarp ? inst.extraIfGarp.intervalS * US_PER_SEC : 0,
    garpLowerPrioRepeat: inst.garpLowerPrioRepeat,
    garpLowerPrioDelayUs: Math.round(inst.garpLowerPrioDelay * US_PER_SEC),
  };
}
