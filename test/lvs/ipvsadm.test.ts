// ipvsadm-restore input generated from keepalived.conf (the kernel path; this kernel has no IPVS).
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { ipvsadmRestore } from '../../src/lvs/ipvsadm.js';

const { config, diagnostics } = loadConfigText(
  `
virtual_server 192.168.1.100 80 {
  delay_loop 6
  lvs_sched wrr
  lvs_method DR
  persistence_timeout 300
  protocol TCP
  sorry_server 127.0.0.1 8080
  real_server 10.0.0.1 80 {
    weight 3
    TCP_CHECK {
    }
  }
  real_server 10.0.0.2 80 {
    weight 2
    inhibit_on_failure
    TCP_CHECK {
    }
  }
}
virtual_server fwmark 7 {
  lvs_sched sh
  lvs_method NAT
  sh-port
  real_server 10.0.0.3 {
    weight 1
  }
}
virtual_server 2001:db8::10 53 {
  lvs_sched rr
  lvs_method TUN
  protocol UDP
  real_server 2001:db8::20 53 {
  }
}
`,
  'k.conf',
  { configId: 'x' },
);

describe('ipvsadm-restore generation', () => {
  it('parses cleanly', () => expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]));

  it('emits services and real servers with scheduler, persistence, method and weight', () => {
    expect(ipvsadmRestore(config.resolved.virtualServers).split('\n')).toEqual([
      '-A -t 192.168.1.100:80 -s wrr -p 300',
      '-a -t 192.168.1.100:80 -r 10.0.0.1:80 -g -w 3',
      '-a -t 192.168.1.100:80 -r 10.0.0.2:80 -g -w 2',
      '-A -f 7 -s sh -b sh-port',
      '-a -f 7 -r 10.0.0.3:0 -m -w 1',
      '-A -u [2001:db8::10]:53 -s rr',
      '-a -u [2001:db8::10]:53 -r [2001:db8::20]:53 -i -w 1',
      '',
    ]);
  });

  it('drops dead servers, keeps inhibited ones at weight 0, and uses the sorry server when none is alive', () => {
    const one = ipvsadmRestore(config.resolved.virtualServers.slice(0, 1), (_vs, rs) => ({ alive: rs.address === '10.0.0.1', weight: rs.weight }));
    expect(one).toBe('-A -t 192.168.1.100:80 -s wrr -p 300\n-a -t 192.168.1.100:80 -r 10.0.0.1:80 -g -w 3\n-a -t 192.168.1.100:80 -r 10.0.0.2:80 -g -w 0\n');
    const none = ipvsadmRestore(config.resolved.virtualServers.slice(0, 1), (_vs, rs) => ({ alive: false, weight: rs.weight }));
    expect(none.split('\n').slice(1, 3)).toEqual(['-a -t 192.168.1.100:80 -r 10.0.0.2:80 -g -w 0', '-a -t 192.168.1.100:80 -r 127.0.0.1:8080 -g -w 1']);
  });

  it("gives TUN real servers their tunnel type and options, as keepalived sets them (ipip: none, the kernel's default)", () => {
    const tun = loadConfigText(
      ['ipip', 'gue port 6080', 'gue port 6081 remcsum', 'gre', 'gre csum']
        .map(
          (t, i) =>
            `virtual_server 10.9.0.${i + 1} 80 {\n  lvs_sched rr\n  lvs_method TUN type ${t}\n  protocol TCP\n  real_server 10.9.1.${i + 1} 80 {\n  }\n}\n`,
        )
        .join(''),
      'k.conf',
      { configId: 'x' },
    );
    expect(tun.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(
      ipvsadmRestore(tun.config.resolved.virtualServers)
        .split('\n')
        .filter((l) => l.startsWith('-a')),
    ).toEqual([
      '-a -t 10.9.0.1:80 -r 10.9.1.1:80 -i -w 1',
      '-a -t 10.9.0.2:80 -r 10.9.1.2:80 -i --tun-type gue --tun-port 6080 --tun-nocsum -w 1',
      '-a -t 10.9.0.3:80 -r 10.9.1.3:80 -i --tun-type gue --tun-port 6081 --tun-remcsum -w 1',
      '-a -t 10.9.0.4:80 -r 10.9.1.4:80 -i --tun-type gre --tun-nocsum -w 1',
      '-a -t 10.9.0.5:80 -r 10.9.1.5:80 -i --tun-type gre --tun-csum -w 1',
    ]);
  });
});
