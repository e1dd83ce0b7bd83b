// LVS half of the keyword table: virtual_server_group, virtual_server, real_server, checkers,
// SSL. Expected messages and positions were checked against `keepalived -t` 2.2.7.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadConfigText, type Diagnostic } from '../../src/config/index.js';
import { effectiveTiming } from '../../src/config/resolve-lvs.js';
import type {
  BfdCheck,
  DnsCheck,
  FileCheck,
  HttpCheck,
  MiscCheck,
  SmtpCheck,
  TcpCheck,
  UdpCheck,
  VirtualServer,
  VsgAddressEntry,
} from '../../src/config/model/lvs.js';

function load(text: string) {
  const r = loadConfigText(text, 'test.conf');
  return { ...r, vs: r.config.virtualServers };
}
const rules = (ds: Diagnostic[]) => ds.map((d) => d.rule);
/** The findings of the checks under test, without the keyword-not-implemented warnings of their keywords. */
const implementedOnly = (d: Diagnostic): boolean => d.rule !== 'keyword-not-implemented';
const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');

/** A virtual server that keepalived accepts without any message, around the given body. */
const vsWith = (body: string, header = '10.0.0.1 80') => `virtual_server ${header} {
    lvs_sched rr
    lvs_method NAT
    protocol TCP
${body}
}
`;

describe('virtual_server header forms', () => {
  it('reads IP PORT, IPv6, fwmark N and group NAME', () => {
    const { vs, diagnostics } = load(`
virtual_server_group G1 {
    10.0.0.1 80
}
${vsWith('    real_server 10.0.1.1 80 {\n    }')}
${vsWith('    real_server 2001:db8::2 443 {\n    }', '2001:db8::1 443')}
${vsWith('    real_server 10.0.1.1 {\n    }', 'fwmark 7').replace('protocol TCP\n', '')}
${vsWith('    real_server 10.0.1.1 80 {\n    }', 'group G1')}
`);
    expect(errors(diagnostics)).toEqual([]);
    expect(vs.map((v) => v.kind)).toEqual(['address', 'address', 'fwmark', 'group']);
    expect(vs[0]).toMatchObject({ address: '10.0.0.1', family: 4, port: 80 });
    expect(vs[1]).toMatchObject({ address: '2001:db8::1', family: 6, port: 443 });
    expect(vs[1].realServers[0]).toMatchObject({ address: '2001:db8::2', family: 6, port: 443 });
    expect(vs[2].fwmark).toBe(7);
    expect(vs[3].group).toBe('G1');
  });

  it('lets the port be left out only for persistent services (port 0 counts as none)', () => {
    const persistent = load(vsWith('    persistence_timeout\n    real_server 10.0.1.1 {\n    }', '10.0.0.1'));
    expect(errors(persistent.diagnostics)).toEqual([]);
    expect(persistent.vs[0].port).toBeUndefined();
    expect(persistent.vs[0].persistenceTimeout).toBe(360);

    const viaGranularity = load(vsWith('    persistence_granularity 255.255.255.0\n    real_server 10.0.1.1 {\n    }', '10.0.0.1'));
    expect(errors(viaGranularity.diagnostics)).toEqual([]);
    expect(viaGranularity.vs[0].persistenceTimeout).toBe(360);

    const noPort = load(vsWith('    real_server 10.0.1.1 {\n    }', '10.0.0.1'));
    expect(rules(noPort.diagnostics)).toEqual(['vs-port-missing']);

    const { diagnostics } = load(vsWith('    real_server 10.0.1.1 {\n    }', '10.0.0.1 0'));
    const d = diagnostics.find((x) => x.rule === 'vs-port-missing')!;
    expect(d.message).toBe('Virtual server [10.0.0.1]:tcp:0: zero port only valid for persistent services - setting');
    expect([d.line, d.col]).toEqual([1, 1]);
  });

  it("reports a bad address or port at the word, with keepalived's wording, and skips the block", () => {
    const { vs, diagnostics } = load(`virtual_server 192.168.200.100 70000 {
    lvs_sched rr
    real_server 10.0.0.1 80 {
    }
}
virtual_server fwmark abc {
}
`);
    expect(diagnostics.map((d) => [d.line, d.col, d.message])).toEqual([
      [1, 32, 'Invalid virtual server IP address/port 192.168.200.100/70000 - skipping'],
      [6, 23, "virtual server fwmark 'abc' must be in [0, 4294967295] - ignoring"],
    ]);
    // keepalived drops both blocks, so the model has no virtual server at all.
    expect(vs).toEqual([]);
  });

  it('reads nothing inside a skipped virtual_server or real_server (keepalived skip_block)', () => {
    const { vs, diagnostics } = load(`virtual_server fakevip 80 {
    no_such_keyword 1
    real_server fakeIP1 80 {
        nb_get_retry 3
    }
}
virtual_server 10.0.0.1 80 {
    protocol TCP
    lvs_sched rr
    lvs_method NAT
    real_server fakeIP2 80 {
        nb_get_retry 3
    }
    real_server 10.0.1.1 80 {
    }
}
`);
    // Unknown keywords inside the skipped blocks are never read, so never reported.
    expect(diagnostics.map((d) => `${d.line}:${d.rule}`)).toEqual(['1:address-invalid', '11:address-invalid']);
    expect(vs.map((v) => v.realServers.map((r) => r.address))).toEqual([['10.0.1.1']]);
  });
});

