// Generates a large, valid keepalived.conf like a big director's: VRRP instances on two
// interfaces and virtual servers with TCP-checked real servers.
export function generateConfig({ instances = 400, virtualServers = 132, realServers = 18 } = {}) {
  const out = ['global_defs {', '  router_id bench', '  enable_script_security', '  script_user root', '}', ''];
  out.push('vrrp_script chk_http {', '  script "/bin/true"', '  interval 2', '  weight -20', '}', '');
  for (let i = 0; i < instances; i++) {
    // VRIDs repeat every 200 instances; the repeats talk unicast to their own peer, which
    // keepalived allows on one interface.
    const vrid = (i % 200) + 1;
    const iface = 'eth0';
    const unicast = i >= 200 ? ['  unicast_peer {', `    10.255.${i >> 8}.${i & 255}`, '  }'] : [];
    out.push(
      `vrrp_instance VI_${i} {`,
      '  state BACKUP',
      `  interface ${iface}`,
      `  virtual_router_id ${vrid}`,
      `  priority ${100 + (i % 50)}`,
      '  advert_int 1',
      ...unicast,
      '  authentication {',
      '    auth_type PASS',
      '    auth_pass s3cret',
      '  }',
      '  virtual_ipaddress {',
      `    10.${(i >> 8) + 1}.${i & 255}.1/24 dev ${iface}`,
      '  }',
      '  track_script {',
      '    chk_http',
      '  }',
      '}',
      '',
    );
  }
  for (let v = 0; v < virtualServers; v++) {
    out.push(`virtual_server 192.168.${v >> 8}.${v & 255} 80 {`, '  delay_loop 6', '  lvs_sched wrr', '  lvs_method DR', '  protocol TCP', '');
    for (let r = 0; r < realServers; r++) {
      out.push(
        `  real_server 172.16.${v & 255}.${r + 1} 80 {`,
        '    weight 1',
        '    TCP_CHECK {',
        '      connect_timeout 3',
        '      retry 3',
        '      delay_before_retry 3',
        '    }',
        '  }',
      );
    }
    out.push('}', '');
  }
  return out.join('\n');
}

/** One `~SEQ` line generating a million small top-level blocks (keepalived 2.2.7 -t: exit 0). */
export const SEQ_MILLION = '~SEQ(i,1,1000000) vrrp_script s$i { script /bin/true }\n';

/** A chain of definitions each naming the one before, `depth` deep, used once (keepalived 2.2.7 -t: exit 0). */
export function varChain(depth) {
  const defs = ['$V0=deep', ...Array.from({ length: depth }, (_, i) => `$V${i + 1}=$V${i}`)];
  return `${defs.join('\n')}\nglobal_defs {\n  router_id $V${depth}\n}\n`;
}

/** Definitions each using the one before twice: the text doubles per level (2^levels characters). */
export function varDoubling(levels) {
  const defs = ['$W0=w', ...Array.from({ length: levels }, (_, i) => `$W${i + 1}=$W${i} $W${i}`)];
  return `${defs.join('\n')}\nglobal_defs {\n  router_id $W${levels}\n}\n`;
}
