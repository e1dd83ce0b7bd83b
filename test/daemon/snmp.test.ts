// The SNMP subagent against a real snmpd (Debian's package): keepalived-ts registers
// KEEPALIVED-MIB over AgentX with a private snmpd (its own config, AgentX socket and UDP port in a
// test namespace), snmpwalk reads the VRRP and checker tables through it, and a private snmptrapd
// receives the traps snmpd forwards: the failover when the real keepalived 2.2.7 takes the VIP
// over, and a real server going down. keepalived 2.2.7 serves its own MIB to a second snmpd: its
// VRRP part (sync group, member, instance and address tables) has the same objects with the same
// types as ours, and the same values but for those the roles make differ; its own
// vrrpInstanceStateChange, received by a second snmptrapd, has our trap's varbinds and types.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLab, keepalivedCapability, netnsCapability, poll } from '../helpers/netns.js';
import { get, INSTANCE, instanceTrap, K, snmpCapability, startSnmpd, startTrapd, trapShape, walk, type Var } from '../helpers/snmp.js';

const net = netnsCapability();
const ka = keepalivedCapability();
const snmp = snmpCapability();
const why = !net.ok ? net.reason : !ka.ok ? ka.reason : snmp.reason;
if (why) console.warn(`SNMP test skipped: ${why}`);

const SUBNET = 163;
const CLI = join(__dirname, '../../dist/keepalived-ts.mjs');
const instance = (prio: number) => `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 41
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    10.99.${SUBNET}.41/24
  }
}
`;

const SYNC_GROUP = 'vrrp_sync_group G1 {\n  group {\n    VI_1\n  }\n}\n';

/** The shape of a row: each column present and its type (a binary string prints as Hex-STRING). */
const shape = (vars: Var[], prefix: string, row: string): string[] =>
  vars
    .filter((v) => v.oid.startsWith(`${prefix}.`) && v.oid.endsWith(`.${row}`))
    .map((v) => `${v.oid.slice(prefix.length + 1, -row.length - 1)} ${v.type.replace('Hex-STRING', 'STRING')}`);

