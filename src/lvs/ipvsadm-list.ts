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

export function renderIpvsadmList(services: readonly ListedService[]): string {
  const out = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  for (const s of services) {
    const flags = s.persistent !== undefined ? ` persistent ${s.persistent}` : '';
    out.push(`${s.protocol.padEnd(4)} ${hostPort(s.address, s.port, s.family)} ${s.scheduler}${flags}`);
    for (const r of s.servers) {
      out.push(`  -> ${hostPort(r.address, r.port, r.family).padEnd(28)} ${FORWARD[r.method].padEnd(7)} ${String(r.weight).padEnd(6)} ${String(r.activeConns).padEnd(10)} ${r.inactConns}`);
    }
  }
  return out.join('\n') + '\n';
}
