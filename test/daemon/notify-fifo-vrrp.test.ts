// VRRP lines on vrrp_notify_fifo, keepalived-ts beside the real keepalived 2.2.7 in network
// namespaces: the same configuration (a sync group of two instances, each host alone on its
// VRIDs) gives the same lines, in the same order, from BACKUP at the start to STOP at the exit.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
    const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');
    /** A FIFO read by a cat into a file. */
    const fifo = (name: string) => {
      const path = join(lab.dir, `${name}.fifo`);
      const out = join(lab.dir, `${name}.out`);
      expect(spawnSync('mkfifo', [path]).status).toBe(0);
      const cat = spawn('/bin/sh', ['-c', 'exec cat "$1" > "$2"', 'sh', path, out]);
      return { path, out, ended: new Promise((r) => cat.once('exit', r)), kill: () => cat.kill('SIGKILL') };
    };
    const theirFifo = fifo('theirs');
    const ourFifo = fifo('ours');
    try {
      const { k, o } = startBoth(lab, 'fifo', conf(theirFifo.path, 10), conf(ourFifo.path, 20));
      const masters = (p: string): boolean => read(p).includes('GROUP "G1" MASTER 0\n');
      await poll(() => masters(theirFifo.out) && masters(ourFifo.out), {
        what: 'both groups MASTER',
        timeoutMs: 20_000,
        diagnose: () => `theirs:\n${read(theirFifo.out)}\nours:\n${read(ourFifo.out)}`,
      });
      await k.kill('SIGTERM', 5000);
      await o.kill('SIGTERM', 5000);
      expect(o.exitCode).toBe(0);
      await theirFifo.ended;
      await ourFifo.ended;
      const theirLines = read(theirFifo.out);
      expect(theirLines).toContain('INSTANCE "VI_1" STOP 101\n');
      expect(read(ourFifo.out)).toBe(theirLines);
    } finally {
      theirFifo.kill();
      ourFifo.kill();
      await lab.teardown();
    }
  }, 90_000);
});
