// A finding of `lab --explore` (found on sim) rerun on the netns backend from the scenario file
// explore wrote for it: real daemons show the same mistake. The pair is small and fast (VRRPv3
// at 0.2 s, a one-second check), so explore lays its faults out from 2 s and the run takes 10 s.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { finish } from '../../src/lab/expect/index.js';
import { loadScenario } from '../../src/lab/load/index.js';
import { netnsCapability } from '../../src/lab/netns/host.js';
import { runNetns } from '../../src/lab/netns/index.js';
import { runSim } from '../../src/lab/sim/index.js';

const CLI = fileURLToPath(new URL('../../dist/keepalived-ts.mjs', import.meta.url));
const S = 1_000_000;
const tmp = mkdtempSync(join(tmpdir(), 'kt-netns-explore-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** lb1's check weighs -20: 150 - 20 = 130 stays above lb2's 100, so a failing check moves nothing. */
const conf = (name: string, priority: number, check: boolean) => `global_defs {
    router_id ${name}
    vrrp_version 3
    enable_script_security
    script_user root
}
${check ? 'vrrp_script chk {\n    script "/bin/true"\n    interval 1\n    fall 1\n    rise 1\n    weight -20\n}\n' : ''}vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority ${priority}
    advert_int 0.2
${check ? '    track_script {\n        chk\n    }\n' : ''}    virtual_ipaddress {
        10.77.9.100/24
    }
}
`;

const cap = netnsCapability();
if (!cap.ok) console.warn(`skipping the netns explore test: ${cap.reason}`);

describe.skipIf(!cap.ok)('an explore finding rerun on netns', () => {
  it('the weight-too-small finding reproduces with real daemons: lb1 stays MASTER at 130 over lb2 at 100', async () => {
    writeFileSync(join(tmp, 'lb1.conf'), conf('lb1', 150, true));
    writeFileSync(join(tmp, 'lb2.conf'), conf('lb2', 100, false));
    const out = join(tmp, 'found');
    const r = spawnSync(process.execPath, [CLI, 'lab', '--explore', join(tmp, 'lb1.conf'), join(tmp, 'lb2.conf'), '--out', out], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(1);
    const file = join(out, '01-no-failover-VI_1.yaml');
    const { scenario, diagnostics } = loadScenario(file);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const s = scenario!;
    expect(s.faults.map((f) => [f.at, f.kind])).toEqual([
      [2 * S, 'script'],
      [6 * S, 'script'],
    ]);

    // On sim, the finding as explore saw it: the expectation written for it fails.
    const sim = finish(s, await runSim(s));
    expect(sim.expectations[0].passed).toBe(false);
    const why = /^lb2 never became MASTER of VI_1 after 'script chk on lb1 fails' at 2\.0\ds: .*MASTER: lb1 .*still above lb2's 100$/;
    expect(sim.expectations[0].why).toMatch(why);

    // On netns, from the same file: the same verdict, for the same reason.
    const log: string[] = [];
    const run = await runNetns(s, { log: (l) => log.push(l) });
    const net = finish(s, run);
    expect(net.expectations[0].passed, log.join('\n')).toBe(false);
    expect(net.expectations[0].why).toMatch(why);
    // lb1 was MASTER when its check failed and stayed MASTER until the check came back; lb2 never was.
    const fail = net.faults[0];
    const lb1 = net.transitions.filter((t) => t.node === 'lb1');
    expect(lb1.filter((t) => t.at <= fail.at).at(-1)?.to).toBe('MASTER');
    expect(lb1.filter((t) => t.at > fail.at && t.at < net.faults[1].at)).toEqual([]);
    expect(net.transitions.filter((t) => t.node === 'lb2' && t.to === 'MASTER' && t.at > fail.at)).toEqual([]);
    const fell = run.priorities.find((p) => p.node === 'lb1' && p.at >= fail.at);
    expect(fell).toMatchObject({ instance: 'VI_1', priority: 130 });
    // And the wire agrees: after the fault only lb1 advertises, at 130.
    const after = net.adverts!.filter((a) => a.at > fell!.at + 300_000 && a.at < net.faults[1].at);
    expect(after.length).toBeGreaterThan(5);
    expect(new Set(after.map((a) => `${a.node} ${a.priority}`))).toEqual(new Set(['lb1 130']));
  }, 90_000);
});
