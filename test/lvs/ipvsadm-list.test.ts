// ipvsadm's listing layouts, column for column (ipvsadm 1.31 as Debian 12 ships it).
import { describe, expect, it } from 'vitest';
import { renderIpvsadmCounters, type ListedService } from '../../src/lvs/ipvsadm-list.js';

const zero = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 };
const still = { cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };
const table: ListedService[] = [
  {
    protocol: 'UDP',
    address: '10.0.0.1',
    port: 53,
    family: 4,
    scheduler: 'rr',
    stats: { conns: 12, inpkts: 340, outpkts: 338, inbytes: 123_456_789, outbytes: 98_765_432_109 },
    rate: { cps: 3, inpps: 40, outpps: 39, inbps: 5120, outbps: 6_000_000_000 },
    servers: [
      { address: '2001:db8::5', port: 53, family: 6, method: 'NAT', weight: 1, activeConns: 0, inactConns: 2, stats: { ...zero, conns: 12 }, rate: still },
    ],
  },
];

describe('ipvsadm -Ln --stats / --rate', () => {
  it('prints the statistics with ipvsadm columns, shortening numbers past eight digits', () => {
    expect(renderIpvsadmCounters(table, 'stats').split('\n')).toEqual([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes',
      '  -> RemoteAddress:Port',
      'UDP  10.0.0.1:53                        12      340      338  123456K   98765M',
      '  -> [2001:db8::5]:53                   12        0        0        0        0',
      '',
    ]);
  });

  it('prints every digit with --exact, widening the column', () => {
    const line = renderIpvsadmCounters(table, 'stats', true).split('\n')[3];
    expect(line).toBe('UDP  10.0.0.1:53                        12      340      338 123456789 98765432109');
  });

  it('prints rates under their own headings', () => {
    const lines = renderIpvsadmCounters(table, 'rate').split('\n');
    expect(lines[1]).toBe('Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS');
    expect(lines[3]).toBe('UDP  10.0.0.1:53                         3       40       39     5120    6000M');
  });
});