describe('defaults', () => {
  it("fills keepalived's defaults and leaves inherited timers unset", () => {
    const { vs } = load(
      vsWith(`    real_server 10.0.1.1 80 {
        HTTP_GET {
            url {
                path /
            }
        }
        UDP_CHECK {
        }
        DNS_CHECK {
        }
        SMTP_CHECK {
        }
    }`),
    );
    const v = vs[0];
    expect(v).toMatchObject({
      quorum: 1,
      hysteresis: 0,
      weight: 1,
      alpha: false,
      omega: false,
      haSuspend: false,
      inhibitOnFailure: false,
      schedulerFlags: [],
      hashed: false,
    });
    for (const f of ['delayLoop', 'connectTimeout', 'retry', 'delayBeforeRetry', 'warmup', 'persistenceTimeout', 'smtpAlert'] as const)
      expect(v[f]).toBeUndefined();
    const rs = v.realServers[0];
    expect(rs.weight).toBeUndefined();
    expect(rs.inhibitOnFailure).toBeUndefined();
    const [http, udp, dns, smtp] = rs.checkers as [HttpCheck, UdpCheck, DnsCheck, SmtpCheck];
    expect(http).toMatchObject({ type: 'HTTP_GET', httpProtocol: '1.0', fastRecovery: false, enableSni: false, logAllFailures: false });
    expect(http.retry).toBeUndefined();
    expect(http.urls[0].statusCode).toEqual([{ min: 200, max: 299 }]);
    expect(udp).toMatchObject({ type: 'UDP_CHECK', requireReply: false, minReplyLength: 0, maxReplyLength: 255 });
    expect(dns).toMatchObject({ type: 'DNS_CHECK', queryType: 'SOA', name: '.' });
    expect(smtp).toMatchObject({ type: 'SMTP_CHECK', heloName: 'smtpchecker.keepalived.org', hosts: [] });
  });
});

