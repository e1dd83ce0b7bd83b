// Kernel IPVS beyond address services: fwmark and virtual_server_group services as the table's
// ipvsadm lines, lvs_flush_on_stop at the stop, and the IPVS sync daemon's commands. The VM
// oracle (ipvs-oracle.test.ts) compares the same against keepalived 2.2.7 in a real kernel; these
// pin the commands where no kernel runs.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { VirtualClock } from '../../src/core/clock.js';
import { Balancer } from '../../src/lvs/balancer.js';
import { KernelPlane } from '../../src/lvs/ipvs-kernel.js';
import { SyncDaemon } from '../../src/lvs/sync-daemon.js';
import { withChecks } from './checked.js';

const SERVICES = `virtual_server_group G {
  10.0.0.1-3 80
  10.0.1.1 8080
  fwmark 9
}
virtual_server group G {
  lvs_sched rr
  lvs_method DR
  protocol TCP
  real_server 10.1.0.1 80 {
  }
}
virtual_server fwmark 7 {
  lvs_sched wrr
  lvs_method NAT
  real_server 10.1.0.2 81 {
  }
}
`;

function balancer(text: string, dataPlane: 'kernel' | 'forwarder' = 'kernel') {
  const batches: string[][] = [];
  const warnings: string[] = [];
  const b = new Balancer(
    loadConfigText(text, 'k.conf').config,
    withChecks({
      clock: new VirtualClock(),
      random: () => 0,
      dataPlane,
      kernel: new KernelPlane({ run: async (lines) => void batches.push(lines) }),
      probe: async () => ({ ok: true, reason: 'up' }),
      log: (level, m) => level === 'warn' && warnings.push(m),
    }),
  );
  return { b, batches, warnings };
}

describe('fwmark and group services on kernel IPVS', () => {
  it('programs one IPVS service per address of a range and per fwmark entry, with the real servers on each', async () => {
    const { b, batches } = balancer(SERVICES);
    await b.start();
    expect(batches[0]).toEqual([
      '-A -t 10.0.0.1:80 -s rr',
      '-A -t 10.0.0.2:80 -s rr',
      '-A -t 10.0.0.3:80 -s rr',
      '-A -t 10.0.1.1:8080 -s rr',
      '-A -f 9 -s rr',
      '-A -f 7 -s wrr',
      '-a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 1',
      '-a -t 10.0.0.2:80 -r 10.1.0.1:80 -g -w 1',
      '-a -t 10.0.0.3:80 -r 10.1.0.1:80 -g -w 1',
      '-a -t 10.0.1.1:8080 -r 10.1.0.1:80 -g -w 1',
      // keepalived's ipvswrapper.c: a fwmark destination's port is 0 unless NAT rewrites it.
      '-a -f 9 -r 10.1.0.1:0 -g -w 1',
      '-a -f 7 -r 10.1.0.2:81 -m -w 1',
    ]);
    await b.stop();
    expect(batches.at(-1)?.filter((l) => l.startsWith('-D '))).toHaveLength(6);
  });

  it('are skipped by the embedded forwarder, which says they need kernel IPVS', async () => {
    const { b, warnings } = balancer(SERVICES, 'forwarder');
    expect(b.services).toHaveLength(0);
    expect(warnings).toEqual([
      'virtual_server group G: only TCP and UDP services on an address and port run in the embedded load balancer (fwmark, group and SCTP services need kernel IPVS); skipped',
      'virtual_server fwmark 7: only TCP and UDP services on an address and port run in the embedded load balancer (fwmark, group and SCTP services need kernel IPVS); skipped',
    ]);
    await b.stop();
  });
});

describe('lvs_flush_on_stop', () => {
  const one = `virtual_server 10.0.0.1 80 {\n  lvs_sched rr\n  lvs_method NAT\n  protocol TCP\n  real_server 10.1.0.1 80 {\n  }\n}\n`;
  const stopBatch = async (g: string) => {
    const { b, batches } = balancer(g + one);
    await b.start();
    await b.stop();
    return batches.at(-1);
  };

  it('unset: each destination, then its service', async () => {
    expect(await stopBatch('')).toEqual(['-d -t 10.0.0.1:80 -r 10.1.0.1:80', '-D -t 10.0.0.1:80']);
  });
  it('alone: the whole table', async () => {
    expect(await stopBatch('global_defs {\n  lvs_flush_on_stop\n}\n')).toEqual(['-C']);
  });
  it('VS: our services only, without their destinations first', async () => {
    expect(await stopBatch('global_defs {\n  lvs_flush_on_stop VS\n}\n')).toEqual(['-D -t 10.0.0.1:80']);
  });
  it("anything else is keepalived's config error", () => {
    const { diagnostics } = loadConfigText('global_defs {\n  lvs_flush_on_stop ALL\n}\n', 'k.conf');
    expect(diagnostics.map((d) => d.message)).toEqual(['lvs_flush_on_stop: Unknown lvs_flush_on_stop type ALL; ignored']);
  });
});

describe('IPVS sync daemon', () => {
  const cfg = { interface: 'eth1', id: 5, maxlen: 1400, port: 8848, ttl: 2, group: '224.0.0.82' };
  const recorder = () => {
    const runs: string[] = [];
    return { runs, run: async (a: string[]) => void runs.push(a.join(' ')) };
  };

  it('follows the instance: backup from the start, master while MASTER, the running one stopped at the end', async () => {
    const { runs, run } = recorder();
    const d = new SyncDaemon(cfg, 5, run);
    await d.backup();
    await d.master();
    await d.backup();
    await d.stop();
    const start = (s: string) =>
      `--start-daemon ${s} --mcast-interface eth1 --syncid 5 --sync-maxlen 1400 --mcast-port 8848 --mcast-ttl 2 --mcast-group 224.0.0.82`;
    expect(runs).toEqual([start('backup'), '--stop-daemon backup', start('master'), '--stop-daemon master', start('backup'), '--stop-daemon backup']);
  });

  it('without an instance runs both, and stops both', async () => {
    const { runs, run } = recorder();
    const d = new SyncDaemon({ interface: 'lo' }, 0, run);
    await d.both();
    await d.stop();
    expect(runs).toEqual([
      '--start-daemon master --mcast-interface lo --syncid 0',
      '--start-daemon backup --mcast-interface lo --syncid 0',
      '--stop-daemon master',
      '--stop-daemon backup',
    ]);
  });

  it('reports a refused start and does not stop what never ran', async () => {
    const warnings: string[] = [];
    const d = new SyncDaemon(
      { interface: 'nope0' },
      1,
      async () => 'Invalid argument',
      (_l, m) => warnings.push(m),
    );
    await d.backup();
    await d.stop();
    expect(warnings).toEqual(['IPVS sync daemon start backup on nope0: Invalid argument']);
  });
});
