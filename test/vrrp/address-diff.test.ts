import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { addressCount, addressesOnlyIn, sameAddresses } from '../../src/vrrp/address-diff.js';

const instance = (rules: string) =>
  loadConfigText(
    `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.168.1.100
  }
  virtual_rules {
${rules}
  }
}
`,
    'k.conf',
    { configId: 'x' },
  ).config.resolved.vrrpInstances[0];

describe('a reload changing virtual_rules', () => {
  it('is an address change: the new rule is added, the dropped one removed, the kept one left alone', () => {
    const was = instance('    from 10.1.0.0/16 table 100 preference 100\n    from 10.2.0.0/16 table 100 preference 101');
    const now = instance('    from 10.1.0.0/16 table 100 preference 100\n    from 10.3.0.0/16 table 100 preference 102');
    expect(sameAddresses(was, was)).toBe(true);
    expect(sameAddresses(was, now)).toBe(false);
    const added = addressesOnlyIn(now, was);
    const removed = addressesOnlyIn(was, now);
    expect(added.virtualRules.map((r) => r.from)).toEqual(['10.3.0.0/16']);
    expect(removed.virtualRules.map((r) => r.from)).toEqual(['10.2.0.0/16']);
    expect([addressCount(added), addressCount(removed)]).toEqual([1, 1]);
  });
});
