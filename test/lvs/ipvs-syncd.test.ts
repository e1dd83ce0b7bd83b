// lvs_sync_daemon with a VRRP instance against keepalived 2.2.7, in a VM with Debian's kernel
// (real IPVS): the same sync daemons run while the instance is MASTER (the master daemon, its
// options as configured; the backup one stopped), and none after the stop.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepalivedCapability, REPO_ROOT } from '../helpers/netns.js';
import { runInVm, vmUnavailable, type VmResult } from '../helpers/vm/vm.js';
import { syncdConf } from './syncd-conf.js';

const CONF = syncdConf('  lvs_sync_daemon kts0 VI_1 maxlen 1400 port 8848 ttl 2');

/** `=== WHO PHASE` sections of the script's output. */
function sections(output: string): Map<string, string> {
  const got = new Map<string, string>();
  let key: string | undefined;
  for (const line of output.split('\n')) {
    const m = /^=== (keepalived|ours) (master|stop|log)$/.exec(line);
    if (m) got.set((key = `${m[1]} ${m[2]}`), '');
    else if (line.startsWith('=== ')) key = undefined;
    else if (key) got.set(key, `${got.get(key)}${line}\n`);
  }
  return got;
}

const unavailable = vmUnavailable() ?? (keepalivedCapability().ok ? undefined : 'keepalived is not installed');
if (unavailable) console.log(`ipvs-syncd: skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('lvs_sync_daemon with a VRRP instance: ours against keepalived 2.2.7, in a VM', () => {
  let dir: string;
  let run: VmResult;
  let got: Map<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-ipvs-syncd-'));
    writeFileSync(join(dir, 'syncd.conf'), CONF);
    run = await runInVm(join(REPO_ROOT, 'test/lvs/ipvs-syncd-vm.sh'), [join(dir, 'syncd.conf'), join(REPO_ROOT, 'dist/keepalived-ts.mjs')], {
      timeoutSeconds: 600,
    });
    console.log(`ipvs-syncd: VM run ${run.seconds.toFixed(1)} s, status ${run.status}`);
    got = sections(run.output);
  }, 700_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('runs the master sync daemon while MASTER and none after the stop, as keepalived', () => {
    expect(run.status, run.stderr + run.output).toBe(0);
    const ka = got.get('keepalived master');
    expect(ka, run.output).toMatch(/^master sync daemon \(mcast=kts0, syncid=42/m);
    expect(got.get('ours master'), got.get('ours log')).toBe(ka);
    expect(got.get('keepalived stop')).toBe('');
    expect(got.get('ours stop'), got.get('ours log')).toBe('');
  });
});