describe('checkers', () => {
  const { vs, diagnostics } = load(`
global_defs {
    enable_script_security
    script_user root
}
track_file tf1 {
    file /tmp/kt-tf1
}
bfd_instance bfd1 {
    neighbor_ip 10.0.1.9
}
SSL {
    password secret
    ca /etc/ssl/ca.pem
    certificate /etc/ssl/cert.pem
    key /etc/ssl/key.pem
}
${vsWith(`    real_server 10.0.1.1 80 {
        SSL_GET {
            connect_port 8443
            bindto 10.0.0.5
            bind_port 5000
            fwmark 9
            connect_timeout 2.5
            http_protocol 1.0c
            virtualhost www.example.com
            enable_sni
            fast_recovery yes
            url {
                path /health
                digest 9B3A0C85A887A256D6939DA88AABD8CD
                status_code 200 301-399
                status_code 418
                regex "up and running"
                regex_options caseless multiline
                regex_min_offset 10
            }
        }
        TCP_CHECK {
            connect_ip 10.0.2.2
            retry 0
            delay_before_retry 0.5
            warmup 0
            delay_loop 3
            alpha
            log_all_failures on
        }
        MISC_CHECK {
            misc_path "/usr/local/bin/check --fast" ignored
            misc_timeout 7
            misc_dynamic
            user nobody nogroup
        }
        DNS_CHECK {
            type aaaa
            name example.com
        }
        UDP_CHECK {
            payload Ab12f 3 456
            require_reply 0a Xf
            min_reply_length 2
            max_reply_length 512
        }
        PING_CHECK {
            retry 4
        }
        FILE_CHECK {
            track_file tf1
            weight -5 reverse
        }
        BFD_CHECK {
            name bfd1
            alpha no
        }
        SMTP_CHECK {
            helo_name "foo.bar.com"
        }
    }`)}`);

  const checkers = vs[0].realServers[0].checkers;

  it('keeps every checker block in one array, in config order', () => {
    expect(errors(diagnostics)).toEqual([]);
    expect(checkers.map((c) => c.type)).toEqual([
      'SSL_GET',
      'TCP_CHECK',
      'MISC_CHECK',
      'DNS_CHECK',
      'UDP_CHECK',
      'PING_CHECK',
      'FILE_CHECK',
      'BFD_CHECK',
      'SMTP_CHECK',
    ]);
  });

  it('reads HTTP_GET/SSL_GET options and url blocks', () => {
    const ssl = checkers[0] as HttpCheck;
    expect(ssl).toMatchObject({
      connectPort: 8443,
      bindto: '10.0.0.5',
      bindPort: 5000,
      fwmark: 9,
      connectTimeout: 2.5,
      httpProtocol: '1.0C',
      virtualhost: 'www.example.com',
      enableSni: true,
      fastRecovery: true,
    });
    expect(ssl.urls).toHaveLength(1);
    expect(ssl.urls[0]).toMatchObject({
      path: '/health',
      digest: '9b3a0c85a887a256d6939da88aabd8cd',
      regex: 'up and running',
      regexOptions: ['caseless', 'multiline'],
      regexMinOffset: 10,
    });
    expect(ssl.urls[0].statusCode).toEqual([
      { min: 200, max: 200 },
      { min: 301, max: 399 },
      { min: 418, max: 418 },
    ]);
  });

  it('reads the common options of TCP_CHECK and the specific ones of each checker', () => {
    expect(checkers[1] as TcpCheck).toMatchObject({
      connectIp: '10.0.2.2',
      retry: 0,
      delayBeforeRetry: 0.5,
      warmup: 0,
      delayLoop: 3,
      alpha: true,
      logAllFailures: true,
    });
    const misc = checkers[2] as MiscCheck;
    expect(misc.miscPath).toMatchObject({ command: '/usr/local/bin/check --fast', argv: ['/usr/local/bin/check', '--fast'], dropped: ['ignored'] });
    expect(misc).toMatchObject({ miscTimeout: 7, miscDynamic: true, user: { user: 'nobody', group: 'nogroup' } });
    expect(checkers[3] as DnsCheck).toMatchObject({ queryType: 'AAAA', name: 'example.com' });
    expect(checkers[4] as UdpCheck).toMatchObject({
      payload: 'ab120f034506',
      requireReply: true,
      requireReplyData: '0axf',
      minReplyLength: 2,
      maxReplyLength: 512,
    });
    expect(checkers[5]).toMatchObject({ type: 'PING_CHECK', retry: 4 });
    expect(checkers[6] as FileCheck).toMatchObject({ trackFile: 'tf1', weight: -5, weightReverse: true });
    expect(checkers[7] as BfdCheck).toMatchObject({ name: 'bfd1', alpha: false });
    expect(checkers[8] as SmtpCheck).toMatchObject({ heloName: 'foo.bar.com' });
  });

  it('reads the top-level SSL block', () => {
    const ssl = loadConfigText('SSL {\n  password secret\n  ca /etc/ssl/ca.pem\n  certificate c.pem\n  key k.pem\n}\n').config.ssl;
    expect(ssl).toMatchObject({ password: 'secret', ca: '/etc/ssl/ca.pem', certificate: 'c.pem', key: 'k.pem' });
  });

  it('reports each bad status_code word at its column and keeps the good ones', () => {
    const { vs: v, diagnostics: ds } = load(
      vsWith(`    real_server 10.0.1.1 80 {
        HTTP_GET {
            url {
                path /
                status_code 200 600 abc 399-301 500-503
            }
        }
    }`),
    );
    expect(ds.map((d) => [d.line, d.col, d.message])).toEqual([
      [9, 33, "Invalid HTTP_GET status code '600'"],
      [9, 37, "Invalid HTTP_GET status code 'abc'"],
      [9, 41, "Invalid HTTP_GET status code '399-301'"],
    ]);
    expect((v[0].realServers[0].checkers[0] as HttpCheck).urls[0].statusCode).toEqual([
      { min: 200, max: 200 },
      { min: 500, max: 503 },
    ]);
  });

  it('drops checkers keepalived ignores: HTTP_GET without url, url without path, MISC_CHECK without misc_path', () => {
    const { vs: v, diagnostics: ds } = load(
      vsWith(`    real_server 10.0.1.1 80 {
        HTTP_GET {
            connect_timeout 3
        }
        SSL_GET {
            url {
                digest 9b3a0c85a887a256d6939da88aabd8cd
            }
        }
        MISC_CHECK {
        }
        TCP_CHECK {
        }
    }`),
    );
    expect(ds.map((d) => [d.line, d.rule, d.message])).toEqual([
      [6, 'checker-no-url', 'HTTP/SSL_GET checker has no urls specified - ignoring'],
      [10, 'url-no-path', 'HTTP/SSL_GET checker url has no path - ignoring'],
      [9, 'checker-no-url', 'HTTP/SSL_GET checker has no urls specified - ignoring'],
      [14, 'misc-no-path', 'No script path has been specified for MISC_CHECKER - skipping'],
    ]);
    expect(v[0].realServers[0].checkers.map((c) => c.type)).toEqual(['TCP_CHECK']);
  });

  it('hoists the timers of the deprecated SMTP_CHECK host block and warns about it', () => {
    const { vs: v, diagnostics: ds } = load(
      vsWith(`    real_server 10.0.1.1 25 {
        SMTP_CHECK {
            retry 2
            host {
                connect_ip 10.0.3.3
                retry 5
            }
        }
    }`),
    );
    const smtp = v[0].realServers[0].checkers[0] as SmtpCheck;
    expect(smtp.hosts.map((h) => h.connectIp)).toEqual(['10.0.3.3']);
    expect(smtp.retry).toBe(5);
    expect(ds.map((d) => [d.severity, d.rule])).toEqual([['warning', 'smtp-host-deprecated']]);
  });
});

