// keepalived 2.2.7 as the oracle of the kernel IPVS plane: in a VM with Debian's kernel (this host's
// has no IPVS), keepalived -C and then ours run with the same configuration, and the kernel tables
// they leave (ipvsadm -Sn, sorted, and the connection timeouts) must be the same once started and
// after the stop. One VM boot runs every configuration (ipvs-oracle-vm.sh).
//
// The health checkers are taken out of the examples' configurations (their real servers do not
// exist in the VM: the verdicts would race the snapshot). `checked` has checkers on real servers
// that do exist, local listeners on loopback, and compares the tables once the verdicts are in,
// after some listeners stop ("gone"), and after a reload that changes the pool ("reload").
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
/** A real-world keepalived.conf of the corpus (test/fixtures/corpus/SOURCES.md says whose). */
const corpus = (file: string): string => withoutCheckers(readFileSync(join(REPO_ROOT, 'test/fixtures/corpus', `${file}.conf`), 'utf8'));

const rs = (addr: string, port: number, extra = ''): string => `  real_server ${addr} ${port} {\n    weight 1\n${extra}  }\n`;

/** TEXT with FROM (a string or a pattern) replaced, which must be there: a reload that changes nothing proves nothing. */
function edit(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`edit: ${String(from)} is not in the configuration`);
  return out;
}

/** A real server checked by TCP_CHECK on a local port: up when ipvs-oracle-vm.sh listens on it. */
const checked = (addr: string, port: number, weight: number, check: string, extra = ''): string =>
  `  real_server ${addr} ${port} {\n    weight ${weight}\n${extra}    TCP_CHECK {\n${check}    }\n  }\n`;
/** TCP_CHECK's options: the real server's own address, or 127.0.0.1 on CHECKPORT; retry 0 or 1. */
const tcp = (checkPort?: number, retry = 0): string =>
  `${checkPort ? `      connect_ip 127.0.0.1\n      connect_port ${checkPort}\n` : ''}      connect_timeout 1\n      retry ${retry}\n${retry ? '      delay_before_retry 1\n' : ''}`;

/**
 * A pool with checkers: delay_loop 1, connect_timeout 1, retry 0 or 1, so a verdict takes at most
 * delay_loop × (retry + 1) + connect_timeout = 3 s, after the first check's warmup (up to
 * delay_loop) and keepalived's bootstrap delay (1 s).
 *   10.30.0.1: a server up then gone, one never up (it leaves), one up throughout.
 *   10.30.0.2: inhibit_on_failure (weight 0 instead of leaving): one never up, one up then gone,
 *              one without a checker.
 *   10.30.0.3: alpha (down until its first check) and a sorry_server, used once its only server is gone.
 */
const CHECKED = `virtual_server 10.30.0.1 80 {
  delay_loop 1
  lvs_sched wrr
  lvs_method NAT
  protocol TCP
${checked('127.0.0.2', 9001, 2, tcp())}${checked('127.0.0.3', 9002, 1, tcp(undefined, 1))}${checked('10.30.1.3', 80, 3, tcp(9003))}}
virtual_server 10.30.0.2 80 {
  delay_loop 1
  lvs_sched rr
  lvs_method DR
  protocol TCP
${checked('10.30.2.1', 80, 1, tcp(9004), '    inhibit_on_failure\n')}${checked('10.30.2.2', 80, 4, tcp(9005, 1), '    inhibit_on_failure\n')}${rs('10.30.2.3', 80)}}
virtual_server 10.30.0.3 80 {
  delay_loop 1
  alpha
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  sorry_server 10.30.9.9 80
${checked('10.30.3.1', 80, 1, tcp(9006))}}
`;
/** Where ipvs-oracle-vm.sh listens for `checked` (9002 and 9004 never), and what stops in the "gone" phase. */
const CHECKED_LISTEN = [9001, 9003, 9005, 9006];
const CHECKED_GONE = [9001, 9005, 9006];

/**
 * `checked` reloaded: a weight changes (of a server up, and of one inhibited), servers come
 * (one up, one never up) and go (one down, one without checker), a service goes and one comes.
 */
