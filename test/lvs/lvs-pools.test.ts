// End to end on kernel IPVS, in a VM with Debian's kernel: LVS-DR and LVS-NAT pools, a fwmark
// service (the mark set by an nftables rule in the director) and a virtual_server_group serve a
// client through their VIPs; a real server that stops leaves the kernel table within
// delay_loop × (retry + 1) + connect_timeout (with a wide margin: this is TCG on a shared
// machine), and the client sees no failure after that. lvs-pools-vm.sh holds the lab.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/netns.js';
import { runInVm, sections, vmUnavailable, type VmResult } from '../helpers/vm/vm.js';

const SERVICES = ['dr', 'nat', 'fwmark', 'group103', 'group104'];
/** delay_loop 2 × (retry 1 + 1) + connect_timeout 2, as configured in lvs-pools-vm.sh. */
const BOUND_S = 2 * (1 + 1) + 2;
/** TCG is ~9 times slower than the host, and the host is shared. */
const MARGIN_S = 30;

/** `SERVICE SERVER COUNT` lines of a phase: service -> server -> count. */
function answers(text: string | undefined): Map<string, Map<string, number>> {
  const got = new Map<string, Map<string, number>>();
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\S+) (.+) (\d+)$/.exec(line);
    if (!m) continue;
    if (!got.has(m[1])) got.set(m[1], new Map());
    got.get(m[1])?.set(m[2], Number(m[3]));
  }
  return got;
}

const unavailable = vmUnavailable();
if (unavailable) console.log(`lvs-pools: skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('kernel IPVS pools carry a client through their VIPs, in a VM', () => {
  let run: VmResult;
  let got: Map<string, string>;
  const why = (): string => `${run.output}\n${run.stderr}`;

  beforeAll(async () => {
    run = await runInVm(join(REPO_ROOT, 'test/lvs/lvs-pools-vm.sh'), [join(REPO_ROOT, 'dist/keepalived-ts.mjs')], { timeoutSeconds: 900 });
    got = sections(run.output);
    console.log(`lvs-pools: VM run ${run.seconds.toFixed(1)} s, status ${run.status}; ${got.get('removed')?.trim().replace(/\n/g, ', ')}`);
  }, 1_000_000);

  it('serves every service from both real servers', () => {
    expect(run.status, why()).toBe(0);
    const before = answers(got.get('before'));
    for (const s of SERVICES) {
      const servers = [...(before.get(s)?.keys() ?? [])].sort();
      expect(servers, `${s}: ${why()}`).toEqual(s === 'dr' ? ['r1', 'r2'] : ['n1', 'n2']);
    }
  });

  it('takes a stopped real server out of the kernel table in time', () => {
    for (const kind of ['dr', 'nat']) {
      const s = Number(new RegExp(`^removed ${kind} ([\\d.]+)$`, 'm').exec(got.get('removed') ?? '')?.[1]);
      expect(s, why()).toBeLessThanOrEqual(BOUND_S + MARGIN_S);
    }
  });

  it('serves every request from the remaining server after that', () => {
    const after = answers(got.get('after'));
    for (const s of SERVICES) expect(Object.fromEntries(after.get(s) ?? []), `${s}: ${why()}`).toEqual({ [s === 'dr' ? 'r2' : 'n2']: 20 });
  });
});
