// SIGHUP's rule for keeping an instance: a runner of the previous engine is handed to the next one
// when the instance keeps its identity (name, VRID, interface, version, family, sync group), so it
// keeps its state, timers and VIPs; the rest of its settings are applied in place (engine.ts).
// Shared by the daemon's reload and the lab's simulated one.
import type { EngineEnv, VrrpEngine } from './engine.js';
import type { RunnerConfig, VrrpRunner } from './instance.js';

/** What a running instance cannot change in place: another one must replace it. */
const identity = (c: RunnerConfig): string =>
  JSON.stringify([c.name, c.vrid, c.version, c.family, c.unicast, c.unicast ? '' : (c.mcastGroup ?? ''), c.syncGroup ?? '']);

/** EngineEnv.adopt for an engine replacing `previous`; the runners it takes are added to `adopted`
 * (the previous engine's stop() must leave those running). */
export function adoptSameIdentity(previous: VrrpEngine | undefined, adopted: Set<VrrpRunner>): NonNullable<EngineEnv['adopt']> {
  return (inst, rc, ifname) => {
    const old = previous?.instances.find((m) => m.inst.name === inst.name);
    if (!old || old.ifname !== ifname || identity(old.runner.cfg) !== identity(rc)) return undefined;
    adopted.add(old.runner);
    return { runner: old.runner, was: old.inst };
  };
}
