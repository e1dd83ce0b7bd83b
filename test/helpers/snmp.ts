// Private net-snmp daemons in a lab namespace, for the tests of KEEPALIVED-MIB and its traps: an
// snmpd that is the AgentX master on its own socket and answers on a loopback UDP port, forwarding
// traps to a snmptrapd that logs them with numeric OIDs to a file; snmpwalk to read the tables.
// Every file (configs, persistent state, pid files, logs) is in lab.dir; the packages' services
// are never used. In a namespace of its own each daemon can use the fixed ports below.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Capability, Host, Lab, Proc } from './netns.js';

/** KEEPALIVED-MIB's root, numeric, with a leading dot as snmpwalk -On prints it. */
export const K = '.1.3.6.1.4.1.9586.100.5';
/** vrrpInstanceEntry. */
export const INSTANCE = `${K}.2.3.1`;
export const SNMP_PORT = 16161;
export const TRAP_PORT = 16162;

/** snmpd, snmpwalk and snmptrapd are installed. */
export function snmpCapability(): Capability {
  const have = (cmd: string): boolean =>
    !!spawnSync('sh', ['-c', `command -v ${cmd}`])
      .stdout?.toString()
      .trim();
  const missing = ['snmpd', 'snmpwalk', 'snmptrapd'].filter((c) => !have(c));
  return missing.length ? { ok: false, reason: `${missing.join(', ')} absent (apt-get install snmpd snmp snmptrapd)` } : { ok: true };
}

/** A private snmpd in `host`'s namespace: AgentX master on its own socket (give it to the daemon
 * as snmp_socket unix:SOCKET), forwarding traps to TRAP_PORT. */
export function startSnmpd(lab: Lab, host: Host, name: string): { socket: string; proc: Proc } {
  const dir = join(lab.dir, name);
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, 'agentx.sock');
  writeFileSync(
    join(dir, 'master.conf'),
    `master agentx\nagentXSocket unix:${socket}\nagentaddress udp:127.0.0.1:${SNMP_PORT}\nrocommunity public 127.0.0.1\ntrap2sink 127.0.0.1:${TRAP_PORT} public\n`,
  );
  const proc = lab.spawn(host, ['snmpd', '-f', '-C', '-I', '-smux', '-c', join(dir, 'master.conf'), '-Lo', '-p', join(dir, 'snmpd.pid')], {
    name,
    env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' },
  });
  return { socket, proc };
}

/** A private snmptrapd in `host`'s namespace on TRAP_PORT, logging numeric OIDs, one trap a line. */
export function startTrapd(lab: Lab, host: Host, name: string): { log: string; proc: Proc; text: () => string; traps: () => string[] } {
  const dir = join(lab.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'trapd.conf'), 'disableAuthorization yes\n');
  const log = join(dir, 'traps.log');
  const proc = lab.spawn(
    host,
    ['snmptrapd', '-f', '-C', '-c', join(dir, 'trapd.conf'), '-On', '-Lf', log, '-p', join(dir, 'trapd.pid'), `udp:127.0.0.1:${TRAP_PORT}`],
    { name, env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' } },
  );
  const text = (): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  // snmptrapd's log: a header line per trap, its varbinds on the next, tab-separated.
  const traps = (): string[] =>
    text()
      .split('\n')
      .filter((l) => l.includes('.1.3.6.1.6.3.1.1.4.1.0 = OID:'));
  return { log, proc, text, traps };
}

/** A trap's varbinds as `OID TYPE`, sysUpTime left out. */
export const trapShape = (line: string): string[] =>
  line
    .split('\t')
    .map((v) => /^(\.[\d.]+) = ([\w-]+):/.exec(v.trim()))
    .filter((m): m is RegExpExecArray => !!m && m[1] !== '.1.3.6.1.2.1.1.3.0')
    .map((m) => `${m[1]} ${m[2]}`);

/** A vrrpInstanceStateChange for instance `name` to `state` (1 BACKUP, 2 MASTER, 3 FAULT). */
export const instanceTrap = (name: string, state: number): RegExp =>
  new RegExp(`${INSTANCE.replaceAll('.', '\\.')}\\.2 = STRING: "${name}"\\s+${INSTANCE.replaceAll('.', '\\.')}\\.4 = INTEGER: ${state}\\b`);

export interface Var {
  oid: string;
  type: string;
  value: string;
}

/** snmpwalk of the snmpd in `host`'s namespace with numeric OIDs: each line `OID = TYPE: VALUE`
 * (an empty string has no type). */
export async function walk(lab: Lab, host: Host, oid: string): Promise<Var[]> {
  const r = await lab.exec(
    host,
    ['env', `SNMP_PERSISTENT_DIR=${join(lab.dir, 'walk')}`, 'MIBS=', 'snmpwalk', '-v2c', '-c', 'public', '-On', '-t', '2', `127.0.0.1:${SNMP_PORT}`, oid],
    { timeoutMs: 20_000 },
  );
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('.'))
    .map((l) => {
      const m = /^(\S+) = (?:([\w-]+): )?(.*)$/.exec(l)!;
      return { oid: m[1], type: m[2] ?? 'STRING', value: m[3] };
    });
}

/** The value of `oid` in a walk. */
export const get = (vars: Var[], oid: string): string | undefined => vars.find((v) => v.oid === oid)?.value;