const CHECKED_RELOAD = edit(
  edit(
    edit(
      edit(
        edit(CHECKED, checked('127.0.0.3', 9002, 1, tcp(undefined, 1)), ''),
        checked('10.30.1.3', 80, 3, tcp(9003)),
        checked('10.30.1.3', 80, 5, tcp(9003)) + checked('10.30.1.4', 80, 2, tcp(9003)) + checked('10.30.1.5', 80, 1, tcp(9002)),
      ),
      checked('10.30.2.2', 80, 4, tcp(9005, 1), '    inhibit_on_failure\n') + rs('10.30.2.3', 80),
      checked('10.30.2.2', 80, 6, tcp(9005, 1), '    inhibit_on_failure\n'),
    ),
    /virtual_server 10\.30\.0\.3 80 \{[^]*$/,
    '',
  ),
  /$/,
  `virtual_server 10.30.0.4 80 {
  delay_loop 1
  lvs_sched wlc
  lvs_method NAT
  protocol TCP
${checked('10.30.4.1', 80, 2, tcp(9003))}${rs('10.30.4.2', 80)}}
`,
);

/**
 * Name -> configuration. Few configurations with many services each: every daemon start costs
 * seconds under TCG, a service costs next to nothing.
 */
const CONFIGS: Record<string, string> = {
  // conf-examples' LVS-NAT and LVS-DR directors, as one: rr, wrr, weights, persistence.
  'conf-examples': example('lvs-nat.conf') + example('lvs-dr.conf').replace(/global_defs {[^}]*}/, ''),
  // Real-world directors from public repositories, as their authors wrote them: two DR services
  // with wrr; UDP with persistence to three ports of one server; NAT to another port; and
  // `lb_algo loadbalance`, a scheduler IPVS does not have.
  'corpus-dr-wrr': corpus('093-qiuyesuifeng-codis-keepalived-lvs-main'),
  'corpus-udp': corpus('084-NFhook-opensips-cluster-main'),
  'corpus-nat-port': corpus('050-H3cJP-Proyecto-Load-Balancing-y-High-Availability-main'),
  'corpus-bad-sched': corpus('106-sweet-red-kubernetes-main'),
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
  checked: CHECKED,
};

/**
 * What ipvs-oracle-vm.sh does beyond the start and the stop, by configuration (its NAME.listen,
 * .hold, .gone and .reload files): ports to listen on, how long a table must stay the same to be
 * settled (the checkers' verdicts, with room for a busy host), ports to stop listening on, and
 * the configuration to reload.
 */
