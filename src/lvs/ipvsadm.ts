// The kernel IPVS path: the same service table as ipvsadm-restore input, for directors whose
// kernel has IPVS (ours does not: /proc/net/ip_vs is absent, so this is generated and tested,
// not run). Dead real servers are left out, or kept at weight 0 with inhibit_on_failure; with
// none alive the sorry_server takes their place, as keepalived's ipwrapper.c does.
import type { LvsMethod, ResolvedRealServer as RealServer, ResolvedVirtualServer as VirtualServer, VirtualServerGroup } from '../config/model/index.js';
import { addressToBigInt, bigIntToAddress } from '../core/address.js';
import type { Health } from './health.js';

const METHOD_FLAG: Record<LvsMethod['method'], string> = { DR: '-g', NAT: '-m', TUN: '-i' };

/** `-t VIP:PORT`, `-u VIP:PORT` or `-f MARK`; IPv6 addresses in brackets, as ipvsadm wants. */
export function serviceArgs(vs: VirtualServer): string[] {
  if (vs.kind === 'fwmark') return fwmarkArgs(vs.fwmark, vs.family);
  if (vs.kind === 'group') throw new RangeError(`virtual_server group ${vs.group} is one IPVS service per group entry: use groupServiceArgs()`);
  return addressArgs(vs.protocol, vs.address, vs.family, vs.port);
}

const fwmarkArgs = (mark: number, family: 4 | 6 | undefined): string[] => ['-f', String(mark), ...(family === 6 ? ['-6'] : [])];

function addressArgs(protocol: VirtualServer['protocol'], address: string, family: 4 | 6, port: number): string[] {
  const addr = family === 6 ? `[${address}]` : address;
  const proto = protocol === 'UDP' ? '-u' : protocol === 'SCTP' ? '--sctp-service' : '-t';
  return [proto, `${addr}:${port}`];
}

/** At most this many IPVS services from one group entry's range (keepalived has no bound; a /8 would be 16M services). */
export const GROUP_RANGE_LIMIT = 4096;

/**
 * The IPVS services a virtual_server group stands for: one per address of each range entry (its
 * own port, else the virtual server's; the virtual server's protocol), one per fwmark entry, in
 * the group's order, as keepalived's ipvswrapper.c adds them. An unknown group stands for none.
 */
export function groupServiceArgs(vs: VirtualServer, groups: readonly VirtualServerGroup[]): string[][] {
  const group = groups.find((g) => g.name === vs.group);
  const out: string[][] = [];
  for (const e of group?.entries ?? []) {
    if (e.kind === 'fwmark') {
      out.push(fwmarkArgs(e.fwmark, e.family ?? vs.family));
      continue;
    }
    const port = e.port ?? vs.port;
    const first = addressToBigInt(e.address);
    const last = e.end ? addressToBigInt(e.end) : first;
    for (let a = first; a <= last && a - first < BigInt(GROUP_RANGE_LIMIT); a++)
      out.push(addressArgs(vs.protocol, bigIntToAddress(a, e.family), e.family, port));
  }
  return out;
}

function serverAddr(address: string, family: 4 | 6, port: number): string {
  return `${family === 6 ? `[${address}]` : address}:${port}`;
}

export function addServiceLine(vs: VirtualServer, service = serviceArgs(vs)): string {
  const a = ['-A', ...service, '-s', vs.lvsSched];
  const flags = vs.schedulerFlags.filter((f) => f !== 'ops');
  if (flags.length) a.push('-b', flags.join(','));
  if (vs.schedulerFlags.includes('ops')) a.push('-o');
  if (vs.persistenceTimeout !== undefined) a.push('-p', String(vs.persistenceTimeout));
  if (vs.persistenceGranularity !== undefined) a.push('-M', vs.persistenceGranularity);
  if (vs.persistenceEngine) a.push('--pe', vs.persistenceEngine);
  return a.join(' ');
}

/** A real server, or the sorry_server (given weight 1, with its own lvs_method). */
export function addServerLine(
  vs: VirtualServer,
  rs: Pick<RealServer, 'address' | 'family' | 'port' | 'lvsMethod'>,
  weight: number,
  service = serviceArgs(vs),
): string {
  // keepalived's ipvswrapper.c: a fwmark service's destinations have port 0 unless NAT rewrites it.
  const port = service[0] === '-f' && rs.lvsMethod.method !== 'NAT' ? 0 : rs.port;
  return [
    '-a',
    ...service,
    '-r',
    serverAddr(rs.address, rs.family, port),
    METHOD_FLAG[rs.lvsMethod.method],
    ...tunnelArgs(rs.lvsMethod),
    '-w',
    String(weight),
  ].join(' ');
}

/** TUN's tunnel type and options as ipvsadm 1.31 takes them (keepalived sets the same
 * destination fields: tun_type, tun_port, tun_flags). ipip, the kernel's default, takes none;
 * the config step has refused the combinations ipvsadm refuses. */
function tunnelArgs(m: LvsMethod): string[] {
  if (m.method !== 'TUN' || !m.tunnelType || m.tunnelType === 'ipip') return [];
  const a = ['--tun-type', m.tunnelType];
  if (m.tunnelType === 'gue' && m.tunnelPort) a.push('--tun-port', String(m.tunnelPort));
  a.push(`--tun-${m.checksum ?? 'nocsum'}`);
  return a;
}

/** What the checkers say about one real server: alive, and its weight (misc_dynamic's, else the configured one). */
export type ServerHealth = (vs: VirtualServer, rs: RealServer) => Health;

/** The IPVS services a virtual server stands for: itself, or each of its group's entries. */
export function servicesOf(vs: VirtualServer, groups: readonly VirtualServerGroup[]): string[][] {
  return vs.kind === 'group' ? groupServiceArgs(vs, groups) : [serviceArgs(vs)];
}

/** The whole table in ipvsadm-restore format. */
export function ipvsadmRestore(
  services: readonly VirtualServer[],
  health: ServerHealth = (_vs, rs) => ({ alive: true, weight: rs.weight }),
  groups: readonly VirtualServerGroup[] = [],
): string {
  const lines: string[] = [];
  for (const vs of services)
    for (const service of servicesOf(vs, groups)) {
      lines.push(addServiceLine(vs, service));
      let alive = 0;
      for (const rs of vs.realServers) {
        const h = health(vs, rs);
        if (h.alive) {
          alive++;
          lines.push(addServerLine(vs, rs, h.weight, service));
        } else if (rs.inhibitOnFailure) lines.push(addServerLine(vs, rs, 0, service));
      }
      if (alive === 0 && vs.sorryServer) lines.push(addServerLine(vs, vs.sorryServer, 1, service));
    }
  return lines.join('\n') + (lines.length ? '\n' : '');
}
