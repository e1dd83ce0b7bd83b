// One VRRPv2 runner's settings for the state-machine tests: VRID 51, advert_int 1 s, preempt,
// VIP 192.168.1.100 over multicast, no refresh or lower-priority GARPs; `over` changes what a test is about.
import type { RunnerConfig } from '../../src/vrrp/instance.js';
import { AUTH_NONE } from '../../src/vrrp/packet.js';

const S = 1_000_000;

export function runnerConfigFor(name: string, address: string, priority: number, over: Partial<RunnerConfig> = {}): RunnerConfig {
  return {
    name,
    vrid: 51,
    version: 2,
    priority,
    wantMaster: false,
    advertIntUs: S,
    preempt: true,
    preemptDelayUs: 0,
    downTimerAdverts: 3,
    addresses: ['192.168.1.100'],
    primaryAddress: address,
    authType: AUTH_NONE,
    unicast: false,
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    skipCheckAdvAddr: false,
    family: 4,
    peers: [],
    checksumMode: 'pseudo-header',
    ttl: 255,
    garpRefreshUs: 0,
    garpRefreshRepeat: 1,
    extraIfGarpUs: 0,
    garpLowerPrioRepeat: 0,
    garpLowerPrioDelayUs: 0,
    ...over,
  };
}