const PHASES: Record<string, { listen?: number[]; hold?: number; gone?: number[]; reload?: string }> = {
  checked: { listen: CHECKED_LISTEN, hold: 6, gone: CHECKED_GONE, reload: CHECKED_RELOAD },
  // Without checkers: the DR director's weight 2 becomes 5, a NAT server is replaced by another,
  // and a service moves to another address (one goes, one comes).
  'conf-examples': {
    reload: edit(
      edit(
        edit(CONFIGS['conf-examples'], /(real_server 192\.168\.0\.20 80 \{\s*weight) 2/, '$1 5'),
        'real_server 192.168.11.140 80',
        'real_server 192.168.11.150 80',
      ),
      'virtual_server 172.25.254.100 80',
      'virtual_server 172.25.254.101 80',
    ),
  },
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
  gone?: string;
  reload?: string;
  stop?: string;
  /** The daemon's output, printed only when it did not settle or stop. */
  log?: string;
}

type Phase = 'start' | 'gone' | 'reload' | 'stop';

/** The script's output: `=== NAME WHO PHASE` sections, keyed `NAME WHO`. */
function parse(output: string): Map<string, Tables> {
  const got = new Map<string, Tables>();
  let section: { t: Tables; phase: keyof Tables } | undefined;
  for (const line of output.split('\n')) {
    const m = /^=== (\S+) (keepalived|ours) (start|gone|reload|stop|log)$/.exec(line);
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

/** KTS_ORACLE_ONLY=name,name runs only those configurations (one VM run costs minutes). */
const SELECTED = Object.keys(CONFIGS).filter((n) => !process.env.KTS_ORACLE_ONLY || process.env.KTS_ORACLE_ONLY.split(',').includes(n));

const unavailable = vmUnavailable() ?? (keepalivedCapability().ok ? undefined : 'keepalived is not installed');
if (unavailable) console.log(`ipvs-oracle: skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('kernel IPVS tables: ours against keepalived 2.2.7, in a VM', () => {
  let dir: string;
  let run: VmResult;
  let tables: Map<string, Tables>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kts-ipvs-oracle-'));
    for (const name of SELECTED) writeFileSync(join(dir, `${name}.conf`), CONFIGS[name]);
    for (const [name, p] of Object.entries(PHASES)) {
      if (p.listen) writeFileSync(join(dir, `${name}.listen`), `${p.listen.join(' ')}\n`);
      if (p.hold) writeFileSync(join(dir, `${name}.hold`), `${p.hold.toFixed(1)}\n`);
      if (p.gone) writeFileSync(join(dir, `${name}.gone`), `${p.gone.join(' ')}\n`);
      if (p.reload) writeFileSync(join(dir, `${name}.reload`), p.reload);
    }
    run = await runInVm(join(REPO_ROOT, 'test/lvs/ipvs-oracle-vm.sh'), [dir, join(REPO_ROOT, 'dist/keepalived-ts.mjs')], { timeoutSeconds: 1500 });
    const timings = run.output.split('\n').filter((l) => l.startsWith('=== time '));
    console.log(`ipvs-oracle: VM run ${run.seconds.toFixed(1)} s, status ${run.status}\n${timings.join('\n')}`);
    tables = parse(run.output);
  }, 1_000_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('the VM ran every configuration', () => {
    expect(run.status, run.stderr + run.output).toBe(0);
    expect(run.output).toContain('=== end');
  });

  for (const name of SELECTED) {
    const known = KNOWN[name];
    const phases: Phase[] = ['start', ...(PHASES[name]?.gone ? (['gone'] as const) : []), ...(PHASES[name]?.reload ? (['reload'] as const) : []), 'stop'];
    it(`${name}: the same table at ${phases.join(', ')}${known ? ` (known difference: ${known.why})` : ''}`, () => {
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
      // Each phase changed keepalived's table, or it would prove nothing.
      for (let i = 1; i < phases.length - 1; i++) expect(ka?.[phases[i]], `${phases[i]}`).not.toBe(ka?.[phases[i - 1]]);
      if (name === 'checked') {
        const rules = (t?: string): string[] => (t ?? '').split('\n').filter((l) => l.startsWith('-a '));
        // The checkers ran: a server never up left (or is inhibited), alpha's came up, ...
        expect(rules(ka?.start)).not.toContainEqual(expect.stringContaining('127.0.0.3:9002'));
        expect(rules(ka?.start)).toContainEqual(expect.stringMatching(/-r 10\.30\.2\.1:80 -g -w 0$/));
        expect(rules(ka?.start)).toContainEqual(expect.stringContaining('-r 10.30.3.1:80 -m -w 1'));
        expect(rules(ka?.start)).not.toContainEqual(expect.stringContaining('10.30.9.9'));
        // ... and saw the listeners stop: gone, inhibited, and the sorry server in.
        expect(rules(ka?.gone)).not.toContainEqual(expect.stringContaining('127.0.0.2:9001'));
        expect(rules(ka?.gone)).toContainEqual(expect.stringMatching(/-r 10\.30\.2\.2:80 -g -w 0$/));
        expect(rules(ka?.gone)).toContainEqual(expect.stringContaining('-r 10.30.9.9:80 -m -w 1'));
        // The reload's new servers: the one up is in, the one never up is not.
        expect(rules(ka?.reload)).toContainEqual(expect.stringContaining('-r 10.30.1.4:80 -m -w 2'));
        expect(rules(ka?.reload)).not.toContainEqual(expect.stringContaining('10.30.1.5'));
      }
      const expected = known?.ours ?? ((t: string) => t);
      for (const phase of phases) expect(ours?.[phase], phase).toBe(expected(ka?.[phase] ?? ''));
    });
  }
});
