// The lab's netns backend with real daemons: our keepalived-ts and the real keepalived in network
// namespaces, faults applied for real. Needs root (skipped, with the reason, otherwise).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNetns, type NetnsRun } from '../../src/lab/netns/index.js';
import { finish } from '../../src/lab/expect/index.js';
import { labConfig } from '../../src/lab/netns/config.js';
import { loadConfigText } from '../../src/config/index.js';
import { NetnsHost, keepalivedCapability, netemCapability, netnsCapability } from '../../src/lab/netns/host.js';
import type { Fault, LabNode, Scenario } from '../../src/lab/model/scenario.js';
import type { LabTransition } from '../../src/lab/model/result.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const span = { file: 'netns.test.ts', line: 1, col: 1 };
const S = 1_000_000;

function conf(opts: { id: string; priority: number; state?: string; extra?: string; inInstance?: string }): string {
  return `global_defs {
    router_id ${opts.id}
}
${opts.extra ?? ''}
vrrp_instance VI_1 {
    state ${opts.state ?? 'BACKUP'}
    interface eth0
    virtual_router_id 51
    priority ${opts.priority}
    advert_int 1
    virtual_ipaddress {
        10.77.1.100/24
    }
${opts.inInstance ?? ''}
}
`;
}

/** A fault as written here: without its span (Omit over each member of the union). */
type Unspanned<T> = T extends unknown ? Omit<T, 'span'> : never;
type FaultIn = Unspanned<Fault>;

function scenario(name: string, nodes: { name: string; impl?: LabNode['impl']; text: string }[], faults: FaultIn[], duration: number): Scenario {
  return {
    name,
    file: `${name}.yaml`,
    duration,
    seed: 1,
    nodes: nodes.map((n) => ({ name: n.name, impl: n.impl ?? 'keepalived-ts', config: { file: `${n.name}.conf`, text: n.text }, span })),
    segments: [{ name: 'lan', prefix: 24, members: nodes.map((n, i) => ({ node: n.name, interface: 'eth0', address: `10.77.1.${i + 1}` })), span }],
    realServers: [],
    clients: [],
    faults: faults.map((f) => ({ ...f, span })),
    expectations: [],
    span,
  };
}

/** The usual pair: ours at 150 (state MASTER), then `impl` at 100. */
const pair = (impl: LabNode['impl'] = 'keepalived-ts', [a, b] = ['lb1', 'lb2']) => [
  { name: a, text: conf({ id: a, priority: 150, state: 'MASTER' }) },
  { name: b, impl, text: conf({ id: b, priority: 100 }) },
];

/** Run, then prove that nothing with the run's prefix is left: namespaces, processes, files. */
async function runClean(s: Scenario): Promise<{ run: NetnsRun; log: string[] }> {
  const log: string[] = [];
  try {
    const run = await runNetns(s, { log: (l) => log.push(l) });
    if (process.env.LAB_DEBUG) console.log(log.join('\n'), JSON.stringify({ ...run, nodes: undefined }, null, 1));
    return { run, log };
  } finally {
    const id = /netns: lab (\S+)/.exec(log.join('\n'))?.[1];
    if (id) expectNoLeftovers(id);
  }
}

function expectNoLeftovers(id: string): void {
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  expect(ns.split('\n').filter((l) => l.startsWith(id))).toEqual([]);
  // Every process the lab starts has the run directory (named after the prefix) on its command line.
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
  expect(ps.split('\n').filter((l) => l.includes(id))).toEqual([]);
}

/** State of node's VI_1 at time t, from the transitions. */
function stateAt(ts: LabTransition[], node: string, t: number): string | undefined {
  let s: string | undefined;
  for (const x of ts) if (x.node === node && x.instance === 'VI_1' && x.at <= t) s = x.to;
  return s;
}

const firstTo = (ts: LabTransition[], node: string, to: string, after = 0) => ts.find((x) => x.node === node && x.to === to && x.at >= after);