describe('deprecated spellings', () => {
  it('lb_algo and lb_kind: plain warnings naming lvs_sched / lvs_method, value stored', () => {
    const { vs, diagnostics } = load(`virtual_server 10.0.0.1 80 {
    lb_algo wrr
    lb_kind DR
    protocol TCP
    real_server 10.0.1.1 80 {
    }
}
`);
    expect(diagnostics.map((d) => [d.severity, d.rule, d.line, d.message])).toEqual([
      ['warning', 'deprecated-keyword', 2, "'lb_algo' is deprecated; use 'lvs_sched'"],
      ['warning', 'deprecated-keyword', 3, "'lb_kind' is deprecated; use 'lvs_method'"],
    ]);
    expect(vs[0].lvsSched).toBe('wrr');
    expect(vs[0].lvsMethod).toEqual({ method: 'DR' });
  });

  it('nb_get_retry: an error but still stored in HTTP_GET, unknown in TCP_CHECK', () => {
    const { vs, diagnostics } = load(
      vsWith(`    real_server 10.0.1.1 80 {
        HTTP_GET {
            url {
                path /
            }
            nb_get_retry 3
        }
        TCP_CHECK {
            nb_get_retry 4
        }
    }`),
    );
    expect(diagnostics.map((d) => [d.severity, d.rule, d.line])).toEqual([
      ['error', 'deprecated-keyword', 10],
      ['error', 'unknown-keyword', 13],
    ]);
    expect(diagnostics[0].message).toContain("use 'retry'");
    expect(diagnostics[1].message).toBe("Unknown keyword 'nb_get_retry'");
    const [http, tcp] = vs[0].realServers[0].checkers as [HttpCheck, TcpCheck];
    expect(http.retry).toBe(3);
    expect(tcp.retry).toBeUndefined();
  });

  it('lb_kind is not a real_server keyword in keepalived', () => {
    const { diagnostics } = load(vsWith('    real_server 10.0.1.1 80 {\n        lb_kind DR\n    }'));
    expect(diagnostics.map((d) => [d.rule, d.message])).toEqual([['unknown-keyword', "Unknown keyword 'lb_kind'"]]);
  });
});

