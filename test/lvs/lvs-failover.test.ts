// A director pair in a VM with Debian's kernel (real IPVS), LVS-DR: a long-lived TCP connection
// through the VIP survives a kill -9 failover of the MASTER when lvs_sync_daemon is set (the
// BACKUP's kernel already holds the connection), and is dropped without it. Ours on both
// directors, then keepalived 2.2.7 as the MASTER that dies and ours taking over.
// lvs-failover-vm.sh sets the lab up and says what the failure models.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepalivedCapability, REPO_ROOT } from '../helpers/netns.js';
import { runInVm, sections, vmUnavailable, type VmResult } from '../helpers/vm/vm.js';
import { join } from 'node:path';

const SCENARIOS = ['ours-ours-sync', 'ours-ours-nosync', 'keepalived-ours-sync'];

const unavailable = vmUnavailable() ?? (keepalivedCapability().ok ? undefined : 'keepalived is not installed');
if (unavailable) console.log(`lvs-failover: skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('a director pair with kernel IPVS (LVS-DR) in a VM: kill -9 of the MASTER', () => {
  let run: VmResult;
  let got: Map<string, string>;
  const show = (name: string): string => `${got.get(name)}\n${got.get(`log d2 ${name}`) ?? ''}\n${run.stderr}`;

  beforeAll(async () => {
    run = await runInVm(join(REPO_ROOT, 'test/lvs/lvs-failover-vm.sh'), [join(REPO_ROOT, 'dist/keepalived-ts.mjs'), ...SCENARIOS], {
      timeoutSeconds: 1200,
    });
    got = sections(run.output);
    console.log(`lvs-failover: VM run ${run.seconds.toFixed(1)} s, status ${run.status}`);
    for (const s of SCENARIOS)
      console.log(`lvs-failover: ${s}: ${/^master d2 .*$/m.exec(got.get(s) ?? '')?.[0]}; ${/^client .*$/m.exec(got.get(s) ?? '')?.[0]}`);
  }, 1_300_000);
  afterAll(() => undefined);

  it('runs the scenarios to their end', () => {
    expect(run.status, run.stderr + run.output).toBe(0);
  });

  it('with lvs_sync_daemon, ours on both: the BACKUP holds the connection and it survives', () => {
    const s = got.get('ours-ours-sync') ?? '';
    expect(s, show('ours-ours-sync')).toMatch(/^backup-conn yes$/m);
    expect(s, show('ours-ours-sync')).toMatch(/^master d2 after [\d.]+$/m);
    expect(s, show('ours-ours-sync')).toMatch(/^client ok /m);
    expect(Number(/^lines-after (\d+)$/m.exec(s)?.[1]), show('ours-ours-sync')).toBeGreaterThanOrEqual(30);
  });

  it('without it: the new MASTER does not know the connection, which is reset', () => {
    const s = got.get('ours-ours-nosync') ?? '';
    expect(s, show('ours-ours-nosync')).toMatch(/^backup-conn no$/m);
    expect(s, show('ours-ours-nosync')).toMatch(/^master d2 after [\d.]+$/m);
    expect(s, show('ours-ours-nosync')).toMatch(/^client error .*ConnectionResetError/m);
  });

  it('with keepalived 2.2.7 as the MASTER that dies and ours taking over: it survives', () => {
    const s = got.get('keepalived-ours-sync') ?? '';
    expect(s, show('keepalived-ours-sync')).toMatch(/^backup-conn yes$/m);
    expect(s, show('keepalived-ours-sync')).toMatch(/^client ok /m);
    expect(Number(/^lines-after (\d+)$/m.exec(s)?.[1]), show('keepalived-ours-sync')).toBeGreaterThanOrEqual(30);
  });
});
