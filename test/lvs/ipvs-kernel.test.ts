// The kernel IPVS data plane: table differences as ipvsadm commands, applied in batches. This
// kernel has no IPVS, so the commands are checked as text, and the real ipvsadm (when installed)
// is only run to prove that its refusal is reported rather than lost.
import { spawnSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import type { ResolvedRealServer as RealServer, ResolvedVirtualServer as VirtualServer } from '../../src/config/model/index.js';
import { ipvsadmRestore } from '../../src/lvs/ipvsadm.js';
import { KernelPlane, ipvsadmDiff, kernelHasIpvs } from '../../src/lvs/ipvs-kernel.js';
import { withChecks } from './checked.js';

const conf = (sched: string) =>
  loadConfigText(
    `
virtual_server 192.168.1.100 80 {
  lvs_sched ${sched}
  lvs_method NAT
  sorry_server 10.0.0.9 80
  real_server 10.0.0.1 80 {
    weight 3
    TCP_CHECK {
    }
  }
  real_server 10.0.0.2 80 {
    weight 2
    inhibit_on_failure
    TCP_CHECK {
    }
  }
}
`,
    'k.conf',
  ).config;

const table = (vss: readonly VirtualServer[], dead: string[] = []) =>
  ipvsadmRestore(vss, (_vs, rs: RealServer) => ({ alive: !dead.includes(rs.address), weight: rs.weight }));

/**
 * A balancer on kernel IPVS with one DR service after global_defs `g`, every ipvsadm batch it sends
 * recorded, and IPVS's timeouts found at 900 100 200.
 */
async function recording() {
  const { VirtualClock } = await import('../../src/core/clock.js');
  const { Balancer } = await import('../../src/lvs/balancer.js');
  const batches: string[][] = [];
  const conf = (g: string) =>
    loadConfigText(`${g}virtual_server 192.168.1.100 80 {\n  lvs_sched rr\n  lvs_method DR\n  protocol TCP\n  real_server 10.0.0.1 80 {\n  }\n}\n`, 'k.conf')
      .config;
  const balancer = (g: string) =>
    new Balancer(
      conf(g),
      withChecks({
        clock: new VirtualClock(),
        random: () => 0,
        dataPlane: 'kernel',
        kernel: new KernelPlane({ run: async (lines) => void batches.push(lines), readTimeouts: async () => ({ tcp: 900, tcpfin: 100, udp: 200 }) }),
        probe: async () => ({ ok: true, reason: 'up' }),
      }),
    );
  return { batches, conf, balancer };
}

describe('ipvsadm table differences', () => {
  const vs = conf('wrr').resolved.virtualServers;
  const all = table(vs);

  it('builds the table from nothing, service first', () => {
    expect(ipvsadmDiff('', all)).toEqual([
      '-A -t 192.168.1.100:80 -s wrr',
      '-a -t 192.168.1.100:80 -r 10.0.0.1:80 -m -w 3',
      '-a -t 192.168.1.100:80 -r 10.0.0.2:80 -m -w 2',
    ]);
  });

  it('removes a dead real server, and keeps an inhibited one at weight 0', () => {
    expect(ipvsadmDiff(all, table(vs, ['10.0.0.1']))).toEqual(['-d -t 192.168.1.100:80 -r 10.0.0.1:80']);
    expect(ipvsadmDiff(all, table(vs, ['10.0.0.2']))).toEqual(['-e -t 192.168.1.100:80 -r 10.0.0.2:80 -m -w 0']);
  });

  it('swaps in the sorry server when all are down, and out when one returns', () => {
    const down = table(vs, ['10.0.0.1', '10.0.0.2']);
    expect(ipvsadmDiff(all, down)).toEqual([
      '-d -t 192.168.1.100:80 -r 10.0.0.1:80',
      '-a -t 192.168.1.100:80 -r 10.0.0.9:80 -m -w 1',
      '-e -t 192.168.1.100:80 -r 10.0.0.2:80 -m -w 0',
    ]);
    expect(ipvsadmDiff(down, table(vs, ['10.0.0.2']))).toEqual(['-d -t 192.168.1.100:80 -r 10.0.0.9:80', '-a -t 192.168.1.100:80 -r 10.0.0.1:80 -m -w 3']);
  });

  it('edits the service on a scheduler change and tears down destinations before the service', () => {
    expect(ipvsadmDiff(all, table(conf('lc').resolved.virtualServers))).toEqual(['-E -t 192.168.1.100:80 -s lc']);
    expect(ipvsadmDiff(all, '')).toEqual(['-d -t 192.168.1.100:80 -r 10.0.0.1:80', '-d -t 192.168.1.100:80 -r 10.0.0.2:80', '-D -t 192.168.1.100:80']);
    expect(ipvsadmDiff(all, all)).toEqual([]);
  });
});

describe('KernelPlane', () => {
  const vs = conf('wrr').resolved.virtualServers;

  it('applies only differences, and folds changes made while a batch is in flight into one', async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const plane = new KernelPlane({
      run: async (lines) => {
        batches.push(lines);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
        return undefined;
      },
    });
    const first = plane.sync(table(vs));
    // The first batch is in flight (a drain starts a turn after the sync that asked for it).
    await vi.waitFor(() => expect(batches).toHaveLength(1));
    void plane.sync(table(vs, ['10.0.0.1']));
    void plane.sync(table(vs, ['10.0.0.1', '10.0.0.2']));
    release();
    await first;
    expect(batches).toHaveLength(2);
    expect(batches[1]).toEqual([
      '-d -t 192.168.1.100:80 -r 10.0.0.1:80',
      '-a -t 192.168.1.100:80 -r 10.0.0.9:80 -m -w 1',
      '-e -t 192.168.1.100:80 -r 10.0.0.2:80 -m -w 0',
    ]);
    await plane.clear();
    expect(batches[2]?.at(-1)).toBe('-D -t 192.168.1.100:80');
  });

  const ipvsadm = spawnSync('ipvsadm', ['-v']).error === undefined;
  it.skipIf(!ipvsadm || kernelHasIpvs())('reports the real ipvsadm refusing a kernel without IPVS', async () => {
    const warnings: string[] = [];
    await new KernelPlane({ log: (_l, m) => warnings.push(m) }).sync(table(vs));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^ipvsadm -R: .*(Protocol not available|IP Virtual Server)/s);
  });
});