describe('invalid values', () => {
  it("invalid lb_algo: value-enum at the bad word, then keepalived's default report", () => {
    const { vs, diagnostics } = load(`virtual_server 192.168.11.200 80 {
    lb_algo roundrobin
    lb_kind DR
    protocol TCP
    real_server 192.168.11.130 80 {
    }
}
`);
    const bad = diagnostics.find((d) => d.rule === 'value-enum')!;
    expect([bad.line, bad.col]).toEqual([2, 13]);
    expect(bad.message).toContain("Invalid lvs_scheduler 'roundrobin'");
    expect(vs[0].lvsSched).toBeUndefined();
    expect(diagnostics.find((d) => d.rule === 'vs-sched-missing')?.message).toBe(
      "Virtual server [192.168.11.200]:tcp:80: no scheduler set, setting default 'wlc'",
    );
  });

  it('invalid lb_kind: value-enum at the bad word, then no forwarding method', () => {
    const { diagnostics } = load(`virtual_server 192.168.11.200 80 {
    lb_algo rr
    lb_kind ROUTE
    protocol TCP
    real_server 192.168.11.130 80 {
    }
}
`);
    const bad = diagnostics.find((d) => d.rule === 'value-enum')!;
    expect([bad.line, bad.col]).toEqual([3, 13]);
    expect(bad.message).toContain('PARSER : unknown [ROUTE] routing method for virtual server');
    expect(diagnostics.filter((d) => d.rule === 'vs-lvs-method-missing').map((d) => d.message)).toEqual([
      'Virtual server [192.168.11.200]:tcp:80: no forwarding method set, setting default NAT',
    ]);
  });

  it('real_server weight -30 is an error (keepalived rejects negative weights) and the weight stays unset', () => {
    const { vs, diagnostics } = load(vsWith('    real_server 172.16.1.7 80 {\n        weight -30\n    }'));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', rule: 'value-range', line: 6, col: 16 });
    expect(diagnostics[0].message).toContain('Real server weight -30 is outside range 0-2147483647');
    expect(vs[0].realServers[0].weight).toBeUndefined();
  });

  it('checks tunnel options like keepalived, keeping the method when only an option is wrong', () => {
    const ok = load(vsWith('    real_server 10.0.1.1 80 {\n        lvs_method TUN type gue port 6080 csum\n    }'));
    expect(errors(ok.diagnostics)).toEqual([]);
    expect(ok.vs[0].realServers[0].lvsMethod).toEqual({ method: 'TUN', tunnelType: 'gue', tunnelPort: 6080, checksum: 'csum' });
    const bad = load(vsWith('    real_server 10.0.1.1 80 {\n        lvs_method TUN csum\n    }'));
    expect(bad.diagnostics.map((d) => d.message)).toEqual(['lvs_method: ipip tunnels do not support checksum option.; the tunnel options are ignored']);
    expect(bad.vs[0].realServers[0].lvsMethod).toEqual({ method: 'TUN' });
  });

  it("uses keepalived's ranges: retry 0 is fine in a checker but not in a virtual server", () => {
    const { diagnostics } = load(vsWith('    retry 0\n    real_server 10.0.1.1 80 {\n        TCP_CHECK {\n            retry 0\n        }\n    }'));
    expect(diagnostics.map((d) => [d.line, d.rule])).toEqual([[5, 'value-range']]);
  });
});

