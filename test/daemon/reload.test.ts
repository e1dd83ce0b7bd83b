// SIGHUP in network namespaces beside the real keepalived (BACKUP at the lower priority):
// - VIPs added and removed by a reload change in place: `ip addr`, sampled every 100 ms, never
//   loses a kept VIP, ours never leaves MASTER and keepalived never becomes MASTER;
// - a reload naming a missing interface is refused as a whole: the old config keeps serving;
// - a reload adding a virtual_server on a port another process holds is refused as a whole, with
//   one line: no VIP of it added, the running virtual server keeps serving;
// - two quick SIGHUPs run one after the other: one set of trackers (vrrp_script runs counted);
// - a SIGHUP during a stop is dropped: nothing starts after "Stopped".
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopPair } from '../helpers/interop-pair.js';
import { netnsSkip, poll, REPO_ROOT, type Proc } from '../helpers/netns.js';

const skip = netnsSkip('reload tests', { keepalived: true });

const CLI = join(REPO_ROOT, 'dist/keepalived-ts.mjs');
const VIP1 = '10.99.62.100';
const VIP2 = '10.99.62.101';
const VIP3 = '10.99.62.102';

function conf(o: { prio: number; vips: string[]; ifname?: string; top?: string; inst?: string }): string {
  return `global_defs {
  enable_script_security
  script_user root
}
${o.top ?? ''}
vrrp_instance VI_1 {
  state BACKUP
  interface ${o.ifname ?? 'eth0'}
  virtual_router_id 62
  priority ${o.prio}
  advert_int 1
  ${o.inst ?? ''}
  virtual_ipaddress {
${o.vips.map((v) => `    ${v}/24`).join('\n')}
  }
}
`;
}

const since = (p: Proc, from: number): string =>
  p.lines
    .slice(from)
    .map((l) => l.text)
    .join('\n');

