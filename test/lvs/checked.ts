// A Balancer environment with a checker service of its own, as the daemon wires one: the probe,
// randomness, BFD sessions and probe bound go to the checker service, the rest to the Balancer.
import { CheckerPool, type PoolEnv } from '../../src/check/pool.js';
import type { BalancerEnv } from '../../src/lvs/balancer.js';

export function withChecks(env: Omit<BalancerEnv, 'health'> & Pick<PoolEnv, 'probe' | 'random' | 'bfd' | 'maxInFlight'>): BalancerEnv {
  const { probe, random, bfd, maxInFlight, ...rest } = env;
  return { ...rest, health: new CheckerPool(undefined, { clock: env.clock, probe, random, bfd, maxInFlight }, { log: env.log }) };
}