describe('block-end checks', () => {
  it('reports the defaults keepalived picks for a bare virtual server, once each', () => {
    const { diagnostics } = load(`virtual_server 192.168.200.100 80 {
    real_server 10.0.0.1 80 {
    }
    real_server 10.0.0.2 80 {
    }
}
`);
    expect(diagnostics.map((d) => d.message)).toEqual([
      'Virtual server [192.168.200.100]:none:80: no protocol set - defaulting to UDP',
      "Virtual server [192.168.200.100]:udp:80: no scheduler set, setting default 'wlc'",
      'Virtual server [192.168.200.100]:udp:80: no forwarding method set, setting default NAT',
    ]);
  });

  it('is satisfied when every real server has its own lvs_method', () => {
    const { diagnostics } = load('virtual_server 10.0.0.1 80 {\n  lvs_sched rr\n  protocol TCP\n  real_server 10.0.1.1 80 {\n    lvs_method DR\n  }\n}\n');
    expect(diagnostics).toEqual([]);
  });

  it('drops duplicated and unparsable real servers; a virtual server left without any is skipped', () => {
    const dup = load(vsWith('    real_server 10.0.1.1 80 {\n    }\n    real_server 10.0.1.1 80 {\n    }'));
    expect(rules(dup.diagnostics)).toEqual(['rs-duplicate']);
    expect(dup.vs[0].realServers).toHaveLength(1);
    const none = load(vsWith('    real_server 10.0.1.1 http {\n    }'));
    expect(rules(none.diagnostics)).toEqual(['address-invalid', 'vs-no-real-servers']);
    expect(none.vs).toEqual([]);
  });

  it('needs sorry_server before sorry_server_inhibit and sorry_server_lvs_method', () => {
    const { vs, diagnostics } = load(
      vsWith('    sorry_server_inhibit\n    sorry_server 10.0.9.9 80\n    sorry_server_lvs_method DR\n    real_server 10.0.1.1 80 {\n    }'),
    );
    expect(diagnostics.filter(implementedOnly).map((d) => [d.line, d.message])).toEqual([
      [5, 'Ignoring sorry_server inhibit used before or without sorry_server'],
    ]);
    expect(vs[0]).toMatchObject({
      sorryServer: { address: '10.0.9.9', family: 4, port: 80 },
      sorryServerInhibit: false,
      sorryServerLvsMethod: { method: 'DR' },
    });
  });

  it('takes sh-port only after lvs_sched sh, and reports quorum above the total weight', () => {
    const { vs, diagnostics } = load(`virtual_server 10.0.0.1 80 {
    sh-port
    lvs_sched sh
    sh-fallback
    flag-1
    lvs_method DR
    protocol TCP
    quorum 5
    real_server 10.0.1.1 80 {
        weight 2
    }
}
`);
    expect(diagnostics.map((d) => [d.line, d.rule])).toEqual([
      [2, 'sched-flag-ignored'],
      [8, 'vs-quorum-weight'],
    ]);
    expect(diagnostics[0].message).toBe('sh-port only applies to sh scheduler - ignoring');
    expect(vs[0].schedulerFlags).toEqual(['sh-fallback', 'flag-1']);
  });

  it('drops real servers of the other family and link-local checkers without bind_if', () => {
    const { vs, diagnostics } = load(
      vsWith(`    real_server 10.0.1.1 80 {
    }
    real_server 2001:db8::2 80 {
    }
    real_server 10.0.1.3 80 {
        connect_timeout 3
        TCP_CHECK {
            connect_ip fe80::1
        }
        TCP_CHECK {
            connect_ip fe80::1
            bind_if eth0
        }
    }`),
    );
    expect(diagnostics.filter(implementedOnly).map((d) => [d.line, d.message])).toEqual([
      [12, 'Checker link local address fe80::1 requires a bind_if'],
      [7, "Address family of virtual server and real server 2001:db8::2 don't match - skipping real server."],
    ]);
    expect(vs[0].realServers.map((r) => [r.address, r.checkers.length])).toEqual([
      ['10.0.1.1', 0],
      ['10.0.1.3', 1],
    ]);
  });

  it('counts a protocol on a fwmark service as keepalived does: a warning with exit status 5', () => {
    const { diagnostics } = load(vsWith('    real_server 10.0.1.1 {\n    }', 'fwmark 1'));
    expect(diagnostics.map((d) => [d.severity, d.exit, d.rule])).toEqual([['warning', 5, 'vs-fwmark-protocol']]);
  });
});