describe('Balancer on kernel IPVS', () => {
  it('keeps the kernel table in step with the checkers: start, a server down, all down, stop', async () => {
    const { VirtualClock } = await import('../../src/core/clock.js');
    const { Balancer } = await import('../../src/lvs/balancer.js');
    const cfg = loadConfigText(
      `
virtual_server 192.168.1.100 80 {
  delay_loop 1
  lvs_sched wlc
  lvs_method DR
  sorry_server 10.0.0.9 80
  real_server 10.0.0.1 80 {
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
  real_server 10.0.0.2 80 {
    weight 2
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }
}
`,
      'k.conf',
    ).config;
    const up = new Set(['10.0.0.1', '10.0.0.2']);
    const batches: string[][] = [];
    const clock = new VirtualClock();
    const lb = new Balancer(
      cfg,
      withChecks({
        clock,
        random: () => 0,
        dataPlane: 'kernel',
        kernel: new KernelPlane({ run: async (lines) => void batches.push(lines) }),
        probe: async ({ rs }) => (up.has(rs.address) ? { ok: true, reason: 'up' } : { ok: false, reason: 'connection refused' }),
      }),
    );
    const settle = async (s: number) => {
      for (let i = 0; i < s * 10; i++) {
        clock.advance(100_000);
        await new Promise((r) => setImmediate(r));
      }
    };
    await lb.start();
    expect(batches.shift()).toEqual([
      '-A -t 192.168.1.100:80 -s wlc',
      '-a -t 192.168.1.100:80 -r 10.0.0.1:80 -g -w 1',
      '-a -t 192.168.1.100:80 -r 10.0.0.2:80 -g -w 2',
    ]);
    up.delete('10.0.0.2');
    await settle(3);
    expect(batches.splice(0)).toEqual([['-d -t 192.168.1.100:80 -r 10.0.0.2:80']]);
    up.delete('10.0.0.1');
    await settle(3);
    expect(batches.splice(0).flat()).toEqual(['-d -t 192.168.1.100:80 -r 10.0.0.1:80', '-a -t 192.168.1.100:80 -r 10.0.0.9:80 -g -w 1']);
    // The embedded forwarder never listened: the kernel carries the traffic.
    expect(lb.services[0].plane).toBeUndefined();
    await lb.stop();
    expect(batches.splice(0).flat()).toEqual(['-d -t 192.168.1.100:80 -r 10.0.0.9:80', '-D -t 192.168.1.100:80']);
  });

  it("sets IPVS timeouts from lvs_timeouts (ipvsadm --set), only when written, again when a reload changes them, and puts the kernel's back at stop", async () => {
    const { batches, conf, balancer } = await recording();
    const sets = () => batches.flat().filter((l) => l.startsWith('--set'));
    const plain = balancer('');
    await plain.start();
    await plain.stop();
    expect(sets()).toEqual([]);
    batches.length = 0;
    const lb = balancer('global_defs {\n  lvs_timeouts tcp 60 udp 5\n}\n');
    await lb.start();
    expect(batches[0]).toEqual(['--set 60 120 5']);
    await lb.reload(conf('global_defs {\n  lvs_timeouts tcp 60 udp 5\n}\n'));
    await lb.reload(conf('global_defs {\n  lvs_timeouts tcp 30 tcpfin 20\n}\n'));
    expect(sets()).toEqual(['--set 60 120 5', '--set 30 20 300']);
    await lb.stop();
    // The kernel's own values, read before the first --set, come back at stop (keepalived's ipvs_stop).
    expect(sets()).toEqual(['--set 60 120 5', '--set 30 20 300', '--set 900 100 200']);
    batches.length = 0;
    const dropped = balancer('global_defs {\n  lvs_timeouts tcp 60\n}\n');
    await dropped.start();
    await dropped.reload(conf(''));
    expect(sets()).toEqual(['--set 60 120 300', '--set 900 100 200']);
    await dropped.stop();
  });

  it('flushes the whole kernel table before adding its own with lvs_flush, at start only', async () => {
    const { batches, conf, balancer } = await recording();
    const plain = balancer('');
    await plain.start();
    await plain.stop();
    expect(batches.flat()).not.toContain('-C');
    batches.length = 0;
    const lb = balancer('global_defs {\n  lvs_flush\n}\n');
    await lb.start();
    expect(batches.slice(0, 2)).toEqual([['-C'], ['-A -t 192.168.1.100:80 -s rr', '-a -t 192.168.1.100:80 -r 10.0.0.1:80 -g -w 1']]);
    await lb.reload(conf('global_defs {\n  lvs_flush\n}\n'));
    expect(batches.flat().filter((l) => l === '-C')).toHaveLength(1);
    await lb.stop();
  });
});

