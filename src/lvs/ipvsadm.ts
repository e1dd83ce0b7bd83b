// The kernel IPVS path: the same service table as ipvsadm-restore input, for directors whose
// kernel has IPVS (ours does not: /proc/net/ip_vs is absent, so this is generated and tested,
// not run). Dead real servers are left out, or kept at weight 0 with inhibit_on_failure; with
// none alive the sorry_server takes their place, as keepalived's ipwrapper.c does.
import type { LvsMethod, ResolvedRealServer as RealServer, ResolvedVirtualServer as VirtualServer } from '../config/model/index.js';
import type { Health } from './health.js';

const METHOD_FLAG: Record<LvsMethod['method'], string> = { DR: '-g', NAT: '-m', TUN: '-i' };

/** `-t VIP:PORT`, `-u VIP:PORT` or `-f MARK`; IPv6 addresses in brackets, as ipvsadm wants. */
export function serviceArgs(vs: VirtualServer): string[] {
  if (vs.kind === 'fwmark') return ['-f', String(vs.fwmark)];
  const addr = vs.family === 6 ? `[${vs.address}]` : vs.address;
  const proto = vs.protocol === 'UDP' ? '-u' : vs.protocol === 'SCTP' ? '--sctp-service' : '-t';
  return [proto, `${addr}:${vs.port}`];
}

function serverAddr(address: string, family: 4 | 6, port: number): string {
  return `${family === 6 ? `[${address}]` : address}:${port}`;
}

export function addServiceLine(vs: VirtualServer): string {
  const a = ['-A', ...serviceArgs(vs), '-s', vs.lvsSched];
  const flags = vs.schedulerFlags.filter((f) => f !== 'ops');
  if (flags.length) a.push('-b', flags.join(','));
  if (vs.schedulerFlags.includes('ops')) a.push('-o');
  if (vs.persistenceTimeout !== undefined) a.push('-p', String(vs.persistenceTimeout));
  if (vs.persistenceGranularity !== undefined) a.push('-M', vs.persistenceGranularity);
  if (vs.persistenceEngine) a.push('--pe', vs.persistenceEngine);
  return a.join(' ');
}

/** A real server, or the sorry_server (given weight 1, with its own lvs_method). */
export function addServerLine(vs: VirtualServer, rs: Pick<RealServer, 'address' | 'family' | 'port' | 'lvsMethod'>, weight: number): string {
  return ['-a', ...serviceArgs(vs), '-r', serverAddr(rs.address, rs.family, rs.port), METHOD_FLAG[rs.lvsMethod.method], '-w', String(weight)].join(' ');
}

/** What the checkers say about one real server: alive, and its weight (misc_dynamic's, else the configured one). */
export type ServerHealth = (vs: VirtualServer, rs: RealServer) => Health;

/** The whole table in ipvsadm-restore format. */
export function ipvsadmRestore(services: readonly VirtualServer[], health: ServerHealth = (_vs, rs) => ({ alive: true, weight: rs.weight })): string {
  const lines: string[] = [];
  for (const vs of services) {
    lines.push(addServiceLine(vs));
    let alive = 0;
    for (const rs of vs.realServers) {
      const h = health(vs, rs);
      if (h.alive) {
        alive++;
        lines.push(addServerLine(vs, rs, h.weight));
      } else if (rs.inhibitOnFailure) lines.push(addServerLine(vs, rs, 0));
    }
    if (alive === 0 && vs.sorryServer) lines.push(addServerLine(vs, vs.sorryServer, 1));
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}