describe('virtual_server_group', () => {
  it('reads addresses, ranges, prefixes and fwmarks, and reports bad lines', () => {
    const { config, diagnostics } = loadConfigText(`virtual_server_group G1 {
    10.0.0.1 80
    192.168.200.3-10 80
    10.0.0.20-10.0.0.30 0
    10.0.0.32/27 443
    2001:db8::1-ff 80
    fwmark 6 inet6
    10.0.0.9-5 80
}
`);
    const g = config.virtualServerGroups[0];
    expect(g.name).toBe('G1');
    const addr = g.entries.filter((e): e is VsgAddressEntry => e.kind === 'address');
    expect(addr.map((e) => [e.address, e.end, e.port])).toEqual([
      ['10.0.0.1', undefined, 80],
      ['192.168.200.3', '192.168.200.10', 80],
      ['10.0.0.20', '10.0.0.30', undefined],
      ['10.0.0.32', '10.0.0.63', 443],
      ['2001:db8::1', '2001:db8::ff', 80],
    ]);
    expect(g.entries.find((e) => e.kind === 'fwmark')).toMatchObject({ fwmark: 6, family: 6 });
    expect(diagnostics.filter(implementedOnly).map((d) => [d.line, d.message])).toEqual([
      [8, 'Address range end is not greater than address range start - 10.0.0.9-5 - skipping'],
    ]);
  });
});

