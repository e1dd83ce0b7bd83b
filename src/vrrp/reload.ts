// SIGHUP's rule for keeping an instance as it is: a runner of the previous engine is handed to the
// next one when neither its runner configuration nor its addresses changed, so it keeps its state,
// timers and VIPs. Shared by the daemon's reload and the lab's simulated one.
import type { VrrpInstance } from '../config/model/index.js';
import type { EngineEnv, VrrpEngine } from './engine.js';
import type { VrrpRunner } from './instance.js';

/** EngineEnv.adopt for an engine replacing `previous`; the runners it takes are added to `adopted`
 * (the previous engine's stop() must leave those running). */
export function adoptUnchanged(previous: VrrpEngine | undefined, adopted: Set<VrrpRunner>): NonNullable<EngineEnv['adopt']> {
  return (inst, rc) => {
    const old = previous?.instances.find((m) => m.inst.name === inst.name);
    if (!old || JSON.stringify(old.runner.cfg) !== JSON.stringify(rc) || !sameAddresses(old.inst, inst)) return undefined;
    adopted.add(old.runner);
    return old.runner;
  };
}

/** Same VIPs, excluded addresses and routes: a reload may keep the instance as it is. */
export function sameAddresses(a: VrrpInstance, b: VrrpInstance): boolean {
  const key = (i: VrrpInstance): string =>
    JSON.stringify([i.virtualIpaddress, i.virtualIpaddressExcluded, i.virtualRoutes, i.virtualRules].map((l) => l.map((x) => ({ ...x, span: undefined }))));
  return key(a) === key(b);
}