describe('a reload on kernel IPVS', () => {
  it('sends a change made in the same turn as a sync that had nothing to send', async () => {
    const batches: string[][] = [];
    const plane = new KernelPlane({ run: async (lines) => void batches.push(lines) });
    const one = '-A -t 192.168.1.100:80 -s rr\n-a -t 192.168.1.100:80 -r 10.0.0.1:80 -g -w 1\n';
    await plane.sync(one);
    void plane.sync(one);
    await plane.sync(one.replace('-w 1', '-w 5'));
    expect(batches).toEqual([one.trim().split('\n'), ['-e -t 192.168.1.100:80 -r 10.0.0.1:80 -g -w 5']]);
  });

  it("applies a real server's new weight, with and without a checker, after a service the reload adds (keepalived's init_service_rs)", async () => {
    const { batches, balancer } = await recording();
    const server = (addr: string, w: number, check = '') => `  real_server ${addr} 80 {\n    weight ${w}\n${check}  }\n`;
    const service = (vip: string, servers: string) => `virtual_server ${vip} 80 {\n  lvs_sched wrr\n  lvs_method DR\n  protocol TCP\n${servers}}\n`;
    const pool = (w1: number, w2: number) =>
      service('192.168.1.100', server('10.0.0.1', 1) + server('10.0.0.2', w1) + server('10.0.0.3', w2, '    TCP_CHECK {\n    }\n'));
    const lb = balancer('');
    await lb.reload(loadConfigText(pool(2, 3), 'k.conf').config);
    await lb.start();
    batches.length = 0;
    await lb.reload(loadConfigText(service('192.168.1.99', server('10.0.0.9', 1)) + pool(5, 4), 'k.conf').config);
    await vi.waitFor(() => expect(batches.flat()).toContain('-e -t 192.168.1.100:80 -r 10.0.0.2:80 -g -w 5'));
    expect(batches.flat()).toContain('-e -t 192.168.1.100:80 -r 10.0.0.3:80 -g -w 4');
    await lb.stop();
  });
});
