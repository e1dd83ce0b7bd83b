// The JSON dump (--signum=JSON, 36) against keepalived 2.2.7's: both daemons alone on their VRID
// in a network namespace each, the same instance otherwise, signalled once MASTER; the files
// have the same fields in the same order, and the same values where the instances agree.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLab, keepalivedCapability, netnsCapability, poll } from '../helpers/netns.js';
import { startOurs } from '../helpers/sync-pair.js';

const net = netnsCapability();
const ka = keepalivedCapability();
const skip = !net.ok || !ka.ok;
if (skip) console.warn(`JSON dump test skipped: ${net.reason ?? ka.reason}`);

const SUBNET = 95;
const conf = (vrid: number, extra = '') => `vrrp_script chk {
  script "/bin/true"
  interval 1
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority 100
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    10.99.${SUBNET}.${vrid}/24
    10.99.${SUBNET}.${vrid + 100}
  }
  track_script {
    chk
  }
  notify_master "/bin/echo hi"
${extra}
}
`;

describe.skipIf(skip)('JSON dump against keepalived 2.2.7', () => {
  // With use_vmac, keepalived's instance interface is the VMAC it made (vrrp.VRID).
  it.each([
    ['on eth0', ''],
    ['with use_vmac', '  use_vmac'],
  ])(
    "writes keepalived's fields, in its order, mode 0600 (%s)",
    async (_what, extra) => {
      const vmac = extra !== '';
      const lab = await createLab({ hosts: 2, subnet: SUBNET });
      const [ours, theirs] = lab.hosts;
      try {
        const kTmp = join(lab.dir, 'ktmp');
        mkdirSync(kTmp);
        const kConf = join(lab.dir, 'k.conf');
        writeFileSync(kConf, conf(51, extra));
        const kPid = join(lab.dir, 'k-vrrp.pid');
        const k = lab.spawn(theirs, ['keepalived', '-n', '-l', '-P', '-f', kConf, '-p', join(lab.dir, 'k.pid'), '-r', kPid], {
          name: 'ka-json',
          env: { ...process.env, TMPDIR: kTmp },
        });
        const oConf = join(lab.dir, 'o.conf');
        writeFileSync(oConf, conf(52, extra));
        const o = startOurs(lab, ours, 'json', oConf);
        const diagnose = () => `ours:\n${o.tail(10)}\nkeepalived:\n${k.tail(10)}`;
        await poll(() => /VI_1\) Entering MASTER STATE/.test(k.output()) && /VI_1\) Entering MASTER STATE/.test(o.output()), {
          what: 'both MASTER',
          timeoutMs: 30_000,
          diagnose,
        });
        const theirFile = join(kTmp, 'keepalived.json');
        const ourFile = join(lab.dir, 'tmp', 'keepalived.json');
        process.kill(Number(readFileSync(kPid, 'utf8')), 36);
        process.kill(Number(readFileSync(join(lab.dir, 'ours-json.pid'), 'utf8')), 36);
        await poll(() => existsSync(theirFile) && existsSync(ourFile), { what: 'both JSON files', timeoutMs: 10_000, diagnose });
        const theirText = readFileSync(theirFile, 'utf8');
        const ourText = readFileSync(ourFile, 'utf8');
        // keepalived's writer escapes '/'.
        expect(ourText).toContain('"script_master":"\'\\/usr\\/bin\\/echo\' \'hi\'"');
        type Dump = { data: Record<string, unknown>; stats: Record<string, number> }[];
        const [theirs1] = JSON.parse(theirText) as Dump;
        const [ours1] = JSON.parse(ourText) as Dump;
        expect(Object.keys(ours1)).toEqual(Object.keys(theirs1));
        expect(Object.keys(ours1.data)).toEqual(Object.keys(theirs1.data));
        expect(Object.keys(ours1.stats)).toEqual(Object.keys(theirs1.stats));
        const differ = new Set(['vrid', 'vips', 'last_transition', ...(vmac ? ['vmac_ifname', 'ifp_ifname'] : [])]);
        for (const key of Object.keys(theirs1.data)) if (!differ.has(key)) expect([key, ours1.data[key]]).toEqual([key, theirs1.data[key]]);
        const dev = vmac ? 'vrrp.52' : 'eth0';
        expect(ours1.data.vips).toEqual([`10.99.95.52/24 dev ${dev} scope global set`, `10.99.95.152 dev ${dev} scope global set`]);
        if (vmac) {
          expect([theirs1.data.vmac_ifname, theirs1.data.ifp_ifname]).toEqual(['vrrp.51', 'vrrp.51']);
          expect([ours1.data.vmac_ifname, ours1.data.ifp_ifname]).toEqual(['vrrp.52', 'vrrp.52']);
        }
        expect(Math.abs((ours1.data.last_transition as number) - Date.now() / 1000)).toBeLessThan(60);
        expect(ours1.stats.become_master).toBe(theirs1.stats.become_master);
        expect(statSync(ourFile).mode & 0o777).toBe(0o600);
        await k.kill('SIGTERM', 5000);
        await o.kill('SIGTERM', 5000);
      } finally {
        await lab.teardown();
      }
    },
    120_000,
  );
});
