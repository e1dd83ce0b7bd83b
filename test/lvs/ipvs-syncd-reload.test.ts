// A reload (SIGHUP) that changes lvs_sync_daemon, in a VM with Debian's kernel (real IPVS),
// ours against keepalived 2.2.7: the IPVS sync daemon moves to the new interface and syncid, is
// kept running when the new configuration drops it, and moves back when a reload brings it again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepalivedCapability, REPO_ROOT } from '../helpers/netns.js';
import { runInVm, sections, vmUnavailable, type VmResult } from '../helpers/vm/vm.js';
import { syncdConf } from './syncd-conf.js';

const conf = syncdConf;

const unavailable = vmUnavailable() ?? (keepalivedCapability().ok ? undefined : 'keepalived is not installed');
if (unavailable) console.log(`ipvs-syncd-reload: skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('a reload that changes lvs_sync_daemon, in a VM', () => {
  let dir: string;
  let run: VmResult;
  let got: Map<string, string>;
  const step = (s: string): string | undefined => got.get(`ours ${s}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-syncd-reload-'));
    writeFileSync(join(dir, 'a.conf'), conf('  lvs_sync_daemon kts0 VI_1'));
    writeFileSync(join(dir, 'b.conf'), conf('  lvs_sync_daemon kts1 VI_1 id 9'));
    writeFileSync(join(dir, 'c.conf'), conf(''));
    run = await runInVm(join(REPO_ROOT, 'test/lvs/ipvs-syncd-reload-vm.sh'), [join(REPO_ROOT, 'dist/keepalived-ts.mjs'), dir], { timeoutSeconds: 900 });
    got = sections(run.output);
    console.log(`ipvs-syncd-reload: VM run ${run.seconds.toFixed(1)} s, status ${run.status}`);
    for (const s of ['a', 'b', 'c', 'a-again', 'stop'])
      console.log(`ipvs-syncd-reload: ${s}: keepalived [${got.get(`keepalived ${s}`)?.trim()}] ours [${step(s)?.trim()}]`);
  }, 1_000_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('moves the master sync daemon with the reloads and keeps it when dropped, as keepalived', () => {
    expect(run.status, run.stderr + run.output).toBe(0);
    const log = got.get('ours log');
    const kts0 = /^master sync daemon \(mcast=kts0, syncid=42,[^\n]*\n$/;
    const kts1 = /^master sync daemon \(mcast=kts1, syncid=9,[^\n]*\n$/;
    for (const [s, want] of [
      ['a', kts0],
      ['b', kts1],
      ['c', kts1],
      ['a-again', kts0],
    ] as const) {
      expect(step(s), `${s}: ${log}`).toMatch(want);
      expect(step(s), `${s}: ${log}`).toBe(got.get(`keepalived ${s}`));
    }
    expect(step('stop'), log).toBe('');
  });
});
