// A sync group G1 of two BACKUP instances VI_1 and VI_2 on eth0 (VRIDs vrid+1, vrid+2, VIPs in
// 10.99.SUBNET.0/24): one host alone on them becomes MASTER for both, for the tests that compare
// what keepalived-ts and keepalived 2.2.7 report about the same transitions.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, type Host, type Lab, type Proc } from './netns.js';

const CLI = join(REPO_ROOT, 'dist/keepalived-ts.mjs');

/** A vrrp_instance that starts BACKUP on eth0, advert_int 1, with one VIP; `extra` lines go inside it. */
export const instanceConf = (name: string, vrid: number, priority: number, vip: string, extra = ''): string => `vrrp_instance ${name} {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${vip}
  }
${extra}}
`;

export const syncPair = (vrid: number, subnet: number): string => `vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
}
${[1, 2].map((i) => instanceConf(`VI_${i}`, vrid + i, 100 + i, `10.99.${subnet}.${vrid + i}/24`)).join('')}`;

/** keepalived-ts -P on `host` with the configuration `file`, its pid files, $TMPDIR and runtime
 * directory in lab.dir under `name`; `env` adds to its environment. */
export function startOurs(lab: Lab, host: Host, name: string, file: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Proc {
  mkdirSync(join(lab.dir, 'tmp'), { recursive: true });
  return lab.spawn(
    host,
    [process.execPath, CLI, '-n', '-l', '-P', '-f', file, '-p', join(lab.dir, `ours-${name}.pid`), '-r', join(lab.dir, `ours-${name}-vrrp.pid`), ...extraArgs],
    { name: `ours-${name}`, env: { ...process.env, TMPDIR: join(lab.dir, 'tmp'), KEEPALIVED_TS_RUNTIME_DIR: join(lab.dir, `rt-${name}`), ...env } },
  );
}

/** keepalived 2.2.7 on `theirs` with `theirConf`, keepalived-ts -P on `ours` with `ourConf`, in lab.dir under `name`. */
export function startBoth(lab: Lab, name: string, theirConf: string, ourConf: string) {
  const [ours, theirs] = lab.hosts;
  const k = lab.keepalived(theirs, theirConf, { name: `ka-${name}` });
  const file = join(lab.dir, `ours-${name}.conf`);
  writeFileSync(file, ourConf);
  return { k, o: startOurs(lab, ours, name, file) };
}