describe.skipIf(skip)('SIGHUP beside keepalived 2.2.7', () => {
  const pair = interopPair({ subnet: 62, vips: [VIP1, VIP2, VIP3], stopWith: { signal: 'SIGTERM', graceMs: 3000 } });

  const startOurs = (text: string, tag: string): { o: Proc; file: string } => {
    const o = pair.startOurs(text, tag, { env: { KEEPALIVED_TS_RUNTIME_DIR: join(pair.lab.dir, `rt-${tag}`) } });
    return { o, file: o.configFile };
  };
  /** Ours MASTER with the VIP, keepalived BACKUP without it. */
  const settle = async (o: Proc): Promise<void> => {
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    await poll(async () => ((await pair.hasVip(pair.ours)) && !(await pair.hasVip(pair.theirs))) || undefined, { timeoutMs: 5000, what: 'VIP on ours only' });
  };

  it('VIPs added and removed by a reload: no gap in the kept VIP, no change of master', async () => {
    const { lab, ours, theirs } = pair;
    // keepalived 2.2.7 drops adverts whose address count differs from its own ("received an
    // unexpected ip number count"): it has two VIPs too, and is reloaded right after ours.
    const k = pair.startKeepalived(conf({ prio: 100, vips: [VIP1, VIP2] }), 'vips');
    const { o, file } = startOurs(conf({ prio: 150, vips: [VIP1, VIP2] }), 'vips');
    await settle(o);
    await poll(async () => (await pair.hasVip(ours, VIP2)) || undefined, { timeoutMs: 3000, what: 'VIP2 on ours' });
    const fromK = k.lines.length;
    const fromO = o.lines.length;

    // 40 samples of eth0's addresses, 100 ms apart, around the reload.
    const sampler = lab.exec(
      ours,
      ['sh', '-c', 'for i in $(seq 1 40); do echo "S $(ip -4 -o addr show dev eth0 | grep -o "inet [0-9.]*" | tr "\\n" " ")"; sleep 0.1; done'],
      { timeoutMs: 20_000 },
    );
    await new Promise((r) => setTimeout(r, 1000));
    writeFileSync(file, conf({ prio: 150, vips: [VIP1, VIP3] }));
    await lab.exec(ours, ['kill', '-HUP', String(o.pid)]);
    await o.waitForLine(/Reload finished: 1 instance\(s\) kept as they were, 0 \(re\)started/, { timeoutMs: 5000, from: fromO });
    writeFileSync(k.configFile, conf({ prio: 100, vips: [VIP1, VIP3] }));
    await lab.exec(theirs, ['kill', '-HUP', String(k.pid)]);
    await k.waitForLine(/Reload complete/, { timeoutMs: 5000, from: fromK });
    const samples = (await sampler).stdout
      .split('\n')
      .filter((l) => l.startsWith('S '))
      .map((l) => l.split(' '));
    expect(samples.length).toBe(40);
    console.log(`samples of 40 (100 ms apart) without ${VIP1} during the reload: ${samples.filter((s) => !s.includes(VIP1)).length}`);
    expect(samples.filter((s) => !s.includes(VIP1))).toEqual([]);
    const firstWith3 = samples.findIndex((s) => s.includes(VIP3));
    const firstWithout2 = samples.findIndex((s) => !s.includes(VIP2));
    expect(samples[0]).toContain(VIP2);
    expect(firstWith3).toBeGreaterThan(0);
    expect(firstWithout2).toBeGreaterThan(0);
    expect(samples.slice(firstWith3).filter((s) => !s.includes(VIP3))).toEqual([]);
    expect(samples.slice(firstWithout2).filter((s) => s.includes(VIP2))).toEqual([]);

    // Still MASTER; keepalived hears the adverts with the new list and stays BACKUP.
    await new Promise((r) => setTimeout(r, 4500));
    expect(since(o, fromO)).not.toMatch(/Entering/);
    expect(since(k, fromK)).not.toMatch(/Entering MASTER STATE/);
    expect(await pair.hasVip(theirs)).toBe(false);
    await pair.stop();
  }, 60_000);

  it('a reload naming a missing interface is refused; the running config keeps serving', async () => {
    const { lab, ours } = pair;
    const k = pair.startKeepalived(conf({ prio: 100, vips: [VIP1] }), 'noif');
    const { o, file } = startOurs(conf({ prio: 150, vips: [VIP1] }), 'noif');
    await settle(o);
    const fromK = k.lines.length;
    const fromO = o.lines.length;
    writeFileSync(file, conf({ prio: 150, vips: [VIP1, VIP2], ifname: 'eth9' }));
    await lab.exec(ours, ['kill', '-HUP', String(o.pid)]);
    await o.waitForLine(/Reload of .* refused; keeping the running configuration/, { timeoutMs: 5000, from: fromO });
    expect(since(o, fromO)).toMatch(/interface eth9 for vrrp_instance VI_1 doesn't exist/);
    // Longer than keepalived's Master_Down_Interval (3.61 s): our adverts go on.
    await new Promise((r) => setTimeout(r, 4500));
    expect(o.running).toBe(true);
    expect(await pair.hasVip(ours)).toBe(true);
    expect(await pair.hasVip(ours, VIP2)).toBe(false);
    expect(since(o, fromO)).not.toMatch(/Entering|Reload finished/);
    expect(since(k, fromK)).not.toMatch(/Entering MASTER STATE/);
    await pair.stop();
  }, 60_000);

  it('a reload adding a virtual server on a port another process holds is refused as a whole', async () => {
    const { lab, ours, theirs } = pair;
    // Ports 18653..18655 are this test's only.
    const [LB, RS, HELD] = [18653, 18654, 18655];
    pair.spawn(theirs, [process.execPath, '-e', `require('node:http').createServer((q, r) => r.end('real')).listen(${RS}, '${theirs.address}')`], {
      name: 'rs-held',
    });
    const holder = pair.spawn(ours, [process.execPath, '-e', `require('node:net').createServer().listen(${HELD}, () => console.log('holding'))`], {
      name: 'holder',
    });
    await holder.waitForLine(/holding/, { timeoutMs: 10_000 });
    const vsBlock = (port: number): string => `virtual_server ${VIP1} ${port} {
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server ${theirs.address} ${RS} {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;
    const file = join(lab.dir, 'ours-held.conf');
    writeFileSync(file, conf({ prio: 150, vips: [VIP1], top: vsBlock(LB) }));
    const o = pair.spawn(
      ours,
      [
        process.execPath,
        CLI,
        '-n',
        '-l',
        '-f',
        file,
        '-p',
        join(lab.dir, 'held.pid'),
        '-r',
        join(lab.dir, 'held-vrrp.pid'),
        '-c',
        join(lab.dir, 'held-chk.pid'),
      ],
      {
        name: 'ours-held',
        env: { ...process.env, KEEPALIVED_TS_RUNTIME_DIR: join(lab.dir, 'rt-held') },
      },
    );
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    await o.waitForLine(new RegExp(`virtual server TCP 10\\.99\\.62\\.100:${LB} ready`), { timeoutMs: 10_000 });
    const get = async (): Promise<string> =>
      (
        await lab.exec(
          theirs,
          [
            process.execPath,
            '-e',
            `require('node:http').get('http://${VIP1}:${LB}/', (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => console.log(b)); }).on('error', (e) => console.log(e.code))`,
          ],
          { timeoutMs: 10_000 },
        )
      ).stdout.trim();
    await poll(async () => (await get()) === 'real' || undefined, { timeoutMs: 10_000, what: 'the virtual server to answer' });

    // A second VIP and a virtual server on the held port: refused as a whole, in one line.
    const fromO = o.lines.length;
    writeFileSync(file, conf({ prio: 150, vips: [VIP1, VIP2], top: vsBlock(LB) + vsBlock(HELD) }));
    await lab.exec(ours, ['kill', '-HUP', String(o.pid)]);
    await o.waitForLine(/Reload of .* refused; keeping the running configuration/, { timeoutMs: 10_000, from: fromO });
    await new Promise((r) => setTimeout(r, 1500));
    const out = since(o, fromO);
    const refusedLines = out.split('\n').filter((l) => /refused/.test(l));
    expect(refusedLines).toHaveLength(1);
    expect(refusedLines[0]).toMatch(new RegExp(`ours-held\\.conf:\\d+:\\d+: error: virtual_server TCP 10\\.99\\.62\\.100:${HELD} cannot listen: .*EADDRINUSE`));
    expect(out).not.toMatch(/Reloading|Reload finished|Entering/);
    expect(o.running).toBe(true);
    expect(await pair.hasVip(ours)).toBe(true);
    expect(await pair.hasVip(ours, VIP2)).toBe(false);
    expect(await get()).toBe('real');

    // The port freed, the same reload applies.
    await holder.kill('SIGTERM', 3000);
    const fromOk = o.lines.length;
    await lab.exec(ours, ['kill', '-HUP', String(o.pid)]);
    await o.waitForLine(/Reload finished/, { timeoutMs: 10_000, from: fromOk });
    await o.waitForLine(new RegExp(`virtual server TCP 10\\.99\\.62\\.100:${HELD} ready`), { timeoutMs: 5000, from: fromOk });
    await poll(async () => (await pair.hasVip(ours, VIP2)) || undefined, { timeoutMs: 5000, what: 'VIP2 on ours' });
    expect(await get()).toBe('real');
    await pair.stop();
  }, 90_000);

  it('two quick SIGHUPs run one after the other: one set of trackers; a SIGHUP during a stop starts nothing', async () => {
    const { lab, ours } = pair;
    const runs = join(lab.dir, 'runs');
    writeFileSync(runs, '');
    const top = `vrrp_script chk {\n  script "/bin/sh -c 'date +%s.%N >> ${runs}'"\n  interval 1\n}`;
    // The notify script makes the stop last about a second (it waits for STOP notifies).
    const inst = `track_script {\n    chk\n  }\n  notify "/bin/sh -c 'sleep 1'"`;
    const text = conf({ prio: 150, vips: [VIP1], top, inst });
    const { o, file } = startOurs(text, 'hup2');
    await o.waitForLine(/Entering MASTER STATE/, { timeoutMs: 10_000 });
    const fromO = o.lines.length;
    // The second SIGHUP comes while the first reload works (the VIP list changes, so there is
    // `ip` work to wait for). Standard signals do not queue: two sent together would merge.
    writeFileSync(file, text.replace(`${VIP1}/24`, `${VIP2}/24`));
    await lab.exec(ours, ['sh', '-c', `kill -HUP ${o.pid}; sleep 0.003; kill -HUP ${o.pid}`]);
    await o.waitForLine(/Reload finished/, { timeoutMs: 5000, from: fromO });
    await new Promise((r) => setTimeout(r, 500));
    const reloads = since(o, fromO).match(/Reloading/g)?.length ?? 0;
    console.log(`${reloads} reload(s) ran; ${/Reload request queued/.test(since(o, fromO)) ? 'the second was queued' : 'none was queued'}`);
    expect(since(o, fromO).match(/Reload finished/g)?.length).toBe(reloads);
    // One run per second from one set of trackers (two sets would give about twice as many).
    await new Promise((r) => setTimeout(r, 1500));
    const count = (): number => readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
    const before = count();
    await new Promise((r) => setTimeout(r, 5000));
    const inFive = count() - before;
    console.log(`vrrp_script runs in 5 s after two quick SIGHUPs: ${inFive}`);
    expect(inFive).toBeGreaterThanOrEqual(3);
    expect(inFive).toBeLessThanOrEqual(6);

    // SIGHUP while stopping: the reload is dropped, nothing runs after "Stopped". (Sent together,
    // the kernel would hand SIGHUP over first: the lower number.)
    const fromStop = o.lines.length;
    await lab.exec(ours, ['kill', '-TERM', String(o.pid)]);
    await o.waitForLine(/Received SIGTERM: stopping/, { timeoutMs: 3000, from: fromStop });
    await lab.exec(ours, ['kill', '-HUP', String(o.pid)]);
    await o.exited;
    expect(o.exitCode).toBe(0);
    const out = since(o, fromStop);
    expect(out).toMatch(/Reload request ignored: stopping/);
    expect(out).not.toMatch(/Reloading|Reload finished/);
    const after = out.slice(out.indexOf('"msg":"Stopped"'));
    expect(after.split('\n').length).toBe(1);
    expect(await pair.hasVip(ours, VIP2)).toBe(false);
    const atExit = count();
    await new Promise((r) => setTimeout(r, 2500));
    expect(count()).toBe(atExit);
  }, 60_000);
});