describe('labConfig: the lab-owned parts of a node configuration', () => {
  const text = `vrrp_script chk_nginx {
    script "/bin/bash -c '</dev/tcp/127.0.0.1/8001'" root   # a comment
    interval 2
    weight -30
}
track_file maint { file /etc/keepalived/down
  weight -100 }
vrrp_sync_group G1 { group { VI_1 } }
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    notify "/usr/local/bin/old notify"
    virtual_ipaddress { 10.0.0.1/24 }
    track_script { chk_nginx }
}
vrrp_instance VI_2 { interface eth0
    virtual_router_id 52
}
`;
  const lab = labConfig(text, 'a.conf', { dir: '/run/lab/lb1', notify: '/bin/sh /run/lab/notify.sh /run/lab/lb1/notify.log' });

  it('points vrrp_script at a lab-controlled file and keeps its other settings', () => {
    expect(lab.scripts.get('chk_nginx')).toBe('/run/lab/lb1/chk_nginx.fail');
    expect(lab.text).toContain(`script "/usr/bin/test ! -e /run/lab/lb1/chk_nginx.fail"   # a comment`);
    expect(lab.text).toContain('interval 2\n    weight -30');
  });

  it('points track_file at the run directory', () => {
    expect(lab.trackFiles.get('maint')).toEqual({ path: '/run/lab/lb1/maint.track', original: '/etc/keepalived/down', init: false });
    expect(lab.text).toContain('track_file maint { file "/run/lab/lb1/maint.track"\n');
  });

  it('replaces or adds the notify script of every instance and sync group', () => {
    const notify = 'notify "/bin/sh /run/lab/notify.sh /run/lab/lb1/notify.log"';
    expect(lab.text).not.toContain('/usr/local/bin/old');
    expect(lab.text.split(notify).length - 1).toBe(3);
    expect(lab.instances.map((i) => [i.name, i.vrid, i.interface])).toEqual([
      ['VI_1', 51, 'eth0'],
      ['VI_2', 52, 'eth0'],
    ]);
  });

  it('produces a configuration that still loads, with the same structure', () => {
    const { config, diagnostics } = loadConfigText(lab.text, 'a.conf');
    const rules = (ds: typeof diagnostics) => ds.map((d) => d.rule).sort();
    expect(rules(diagnostics)).toEqual(rules(loadConfigText(text, 'a.conf').diagnostics));
    expect(config.vrrpScripts[0]).toMatchObject({ interval: 2, weight: -30 });
    expect(config.vrrpScripts[0].script?.argv).toEqual(['/usr/bin/test', '!', '-e', '/run/lab/lb1/chk_nginx.fail']);
    expect(config.vrrpInstances[1].notify?.argv).toEqual(['/bin/sh', '/run/lab/notify.sh', '/run/lab/lb1/notify.log']);
    expect(config.syncGroups[0].notify?.argv).toEqual(['/bin/sh', '/run/lab/notify.sh', '/run/lab/lb1/notify.log']);
  });
});

/** Every node waited at its start gate: its first line after the gate and its VRRP start come
 * at or after zero, when the lab had released every gate. */
function expectGated(run: NetnsRun, nodes: string[]): void {
  const start = run.start!;
  expect(start.nodes.map((n) => n.node).sort()).toEqual(nodes);
  expect(start.release).toBeGreaterThanOrEqual(0);
  for (const n of start.nodes) {
    expect(n.opened, `${n.node}'s first line after its gate`).toBeGreaterThanOrEqual(0);
    expect(n.at).toBeGreaterThanOrEqual(n.opened!);
  }
  expect(Math.min(...run.transitions.map((t) => t.at))).toBeGreaterThanOrEqual(0);
}

const cap = netnsCapability();
if (!cap.ok) console.warn(`skipping the netns lab tests: ${cap.reason}`);
const kaCap = keepalivedCapability();
if (cap.ok && !kaCap.ok) console.warn(`skipping the mixed-pair netns lab test: ${kaCap.reason}`);

