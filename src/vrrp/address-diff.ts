// What a reload changes in an instance's addresses: compared without their config positions.
import type { VrrpInstance } from '../config/model/index.js';

/** Same VIPs, excluded addresses and routes: a reload may keep the instance as it is. virtual_rules
 * are not applied (keyword-not-implemented), so a change to them alone changes nothing here. */
export function sameAddresses(a: VrrpInstance, b: VrrpInstance): boolean {
  const key = (i: VrrpInstance): string =>
    JSON.stringify([i.virtualIpaddress, i.virtualIpaddressExcluded, i.virtualRoutes].map((l) => l.map((x) => ({ ...x, span: undefined }))));
  return key(a) === key(b);
}

/** The addresses and routes of `a` that `b` does not have, as an instance of their own
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
  };
}
