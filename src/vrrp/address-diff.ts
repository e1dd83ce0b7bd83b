// What a reload changes in an instance's addresses: compared without their config positions.
import type { VrrpInstance } from '../config/model/index.js';

/** Same VIPs, excluded addresses, routes and rules: a reload may keep the instance as it is. */
export function sameAddresses(a: VrrpInstance, b: VrrpInstance): boolean {
  const key = (i: VrrpInstance): string =>
    JSON.stringify([i.virtualIpaddress, i.virtualIpaddressExcluded, i.virtualRoutes, i.virtualRules].map((l) => l.map((x) => ({ ...x, span: undefined }))));
  return key(a) === key(b);
}

/** The addresses, routes and rules of `a` that `b` does not have, as an instance of their own
 * (what the address driver adds or removes when a reload changes a MASTER's list). */
export function addressesOnlyIn<T extends VrrpInstance>(a: T, b: VrrpInstance): T {
  const key = (x: { span?: unknown }): string => JSON.stringify({ ...x, span: undefined });
  const minus = <T extends { span?: unknown }>(l: T[], m: T[]): T[] => {
    const have = new Set(m.map(key));
    return l.filter((x) => !have.has(key(x)));
  };
  return {
    ...a,
    virtualIpaddress: minus(a.virtualIpaddress, b.virtualIpaddress),
    virtualIpaddressExcluded: minus(a.virtualIpaddressExcluded, b.virtualIpaddressExcluded),
    virtualRoutes: minus(a.virtualRoutes, b.virtualRoutes),
    virtualRules: minus(a.virtualRules, b.virtualRules),
  };
}

/** How many addresses, routes and rules an instance (or a difference of two) holds. */
export function addressCount(i: VrrpInstance): number {
  return i.virtualIpaddress.length + i.virtualIpaddressExcluded.length + i.virtualRoutes.length + i.virtualRules.length;
}
