// The address driver's one `ip -batch` process, in a namespace of its own: results per command in
// order (failures with ip's message), many VIPs applied through the one process, and a batch that
// cannot be written as batch lines left to the per-command executor.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { IpAddressDriver, spawnExec } from '../../src/net/addresses.js';
import { batchLine, IpBatch } from '../../src/net/ip-batch.js';
import { oneHostLab } from '../helpers/interop-pair.js';
import { netnsSkip } from '../helpers/netns.js';
import { RealClock } from '../../src/daemon/clock.js';

const skip = netnsSkip('ip -batch tests');

describe('batch lines', () => {
  it('drops -4/-6 from addr commands, and refuses what the batch reader would split or strip', () => {
    expect(batchLine(['ip', '-4', 'addr', 'add', '10.0.0.1/32', 'dev', 'eth0'])).toBe('addr add 10.0.0.1/32 dev eth0');
    expect(batchLine(['ip', 'route', 'replace', '10.9.0.0/16', 'via', '10.0.0.254'])).toBe('route replace 10.9.0.0/16 via 10.0.0.254');
    expect(batchLine(['ip', '-4', 'route', 'add', 'x'])).toBeUndefined();
    expect(batchLine(['ip', 'addr', 'add', '10.0.0.1/32', 'label', 'a#b'])).toBeUndefined();
    expect(batchLine(['ip', 'addr', 'add', '10.0.0.1/32', 'label', 'a b'])).toBeUndefined();
    expect(batchLine(['arping', '-U'])).toBeUndefined();
  });
});

describe.skipIf(skip)('ip -batch in a namespace', () => {
  const lab = oneHostLab({
    subnet: 71,
    setup: async () => {
      // No dummy driver on every kernel (not on CI's): a veth pair.
      await lab.exec(lab.host, ['ip', 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd0p']);
      await lab.exec(lab.host, ['ip', 'link', 'set', 'd0', 'up']);
    },
  });

  const addrs = async (): Promise<string[]> =>
    [...(await lab.exec(lab.host, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'd0'])).stdout.matchAll(/inet (\S+)/g)].map((m) => m[1]);

  it('answers each command in order, with ip’s message for the ones that failed', async () => {
    const b = new IpBatch(['ip', 'netns', 'exec', lab.host.ns, 'ip']);
    try {
      const r = await b.run([
        'addr add 10.71.1.1/32 dev d0',
        'addr add 10.71.1.1/32 dev d0',
        'addr add 10.71.1.2/32 dev nosuch',
        'addr add 10.71.1.3/32 dev d0',
      ]);
      expect(r.map((x) => x.code)).toEqual([0, 1, 1, 0]);
      expect(r[1].stderr).toMatch(/already assigned|File exists/);
      expect(r[2].stderr).toMatch(/nosuch/);
      // The next batch on the same process: line numbers carry on.
      expect((await b.run(['addr del 10.71.1.3/32 dev d0', 'addr del 10.71.1.9/32 dev d0'])).map((x) => x.code)).toEqual([0, 1]);
      expect(await addrs()).toEqual(['10.71.1.1/32']);
    } finally {
      b.close();
    }
  });

  it('reports the commands of a batch whose process died as failed, and starts a new one after', async () => {
    const b = new IpBatch(['/bin/sh', '-c', 'exit 3', 'sh']);
    const r = await b.run(['addr add 10.71.1.4/32 dev d0']);
    expect(r[0].code).toBeNull();
    expect(r[0].stderr).toMatch(/ip -batch exited \(status 3\)/);
  });

  it('brings 1,000 VIPs up and down through one process', async () => {
    const vips = Array.from({ length: 1000 }, (_, i) => `10.72.${i >> 8}.${i & 255}/32`).join('\n  ');
    const { config } = loadConfigText(`vrrp_instance VI_1 {\n interface d0\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n  ${vips}\n }\n}\n`);
    const inst = config.resolved.vrrpInstances[0];
    const warnings: string[] = [];
    const batch = new IpBatch(['ip', 'netns', 'exec', lab.host.ns, 'ip']);
    const d = new IpAddressDriver({ clock: new RealClock(), batch, log: (l, m) => l === 'warn' && warnings.push(m) });
    try {
      let t0 = performance.now();
      await d.add(inst);
      const batchMs = performance.now() - t0;
      expect((await addrs()).filter((a) => a.startsWith('10.72.'))).toHaveLength(1000);
      await d.remove(inst);
      expect((await addrs()).filter((a) => a.startsWith('10.72.'))).toHaveLength(0);
      expect(warnings).toEqual([]);
      // For the record: 100 of them a process each, as before.
      const few = { ...inst, virtualIpaddress: inst.virtualIpaddress.slice(0, 100) };
      const perProcess = new IpAddressDriver({ clock: new RealClock(), exec: (argv) => spawnExec(['ip', 'netns', 'exec', lab.host.ns, ...argv]) });
      t0 = performance.now();
      await perProcess.add(few);
      const spawnMs = performance.now() - t0;
      await perProcess.remove(few);
      console.log(`1,000 VIPs through ip -batch: ${batchMs.toFixed(0)} ms; 100 VIPs a process each: ${spawnMs.toFixed(0)} ms`);
    } finally {
      batch.close();
    }
  }, 120_000);
});
