// `ipvsadm -Ln` output, so the commands in runbooks and tutorials work on the embedded table.
import type { LvsMethod } from '../config/model/index.js';
import type { Counters, Rates } from './estimator.js';

/**
 * ipvsadm --stats: totals since the entry was created (conns, inpkts, outpkts, inbytes,
 * outbytes). Bytes are payload bytes, exact. Packets: UDP datagrams, exact; TCP 0 (a userspace
 * proxy sees reads, not packets).
 */
export type ListedStats = Counters;
/** ipvsadm --rate: cps, inpps, outpps, inbps, outbps (bytes/s), IPVS's 2 s EWMA, rounded. */
export type ListedRates = Rates;

export interface ListedServer {
  address: string;
  port: number;
  family: 4 | 6;
  method: LvsMethod['method'];
  weight: number;
  activeConns: number;
  inactConns: number;
  stats: ListedStats;
  rate: ListedRates;
}

export interface ListedService {
  protocol: 'TCP' | 'UDP' | 'SCTP' | 'FWM';
  address: string;
  port: number;
  family: 4 | 6;
  scheduler: string;
  persistent?: number;
  stats: ListedStats;
  rate: ListedRates;
  servers: ListedServer[];
}

const FORWARD: Record<LvsMethod['method'], string> = { NAT: 'Masq', DR: 'Route', TUN: 'Tunnel' };
const hostPort = (address: string, port: number, family: 4 | 6): string => `${family === 6 ? `[${address}]` : address}:${port}`;
const VERSION_LINE = 'IP Virtual Server version 1.2.1 (size=4096)';
/** `TCP  10.0.0.1:80`: how every listing names a service. */
const serviceName = (s: ListedService): string => `${s.protocol.padEnd(4)} ${hostPort(s.address, s.port, s.family)}`;

export function renderIpvsadmList(services: readonly ListedService[]): string {
  const out = [VERSION_LINE, 'Prot LocalAddress:Port Scheduler Flags', '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn'];
  for (const s of services) {
    const flags = s.persistent !== undefined ? ` persistent ${s.persistent}` : '';
    out.push(`${serviceName(s)} ${s.scheduler}${flags}`);
    for (const r of s.servers) {
      out.push(
        `  -> ${hostPort(r.address, r.port, r.family).padEnd(28)} ${FORWARD[r.method].padEnd(7)} ${String(r.weight).padEnd(6)} ${String(r.activeConns).padEnd(10)} ${r.inactConns}`,
      );
    }
  }
  return out.join('\n') + '\n';
}

/**
 * ipvsadm's number column: width 9, switching to K/M/G/T (thousands and up) past eight digits
 * so columns stay aligned; `--exact` prints every digit, widening the column as needed.
 */
function largeNum(n: number, exact: boolean): string {
  if (exact) {
    const s = String(n);
    return s.padStart(s.length <= 8 ? 9 : s.length + 1);
  }
  const [, unit, div] = LARGE.find(([limit]) => n < limit)!;
  return unit ? `${String(Math.floor(n / div)).padStart(8)}${unit}` : String(n).padStart(9);
}

/** Below `limit`: shown divided by `div` with this unit. */
const LARGE: [limit: number, unit: string, div: number][] = [
  [1e8, '', 1],
  [1e9, 'K', 1e3],
  [1e11, 'M', 1e6],
  [1e14, 'G', 1e9],
  [Infinity, 'T', 1e12],
];

const COLUMNS = {
  stats: {
    head: ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'],
    of: (x: ListedService | ListedServer) => [x.stats.conns, x.stats.inpkts, x.stats.outpkts, x.stats.inbytes, x.stats.outbytes],
  },
  rate: {
    head: ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'],
    of: (x: ListedService | ListedServer) => [x.rate.cps, x.rate.inpps, x.rate.outpps, x.rate.inbps, x.rate.outbps],
  },
};

/** `ipvsadm -Ln --stats` and `--rate` (ipvsadm 1.31's layout). */
export function renderIpvsadmCounters(services: readonly ListedService[], kind: 'stats' | 'rate', exact = false): string {
  const col = COLUMNS[kind];
  const nums = (x: ListedService | ListedServer): string =>
    col
      .of(x)
      .map((n) => largeNum(n, exact))
      .join('');
  const out = [VERSION_LINE, `${'Prot LocalAddress:Port'.padEnd(33)} ${col.head.map((h) => h.padStart(8)).join(' ')}`, '  -> RemoteAddress:Port'];
  for (const s of services) {
    out.push(`${serviceName(s).padEnd(33)}${nums(s)}`);
    for (const r of s.servers) out.push(`  -> ${hostPort(r.address, r.port, r.family).padEnd(28)}${nums(r)}`);
  }
  return out.join('\n') + '\n';
}
