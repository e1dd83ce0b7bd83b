// keepalived 2.2.7 as the oracle of the kernel IPVS plane: in a VM with Debian's kernel (this host's
// has no IPVS), keepalived -C and then ours run with the same configuration, and the kernel tables
// they leave (ipvsadm -Sn, sorted, and the connection timeouts) must be the same once started and
// after the stop. One VM boot runs every configuration (ipvs-oracle-vm.sh).
//
// The health checkers are taken out of the configurations: without them every real server is up
// from the start in both daemons, so the table at start is defined (the checkers' verdicts on
// addresses that do not exist in the VM would race the snapshot).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepalivedCapability, REPO_ROOT } from '../helpers/netns.js';
import { runInVm, vmUnavailable, type VmResult } from '../helpers/vm/vm.js';

const CHECKERS = /^\s*(TCP_CHECK|HTTP_GET|SSL_GET|MISC_CHECK|SMTP_CHECK|DNS_CHECK|UDP_CHECK|PING_CHECK|FILE_CHECK|BFD_CHECK)\b/;

/** The configuration without its checker blocks (braces counted, as the examples write them: `TCP_CHECK {` on one line). */
function withoutCheckers(text: string): string {
  const out: string[] = [];
  let depth = 0;
  for (const line of text.split('\n')) {
    const code = line.replace(/[#!].*$/, '');
    if (depth > 0 || CHECKERS.test(code)) depth += (code.match(/{/g) ?? []).length - (code.match(/}/g) ?? []).length;
    else out.push(line);
  }
  return out.join('\n');
}

const example = (file: string): string => withoutCheckers(readFileSync(join(REPO_ROOT, 'conf-examples', file), 'utf8'));

const rs = (addr: string, port: number, extra = ''): string => `  real_server ${addr} ${port} {\n    weight 1\n${extra}  }\n`;

/**
 * Name -> configuration. Few configurations with many services each: every daemon start costs
 * seconds under TCG, a service costs next to nothing.
 */
const CONFIGS: Record<string, string> = {
  // conf-examples' LVS-NAT and LVS-DR directors, as one: rr, wrr, weights, persistence.
  'conf-examples': example('lvs-nat.conf') + example('lvs-dr.conf').replace(/global_defs {[^}]*}/, ''),
  forms:
    // Persistence with a netmask, and the scheduler flags of sh.
    `virtual_server 10.20.0.1 443 {
  lvs_sched sh
  sh-port
  sh-fallback
  lvs_method DR
  persistence_timeout 600
  persistence_granularity 255.255.255.0
  protocol TCP
${rs('10.20.1.1', 443)}${rs('10.20.1.2', 443)}}
` +
    // One service per scheduler, NAT/DR/TUN in turn, weights 0 to 12.
    ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sed', 'nq', 'fo', 'ovf', 'mh']
      .map(
        (s, i) => `virtual_server 10.21.0.${i + 1} 80 {
  lvs_sched ${s}
  lvs_method ${['NAT', 'DR', 'TUN'][i % 3]}
  protocol TCP
  real_server 10.21.1.${i + 1} 80 {
    weight ${i + 1}
  }
  real_server 10.21.2.${i + 1} 80 {
    weight ${(i % 4) * 3}
  }
}
`,
      )
      .join('') +
    // TUN's tunnel types with their options (ipvsadm -Ln --tun-info shows them).
    `virtual_server 10.21.12.1 80 {
  lvs_sched rr
  lvs_method TUN type gue port 6080 remcsum
  protocol TCP
${rs('10.21.12.2', 80)}}
virtual_server 10.21.13.1 80 {
  lvs_sched rr
  lvs_method TUN type gre csum
  protocol TCP
${rs('10.21.13.2', 80)}}
virtual_server 10.21.14.1 5060 {
  lvs_sched rr
  lvs_method NAT
  protocol SCTP
${rs('10.21.14.2', 5060)}}
` +
    // UDP with one-packet scheduling; IPv6; a firewall mark.
    `virtual_server 10.21.9.1 53 {
  lvs_sched rr
  ops
  lvs_method NAT
  protocol UDP
${rs('10.21.9.2', 5353)}}
virtual_server 2001:db8::1 80 {
  lvs_sched wlc
  lvs_method DR
  protocol TCP
${rs('2001:db8::10', 80)}${rs('2001:db8::11', 80)}}
virtual_server fwmark 7 {
  lvs_sched wrr
  lvs_method DR
  persistence_timeout 120
${rs('10.22.0.1', 80)}${rs('10.22.0.2', 80)}}
`,
  // virtual_server_group: an address range (one IPVS service per address), a single address with
  // its own port, and firewall marks; TCP and UDP. lvs_flush_on_stop VS: our services go at stop
  // without their destinations going first (the same table after).
  groups: `global_defs {
  lvs_flush_on_stop VS
}
virtual_server_group G1 {
  10.24.0.1-3 80
  10.24.0.9 8080
  fwmark 11
}
virtual_server_group G2 {
  10.24.1.1 53
}
virtual_server group G1 {
  lvs_sched rr
  lvs_method DR
  protocol TCP
${rs('10.24.2.1', 80)}${rs('10.24.2.2', 80)}}
virtual_server group G2 {
  lvs_sched wlc
  lvs_method NAT
  protocol UDP
${rs('10.24.3.1', 53)}}
`,
  // lvs_flush_on_stop: the whole table is cleared at stop, the foreign service included.
  // lvs_sync_daemon without a VRRP instance: the checker process runs IPVS's master and backup
  // sync daemons from its start to its stop (check_daemon.c), with every option set.
  flushstop: `global_defs {
  lvs_flush_on_stop
  lvs_sync_daemon lo id 5 maxlen 1400 port 8848 ttl 2 group 224.0.0.82
}
virtual_server 10.25.0.1 80 {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
${rs('10.25.0.2', 80)}}
`,
  // IPVS's connection timeouts (lvs_timeouts), and lvs_flush: the whole table is cleared at start,
  // the foreign service included.
  globals: `global_defs {
  lvs_timeouts tcp 7200 tcpfin 60 udp 30
  lvs_flush
}
virtual_server 10.23.0.1 80 {
  lvs_sched rr
  lvs_method NAT
  protocol TCP
${rs('10.23.0.2', 80)}}
`,
};

/** The service ipvs-oracle-vm.sh puts in the table before each start: neither daemon's. */
const FOREIGN = '10.255.0.1:1';

/**
 * Where ours is known to program another table than keepalived: why, and keepalived's table turned
 * into the one ours programs (so the test still fails on any other difference, and once fixed).
 */
const KNOWN: Record<string, { why: string; ours: (keepalived: string) => string }> = {};

interface Tables {
  start?: string;
  stop?: string;
  /** The daemon's output, printed only when it did not settle or stop. */
  log?: string;
}

/** The script's output: `=== NAME WHO PHASE` sections, keyed `NAME WHO`. */
function parse(output: string): Map<string, Tables> {
  const got = new Map<string, Tables>();
  let section: { t: Tables; phase: keyof Tables } | undefined;
  for (const line of output.split('\n')) {
    const m = /^=== (\S+) (keepalived|ours) (start|stop|log)$/.exec(line);
    if (m) {
      const key = `${m[1]} ${m[2]}`;
      const t = got.get(key) ?? {};
      got.set(key, t);
      section = { t, phase: m[3] as keyof Tables };
      t[section.phase] = '';
    } else if (line.startsWith('=== ')) section = undefined;
    else if (section) section.t[section.phase] += `${line}\n`;
  }
  return got;
}

const unavailable = vmUnavailable() ?? (keepalivedCapability().ok ? undefined : 'keepalived is not installed');
if (unavailable) console.log(`ipvs-oracle: skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('kernel IPVS tables: ours against keepalived 2.2.7, in a VM', () => {
  let dir: string;
  let run: VmResult;
  let tables: Map<string, Tables>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-ipvs-oracle-'));
    for (const [name, text] of Object.entries(CONFIGS)) writeFileSync(join(dir, `${name}.conf`), text);
    run = await runInVm(join(REPO_ROOT, 'test/lvs/ipvs-oracle-vm.sh'), [dir, join(REPO_ROOT, 'dist/keepalived-ts.mjs')], { timeoutSeconds: 900 });
    const timings = run.output.split('\n').filter((l) => l.startsWith('=== time '));
    console.log(`ipvs-oracle: VM run ${run.seconds.toFixed(1)} s, status ${run.status}\n${timings.join('\n')}`);
    tables = parse(run.output);
  }, 1_000_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('the VM ran every configuration', () => {
    expect(run.status, run.stderr + run.output).toBe(0);
    expect(run.output).toContain('=== end');
  });

  for (const name of Object.keys(CONFIGS)) {
    const known = KNOWN[name];
    it(`${name}: the same table at start and at stop${known ? ` (known difference: ${known.why})` : ''}`, () => {
      const ka = tables.get(`${name} keepalived`);
      const ours = tables.get(`${name} ours`);
      expect(ka?.start, run.output).toBeDefined();
      expect(ka?.log, `keepalived did not settle or stop:\n${ka?.log}`).toBeUndefined();
      // keepalived must have programmed a service of the config, or the comparison proves nothing.
      expect(ka?.start?.split('\n').filter((l) => l.startsWith('-A ') && !l.includes(FOREIGN))).not.toEqual([]);
      expect(ours?.log, `ours did not settle or stop:\n${ours?.log}`).toBeUndefined();
      // lvs_flush_on_stop clears the table of other processes' services too.
      if (name === 'flushstop') {
        expect(ka?.stop).not.toContain(FOREIGN);
        // Both sync daemons ran while it ran, and stopped with it.
        expect(ka?.start).toMatch(/master sync daemon \(mcast=lo, syncid=5/);
        expect(ka?.start).toMatch(/backup sync daemon \(mcast=lo, syncid=5/);
        expect(ka?.stop).not.toContain('sync daemon');
      }
      // keepalived set the tunnel types, so the comparison covers them.
      if (name === 'forms') {
        expect(ka?.start).toMatch(/gue[\s\S]*gre|gre[\s\S]*gue/);
        expect(ka?.start).toContain('--sctp-service 10.21.14.1:5060');
      }
      const expected = known?.ours ?? ((t: string) => t);
      expect(ours?.start).toBe(expected(ka?.start ?? ''));
      expect(ours?.stop).toBe(expected(ka?.stop ?? ''));
    });
  }
});
