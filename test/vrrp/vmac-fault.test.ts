// A VMAC that cannot be made, ours against keepalived 2.2.7 in the same namespace: keepalived
// logs "Unable to create VMAC interface", runs on with the instance FAULT, and makes the VMAC when
// its base interface is added (vrrp_if.c update_added_interface); so does ours. The kernel refuses
// a macvlan on a bridge port (EBUSY: the port's rx_handler is the bridge's), and a base interface
// missing at start (dynamic_interfaces) comes later.
import { describe, expect, it } from 'vitest';
import { oneHostLab } from '../helpers/interop-pair.js';
import { killKeepalivedNs, netnsSkip, poll, type Keepalived } from '../helpers/netns.js';

const skip = netnsSkip('VMAC fault tests', { keepalived: true });

const SUBNET = 151;
const VIP = `10.99.${SUBNET}.100`;
const MAC = '00:00:5e:00:01:33';

const instance = (ifname: string): string => `
vrrp_instance VI_1 {
  state BACKUP
  interface ${ifname}
  use_vmac
  virtual_router_id 51
  priority 150
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;

describe.skipIf(skip)('a VMAC that cannot be made: the instance FAULT, the VMAC made later, as keepalived 2.2.7', () => {
  const lab = oneHostLab({ subnet: SUBNET });

  const ip = async (...args: string[]): Promise<void> => {
    const r = await lab.exec(lab.host, ['ip', ...args]);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  };
  const vmac = async () => {
    const r = await lab.exec(lab.host, ['ip', '-d', '-j', 'addr', 'show', 'dev', 'vrrp.51']);
    if (r.code !== 0) return undefined;
    const [l] = JSON.parse(r.stdout) as { address: string; linkinfo?: { info_kind?: string }; addr_info: { local: string }[] }[];
    return { mac: l.address, kind: l.linkinfo?.info_kind, addresses: l.addr_info.map((a) => a.local) };
  };
  const states = (d: Keepalived, from = 0): string[] => d.lines.slice(from).flatMap((l) => /entering (\w+) state/i.exec(l.text)?.[1]?.toUpperCase() ?? []);
  const stop = async (d: Keepalived, real: boolean): Promise<void> => {
    if (real) await killKeepalivedNs(lab.host.ns);
    else await d.kill('SIGTERM', 5000);
    await lab.exec(lab.host, ['ip', 'link', 'del', 'dev', 'vrrp.51']);
  };

  /** eth0 a bridge port: no macvlan on it; out of the bridge, the VMAC is made. */
  const bridgePort = async (real: boolean) => {
    const tag = real ? 'ka' : 'ours';
    await ip('link', 'add', 'br151', 'type', 'bridge');
    await ip('link', 'set', 'eth0', 'master', 'br151');
    const d = real
      ? lab.keepalived(lab.host, instance('eth0'), { name: `vmac-busy-${tag}` })
      : lab.ours(lab.host, instance('eth0'), { name: `vmac-busy-${tag}` });
    await d.waitForLine(/\(VI_1\): Unable to create VMAC interface vrrp\.51/, { timeoutMs: 15_000 });
    await d.waitForLine(/entering FAULT state/i, { timeoutMs: 10_000 });
    // Running on, FAULT, with no VMAC.
    await new Promise((r) => setTimeout(r, 2000));
    const before = { running: d.exitCode === null, vmac: await vmac(), states: states(d) };
    const from = d.lines.length;
    await ip('link', 'set', 'eth0', 'nomaster');
    await ip('link', 'del', 'br151');
    await poll(async () => (await vmac())?.mac === MAC || undefined, { timeoutMs: 15_000, what: `vrrp.51 made (${tag})`, diagnose: () => d.tail(20) });
    // keepalived 2.2.7 is left in BACKUP here (its socket stays closed); ours goes on to MASTER.
    if (!real)
      await poll(async () => (await vmac())?.addresses.includes(VIP) || undefined, {
        timeoutMs: 15_000,
        what: `${VIP} on vrrp.51`,
        diagnose: () => d.tail(20),
      });
    else await d.waitForLine(/Success creating VMAC interface vrrp\.51/, { timeoutMs: 5000 });
    const after = { vmac: await vmac(), states: states(d, from) };
    await stop(d, real);
    return { before, after, lines: d.lines.map((l) => l.text) };
  };

  it('eth0 a bridge port: "Unable to create VMAC interface", FAULT and running; out of the bridge the VMAC is made, and ours goes MASTER', async () => {
    const theirs = await bridgePort(true);
    const ours = await bridgePort(false);
    console.log('VMAC on a bridge port:', JSON.stringify({ keepalived: { ...theirs, lines: undefined }, ours: { ...ours, lines: undefined } }));
    expect(theirs.before).toEqual({ running: true, vmac: undefined, states: ['FAULT', 'FAULT'] });
    expect(theirs.after.vmac?.mac).toBe(MAC);
    expect(ours.before).toEqual({ running: true, vmac: undefined, states: ['FAULT'] });
    expect(ours.after.vmac).toEqual({ mac: MAC, kind: 'macvlan', addresses: [VIP] });
    expect(ours.after.states).toEqual(['BACKUP', 'MASTER']);
    expect(ours.lines.some((l) => /Success creating VMAC interface vrrp\.51/.test(l))).toBe(true);
  }, 120_000);

  /** dynamic_interfaces and no eth9 at start: FAULT; eth9 added, the VMAC is made and the instance goes MASTER. */
  const missingBase = async (real: boolean) => {
    const tag = real ? 'ka' : 'ours';
    const conf = `global_defs {\n  dynamic_interfaces\n}\n${instance('eth9')}`;
    const d = real ? lab.keepalived(lab.host, conf, { name: `vmac-nobase-${tag}` }) : lab.ours(lab.host, conf, { name: `vmac-nobase-${tag}` });
    await d.waitForLine(/entering FAULT state/i, { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const before = { running: d.exitCode === null, vmac: await vmac() };
    const from = d.lines.length;
    await ip('link', 'add', 'eth9', 'type', 'veth', 'peer', 'name', 'peer9');
    await ip('addr', 'add', `10.99.${SUBNET}.9/24`, 'dev', 'eth9');
    await ip('link', 'set', 'peer9', 'up');
    await ip('link', 'set', 'eth9', 'up');
    await poll(async () => (await vmac())?.addresses.includes(VIP) || undefined, {
      timeoutMs: 20_000,
      what: `${VIP} on vrrp.51 (${tag})`,
      diagnose: () => d.tail(20),
    });
    const after = { vmac: await vmac(), states: states(d, from) };
    await stop(d, real);
    await ip('link', 'del', 'eth9');
    return { before, after };
  };

  it('dynamic_interfaces, base missing at start: FAULT, then the VMAC made and MASTER once it comes, as keepalived', async () => {
    const theirs = await missingBase(true);
    const ours = await missingBase(false);
    console.log('VMAC base missing at start:', JSON.stringify({ keepalived: theirs, ours }));
    expect(theirs).toEqual({
      before: { running: true, vmac: undefined },
      after: { vmac: { mac: MAC, kind: 'macvlan', addresses: [VIP] }, states: ['BACKUP', 'MASTER'] },
    });
    expect(ours).toEqual(theirs);
  }, 120_000);
});