describe.skipIf(!!why)('SNMP: KEEPALIVED-MIB through AgentX to a real snmpd', () => {
  it('walks the VRRP and checker tables, and snmptrapd receives the failover and real server traps', async () => {
    const lab = await createLab({ hosts: 2, subnet: SUBNET });
    const [ours, theirs] = lab.hosts;
    try {
      const ourSnmpd = startSnmpd(lab, ours, 'snmpd-ours');
      const theirSnmpd = startSnmpd(lab, theirs, 'snmpd-theirs');
      const trapd = startTrapd(lab, ours, 'trapd-ours');
      const theirTrapd = startTrapd(lab, theirs, 'trapd-theirs');
      // The real server: a TCP listener on the other host, which TCP_CHECK finds up.
      const rsListen = `require('net').createServer((c) => c.destroy()).listen(18081, '${theirs.address}')`;
      const rs = lab.spawn(theirs, [process.execPath, '-e', rsListen], { name: 'real-server' });

      const file = join(lab.dir, 'ours.conf');
      writeFileSync(
        file,
        `global_defs {
  router_id snmp-ours
  enable_snmp_vrrp
  enable_snmp_checker
  enable_traps
  snmp_socket unix:${ourSnmpd.socket}
}
${SYNC_GROUP}${instance(100)}
virtual_server ${ours.address} 18080 {
  delay_loop 1
  lvs_sched wrr
  lvs_method NAT
  protocol TCP
  quorum 1
  real_server ${theirs.address} 18081 {
    weight 3
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`,
      );
      mkdirSync(join(lab.dir, 'tmp'), { recursive: true });
      const o = lab.spawn(
        ours,
        [process.execPath, CLI, '-n', '-l', '-f', file, '-p', join(lab.dir, 'o.pid'), '-r', join(lab.dir, 'o-vrrp.pid'), '-c', join(lab.dir, 'o-check.pid')],
        {
          name: 'ours',
          env: { ...process.env, TMPDIR: join(lab.dir, 'tmp'), KEEPALIVED_TS_RUNTIME_DIR: join(lab.dir, 'rt') },
        },
      );
      const traps = trapd.text;
      const diagnose = () => `ours:\n${o.tail(20)}\nsnmpd:\n${ourSnmpd.proc.tail(10)}\nsnmptrapd:\n${trapd.proc.tail(5)}\ntraps:\n${traps()}`;

      // Alone, ours is MASTER, and the real server is up: the walk says so.
      let vars: Var[] = [];
      await poll(
        async () => {
          vars = await walk(lab, ours, K);
          return get(vars, `${INSTANCE}.4.1`) === '2' && get(vars, `${K}.3.4.1.6.1.1`) === '1';
        },
        { what: 'snmpwalk to show VI_1 MASTER and the real server alive', timeoutMs: 60_000, intervalMs: 500, diagnose },
      );
      // Global part: version and router_id.
      expect(get(vars, `${K}.1.1.0`)).toMatch(/^"Keepalived-ts v/);
      expect(get(vars, `${K}.1.2.0`)).toBe('"snmp-ours"');
      expect(get(vars, `${K}.1.4.0`)).toBe('1'); // trapEnable enabled
      // vrrpSyncGroupTable and its member.
      expect(get(vars, `${K}.2.1.1.2.1`)).toBe('"G1"');
      expect(get(vars, `${K}.2.1.1.3.1`)).toBe('2');
      expect(get(vars, `${K}.2.2.1.2.1.1`)).toBe('"VI_1"');
      // vrrpInstanceTable.
      expect(get(vars, `${INSTANCE}.2.1`)).toBe('"VI_1"');
      expect(get(vars, `${INSTANCE}.3.1`)).toBe('41');
      expect(get(vars, `${INSTANCE}.5.1`)).toBe('1'); // initial state BACKUP
      expect(get(vars, `${INSTANCE}.7.1`)).toBe('100');
      expect(get(vars, `${INSTANCE}.8.1`)).toBe('100');
      expect(get(vars, `${INSTANCE}.9.1`)).toBe('1'); // VIPs all set
      expect(get(vars, `${INSTANCE}.10.1`)).toBe('"eth0"');
      expect(get(vars, `${INSTANCE}.12.1`)).toBe('1');
      expect(get(vars, `${INSTANCE}.13.1`)).toBe('1');
      expect(get(vars, `${INSTANCE}.18.1`)).toBe('"G1"');
      expect(get(vars, `${INSTANCE}.30.1`)).toBe('2');
      expect(get(vars, `${INSTANCE}.35.1`)).toBe('E0 00 00 12 '); // 224.0.0.18
      // vrrpAddressTable: the VIP, its prefix, interface, set and advertised.
      expect(get(vars, `${K}.2.6.1.3.1.1`)).toBe(`0A 63 ${SUBNET.toString(16).toUpperCase()} 29 `);
      expect(get(vars, `${K}.2.6.1.5.1.1`)).toBe('24');
      expect(get(vars, `${K}.2.6.1.8.1.1`)).toBe('"eth0"');
      expect(get(vars, `${K}.2.6.1.10.1.1`)).toBe('1');
      expect(get(vars, `${K}.2.6.1.11.1.1`)).toBe('1');
      // virtualServerTable and realServerTable.
      expect(get(vars, `${K}.3.3.1.2.1`)).toBe('2'); // ip
      expect(get(vars, `${K}.3.3.1.7.1`)).toBe('18080');
      expect(get(vars, `${K}.3.3.1.9.1`)).toBe('2'); // wrr
      expect(get(vars, `${K}.3.3.1.20.1`)).toBe('1');
      expect(get(vars, `${K}.3.3.1.21.1`)).toBe('1');
      expect(get(vars, `${K}.3.3.1.23.1`)).toBe('1'); // quorum met
      expect(get(vars, `${K}.3.4.1.5.1.1`)).toBe('18081');
      expect(get(vars, `${K}.3.4.1.7.1.1`)).toBe('3');

      // Its trap to MASTER is in (its first state's, BACKUP, may be too): what follows is the failover's.
      await poll(() => instanceTrap('VI_1', 2).test(traps()), {
        what: 'the vrrpInstanceStateChange trap to MASTER',
        timeoutMs: 30_000,
        intervalMs: 500,
        diagnose,
      });
      const before = trapd.traps().length;
      const failoverTraps = (): string => trapd.traps().slice(before).join('\n');

      // The real keepalived, priority 200, serving its own MIB to the other snmpd, takes over.
      const k = lab.keepalived(
        theirs,
        `global_defs {\n  router_id snmp-theirs\n  enable_snmp_vrrp\n  enable_traps\n  snmp_socket unix:${theirSnmpd.socket}\n}\n${SYNC_GROUP}${instance(200)}`,
        {
          name: 'ka-snmp',
        },
      );
      await poll(() => instanceTrap('VI_1', 1).test(failoverTraps()), {
        what: 'the vrrpInstanceStateChange trap to BACKUP',
        timeoutMs: 60_000,
        intervalMs: 500,
        diagnose: () => `${diagnose()}\nkeepalived:\n${k.tail(10)}`,
      });
      const backupTrap = failoverTraps()
        .split('\n')
        .find((l) => instanceTrap('VI_1', 1).test(l))!;
      expect(backupTrap).toContain(`.1.3.6.1.6.3.1.1.4.1.0 = OID: ${K}.2.10.0.2`);
      expect(backupTrap).toContain(`${INSTANCE}.5 = INTEGER: 1`);
      expect(backupTrap).toContain(`${K}.1.2.0 = STRING: "snmp-ours"`);
      // keepalived's own trap as it becomes MASTER: the same varbinds, the same types.
      await poll(() => instanceTrap('VI_1', 2).test(theirTrapd.text()), {
        what: "keepalived's vrrpInstanceStateChange",
        timeoutMs: 30_000,
        intervalMs: 500,
        diagnose: () => theirTrapd.text(),
      });
      const theirTrap = theirTrapd
        .text()
        .split('\n')
        .find((l) => instanceTrap('VI_1', 2).test(l))!;
      expect(trapShape(backupTrap)).toEqual(trapShape(theirTrap));
      expect(trapShape(backupTrap)).toHaveLength(5);
      // The sync group's trap too.
      expect(failoverTraps()).toMatch(new RegExp(`OID: ${K.replaceAll('.', '\\.')}\\.2\\.10\\.0\\.1\\s.*"G1".*INTEGER: 1`));
      vars = await walk(lab, ours, `${K}.2`);
      expect(get(vars, `${INSTANCE}.4.1`)).toBe('1');
      expect(get(vars, `${K}.2.6.1.10.1.1`)).toBe('2'); // the VIP unset

      // keepalived 2.2.7's VRRP part, read through its snmpd: the same objects with the same types,
      // and the same values but for the ones the roles make differ (it MASTER at 200, ours BACKUP at 100).
      let theirVars: Var[] = [];
      await poll(
        async () => {
          theirVars = await walk(lab, theirs, `${K}.2`);
          return get(theirVars, `${INSTANCE}.4.1`) === '2';
        },
        { what: "keepalived's vrrpInstanceTable through its snmpd", timeoutMs: 30_000, intervalMs: 500, diagnose: () => `keepalived:\n${k.tail(20)}` },
      );
      const ourVrrp = vars.filter((v) => v.oid.startsWith(`${K}.2.`));
      const typed = (vs: Var[]) => vs.map((v) => `${v.oid} ${v.type.replace('Hex-STRING', 'STRING')}`);
      expect(typed(ourVrrp)).toEqual(typed(theirVars));
      expect(shape(ourVrrp, INSTANCE, '1').length).toBeGreaterThan(25);
      const role = new Set([
        `${K}.2.1.1.3.1`,
        `${INSTANCE}.4.1`,
        `${INSTANCE}.6.1`,
        `${INSTANCE}.7.1`,
        `${INSTANCE}.8.1`,
        `${INSTANCE}.9.1`,
        `${K}.2.6.1.10.1.1`,
      ]);
      const values = (vs: Var[]) => vs.filter((v) => !role.has(v.oid)).map((v) => `${v.oid} ${v.value}`);
      expect(values(ourVrrp)).toEqual(values(theirVars));
      expect([...role].map((r) => `${get(ourVrrp, r)}/${get(theirVars, r)}`)).toEqual(['1/2', '1/2', '1/2', '100/200', '100/200', '2/1', '2/1']);

      // The real server goes away: realServerStateChange (dead) and the quorum's trap (not met).
      await rs.kill('SIGTERM', 5000);
      await poll(() => traps().includes(`${K}.3.4.1.6 = INTEGER: 2`), { what: 'the realServerStateChange trap', timeoutMs: 60_000, intervalMs: 500, diagnose });
      expect(traps()).toContain(`OID: ${K}.3.5.0.1`);
      await poll(() => traps().includes(`OID: ${K}.3.5.0.2`), {
        what: 'the virtualServerQuorumStateChange trap',
        timeoutMs: 30_000,
        intervalMs: 500,
        diagnose,
      });
      expect(traps()).toContain(`${K}.3.3.1.23 = INTEGER: 2`);
      vars = await walk(lab, ours, `${K}.3`);
      expect(get(vars, `${K}.3.4.1.6.1.1`)).toBe('2');
      expect(get(vars, `${K}.3.3.1.21.1`)).toBe('0');

      await k.kill('SIGTERM', 5000);
      await o.kill('SIGTERM', 5000);
      expect(o.exitCode).toBe(0);
    } finally {
      await lab.teardown();
    }
  }, 240_000);
});
