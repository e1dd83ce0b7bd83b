// keepalived's per-instance log lines, ours beside keepalived 2.2.7 on the same configuration (each
// alone on its VRID in its own namespace): the first state "(init)", and with -D the detail lines
// (advert timeout, setting/removing VIPs and E-VIPs, the priority-0 advert at stop), in the same
// order. Without -D neither writes the detail lines. And what the removal at start is for: a VIP a
// killed predecessor left on the interface does not stay up beside another node's MASTER.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, keepalivedCapability, netnsCapability, poll, REPO_ROOT, type Lab, type Proc } from '../helpers/netns.js';

const net = netnsCapability();
const ka = keepalivedCapability();
const why = !net.ok ? net.reason : !ka.ok ? ka.reason : undefined;
if (why) console.warn(`log detail tests skipped: ${why}`);

const CLI = join(REPO_ROOT, 'dist/keepalived-ts.mjs');
const conf = (vrid: number): string => `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.99.${vrid}.100/24
  }
  virtual_ipaddress_excluded {
    10.98.${vrid}.100/24
  }
}
`;

/** The instance lines either daemon writes, in order (any state line: neither writes one at its stop). */
const INSTANCE_LINE = /^\(VI_1\) (Entering \w+ STATE( \(init\))?|Receive advertisement timeout|(sett|remov)ing (E-)?VIPs\.|sent 0 priority)$/;

/** A console line's message: ours writes JSON (-l), keepalived text after its time stamp. */
function message(text: string): string {
  if (text.startsWith('{')) {
    try {
      const { msg } = JSON.parse(text) as { msg?: unknown };
      return typeof msg === 'string' ? msg : '';
    } catch {
      return '';
    }
  }
  return text.replace(/^\w{3} \w{3} [ \d]\d [\d:]{8} \d{4}: /, '');
}
const instanceLines = (p: Proc): string[] => p.lines.map((l) => message(l.text)).filter((m) => INSTANCE_LINE.test(m));

describe.skipIf(why !== undefined)('per-instance log lines against keepalived 2.2.7', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ hosts: 3, subnet: 71 });
  }, 60_000);
  afterAll(async () => lab?.teardown());

  const ours = (i: number, vrid: number, detail: boolean): Proc => {
    const name = `ours-detail-${vrid}`;
    const file = join(lab.dir, `${name}.conf`);
    writeFileSync(file, conf(vrid));
    const args = [
      process.execPath,
      CLI,
      '-n',
      '-l',
      ...(detail ? ['-D'] : []),
      '-P',
      '-f',
      file,
      '-p',
      join(lab.dir, `${name}.pid`),
      '-r',
      join(lab.dir, `${name}-vrrp.pid`),
    ];
    return lab.spawn(lab.hosts[i], args, { name, env: { ...process.env, KEEPALIVED_TS_RUNTIME_DIR: join(lab.dir, `rt-${vrid}`) } });
  };

  it('-D: the same lines in the same order, from start through MASTER to stop', async () => {
    const theirs = lab.keepalived(lab.hosts[0], conf(81), { name: 'ka-detail' });
    const o = ours(1, 82, true);
    for (const p of [theirs, o]) await p.waitForLine(/setting E-VIPs\./, { timeoutMs: 20_000 });
    for (const p of [theirs, o]) await p.kill('SIGTERM', 10_000);
    const expected = [
      // The VIPs a killed predecessor may have left are removed at the start.
      '(VI_1) removing VIPs.',
      '(VI_1) removing E-VIPs.',
      '(VI_1) Entering BACKUP STATE (init)',
      '(VI_1) Receive advertisement timeout',
      '(VI_1) Entering MASTER STATE',
      '(VI_1) setting VIPs.',
      '(VI_1) setting E-VIPs.',
      '(VI_1) sent 0 priority',
      '(VI_1) removing VIPs.',
      '(VI_1) removing E-VIPs.',
    ];
    // keepalived itself, so that the comparison stands on what it writes.
    expect(instanceLines(theirs)).toEqual(expected);
    expect(instanceLines(o)).toEqual(expected);
  }, 90_000);

  it('a VIP left on the interface by a killed predecessor goes at the start, while another node is MASTER', async () => {
    const master = lab.keepalived(lab.hosts[0], conf(84).replace('priority 100', 'priority 200'), { name: 'ka-master-84' });
    await master.waitForLine(/Entering MASTER STATE/, { timeoutMs: 20_000 });
    const h = lab.hosts[2];
    await lab.exec(h, ['ip', 'addr', 'add', '10.99.84.100/24', 'dev', 'eth0']);
    expect(await lab.addresses(h)).toContain('10.99.84.100');
    const o = ours(2, 84, false);
    await o.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 20_000 });
    await poll(async () => !(await lab.addresses(h)).includes('10.99.84.100') || undefined, { timeoutMs: 10_000, what: 'the left-over VIP to go' });
    expect(o.lines.map((l) => message(l.text))).not.toContain('(VI_1) Entering MASTER STATE');
    await o.kill('SIGTERM', 10_000);
    await master.kill('SIGTERM', 10_000);
  }, 90_000);

  it('without -D: only the state lines', async () => {
    const o = ours(1, 83, false);
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 20_000 });
    await o.kill('SIGTERM', 10_000);
    expect(instanceLines(o)).toEqual(['(VI_1) Entering BACKUP STATE (init)', '(VI_1) Entering MASTER STATE']);
  }, 60_000);
});