describe('effectiveTiming', () => {
  const vs = { delayLoop: 10, connectTimeout: 4 };
  it('inherits VS → RS → checker', () => {
    expect(effectiveTiming(vs, { retry: 2, warmup: 1 }, { type: 'TCP_CHECK', connectTimeout: 1 })).toEqual({
      connectTimeout: 1,
      delayLoop: 10,
      retry: 2,
      delayBeforeRetry: 1,
      warmup: 1,
    });
  });
  it('applies the checker-type defaults when nobody sets a value', () => {
    expect(effectiveTiming({}, {}, { type: 'HTTP_GET' })).toEqual({ connectTimeout: 5, delayLoop: 60, retry: 1, delayBeforeRetry: 3, warmup: 60 });
    expect(effectiveTiming(vs, {}, { type: 'MISC_CHECK' })).toEqual({ connectTimeout: undefined, delayLoop: 10, retry: 0, delayBeforeRetry: 1, warmup: 10 });
    expect(effectiveTiming(vs, {}, { type: 'DNS_CHECK', delayLoop: 7 })).toMatchObject({ retry: 3, delayBeforeRetry: 7, warmup: 7 });
    expect(effectiveTiming(vs, {}, { type: 'FILE_CHECK' })).toBeUndefined();
  });
  it("lets a real server value beat the checker type default but not the checker's own", () => {
    expect(effectiveTiming({ retry: 9 }, { delayBeforeRetry: 2 }, { type: 'MISC_CHECK' })).toMatchObject({ retry: 9, delayBeforeRetry: 2 });
    expect(effectiveTiming({ retry: 9 }, {}, { type: 'DNS_CHECK', retry: 0 })).toMatchObject({ retry: 0 });
  });
  it('works on a parsed config', () => {
    const {
      vs: [v],
    } = load(
      vsWith(
        '    delay_loop 6\n    real_server 10.0.1.1 80 {\n        retry 2\n        HTTP_GET {\n            url {\n                path /\n            }\n        }\n    }',
      ),
    );
    const rs = v.realServers[0];
    expect(effectiveTiming(v, rs, rs.checkers[0] as HttpCheck)).toEqual({ connectTimeout: 5, delayLoop: 6, retry: 2, delayBeforeRetry: 3, warmup: 6 });
  });
});

describe('Debian samples', () => {
  const dir = '/usr/share/doc/keepalived/samples';
  const names = [
    'HTTP_GET.port',
    'SSL_GET',
    'UDP_CHECK',
    'PING_CHECK',
    'SMTP_CHECK',
    'misc_check',
    'misc_check_arg',
    'quorum',
    'status_code',
    'virtual_server_group',
    'virtualhost',
    'fwmark',
    'inhibit',
    'sample',
  ];
  it('load without unknown keywords or LVS errors', () => {
    if (!existsSync(dir)) {
      console.log(`skipping the Debian samples: ${dir} is absent`);
      return;
    }
    const present = new Set(readdirSync(dir));
    let servers = 0;
    for (const n of names) {
      const file = `keepalived.conf.${n}`;
      if (!present.has(file)) continue;
      const { config, diagnostics } = loadConfig(join(dir, file));
      expect
        .soft(
          diagnostics.filter((d) => d.rule === 'unknown-keyword'),
          file,
        )
        .toEqual([]);
      const vsErrors = diagnostics.filter((d) => d.exit === 5 && config.virtualServers.some((v: VirtualServer) => d.line >= v.span.line));
      // keepalived itself reports one thing in these files: the fwmark sample's protocol.
      expect
        .soft(
          vsErrors.map((d) => d.rule),
          file,
        )
        .toEqual(n === 'fwmark' ? ['vs-fwmark-protocol'] : []);
      servers += config.virtualServers.length;
    }
    expect(servers).toBeGreaterThan(10);
  });
});

describe('lvs_timeouts', () => {
  const timeouts = (text: string) => {
    const { config, diagnostics } = loadConfigText(text, 'k.conf', { configId: 'x' });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return config.resolved.lvsTimeouts;
  };
  it("resolves to IPVS's defaults, each part set on its own, 0 keeping the default (ipvsadm --set)", () => {
    expect(timeouts('global_defs {\n router_id a\n}\n')).toEqual({ tcp: 900, tcpfin: 120, udp: 300 });
    expect(timeouts('global_defs {\n lvs_timeouts udp 30\n}\n')).toEqual({ tcp: 900, tcpfin: 120, udp: 30 });
    expect(timeouts('global_defs {\n lvs_timeouts tcp 60 tcpfin 0 udp 5\n}\n')).toEqual({ tcp: 60, tcpfin: 120, udp: 5 });
  });
  it('reports a part it does not know', () => {
    const { diagnostics } = loadConfigText('global_defs {\n lvs_timeouts tcp 60 syn 5\n}\n', 'k.conf', { configId: 'x' });
    expect(diagnostics.map((d) => d.message).join('\n')).toMatch(/invalid lvs_timeouts part 'syn'/);
  });
});
