// static_ipaddress, static_routes, static_rules and an instance's virtual_routes/virtual_rules, in
// network namespaces, read back with `ip addr`, `ip route show table N` and `ip rule`:
// - ours: static entries set at start, virtual ones on MASTER and gone on BACKUP (keepalived 2.2.7
//   takes over at a higher priority), a static route that cannot be added reported with ip's
//   message and the rest set, a reload replacing a static route, everything static gone at SIGTERM;
// - keepalived 2.2.7 on the same static entries: set at start, gone after SIGTERM (stop_vrrp).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { netnsSkip, poll, type Host, type Proc } from '../helpers/netns.js';

const skip = netnsSkip('static routing tests', { keepalived: true });

const VIP = '10.99.47.100';

function conf(o: { prio: number; staticRoute?: string; statics?: boolean; virtuals?: boolean }): string {
  const statics = `static_ipaddress {
  10.47.1.1/32 dev eth0
}
static_routes {
  ${o.staticRoute ?? '10.47.2.0/24 dev eth0 table 147'}
  10.47.8.0/24 via 192.0.2.1 table 147
}
static_rules {
  from 10.47.3.0/24 table 147 preference 1470
  to 10.47.4.0/24 table 147 priority 1471
}
`;
  const virtuals = `  virtual_routes {
    10.47.5.0/24 dev eth0 table 148
  }
  virtual_rules {
    from 10.47.6.0/24 table 148 preference 1480
  }
`;
  return `${o.statics === false ? '' : statics}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 47
  priority ${o.prio}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
${o.virtuals === false ? '' : virtuals}}
`;
}

describe.skipIf(skip)('static and virtual routes and rules', () => {
  const pair = interopPair({ subnet: 47 });

  const ip = async (h: Host, args: string[]): Promise<string> => (await pair.lab.exec(h, ['ip', ...args])).stdout;
  /** What the kernel holds of the test's entries: addresses, tables 147/148, rules 1470-1480. */
  const state = async (h: Host) => ({
    staticAddr: (await ip(h, ['-4', 'addr', 'show', 'dev', 'eth0'])).includes('10.47.1.1/32'),
    table147: (await ip(h, ['route', 'show', 'table', '147'])).trim(),
    table148: (await ip(h, ['route', 'show', 'table', '148'])).trim(),
    rules: (await ip(h, ['rule', 'show']))
      .split('\n')
      .filter((l) => /^14[78]\d:/.test(l))
      .map((l) => l.replace(/\s+/g, ' ').trim()),
  });
  const STATIC_RULES = ['1470: from 10.47.3.0/24 lookup 147 proto keepalived', '1471: from all to 10.47.4.0/24 lookup 147 proto keepalived'];
  // As keepalived sets them: proto keepalived, and scope global (ip would default to scope link).
  const ROUTE = (net: string): string => `${net} dev eth0 proto keepalived`;
  const until = async <T>(h: Host, what: string, ok: (s: Awaited<ReturnType<typeof state>>) => T | undefined, p?: Proc): Promise<T> => {
    let last: unknown;
    return poll(
      async () => {
        const s = await state(h);
        last = s;
        return ok(s);
      },
      { timeoutMs: 10_000, what, diagnose: () => `${JSON.stringify(last)}\n${p?.tail(30) ?? ''}` },
    );
  };

  it('ours: static entries at start, virtual ones on MASTER only, a reload changing a static route, none left after SIGTERM', async () => {
    const { lab, ours } = pair;
    const o = pair.startOurs(conf({ prio: 100 }), 'static', { env: { KEEPALIVED_TS_RUNTIME_DIR: join(lab.dir, 'rt-ours') } });
    const file = o.configFile;
    // Static ones before the instance runs: it starts BACKUP for 3 adverts at least.
    await until(ours, 'static entries', (s) => s.staticAddr && s.table147 === ROUTE('10.47.2.0/24') && s.rules.join() === STATIC_RULES.join() && s);
    // The route through an unreachable gateway fails alone, with ip's message.
    await o.waitForLine(/ip route replace 10\.47\.8\.0\/24 via 192\.0\.2\.1 table 147 .*failed: .*Nexthop has invalid gateway/, { timeoutMs: 5000 });
    expect((await state(ours)).table148).toBe('');

    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    const master = await until(ours, 'virtual route and rule on MASTER', (s) => (s.table148 && s.rules.length === 3 ? s : undefined));
    expect(master.table148).toBe(ROUTE('10.47.5.0/24'));
    expect(master.rules).toEqual([...STATIC_RULES, '1480: from 10.47.6.0/24 lookup 148 proto keepalived']);

    // keepalived 2.2.7 at a higher priority: ours goes BACKUP, the virtual ones go, the static ones stay.
    const k = pair.startKeepalived(conf({ prio: 200, statics: false }), 'master');
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 15_000 });
    const backup = await until(ours, 'virtual route and rule gone on BACKUP', (s) => (!s.table148 && s.rules.length === 2 ? s : undefined));
    expect(backup.staticAddr).toBe(true);
    expect(backup.rules).toEqual(STATIC_RULES);
    expect(backup.table147).toBe(ROUTE('10.47.2.0/24'));
    await k.kill('SIGTERM', 5000);

    // A reload replacing a static route: the old one goes, the new one comes, the rest stays.
    const from = o.lines.length;
    writeFileSync(file, conf({ prio: 100, staticRoute: '10.47.12.0/24 dev eth0 table 147' }));
    await lab.exec(ours, ['kill', '-HUP', String(o.pid)]);
    await o.waitForLine(/Reload finished/, { timeoutMs: 10_000, from });
    const reloaded = await until(ours, 'changed static route', (s) => (s.table147 === ROUTE('10.47.12.0/24') ? s : undefined));
    expect(reloaded.staticAddr).toBe(true);
    expect(reloaded.rules.slice(0, 2)).toEqual(STATIC_RULES);

    await o.kill('SIGTERM', 10_000);
    expect(o.exitCode).toBe(0);
    expect(await state(ours)).toEqual({ staticAddr: false, table147: '', table148: '', rules: [] });
    expect(o.output()).not.toMatch(/rule del .* failed/);
  }, 120_000);

  it('keepalived 2.2.7: the same static entries at start, none left after SIGTERM', async () => {
    const { theirs } = pair;
    const k = pair.startKeepalived(conf({ prio: 100, virtuals: false }), 'static');
    await until(
      theirs,
      'keepalived static entries',
      (s) => s.staticAddr && s.table147 === ROUTE('10.47.2.0/24') && s.rules.join() === STATIC_RULES.join() && s,
      k,
    );
    await k.kill('SIGTERM', 10_000);
    expect(await state(theirs)).toEqual({ staticAddr: false, table147: '', table148: '', rules: [] });
  }, 60_000);
});