describe.skipIf(!cap.ok)('runNetns: real daemons in namespaces', () => {
  it('fails over when the master is killed, within Master_Down_Interval + 0.5 s', async () => {
    const s = scenario('kill-master', pair(), [{ at: 6 * S, kind: 'kill', node: 'lb1' }], 11 * S);
    const { run } = await runClean(s);
    const ts = run.transitions;
    expect(run.backend).toBe('netns');
    expect(run.nodes.map((n) => n.instances)).toEqual([[{ name: 'VI_1', vrid: 51, interface: 'eth0' }], [{ name: 'VI_1', vrid: 51, interface: 'eth0' }]]);
    expect(stateAt(ts, 'lb1', 5.9 * S)).toBe('MASTER');
    expect(stateAt(ts, 'lb2', 5.9 * S)).toBe('BACKUP');
    const kill = run.faults[0];
    expect(kill).toMatchObject({ index: 0, text: 'kill lb1' });
    // The fault timer and the run's clock are read separately: allow 1 ms of sub-tick skew.
    expect(kill.at).toBeGreaterThanOrEqual(6 * S - 1000);
    expect(kill.at).toBeLessThan(6.2 * S);
    expect(firstTo(ts, 'lb1', 'STOPPED')!.at).toBeGreaterThanOrEqual(kill.at);
    // Both daemons waited at their start gates, which opened at zero: neither started before it.
    expectGated(run, ['lb1', 'lb2']);
    // Master_Down_Interval = 3 * advert_int + (256 - 100) / 256 s.
    const takeover = firstTo(ts, 'lb2', 'MASTER', kill.at);
    expect(takeover).toBeDefined();
    expect(takeover!.at - kill.at).toBeLessThan((3 + 156 / 256 + 0.5) * S);
    expect(takeover!.at - kill.at).toBeGreaterThan(2.5 * S);
    expect(takeover!.priority).toBe(100);
    // The notify script ran with keepalived's arguments, on the lab's clock.
    // (Before the kill either may have been MASTER first: on a busy box the two start a few ms
    // to a few 10 ms apart, and lb2's first state may come when lb1's first advert has not.)
    const n = run.notifies.filter((x) => x.node === 'lb2' && x.name === 'VI_1');
    expect(n[0].state).toBe('BACKUP');
    const after = n.filter((x) => x.at >= kill.at);
    expect(after.map((x) => x.state)).toEqual(['MASTER']);
    expect(Math.abs(after[0].at - takeover!.at)).toBeLessThan(0.3 * S);
    expect(after[0]).toMatchObject({ kind: 'INSTANCE', priority: 100 });
    // Once a second: does the VIP answer, and who holds it (a SIGKILLed daemon leaves it behind).
    expect(run.vips.length, 'VIP samples (they need ping: apt-get install iputils-ping)').toBeGreaterThan(8);
    expect(run.vips.filter((v) => v.at < 1 * S).every((v) => !v.reachable && v.holders.length === 0)).toBe(true);
    const held = run.vips.filter((v) => v.at > 4.9 * S && v.at < 6 * S);
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((v) => v.reachable && v.holders.join() === 'lb1')).toBe(true);
    expect(run.vips.at(-1)).toMatchObject({ reachable: true, holders: ['lb1', 'lb2'] });
  }, 40_000);

  it('a partition makes both MASTER; healing leaves one', async () => {
    const s = scenario(
      'partition',
      pair(),
      [
        { at: 5 * S, kind: 'partition', segment: 'lan', groups: [['lb1'], ['lb2']] },
        { at: 13 * S, kind: 'heal', segment: 'lan' },
      ],
      15 * S,
    );
    const { run } = await runClean(s);
    const ts = run.transitions;
    expect(run.faults.map((f) => f.text)).toEqual(['partition lan: [lb1] | [lb2]', 'heal lan']);
    const split = firstTo(ts, 'lb2', 'MASTER', run.faults[0].at);
    expect(split).toBeDefined();
    expect(split!.at).toBeLessThan(run.faults[1].at);
    // The partition is timed when the ports had moved, the moment the lab began it kept: lb2
    // heard nothing lb1 sent after it, so it took over one Master_Down_Interval (3.61 s) after
    // lb1's last advert before it (the daemon's log line and start-up noise aside).
    const cut = run.faults[0];
    expect(cut.requestedAt).toBeDefined();
    expect(cut.requestedAt!).toBeGreaterThanOrEqual(5 * S);
    expect(cut.at).toBeGreaterThanOrEqual(cut.requestedAt!);
    const last = run.adverts!.filter((a) => a.node === 'lb1' && a.at <= cut.at).at(-1)!;
    expect(split!.at - last.at).toBeGreaterThan((3 + 156 / 256) * S - 50_000);
    expect(split!.at - last.at).toBeLessThan((3 + 156 / 256) * S + 500_000);
    expect(stateAt(ts, 'lb1', 12.9 * S)).toBe('MASTER');
    expect(stateAt(ts, 'lb2', 12.9 * S)).toBe('MASTER');
    // The groups are cut off from each other, not from the rest of the segment (the VIP probe).
    // From a second after the split (lb2's `ip addr add` follows its transition), both hold the
    // VIP. Both also answer ARP for it, so one ping may be lost while the prober's entry flips:
    // most samples, not every one, must get an answer.
    const during = run.vips.filter((v) => v.at > split!.at + S && v.at < run.faults[1].at);
    expect(during.length, 'VIP samples (they need ping: apt-get install iputils-ping)').toBeGreaterThan(1);
    expect(during.map((v) => v.holders.join())).toEqual(during.map(() => 'lb1,lb2'));
    expect(during.filter((v) => v.reachable).length).toBeGreaterThanOrEqual(during.length - 1);
    // Healed: lb2 hears the higher priority and steps down. The heal's time is when its `ip`
    // command returned (66 ms after the request in one run), and the ports may have moved before
    // that: lb2's advert crossed, lb1 answered it at once, and lb2 was BACKUP 9 ms before the
    // return. So the step down is looked for from the request on.
    const healed = run.faults[1];
    expect(healed.requestedAt).toBeDefined();
    const back = firstTo(ts, 'lb2', 'BACKUP', healed.requestedAt);
    expect(back).toBeDefined();
    expect(back!.at - healed.requestedAt!).toBeLessThan(1.5 * S);
    expect(stateAt(ts, 'lb1', 15 * S)).toBe('MASTER');
    expect(stateAt(ts, 'lb2', 15 * S)).toBe('BACKUP');
  }, 40_000);

  it('a tracked script that fails moves mastership', async () => {
    const script = `vrrp_script chk {
    script "/bin/false"
    interval 1
    fall 1
    rise 1
    weight -60
}`;
    const s = scenario(
      'script',
      [
        { name: 'lb1', text: conf({ id: 'lb1', priority: 150, state: 'MASTER', extra: script, inInstance: '    track_script {\n        chk\n    }' }) },
        { name: 'lb2', text: conf({ id: 'lb2', priority: 100 }) },
      ],
      [{ at: 5 * S, kind: 'script', node: 'lb1', script: 'chk', ok: false }],
      11 * S,
    );
    const { run } = await runClean(s);
    const ts = run.transitions;
    // /bin/false was replaced by the lab's script, which succeeds until the fault.
    expect(stateAt(ts, 'lb1', 4.9 * S)).toBe('MASTER');
    const takeover = firstTo(ts, 'lb2', 'MASTER', run.faults[0].at);
    expect(takeover).toBeDefined();
    expect(takeover!.at - run.faults[0].at).toBeLessThan(5.5 * S);
    const down = firstTo(ts, 'lb1', 'BACKUP', run.faults[0].at);
    expect(down).toBeDefined();
    expect(down!.priority).toBe(90);
    const fell = run.priorities.find((p) => p.node === 'lb1' && p.at > run.faults[0].at);
    expect(fell).toMatchObject({ instance: 'VI_1', priority: 90 });
    expect(fell!.at - run.faults[0].at).toBeLessThan(1.5 * S);
    expect(run.notifies.filter((x) => x.node === 'lb1' && x.at >= run.faults[0].at).map((x) => `${x.state} ${x.priority}`)).toEqual(['BACKUP 90']);
  }, 40_000);

  it.skipIf(!kaCap.ok)(
    'a mixed pair: the real keepalived takes over from our killed daemon',
    async () => {
      const s = scenario('mixed', pair('keepalived', ['ours', 'real']), [{ at: 5 * S, kind: 'kill', node: 'ours' }], 10 * S);
      const { run } = await runClean(s);
      const ts = run.transitions;
      expect(run.nodes.map((n) => n.impl)).toEqual(['keepalived-ts', 'keepalived']);
      expect(stateAt(ts, 'ours', 4.9 * S)).toBe('MASTER');
      expect(stateAt(ts, 'real', 4.9 * S)).toBe('BACKUP');
      const takeover = firstTo(ts, 'real', 'MASTER', run.faults[0].at);
      expect(takeover).toBeDefined();
      expect(takeover!.at - run.faults[0].at).toBeLessThan((3 + 156 / 256 + 0.5) * S);
      expect(takeover!.priority).toBe(100);
      // keepalived ran the lab's notify script too.
      const n = run.notifies.filter((x) => x.node === 'real');
      expect(n[0].state).toBe('BACKUP');
      expect(n.filter((x) => x.at >= run.faults[0].at).map((x) => `${x.state} ${x.priority}`)).toEqual(['MASTER 100']);
    },
    40_000,
  );

  it.skipIf(!kaCap.ok)(
    "a real keepalived's graceful stop is timed on the wire, at its priority 0: no split brain that never happened",
    async () => {
      const kaFirst = [
        { name: 'real', impl: 'keepalived' as const, text: conf({ id: 'real', priority: 150, state: 'MASTER' }) },
        { name: 'ours', text: conf({ id: 'ours', priority: 100 }) },
      ];
      const s = scenario('ka-stop', kaFirst, [{ at: 5 * S, kind: 'stop', node: 'real' }], 8 * S);
      const { run } = await runClean(s);
      const stop = run.faults[0];
      // Both daemons' starts are on the record, unclamped, with their spread; both waited at
      // their start gates (keepalived behind a shell, ours in itself) until zero.
      const starts = run.start!.nodes.map((n) => n.at);
      expect(run.start!.spread).toBe(Math.max(...starts) - Math.min(...starts));
      expectGated(run, ['ours', 'real']);
      // Every node's adverts are on the record: keepalived's at 150 while MASTER, then priority 0.
      const real = run.adverts!.filter((a) => a.node === 'real' && a.vrid === 51);
      expect(real.filter((a) => a.at < stop.at && a.priority === 150).length).toBeGreaterThanOrEqual(1);
      const zero = real.find((a) => a.priority === 0 && a.at >= stop.at)!;
      expect(zero).toBeDefined();
      const stopped = firstTo(run.transitions, 'real', 'STOPPED', stop.at)!;
      expect(stopped.at).toBe(zero.at);
      expect(stopped.reason).toMatch(/^stopped \(SIGTERM\): priority 0 sent at \d+\.\d{3}s, the process exited at \d+\.\d{3}s$/);
      // Ours takes over within its skew time of the priority 0, after keepalived stopped: no overlap.
      const takeover = firstTo(run.transitions, 'ours', 'MASTER', stop.at)!;
      expect(takeover.at).toBeGreaterThanOrEqual(stopped.at);
      expect(takeover.at - zero.at).toBeLessThan(1 * S);
      // (At start-up the two may overlap: that is the start's business, not the stop's.)
      expect(finish(s, run).splitBrains.filter((b) => b.end === null || b.end > stop.at)).toEqual([]);
      // And ours advertises from then on.
      expect(run.adverts!.some((a) => a.node === 'ours' && a.priority === 100 && a.at >= takeover.at - 50_000)).toBe(true);
    },
    40_000,
  );

  it('serves clients through the VIP: requests per second, by real server, across a failover', async () => {
    const vs = `virtual_server 10.77.1.100 80 {
    delay_loop 1
    lvs_sched rr
    protocol TCP
    real_server 10.77.1.11 8080 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
    real_server 10.77.1.12 8080 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}`;
    const s = scenario(
      'clients',
      [
        { name: 'lb1', text: conf({ id: 'lb1', priority: 150, state: 'MASTER' }) + vs },
        { name: 'lb2', text: conf({ id: 'lb2', priority: 100 }) + vs },
      ],
      [
        { at: 6 * S, kind: 'server', server: 'web2', up: false },
        // Late enough for both checkers to take web2 out first: delay_loop 1, one retry 1 s later.
        { at: 10 * S, kind: 'kill', node: 'lb1' },
      ],
      16 * S,
    );
    s.realServers = [
      { name: 'web1', segment: 'lan', address: '10.77.1.11', port: 8080, body: 'one', up: true, span },
      { name: 'web2', segment: 'lan', address: '10.77.1.12', port: 8080, body: 'two', up: true, span },
    ];
    s.clients = [{ name: 'users', segment: 'lan', target: { address: '10.77.1.100', port: 80 }, rate: 5, span }];
    const { run } = await runClean(s);
    const sec = (n: number) => run.requests.find((r) => r.second === n);
    expect(run.requests.every((r) => r.client === 'users')).toBe(true);
    // The client starts once the VIP is announced; then both real servers answer, in turn.
    const master = firstTo(run.transitions, 'lb1', 'MASTER')!;
    // (its first request leaves one interval, plus Node's start-up, after that)
    expect(run.requests[0].second * S).toBeGreaterThanOrEqual(Math.floor(master.at / S) * S);
    expect(run.requests[0].second * S).toBeLessThan(master.at + S);
    // 5 a second; on a busy box one may start just across a second's edge.
    expect(sec(5)!.failed).toBe(0);
    expect(sec(5)!.ok).toBeGreaterThanOrEqual(4);
    expect(sec(5)!.byServer.web1 + sec(5)!.byServer.web2).toBe(sec(5)!.ok);
    expect(sec(5)!.byServer.web2).toBeGreaterThan(0);
    // web2 down: requests sent to it fail until both checkers take it out; only web1 answers.
    for (const node of ['lb1', 'lb2']) {
      const out = run.servers.find((x) => x.node === node && x.server === 'web2' && !x.inService);
      expect(out?.at).toBeGreaterThan(6 * S);
      expect(out?.reason).toMatch(/TCP_CHECK failed/);
    }
    expect(run.requests.filter((r) => r.second >= 6).every((r) => r.byServer.web2 === undefined)).toBe(true);
    // The kill: requests fail until lb2 has the VIP, then succeed through lb2.
    const takeover = firstTo(run.transitions, 'lb2', 'MASTER', run.faults[1].at)!;
    expect(takeover).toBeDefined();
    const failed = run.requests.filter((r) => r.second >= 10).reduce((n, r) => n + r.failed, 0);
    expect(failed).toBeGreaterThan(5);
    // Failures by reason: the killed lb1 still has the VIP, so its kernel refuses until ARP moves on;
    // a request in flight at the kill is reset when the kernel closes the dead process's sockets.
    for (const r of run.requests) expect(Object.values(r.failures!).reduce((a, b) => a + b, 0)).toBe(r.failed);
    const reasons = new Set(run.requests.filter((r) => r.second >= 10).flatMap((r) => Object.keys(r.failures!)));
    const expected = /^connect ECONNREFUSED 10\.77\.1\.100:80$|^no answer within 800 ms$|^socket hang up$|^read ECONNRESET$/;
    expect([...reasons].filter((x) => !expected.test(x))).toEqual([]);
    expect([...reasons].some((x) => /ECONNREFUSED|no answer/.test(x))).toBe(true);
    // From the second after next on (the client's ARP entry follows lb2's gratuitous ARPs).
    const after = Math.ceil(takeover.at / S) + 2;
    expect(run.requests.filter((r) => r.second >= after && r.second < 16).every((r) => r.ok === 5 && r.failed === 0)).toBe(true);
  }, 40_000);

  it.skipIf(!kaCap.ok)(
    'stop, start and interface faults, with keepalived as the peer',
    async () => {
      const s = scenario(
        'stop-start',
        pair('keepalived'),
        [
          { at: 5 * S, kind: 'stop', node: 'lb1' },
          { at: 6.5 * S, kind: 'start', node: 'lb1' },
          { at: 12 * S, kind: 'interface', node: 'lb2', interface: 'eth0', up: false },
        ],
        13.5 * S,
      );
      const { run } = await runClean(s);
      const ts = run.transitions;
      const [stop, start, down] = run.faults;
      // SIGTERM: our daemon steps down with priority 0, so keepalived takes over at once (skew time).
      // Ours logs no state at its stop, as keepalived: MASTER until the stop, timed at its priority 0.
      const stopped = firstTo(ts, 'lb1', 'STOPPED', stop.at)!;
      expect(stopped.from).toBe('MASTER');
      expect(stopped.reason).toMatch(/^stopped \(SIGTERM\): priority 0 sent at /);
      expect(stopped.at).toBeLessThan(start.at);
      const takeover = firstTo(ts, 'lb2', 'MASTER', stop.at)!;
      expect(takeover.at - stop.at).toBeLessThan(1.5 * S);
      expect(run.notifies.filter((x) => x.node === 'lb1' && x.at >= stop.at && x.at < start.at).map((x) => x.state)).toEqual(['STOP']);
      // Started again: BACKUP first, then it preempts keepalived.
      const again = ts.filter((x) => x.node === 'lb1' && x.at >= start.at).map((x) => `${x.from}>${x.to}`);
      expect(again).toEqual(['STOPPED>BACKUP', 'BACKUP>MASTER']);
      // The link goes down between the lab's request and `ip` returning (`at`, an upper bound):
      // keepalived may notice it before `at`, so look from the request on.
      const asked = down.requestedAt!;
      expect(asked).toBeLessThanOrEqual(down.at);
      expect(stateAt(ts, 'lb2', asked)).toBe('BACKUP');
      // keepalived notices its link going down.
      const fault = firstTo(ts, 'lb2', 'FAULT', asked)!;
      expect(fault.reason).toMatch(/eth0/);
      expect(fault.at - asked).toBeLessThan(1 * S);
    },
    40_000,
  );

  it.skipIf(!kaCap.ok)(
    'track_file values and a reload (SIGHUP) of keepalived move mastership',
    async () => {
      const fast = (c: string) => c.replace('advert_int 1', 'advert_int 0.2').replace('router_id', 'vrrp_version 3\n    router_id');
      const maint = 'track_file maint {\n    file /etc/keepalived/maint\n    weight -100\n}';
      const lb2 = fast(conf({ id: 'lb2', priority: 100 }));
      const s = scenario(
        'file-reload',
        [
          { name: 'lb1', text: fast(conf({ id: 'lb1', priority: 150, state: 'MASTER', extra: maint, inInstance: '    track_file {\n        maint\n    }' })) },
          { name: 'lb2', impl: 'keepalived', text: lb2 },
        ],
        [
          { at: 3 * S, kind: 'file', node: 'lb1', file: 'maint', value: 1 },
          { at: 5 * S, kind: 'reload', node: 'lb2', config: { file: 'lb2-low.conf', text: lb2.replace('priority 100', 'priority 40') } },
          { at: 7 * S, kind: 'file', node: 'lb1', file: '/etc/keepalived/maint', value: 0 },
        ],
        8.5 * S,
      );
      const { run } = await runClean(s);
      const ts = run.transitions;
      const [file, reload, clear] = run.faults;
      expect(stateAt(ts, 'lb1', file.at)).toBe('MASTER');
      // 150 - 100 = 50 < 100: keepalived takes over.
      const down = firstTo(ts, 'lb1', 'BACKUP', file.at)!;
      expect(down.priority).toBe(50);
      expect(run.priorities.filter((p) => p.node === 'lb1').map((p) => p.priority)).toEqual([50, 150]);
      expect(firstTo(ts, 'lb2', 'MASTER', file.at)!.at).toBeLessThan(reload.at);
      // Reloaded at priority 40 < 50: ours preempts back.
      const back = firstTo(ts, 'lb1', 'MASTER', reload.at)!;
      expect(back.at - reload.at).toBeLessThan(1.5 * S);
      expect(back.priority).toBe(50);
      expect(firstTo(ts, 'lb2', 'BACKUP', reload.at)!.priority).toBe(40);
      expect(stateAt(ts, 'lb2', clear.at)).toBe('BACKUP');
      expect(run.notifies.filter((x) => x.node === 'lb2' && x.at > reload.at && x.at < clear.at).map((x) => `${x.state} ${x.priority}`)).toEqual(['BACKUP 40']);
    },
    40_000,
  );

  it('a link fault needs netem, and says so when it is missing', async () => {
    const s = scenario('link', pair(), [{ at: 5 * S, kind: 'link', node: 'lb1', segment: 'lan', loss: 1 }], 10 * S);
    if (!netemCapability().ok) {
      await expect(runNetns(s)).rejects.toThrow(/the link fault at netns.test.ts:1 needs tc netem, but the netem qdisc is not available/);
      return;
    }
    const { run } = await runClean(s);
    expect(firstTo(run.transitions, 'lb2', 'MASTER', run.faults[0].at)).toBeDefined();
  }, 40_000);

  describe('a lab process that dies', () => {
    let bundle = '';
    let dir = '';
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'netns-lab-test-'));
      bundle = join(dir, 'lab.mjs');
      const { build } = await import('esbuild');
      const entry = `import { runNetns } from './src/lab/netns/index.ts';
        await runNetns(JSON.parse(process.argv[2]), { log: (l) => console.log(l), daemonBin: process.argv[3] });`;
      await build({
        stdin: { contents: entry, resolveDir: REPO, loader: 'ts' },
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile: bundle,
        logLevel: 'error',
      });
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** Start a lab in a child process; resolve with it and the lab's id once its daemons run. */
    async function startChild(): Promise<{ child: ChildProcess; id: string; exited: Promise<NodeJS.Signals | null> }> {
      const s = scenario(
        'dies',
        [{ name: 'lb1', text: conf({ id: 'lb1', priority: 100 }) }],
        [{ at: 1 * S, kind: 'interface', node: 'lb1', interface: 'eth0', up: true }],
        30 * S,
      );
      const child = spawn(process.execPath, [bundle, JSON.stringify(s), join(REPO, 'dist/keepalived-ts.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, sig) => r(sig)));
      let out = '';
      child.stdout.setEncoding('utf8');
      const id = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: string) => {
          out += d;
          const m = /netns: lab (\S+)[\s\S]*interface eth0 on lb1 up/.exec(out);
          if (m) resolve(m[1]);
        });
        void exited.then(() => reject(new Error(`the lab exited early:\n${out}`)));
      });
      return { child, id, exited };
    }

    it('SIGTERM: the lab removes its namespaces and processes before it goes', async () => {
      const { child, id, exited } = await startChild();
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).toContain(id);
      child.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM');
      expectNoLeftovers(id);
    }, 30_000);

    it('SIGKILL: the next lab sweeps what the dead one left', async () => {
      const { child, id, exited } = await startChild();
      child.kill('SIGKILL');
      await exited;
      expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).toContain(id);
      const next = NetnsHost.create();
      try {
        expectNoLeftovers(id);
      } finally {
        await next.teardown();
      }
    }, 30_000);
  });

  it('cleans up when the run fails part-way', async () => {
    const s = scenario(
      'failing',
      [{ name: 'lb1', text: conf({ id: 'lb1', priority: 100 }) }],
      [{ at: 1 * S, kind: 'script', node: 'lb1', script: 'nope', ok: false }],
      3 * S,
    );
    await expect(runClean(s)).rejects.toThrow(/lb1 has no vrrp_script nope/);
  }, 40_000);
});
