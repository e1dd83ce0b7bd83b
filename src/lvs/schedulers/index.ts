// The scheduler registry: createScheduler(name, options) for every lvs_sched keepalived accepts.
import type { LvsScheduler } from '../../config/model/lvs.js';
import { DestinationHashing } from './dh.js';
import { WeightedFailover } from './fo.js';
import { LocalityLeastConnection } from './lblc.js';
import { LocalityLeastConnectionReplicated } from './lblcr.js';
import { LeastConnection } from './lc.js';
import { MaglevHashing } from './mh.js';
import { NeverQueue } from './nq.js';
import { Overflow } from './ovf.js';
import { RoundRobin } from './rr.js';
import { ShortestExpectedDelay } from './sed.js';
import { SourceHashing } from './sh.js';
import { PowerOfTwoChoices } from './twos.js';
import type { Scheduler, SchedulerOptions } from './types.js';
import { WeightedLeastConnection } from './wlc.js';
import { WeightedRoundRobin } from './wrr.js';

export type { ConnInfo, Scheduler, SchedulerOptions } from './types.js';

const FACTORIES: Record<LvsScheduler, (o: SchedulerOptions) => Scheduler> = {
  rr: () => new RoundRobin(),
  wrr: () => new WeightedRoundRobin(),
  lc: () => new LeastConnection(),
  wlc: () => new WeightedLeastConnection(),
  sed: () => new ShortestExpectedDelay(),
  nq: () => new NeverQueue(),
  fo: () => new WeightedFailover(),
  ovf: () => new Overflow(),
  sh: (o) => new SourceHashing(o),
  dh: () => new DestinationHashing(),
  mh: (o) => new MaglevHashing(o),
  lblc: (o) => new LocalityLeastConnection(o),
  lblcr: (o) => new LocalityLeastConnectionReplicated(o),
  twos: (o) => new PowerOfTwoChoices(o),
};

export const SCHEDULER_NAMES = Object.keys(FACTORIES) as LvsScheduler[];

/** A fresh scheduler; unknown names throw (the config layer has already rejected them). */
export function createScheduler(name: LvsScheduler, options: SchedulerOptions = {}): Scheduler {
  const f = FACTORIES[name];
  if (!f) throw new RangeError(`unknown IPVS scheduler "${name}"`);
  return f(options);
}
