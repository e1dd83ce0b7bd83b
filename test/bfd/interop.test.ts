// BFD between keepalived-ts and the real keepalived 2.2.7 (its BFD process), in network namespaces
// made by the test: both sessions come Up; our VRRP instance tracks the session (track_bfd, weight
// 0: FAULT while it is not Up); each side declares the other Down after the detection time when
// the other is killed; and our load balancer (-C) keeps a BFD_CHECK real server in service only
// while keepalived answers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { netnsSkip, REPO_ROOT, type Proc } from '../helpers/netns.js';

const skip = netnsSkip('BFD interop tests', { keepalived: true });

const CLI = join(REPO_ROOT, 'dist/keepalived-ts.mjs');

const bfd = (name: string, neighbor: string, source: string) => `
bfd_instance ${name} {
  neighbor_ip ${neighbor}
  source_ip ${source}
  min_rx 50
  min_tx 50
  multiplier 3
}
`;

describe.skipIf(skip)('BFD interop with keepalived 2.2.7 in network namespaces', () => {
  const pair = interopPair({ subnet: 41 });

  /** keepalived with only a bfd_instance: its BFD process runs alone (no -P, which would stop it). */
  const startKeepalived = (tag: string): Proc => {
    const { lab, ours, theirs } = pair;
    const file = join(lab.dir, `ka-${tag}.conf`);
    writeFileSync(file, `global_defs {\n  router_id ka\n}\n${bfd('to_ours', ours.address, theirs.address)}`);
    return pair.spawn(
      theirs,
      ['keepalived', '-n', '-l', '-D', '-G', '-R', '-f', file, '-p', join(lab.dir, `ka-${tag}.pid`), '-b', join(lab.dir, `ka-${tag}-bfd.pid`)],
      { name: `ka-${tag}` },
    );
  };

  const startOurs = (tag: string): Proc =>
    pair.startOurs(
      `global_defs {\n  router_id ours\n}\n${bfd('to_ka', pair.theirs.address, pair.ours.address)}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 61
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.99.41.100/24
  }
  track_bfd {
    to_ka
  }
}
`,
      tag,
    );

  it('comes Up with keepalived; track_bfd holds our instance in FAULT until then; a kill on either side is detected', async () => {
    const o = startOurs('a');
    // No neighbour yet: the session is not Up, so the instance (weight 0) is in FAULT.
    await o.waitForLine(/Entering FAULT STATE/, { timeoutMs: 10_000 });
    const k = startKeepalived('a');
    await k.waitForLine(/\(to_ours\) Entering Up state/, { timeoutMs: 10_000 });
    await o.waitForLine(/\(to_ka\) Entering Up state/, { timeoutMs: 5000 });
    // Up: the instance leaves FAULT and, alone on its segment, becomes MASTER.
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    // keepalived times us by what our packets say once we are Up: our multiplier 3 x our
    // Desired Min TX 50 ms (1 s while we were not Up).
    await k.waitForLine(/Detection time is 150000 us/, { timeoutMs: 5000 });

    // keepalived killed: we declare it Down after 3 x 50 ms, and the instance goes to FAULT.
    const from = o.lines.length;
    const killedAt = Date.now();
    await k.kill('SIGKILL', 0);
    await o.waitForLine(/\(to_ka\) Entering Down state \(Local diagnostic - Control Detection Time Expired/, { timeoutMs: 3000, from });
    const detectedIn = Date.now() - killedAt;
    await o.waitForLine(/Entering FAULT STATE/, { timeoutMs: 3000, from });
    expect(detectedIn).toBeGreaterThanOrEqual(100);
    expect(detectedIn).toBeLessThan(1000);
    console.log(`keepalived killed: our session Down after ${detectedIn} ms (detection time 150 ms)`);

    // keepalived again, then ours killed: keepalived declares us Down after its detection time.
    const k2 = startKeepalived('b');
    await k2.waitForLine(/\(to_ours\) Entering Up state/, { timeoutMs: 10_000 });
    const kFrom = k2.lines.length;
    await o.kill('SIGKILL', 0);
    await k2.waitForLine(/\(to_ours\) Entering Down state \(Local diagnostic - Control Detection Time Expired/, { timeoutMs: 3000, from: kFrom });
  }, 60_000);

  it('BFD_CHECK: a real server is in service while keepalived answers, and out once it is killed', async () => {
    // Nothing left of the test before: one keepalived at a time can have 3784 in its namespace.
    await pair.stop();
    const { lab, ours, theirs } = pair;
    const file = join(lab.dir, 'ours-lvs.conf');
    writeFileSync(
      file,
      `${bfd('to_ka', theirs.address, ours.address)}
virtual_server ${ours.address} 8080 {
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server ${theirs.address} 80 {
    BFD_CHECK {
      name to_ka
    }
  }
}
`,
    );
    const o = pair.spawn(ours, [process.execPath, CLI, '-n', '-l', '-C', '-f', file, '-p', join(lab.dir, 'ours-lvs.pid')], {
      name: 'ours-lvs',
      env: { ...process.env, KEEPALIVED_TS_CONTROL: join(lab.dir, 'ours-lvs.ctl') },
    });
    // Out of service until the session is Up (keepalived applies the state at start, too).
    await o.waitForLine(/virtual server TCP .*:8080 ready \(rr, 0 real server\(s\) in service\)/, { timeoutMs: 10_000 });
    const k = startKeepalived('c');
    await o.waitForLine(/Adding service \[10\.99\.41\.2\]:80 to VS/, { timeoutMs: 10_000 });
    const from = o.lines.length;
    await k.kill('SIGKILL', 0);
    await o.waitForLine(/Removing service \[10\.99\.41\.2\]:80 from VS \(BFD to_ka went down/, { timeoutMs: 3000, from });
  }, 60_000);
});
