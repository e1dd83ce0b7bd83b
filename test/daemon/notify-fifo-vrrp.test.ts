// VRRP lines on vrrp_notify_fifo, keepalived-ts beside the real keepalived 2.2.7 in network
// namespaces: the same configuration (a sync group of two instances, each host alone on its
// VRIDs) gives the same lines, in the same order, from BACKUP at the start to STOP at the exit.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLab, keepalivedCapability, netnsCapability, poll, REPO_ROOT } from '../helpers/netns.js';

const net = netnsCapability();
const ka = keepalivedCapability();
const skip = !net.ok || !ka.ok;
if (skip) console.warn(`notify FIFO VRRP tests skipped: ${net.reason ?? ka.reason}`);

const CLI = join(REPO_ROOT, 'dist/keepalived-ts.mjs');
const conf = (fifo: string, vrid: number) => `global_defs {
  vrrp_notify_fifo ${fifo}
}
vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
}
${[1, 2]
  .map(
    (i) => `vrrp_instance VI_${i} {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid + i}
  priority ${100 + i}
  advert_int 1
  virtual_ipaddress {
    10.99.86.${vrid + i}/24
  }
}
`,
  )
  .join('')}`;

describe.skipIf(skip)('vrrp_notify_fifo against keepalived 2.2.7', () => {
  it('writes the same INSTANCE and GROUP lines as keepalived', async () => {
    const lab = await createLab({ hosts: 2, subnet: 86 });
    const [ours, theirs] = lab.hosts;
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
      const k = lab.keepalived(theirs, conf(theirFifo.path, 10), { name: 'ka-fifo' });
      const file = join(lab.dir, 'ours-fifo.conf');
      writeFileSync(file, conf(ourFifo.path, 20));
      mkdirSync(join(lab.dir, 'tmp'));
      const o = lab.spawn(
        ours,
        [process.execPath, CLI, '-n', '-l', '-P', '-f', file, '-p', join(lab.dir, 'ours-fifo.pid'), '-r', join(lab.dir, 'ours-fifo-vrrp.pid')],
        {
          name: 'ours-fifo',
          env: { ...process.env, TMPDIR: join(lab.dir, 'tmp'), KEEPALIVED_TS_RUNTIME_DIR: join(lab.dir, 'rt') },
        },
      );
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
