// The daemon's SNMP subsystem: which parts of KEEPALIVED-MIB are served (enable_snmp_vrrp,
// enable_snmp_checker, or -x for both), where the master agent is (-A, else snmp_socket, else
// keepalived's default unix:/var/agentx/master), and the traps (enable_traps) for VRRP instance
// and sync group state changes and real server and quorum changes, as keepalived sends them.
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import type { GlobalDefs, ResolvedVirtualServer, ResolvedRealServer } from '../config/model/index.js';
import type { VrrpInstance } from '../config/model/index.js';
import type { VrrpEngine } from '../vrrp/engine.js';
import type { Service } from '../lvs/table.js';
import { checkTrap, CHECK_OID, GLOBAL_OID, groupTrap, instanceTrap, mibCells, realServersUp, VRRP_OID } from './snmp-mib.js';
import { DEFAULT_AGENTX_SOCKET, parseAgentxSocket, SnmpAgent } from './snmp-agent.js';
import { cmdStr } from './dumps.js';

type State = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

/** What the daemon tells the SNMP subsystem. */
export interface SnmpEvents {
  instance(inst: VrrpInstance, state: State): void;
  group(name: string, state: State): void;
  lvs(vs: ResolvedVirtualServer, rs: ResolvedRealServer | undefined, up: boolean): void;
}

export interface SnmpSubsystem {
  events: SnmpEvents;
  /** Connects to the master agent (retrying in the background); resolves once the first attempt
   * is over or, at the latest, after a short bound. Nothing when SNMP is off. */
  start(): Promise<void>;
  close(): Promise<void>;
  readonly agent?: SnmpAgent;
}

export interface SnmpOptions {
  /** The configuration at start: it decides what is served (a reload changes the values only). */
  globalDefs: GlobalDefs;
  /** The configuration now. */
  live(): GlobalDefs;
  engine(): VrrpEngine | undefined;
  services(): readonly Service[];
  /** -x, -A. */
  option?: boolean;
  socket?: string;
  /** -C / -P: the part that does not run is not served. */
  vrrpRuns: boolean;
  checkerRuns: boolean;
  version: string;
  log: { info(m: string): void; warn(m: string): void; error(m: string): void };
  /** -D: keepalived then logs each VRRP trap it sends. */
  detail?: boolean;
}

const NONE: SnmpEvents = { instance: () => undefined, group: () => undefined, lvs: () => undefined };

/** An interface's index from sysfs, for vrrpAddressIfIndex. */
function ifIndex(name: string): number | undefined {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

export function snmpSubsystem(o: SnmpOptions): SnmpSubsystem {
  const g = o.globalDefs;
  const vrrp = o.vrrpRuns && (g.enableSnmpVrrp || !!o.option);
  const checker = o.checkerRuns && (g.enableSnmpChecker || !!o.option);
  if (!vrrp && !checker) return { events: NONE, start: async () => undefined, close: async () => undefined };
  const spec = o.socket ?? g.snmpSocket ?? DEFAULT_AGENTX_SOCKET;
  const address = parseAgentxSocket(spec);
  if ('error' in address) {
    o.log.error(`${address.error}; SNMP not started`);
    return { events: NONE, start: async () => undefined, close: async () => undefined };
  }
  const agent = new SnmpAgent({
    address,
    label: spec,
    description: `keepalived-ts ${o.version}`,
    // keepalived registers its global part, and the VRRP and checker parts it serves.
    subtrees: [GLOBAL_OID, ...(vrrp ? [VRRP_OID] : []), ...(checker ? [CHECK_OID] : [])],
    cells: () =>
      mibCells(
        {
          version: `Keepalived-ts v${o.version}`,
          globalDefs: o.live(),
          routerId: o.live().routerId ?? hostname(),
          vrrp: vrrp ? o.engine() : undefined,
          services: checker ? o.services() : undefined,
          ifIndex,
        },
        cmdStr,
      ),
    log: o.log,
  });
  const traps = (): boolean => o.live().enableTraps;
  const host = hostname();
  const events: SnmpEvents = {
    // vrrp_snmp_instance_trap / vrrp_snmp_group_trap: with enable_traps and enable_snmp_vrrp.
    instance: (inst, state) => {
      agent.changed();
      if (!vrrp || !traps()) return;
      const t = instanceTrap(inst, state === 'STOP' ? 'STOP' : state, o.live(), host);
      if (o.detail) o.log.info(`(${inst.name}) Sending SNMP notification`);
      agent.notify(t.trap, t.varbinds);
    },
    group: (name, state) => {
      agent.changed();
      if (!vrrp || !traps()) return;
      const t = groupTrap(name, state, o.live(), host);
      if (o.detail) o.log.info(`VRRP_Group(${name}): Sending SNMP notification`);
      agent.notify(t.trap, t.varbinds);
    },
    // check_snmp_rs_trap / check_snmp_quorum_trap: with enable_traps.
    lvs: (vs, rs, up) => {
      agent.changed();
      if (!checker || !traps()) return;
      const s = o.services().find((x) => x.vs === vs);
      const counts = s ? { ...realServersUp(s), quorumUp: s.quorumUp } : { up: 0, total: vs.realServers.length, quorumUp: up };
      const t = checkTrap(vs, rs ? { address: rs.address, family: rs.family, port: rs.port, alive: up } : undefined, counts, o.live(), host);
      agent.notify(t.trap, t.varbinds);
    },
  };
  return {
    events,
    agent,
    start: () => {
      o.log.info('Starting SNMP subagent');
      return agent.start();
    },
    close: () => agent.close(),
  };
}
