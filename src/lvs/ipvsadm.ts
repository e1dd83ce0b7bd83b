// The kernel IPVS path: the same service table as ipvsadm-restore input, for directors whose
// kernel has IPVS (ours does not: /proc/net/ip_vs is absent, so this is generated and tested,
// not run). Dead real servers are left out, or kept at weight 0 with inhibit_on_failure; with
// none alive the sorry_server takes their place, as keepalived's ipwrapper.c does.
import type { LvsMethod, RealServer, VirtualServer } from '../config/model/index.js';

const METHOD_FLAG: Record<LvsMethod['method'], string> = { DR: '-g', NAT: '-m', TUN: '-i' };

/** `-t VIP:PORT`, `-u VIP:PORT` or `-f MARK`; IPv6 addresses in brackets, as ipvsadm wants. */
export function serviceArgs(vs: VirtualServer): string[] {
  if (vs.kind === 'fwmark') return ['-f', String(vs.fwmark)];
  const addr = vs.family === 6 ? `[${vs.address}]` : vs.address;
  const proto = vs.protocol === 'UDP' ? '-u' : vs.protocol === 'SCTP' ? '--sctp-service' : '-t';
  return [proto, `${addr}:${vs.port ?? 0}`];
}

function serverAddr(address: string, family: 4 | 6, port: number | undefined): string {
  return `${family === 6 ? `[${address}]` : address}:${port ?? 0}`;
}

export function addServiceLine(vs: VirtualServer): string {
  const a = ['-A', ...serviceArgs(vs), '-s', vs.lvsSched ?? 'wlc'];
  const flags = vs.schedulerFlags.filter((f) => f !== 'ops');
  if (flags.length) a.push('-b', flags.join(','));
  if (vs.schedulerFlags.includes('ops')) a.push('-o');
  if (vs.persistenceTimeout !== undefined) a.push('-p', String(vs.persistenceTimeout));
  if (vs.persistenceGranularity !== undefined) a.push('-M', vs.persistenceGranularity);
  if (vs.persistenceEngine) a.push('--pe', vs.persistenceEngine);
  return a.join(' ');
}

export function addServerLine(vs: VirtualServer, rs: RealServer, weight: number): string {
  const method = rs.lvsMethod ?? vs.lvsMethod;
  return ['-a', ...serviceArgs(vs), '-r', serverAddr(rs.address, rs.family, rs.port ?? vs.port), METHOD_FLAG[method?.method ?? 'NAT'], '-w', String(weight)].join(' ');
}

/** The sorry_server as the destination ipvsadm is given (weight 1, its own lvs_method). */
export function sorryServerAsReal(vs: VirtualServer): RealServer {
  const s = vs.sorryServer!;
  return { address: s.address, family: s.family, port: s.port ?? vs.port, lvsMethod: vs.sorryServerLvsMethod } as RealServer;
}

/** What the checkers say about one real server: alive, and the weight to use (misc_dynamic). */
export type ServerHealth = (vs: VirtualServer, rs: RealServer) => { alive: boolean; weight?: number };

/** The whole table in ipvsadm-restore format. */
export function ipvsadmRestore(services: readonly VirtualServer[], health: ServerHealth = () => ({ alive: true })): string {
  const lines: string[] = [];
  for (const vs of services) {
    lines.push(addServiceLine(vs));
    let alive = 0;
    for (const rs of vs.realServers) {
      const h = health(vs, rs);
      const weight = h.weight ?? rs.weight ?? vs.weight;
      if (h.alive) {
        alive++;
        lines.push(addServerLine(vs, rs, weight));
      } else if (rs.inhibitOnFailure ?? vs.inhibitOnFailure) lines.push(addServerLine(vs, rs, 0));
    }
    if (alive === 0 && vs.sorryServer) lines.push(addServerLine(vs, sorryServerAsReal(vs), 1));
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}
