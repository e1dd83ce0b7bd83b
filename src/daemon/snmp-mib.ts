// keepalived 2.2.7's KEEPALIVED-MIB (doc/KEEPALIVED-MIB.txt) as the values its SNMP subagent
// serves, read from what runs now: the global scalars (core/snmp.c), the VRRP tables
// (vrrp/vrrp_snmp.c) and the checker's (check/check_snmp.c), and its traps' varbinds. Each table
// is indexed as keepalived indexes it: position in the configuration from 1, and an absent value
// (no script, no sync group, a sorry server's status...) is skipped as keepalived skips it.
// Pure: the agent (snmp-agent.ts) takes these cells to the master agent.
import type { VrrpEngine } from '../vrrp/engine.js';
import type { VrrpState } from '../vrrp/machine.js';
import type { Service } from '../lvs/table.js';
import type { GlobalDefs, ScriptRef, SyncGroup } from '../config/model/index.js';
import type { ResolvedRealServer, ResolvedVirtualServer } from '../config/model/index.js';
import { isIPv4 } from 'node:net';

/** enterprises.debian.project.keepalived (KEEPALIVED-MIB MODULE-IDENTITY). */
export const KEEPALIVED_OID = [1, 3, 6, 1, 4, 1, 9586, 100, 5];
export const GLOBAL_OID = [...KEEPALIVED_OID, 1];
export const VRRP_OID = [...KEEPALIVED_OID, 2];
export const CHECK_OID = [...KEEPALIVED_OID, 3];
/** snmpTrapOID.0, the first varbind of a notification. */
export const SNMP_TRAP_OID = [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

/** The SMI types keepalived answers with (ASN_INTEGER, ASN_UNSIGNED = Gauge32, ...). */
export type SnmpType = 'Integer' | 'Unsigned' | 'Gauge' | 'Counter' | 'Counter64' | 'OctetString' | 'OID';
export interface Cell {
  oid: number[];
  type: SnmpType;
  value: number | bigint | Buffer | number[];
}

/** What the MIB is read from. */
export interface MibSources {
  /** keepalived's version_string, what `version` (global.1) says. */
  version: string;
  globalDefs: GlobalDefs;
  /** router_id, else the host name (keepalived's default). */
  routerId: string;
  /** enable_snmp_vrrp: the running engine. */
  vrrp?: VrrpEngine;
  /** enable_snmp_checker: the load balancer's services, in configuration order. */
  services?: readonly Service[];
  /** An interface's index (vrrpAddressIfIndex), when it exists. */
  ifIndex: (name: string) => number | undefined;
}

const str = (s: string): Buffer => Buffer.from(s, 'utf8');
/** SNMP_TruthValue: 1 true, 2 false. */
const truth = (b: boolean | undefined): number => (b ? 1 : 2);
/** SNMP_InetAddressType: 1 ipv4, 2 ipv6. */
const inetType = (family: 4 | 6 | undefined): number => (family === 6 ? 2 : 1);
/** An InetAddress: the address's 4 or 16 bytes. */
export function inetAddress(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const [head, tail = ''] = address.split('::');
  const words = (s: string): number[] => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = address.includes('::') ? [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  const b = Buffer.alloc(16);
  all.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

/** keepalived's state numbers (VrrpState TEXTUAL-CONVENTION); INIT is also where a stopped instance is. */
export const SNMP_STATE: Record<VrrpState, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3 };

/** keepalived's cmd_str(): each word quoted, the program by its real path (as the dumps show). */
type CmdStr = (s: ScriptRef) => string;

/** Cells of a table: one column at a time per row, under `entry`. */
class Table {
  readonly cells: Cell[] = [];
  constructor(private readonly entry: number[]) {}
  row(index: number[], cols: [number, SnmpType, Cell['value'] | undefined][]): void {
    for (const [col, type, value] of cols) if (value !== undefined) this.cells.push({ oid: [...this.entry, col, ...index], type, value });
  }
}

/** keepalived's smtp_alert resolution for an instance or a server: its own, else the part's, else the global one. */
const alerting = (own: boolean | undefined, part: boolean | undefined, all: boolean | undefined): boolean => own ?? part ?? all ?? false;

function globalCells(src: MibSources): Cell[] {
  const g = src.globalDefs;
  const at = (sub: number[], type: SnmpType, value: Cell['value']): Cell => ({ oid: [...GLOBAL_OID, ...sub, 0], type, value });
  const flushOnStop = g.lvsFlushOnStop === undefined ? 2 : g.lvsFlushOnStop.includes('VS') ? 3 : 1;
  return [
    at([1], 'OctetString', str(src.version)),
    at([2], 'OctetString', str(src.routerId)),
    at([4], 'Integer', truth(g.enableTraps)),
    at([6], 'Integer', truth(g.lvsFlush)),
    at([8], 'OctetString', str('')),
    at([10], 'Integer', truth(!!g.dynamicInterfaces)),
    at([11], 'Integer', flushOnStop),
  ];
}

function vrrpCells(engine: VrrpEngine, g: GlobalDefs, cmd: CmdStr, ifIndex: MibSources['ifIndex']): Cell[] {
  const instances = engine.instances;
  const indexOf = new Map(instances.map((m, i) => [m.inst.name, i + 1]));
  const script = (s: ScriptRef | true | undefined): Buffer | undefined => (s && s !== true ? str(cmd(s)) : undefined);

  // vrrpSyncGroupTable (vrrp.1) and vrrpSyncGroupMemberTable (vrrp.2).
  const groups = new Table([...VRRP_OID, 1, 1]);
  const members = new Table([...VRRP_OID, 2, 1]);
  engine.config.syncGroups.forEach((sg: SyncGroup, gi) => {
    const notify = !!(sg.notifyMaster || sg.notifyBackup || sg.notifyFault || sg.notifyStop || sg.notify);
    groups.row(
      [gi + 1],
      [
        [2, 'OctetString', str(sg.name)],
        [3, 'Integer', SNMP_STATE[engine.groupStateOf(sg.name)]],
        [4, 'Integer', truth(alerting(sg.smtpAlert, g.smtpAlertVrrp, g.smtpAlert))],
        [5, 'Integer', truth(notify)],
        [6, 'OctetString', script(sg.notifyMaster)],
        [7, 'OctetString', script(sg.notifyBackup)],
        [8, 'OctetString', script(sg.notifyFault)],
        [9, 'OctetString', script(sg.notify)],
        [10, 'Integer', truth(sg.syncGroupTrackingWeight)],
        [11, 'OctetString', script(sg.notifyStop)],
      ],
    );
    sg.group.forEach((name, mi) => {
      if (indexOf.has(name)) members.row([gi + 1, mi + 1], [[2, 'OctetString', str(name)]]);
    });
  });

  // vrrpInstanceTable (vrrp.3), and vrrpAddressTable (vrrp.6): each instance's VIPs, then its eVIPs.
  const table = new Table([...VRRP_OID, 3, 1]);
  const addresses = new Table([...VRRP_OID, 6, 1]);
  instances.forEach(({ inst, runner }, i) => {
    const cfg = runner.cfg;
    const s = runner.state;
    const master = s.state === 'MASTER';
    const syncd = g.lvsSyncDaemon && g.lvsSyncDaemon.instance === inst.name ? g.lvsSyncDaemon : undefined;
    const r = inst;
    const notify = !!(r.notifyMaster || r.notifyBackup || r.notifyFault || r.notifyStop || r.notify || r.notifyMasterRxLowerPri);
    const unicast = r.unicastPeer.length > 0;
    table.row(
      [i + 1],
      [
        [2, 'OctetString', str(r.name)],
        [3, 'Unsigned', cfg.vrid],
        [4, 'Integer', SNMP_STATE[s.state]],
        [5, 'Integer', r.state === 'MASTER' ? 2 : 1],
        // keepalived's wantstate: where the instance is heading; here the state it is in.
        [6, 'Integer', SNMP_STATE[s.state]],
        [7, 'Integer', cfg.priority],
        [8, 'Integer', s.effectivePriority],
        [9, 'Integer', truth(master)],
        [10, 'OctetString', str(r.interface)],
        [11, 'Integer', truth(r.trackInterface.length > 0)],
        // Seconds for VRRPv2, centiseconds for VRRPv3.
        [12, 'Unsigned', cfg.version === 2 ? Math.floor(cfg.advertIntUs / 1e6) : Math.floor(cfg.advertIntUs / 1e4)],
        [13, 'Integer', truth(cfg.preempt)],
        [14, 'Unsigned', Math.floor(cfg.preemptDelayUs / 1e6)],
        [15, 'Integer', cfg.version === 2 ? cfg.authType : 0],
        [16, 'Integer', truth(!!syncd)],
        [17, 'OctetString', syncd ? str(syncd.interface) : undefined],
        [18, 'OctetString', r.syncGroup !== undefined ? str(r.syncGroup) : undefined],
        [19, 'Unsigned', Math.floor(r.garpMasterDelay)],
        [20, 'Integer', truth(alerting(r.smtpAlert, g.smtpAlertVrrp, g.smtpAlert))],
        [21, 'Integer', truth(notify)],
        [22, 'OctetString', script(r.notifyMaster)],
        [23, 'OctetString', script(r.notifyBackup)],
        [24, 'OctetString', script(r.notifyFault)],
        [25, 'OctetString', script(r.notifyStop)],
        [26, 'OctetString', script(r.notify)],
        // keepalived: accept for VRRPv3 only, 0 for VRRPv2.
        [27, 'Integer', cfg.version === 3 ? truth(r.accept) : 0],
        // What runs, as the JSON dump says: keepalived-ts promotes no secondaries and polls no link beat.
        [28, 'Integer', truth(false)],
        [29, 'Integer', truth(false)],
        [30, 'Integer', cfg.version],
        [31, 'OctetString', script(r.notifyMasterRxLowerPri)],
        [32, 'OctetString', script(r.notifyDeleted)],
        [33, 'Integer', truth(!!r.notifyDeleted)],
        [34, 'Integer', unicast ? undefined : inetType(r.family)],
        [35, 'OctetString', unicast ? undefined : inetAddress(r.mcastGroup)],
      ],
    );
    let n = 0;
    for (const [list, advertised] of [
      [r.virtualIpaddress, true],
      [r.virtualIpaddressExcluded, false],
    ] as const)
      for (const v of list) {
        const ifindex = ifIndex(v.dev);
        addresses.row(
          [i + 1, ++n],
          [
            [2, 'Integer', inetType(v.family)],
            [3, 'OctetString', inetAddress(v.address)],
            [4, 'OctetString', v.family === 4 ? inetAddress(v.brd ?? '0.0.0.0') : undefined],
            [5, 'Unsigned', v.prefix],
            [6, 'Integer', SCOPE[v.scope ?? 'global'] ?? 0],
            [7, 'Integer', ifindex],
            [8, 'OctetString', str(v.dev)],
            [9, 'OctetString', v.label !== undefined ? str(v.label) : undefined],
            [10, 'Integer', truth(master)],
            [11, 'Integer', truth(advertised)],
            [12, 'OctetString', v.peer !== undefined ? inetAddress(v.peer) : undefined],
          ],
        );
      }
  });
  return [...groups.cells, ...members.cells, ...table.cells, ...addresses.cells];
}

/** snmp_scope(): InetScopeType of an address's scope. */
const SCOPE: Record<string, number> = { global: 14, '0': 14, nowhere: 0, '255': 0, host: 1, '254': 1, link: 2, '253': 2, site: 5, '200': 5 };

/** virtualServerLoadBalancingAlgo. */
const ALGO: Record<string, number> = { rr: 1, wrr: 2, lc: 3, wlc: 4, lblc: 5, lblcr: 6, dh: 7, sh: 8, sed: 9, nq: 10, fo: 11, ovf: 12, mh: 13, twos: 14 };
const KIND: Record<string, number> = { NAT: 1, DR: 2, TUN: 3 };
const PROTOCOL: Record<string, number> = { TCP: 1, UDP: 2, SCTP: 3 };
/** virtualServerType: fwmark(1), ip(2), group(3). */
const vsType = (vs: ResolvedVirtualServer): number => (vs.kind === 'group' ? 3 : vs.kind === 'fwmark' ? 1 : 2);

/** The real servers in service and how many there are, as keepalived's traps and table count them. */
export function realServersUp(s: Service): { up: number; total: number } {
  return { up: s.members.filter((m) => m.inService).length, total: s.members.length };
}

function checkCells(services: readonly Service[], g: GlobalDefs, cmd: CmdStr): Cell[] {
  const script = (s: ScriptRef | undefined): Buffer | undefined => (s ? str(cmd(s)) : undefined);
  const vsTable = new Table([...CHECK_OID, 3, 1]);
  const rsTable = new Table([...CHECK_OID, 4, 1]);
  services.forEach((s, i) => {
    const vs = s.vs;
    const t = s.svc.stats.totals;
    const r = s.svc.stats.rates;
    const { up, total } = realServersUp(s);
    const plain = vs.kind === 'address';
    vsTable.row(
      [i + 1],
      [
        [2, 'Integer', vsType(vs)],
        [3, 'OctetString', vs.kind === 'group' ? str(vs.group) : undefined],
        [4, 'Unsigned', vs.kind === 'fwmark' ? vs.fwmark : undefined],
        [5, 'Integer', inetType(vs.family)],
        [6, 'OctetString', plain ? inetAddress(vs.address) : undefined],
        [7, 'Unsigned', plain ? vs.port : undefined],
        [8, 'Integer', vs.kind === 'fwmark' ? undefined : PROTOCOL[vs.protocol]],
        [9, 'Integer', ALGO[vs.lvsSched] ?? 99],
        [10, 'Integer', KIND[vs.lvsMethod.method]],
        [11, 'Integer', truth(true)],
        [12, 'OctetString', vs.virtualhost !== undefined ? str(vs.virtualhost) : undefined],
        [13, 'Integer', truth(!!vs.persistenceTimeout)],
        [14, 'Unsigned', vs.persistenceTimeout || undefined],
        [16, 'Unsigned', Math.floor(vs.written.delayLoop ?? 60)],
        // ha_suspend is not implemented: the service is never suspended.
        [17, 'Integer', truth(false)],
        [18, 'Integer', truth(vs.alpha)],
        [19, 'Integer', truth(vs.omega)],
        [20, 'Unsigned', total],
        [21, 'Unsigned', up],
        [22, 'Unsigned', vs.quorum],
        [23, 'Integer', truth(s.quorumUp)],
        [24, 'OctetString', script(vs.quorumUp)],
        [25, 'OctetString', script(vs.quorumDown)],
        [26, 'Unsigned', vs.hysteresis],
        [27, 'Gauge', t.conns >>> 0],
        [28, 'Counter', t.inpkts >>> 0],
        [29, 'Counter', t.outpkts >>> 0],
        [30, 'Counter64', BigInt(t.inbytes)],
        [31, 'Counter64', BigInt(t.outbytes)],
        [32, 'Gauge', r.cps >>> 0],
        [33, 'Gauge', r.inpps >>> 0],
        [34, 'Gauge', r.outpps >>> 0],
        [35, 'Gauge', r.inbps >>> 0],
        [36, 'Gauge', r.outbps >>> 0],
        [56, 'Integer', truth(!vs.inhibitOnFailure)],
        [57, 'Unsigned', vs.written.retry ?? 0],
        [60, 'Integer', vs.weight],
        [61, 'Integer', truth(alerting(vs.smtpAlert, g.smtpAlertChecker, g.smtpAlert))],
        [71, 'OctetString', vs.snmpName !== undefined ? str(vs.snmpName) : undefined],
      ],
    );
    // The sorry server first (realServerType sorry), then the real servers in configuration order.
    let n = 0;
    if (vs.sorryServer) {
      const so = vs.sorryServer;
      rsTable.row(
        [i + 1, ++n],
        [
          [2, 'Integer', 2],
          [3, 'Integer', inetType(so.family)],
          [4, 'OctetString', inetAddress(so.address)],
          [5, 'Unsigned', so.port],
        ],
      );
    }
    const checked = new Map(s.members.map((m) => [m.rs, m]));
    for (const rs of vs.realServers) {
      const m = checked.get(rs);
      rsTable.row([i + 1, ++n], rsColumns(rs, m, script));
    }
  });
  return [...vsTable.cells, ...rsTable.cells];
}

function rsColumns(
  rs: ResolvedRealServer,
  m: Service['members'][number] | undefined,
  script: (s: ScriptRef | undefined) => Buffer | undefined,
): [number, SnmpType, Cell['value'] | undefined][] {
  const d = m?.dest;
  const t = d?.stats.totals;
  return [
    [2, 'Integer', 1],
    [3, 'Integer', inetType(rs.family)],
    [4, 'OctetString', inetAddress(rs.address)],
    [5, 'Unsigned', rs.port],
    [6, 'Integer', truth(m?.inService)],
    [7, 'Integer', m?.weight ?? rs.weight],
    [8, 'Unsigned', rs.uthreshold || undefined],
    [9, 'Unsigned', rs.lthreshold || undefined],
    [10, 'Integer', truth(!rs.inhibitOnFailure)],
    [11, 'OctetString', script(rs.notifyUp)],
    [12, 'OctetString', script(rs.notifyDown)],
    [14, 'Gauge', t ? t.conns >>> 0 : 0],
    [15, 'Gauge', d ? d.activeConns >>> 0 : 0],
    [16, 'Gauge', d ? d.inactConns >>> 0 : 0],
    [18, 'Counter', t ? t.inpkts >>> 0 : 0],
    [19, 'Counter', t ? t.outpkts >>> 0 : 0],
    [20, 'Counter64', BigInt(t?.inbytes ?? 0)],
    [21, 'Counter64', BigInt(t?.outbytes ?? 0)],
    [40, 'Integer', KIND[rs.lvsMethod.method]],
    [41, 'OctetString', rs.virtualhost !== undefined ? str(rs.virtualhost) : undefined],
    [42, 'Integer', truth(rs.alpha)],
    [55, 'OctetString', rs.snmpName !== undefined ? str(rs.snmpName) : undefined],
  ];
}

export function compareOid(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Every value the agent serves now, in OID order. */
export function mibCells(src: MibSources, cmd: CmdStr): Cell[] {
  const g = src.globalDefs;
  const cells = [...globalCells(src), ...(src.vrrp ? vrrpCells(src.vrrp, g, cmd, src.ifIndex) : []), ...(src.services ? checkCells(src.services, g, cmd) : [])];
  return cells.sort((a, b) => compareOid(a.oid, b.oid));
}

// ---- Traps: keepalived's varbinds, under the column OIDs without an index, as it sends them ----

const routerIdVar = (g: GlobalDefs, hostname: string): Cell => ({ oid: [...GLOBAL_OID, 2, 0], type: 'OctetString', value: str(g.routerId ?? hostname) });

/** vrrpInstanceStateChange (vrrp_snmp_instance_trap): name, state, initial state, router id. */
export function instanceTrap(
  inst: { name: string; state: 'MASTER' | 'BACKUP' },
  state: VrrpState | 'STOP',
  g: GlobalDefs,
  hostname: string,
): { trap: number[]; varbinds: Cell[] } {
  return {
    trap: [...VRRP_OID, 10, 0, 2],
    varbinds: [
      { oid: [...VRRP_OID, 3, 1, 2], type: 'OctetString', value: str(inst.name) },
      // A stopping instance is shutdown(5).
      { oid: [...VRRP_OID, 3, 1, 4], type: 'Integer', value: state === 'STOP' ? 5 : SNMP_STATE[state] },
      { oid: [...VRRP_OID, 3, 1, 5], type: 'Integer', value: inst.state === 'MASTER' ? 2 : 1 },
      routerIdVar(g, hostname),
    ],
  };
}

/** vrrpSyncGroupStateChange (vrrp_snmp_group_trap): name, state, router id. */
export function groupTrap(name: string, state: VrrpState | 'STOP', g: GlobalDefs, hostname: string): { trap: number[]; varbinds: Cell[] } {
  return {
    trap: [...VRRP_OID, 10, 0, 1],
    varbinds: [
      { oid: [...VRRP_OID, 1, 1, 2], type: 'OctetString', value: str(name) },
      { oid: [...VRRP_OID, 1, 1, 3], type: 'Integer', value: state === 'STOP' ? 5 : SNMP_STATE[state] },
      routerIdVar(g, hostname),
    ],
  };
}

/**
 * realServerStateChange (with `rs`) or virtualServerQuorumStateChange (check_snmp_rs_trap): the
 * real server's address, port and status, the virtual server's identity, protocol (1 TCP, else
 * 2, as keepalived writes it), quorum for the quorum trap, servers up and total, router id.
 */
export function checkTrap(
  vs: ResolvedVirtualServer,
  rs: { address: string; family: 4 | 6; port: number; alive: boolean } | undefined,
  counts: { up: number; total: number; quorumUp: boolean; stopping?: boolean },
  g: GlobalDefs,
  hostname: string,
): { trap: number[]; varbinds: Cell[] } {
  const c = (sub: number[], type: SnmpType, value: Cell['value']): Cell => ({ oid: [...CHECK_OID, ...sub], type, value });
  const vars: Cell[] = [];
  if (rs)
    vars.push(
      c([4, 1, 3], 'Integer', inetType(rs.family)),
      c([4, 1, 4], 'OctetString', inetAddress(rs.address)),
      c([4, 1, 5], 'Unsigned', rs.port),
      c([4, 1, 6], 'Integer', truth(rs.alive)),
    );
  vars.push(c([3, 1, 2], 'Integer', vsType(vs)));
  if (vs.kind === 'group') vars.push(c([3, 1, 3], 'OctetString', str(vs.group)));
  else if (vs.kind === 'fwmark') vars.push(c([3, 1, 4], 'Unsigned', vs.fwmark));
  else vars.push(c([3, 1, 5], 'Integer', inetType(vs.family)), c([3, 1, 6], 'OctetString', inetAddress(vs.address)), c([3, 1, 7], 'Unsigned', vs.port));
  vars.push(c([3, 1, 8], 'Integer', truth(vs.protocol === 'TCP')));
  if (!rs) vars.push(c([3, 1, 23], 'Integer', counts.stopping ? 3 : truth(counts.quorumUp)), c([3, 1, 22], 'Unsigned', vs.quorum));
  vars.push(c([3, 1, 21], 'Unsigned', counts.up), c([3, 1, 20], 'Unsigned', counts.total), routerIdVar(g, hostname));
  return { trap: [...CHECK_OID, 5, 0, rs ? 1 : 2], varbinds: vars };
}
