// VRRP lines on vrrp_notify_fifo, keepalived-ts beside the real keepalived 2.2.7 in network
// namespaces: the same configuration (a sync group of two instances, each host alone on its
// VRIDs) gives the same lines, in the same order, from BACKUP at the start to STOP at the exit.
import { describe, expect, it } from 'vitest';
import { fifoReader, type FifoReader } from '../helpers/fifo-reader.js';
import { startBoth, syncPair } from '../helpers/sync-pair.js';
import { createLab, keepalivedCapability, netnsCapability, poll } from '../helpers/netns.js';

const net = netnsCapability();
const ka = keepalivedCapability();
const skip = !net.ok || !ka.ok;
if (skip) console.warn(`notify FIFO VRRP tests skipped: ${net.reason ?? ka.reason}`);

const conf = (fifo: string, vrid: number) => `global_defs {
  vrrp_notify_fifo ${fifo}
}
${syncPair(vrid, 86)}`;

describe.skipIf(skip)('vrrp_notify_fifo against keepalived 2.2.7', () => {
  it('writes the same INSTANCE and GROUP lines as keepalived', async () => {
    const lab = await createLab({ hosts: 2, subnet: 86 });
    const theirFifo = fifoReader(lab.dir, 'theirs');
    const ourFifo = fifoReader(lab.dir, 'ours');
    try {
      const { k, o } = startBoth(lab, 'fifo', conf(theirFifo.path, 10), conf(ourFifo.path, 20));
      const masters = (f: FifoReader): boolean => f.text().includes('GROUP "G1" MASTER 0\n');
      await poll(() => masters(theirFifo) && masters(ourFifo), {
        what: 'both groups MASTER',
        timeoutMs: 20_000,
        diagnose: () => `theirs:\n${theirFifo.text()}\nours:\n${ourFifo.text()}`,
      });
      await k.kill('SIGTERM', 5000);
      await o.kill('SIGTERM', 5000);
      expect(o.exitCode).toBe(0);
      await theirFifo.ended;
      await ourFifo.ended;
      const theirLines = theirFifo.text();
      expect(theirLines).toContain('INSTANCE "VI_1" STOP 101\n');
      expect(ourFifo.text()).toBe(theirLines);
    } finally {
      theirFifo.kill();
      ourFifo.kill();
      await lab.teardown();
    }
  }, 90_000);
});
