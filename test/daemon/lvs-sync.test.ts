// The daemon's lvs_sync_daemon wiring, with ipvsadm recorded: which side runs, what follows the
// instance, what a reload restarts, and the stop. The kernel's side is the VM tests'
// (test/lvs/ipvs-syncd*.test.ts).
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import type { Config } from '../../src/config/model/index.js';
import { LvsSync, type LvsSyncEnv } from '../../src/daemon/lvs-sync.js';

const instance = (name: string, vrid: number): string => `vrrp_instance ${name} {
  state BACKUP
  interface lo
  virtual_router_id ${vrid}
  priority 100
  virtual_ipaddress {
    10.99.${vrid}.1
  }
}
`;
const config = (sync: string): Config => {
  const r = loadConfigText(`global_defs {\n  lvs_sync_daemon ${sync}\n}\n${instance('VI_1', 51)}${instance('VI_2', 52)}`);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.config;
};

function setup(first: Config, env: Partial<LvsSyncEnv> = {}) {
  const ran: string[] = [];
  const logged: string[] = [];
  const log = (_l: string, m: string): number => logged.push(m);
  const sync = new LvsSync(first, {
    ipvs: true,
    noIpvsReason: 'no kernel IPVS (/proc/net/ip_vs)',
    vrrpRuns: true,
    checkerRuns: true,
    vrrpLog: log,
    lvsLog: log,
    log,
    ipvsadm: (args) => Promise.resolve(void ran.push(args.slice(0, 2).join(' ') + (args[0] === '--start-daemon' ? ` ${args[3]} ${args[5]}` : ''))),
    ...env,
  });
  return { sync, ran, logged };
}

describe('lvs_sync_daemon wiring', () => {
  it('with an instance: backup from its start, master while MASTER, backup again on leaving it, stopped before VRRP', async () => {
    const { sync, ran } = setup(config('lo VI_1'));
    await sync.startChecker(); // the checker side has nothing to run with an instance
    sync.transition('VI_2', 'INIT', 'BACKUP'); // another instance: ignored
    sync.transition('VI_1', 'INIT', 'BACKUP');
    sync.transition('VI_1', 'BACKUP', 'MASTER');
    sync.transition('VI_1', 'MASTER', 'BACKUP');
    await sync.stopVrrp();
    sync.transition('VI_1', 'BACKUP', 'MASTER'); // after the stop: ignored
    await sync.stopChecker();
    // syncid: the instance's virtual_router_id.
    expect(ran).toEqual([
      '--start-daemon backup lo 51',
      '--stop-daemon backup',
      '--start-daemon master lo 51',
      '--stop-daemon master',
      '--start-daemon backup lo 51',
      '--stop-daemon backup',
    ]);
  });

  it('without an instance the checker side runs both (syncid 0), and not with -P', async () => {
    const a = setup(config('lo'));
    a.sync.transition('VI_1', 'INIT', 'BACKUP');
    await a.sync.startChecker();
    await a.sync.stopVrrp();
    await a.sync.stopChecker();
    expect(a.ran).toEqual(['--start-daemon master lo 0', '--start-daemon backup lo 0', '--stop-daemon master', '--stop-daemon backup']);
    const p = setup(config('lo'), { checkerRuns: false });
    await p.sync.startChecker();
    expect(p.ran).toEqual([]);
  });

  it('a reload that changes the syncid restarts the daemon in its instance state; an unchanged one only follows it', async () => {
    const { sync, ran } = setup(config('lo VI_1'));
    sync.transition('VI_1', 'INIT', 'BACKUP');
    sync.transition('VI_1', 'BACKUP', 'MASTER');
    await sync.reload(config('lo VI_1'), () => 'MASTER');
    expect(ran.splice(0)).toEqual(['--start-daemon backup lo 51', '--stop-daemon backup', '--start-daemon master lo 51']);
    await sync.reload(config('lo VI_1 id 7'), () => 'MASTER');
    expect(ran.splice(0)).toEqual(['--stop-daemon master', '--start-daemon master lo 7']);
    // Now following VI_2, still BACKUP.
    await sync.reload(config('lo VI_2 id 7'), (name) => (name === 'VI_2' ? 'BACKUP' : 'MASTER'));
    expect(ran.splice(0)).toEqual(['--stop-daemon master', '--start-daemon backup lo 7']);
    sync.transition('VI_1', 'MASTER', 'BACKUP');
    expect(ran).toEqual([]);
  });

  it('no kernel IPVS: one warning and no daemon; an instance it cannot find is keepalived\u2019s line', async () => {
    const none = setup(config('lo VI_1'), { ipvs: false, noIpvsReason: 'the data plane is the embedded forwarder (--data-plane=forwarder)' });
    none.sync.transition('VI_1', 'INIT', 'BACKUP');
    await none.sync.startChecker();
    expect(none.ran).toEqual([]);
    expect(none.logged).toEqual([
      "lvs_sync_daemon lo: the data plane is the embedded forwarder (--data-plane=forwarder): no connection sync; the embedded forwarder's connections do not survive a failover",
    ]);
    const missing = setup(config('lo VI_9'));
    expect(missing.logged).toEqual(['Unable to find vrrp instance VI_9 for lvs_syncd - clearing lvs_syncd config']);
    // -C: no VRRP instances run, nothing to find and nothing said.
    expect(setup(config('lo VI_9'), { vrrpRuns: false }).logged).toEqual([]);
  });
});
