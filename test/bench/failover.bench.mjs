// Failover and advert-timing benchmark: keepalived-ts beside the real keepalived (2.2.7 here),
// both measured in the same run, in network namespaces (test/helpers/netns.ts, bundled on the fly).
//
// 1. Takeover as BACKUP. One keepalived MASTER (priority 255, two instances: VRID A and VRID B)
//    is killed with SIGKILL; keepalived-ts is the BACKUP (priority 100) of VRID A on one host and
//    keepalived the BACKUP (priority 100) of VRID B on another, so every kill gives one paired
//    sample of each. The kill moment is random within the advert interval. Figures from the kill:
//    the "Entering MASTER STATE" line, the VIP present on the backup (`ip -4 addr` polled every
//    10 ms), and the backup's first advert on the wire (tcpdump); and, independent of the kill
//    phase, last MASTER advert -> first BACKUP advert (RFC: 3 x advert_int + skew = 3609 ms).
//    VRRPv2 advert_int 1 (keepalived's default), then VRRPv3 advert_int 0.1 with half the runs.
// 2. Advert jitter of a MASTER: each daemon alone in its VRID on its own host, adverts captured
//    with tcpdump on its bridge port; |gap - advert_int| per consecutive pair, idle and then with
//    one CPU burner per core (`node -e "for(;;){}"`). All four masters (ours/keepalived x
//    v2 1 s / v3 0.1 s) run in the same windows, so both see the same machine.
//
// Env: BENCH_FAILOVER_RUNS (default 20), BENCH_FAILOVER_JITTER_S (seconds per window, default 20).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ADVERT_RE, CLK_TCK, cpuTicks, f0, f2, loadNetns, nowMs, pad, pct, readPid, ROOT, sleep } from './common.mjs';

const CLI = join(ROOT, 'dist/keepalived-ts.mjs');
const RUNS = Math.max(1, Number(process.env.BENCH_FAILOVER_RUNS ?? 20));
const JITTER_S = Math.max(3, Number(process.env.BENCH_FAILOVER_JITTER_S ?? 20));

// ---------- statistics ----------
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => {
  if (!xs.length) return NaN;
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (xs) => (xs.length ? { n: xs.length, min: Math.min(...xs), median: median(xs), p90: pct(xs, 90), max: Math.max(...xs) } : { n: 0 });
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);

function hasTcpdump() {
  return spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).error === undefined;
}

// ---------- configs ----------
function instance(o) {
  const v3 = o.version === 3;
  return `vrrp_instance ${o.name} {
  state ${o.state ?? 'BACKUP'}
  interface eth0
  virtual_router_id ${o.vrid}
  priority ${o.prio}
  advert_int ${o.advert}
  ${v3 ? 'version 3' : ''}
  ${v3 ? '' : 'authentication {\n    auth_type PASS\n    auth_pass bench\n  }'}
  virtual_ipaddress {
    ${o.vip}/24
  }
}
`;
}
const conf = (routerId, instances) => `global_defs {\n  router_id ${routerId}\n}\n${instances.map(instance).join('')}`;

// ---------- tcpdump ----------
function adverts(proc) {
  const out = [];
  for (const l of proc.lines) {
    const m = ADVERT_RE.exec(l.text);
    if (m) out.push({ t: Number(m[1]) * 1000, src: m[2], version: Number(m[3]), vrid: Number(m[4]), prio: Number(m[5]) });
  }
  return out;
}
function startTcpdump(lab, port, extra = []) {
  return lab.spawn(lab.bridgeNs, ['tcpdump', '-i', port, '-nn', '-tt', '-l', '--immediate-mode', ...extra, 'proto', '112'], { name: `tcpdump-${port}` });
}

// ---------- process helpers ----------
const signal = (pid, sig) => {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
};

// ---------- experiment 1: takeover as BACKUP ----------
async function failover(netns, { version, advert, runs, tcpdump }) {
  const lab = await netns.createLab({ hosts: 3, subnet: version === 3 ? 83 : 82 });
  try {
    const [hm, ho, hk] = lab.hosts;
    const intervalMs = advert * 1000;
    const vipOurs = `10.99.${version === 3 ? 83 : 82}.100`;
    const vipKa = `10.99.${version === 3 ? 83 : 82}.101`;
    const vridOurs = version === 3 ? 53 : 51;
    const vridKa = version === 3 ? 54 : 52;
    const common = { version, advert };
    const masterConf = conf('master', [
      { ...common, name: 'VI_OURS', state: 'MASTER', vrid: vridOurs, prio: 255, vip: vipOurs },
      { ...common, name: 'VI_KA', state: 'MASTER', vrid: vridKa, prio: 255, vip: vipKa },
    ]);
    const dump = tcpdump ? startTcpdump(lab, 'p1') : undefined;
    if (dump) await sleep(300);
    let master = lab.keepalived(hm, masterConf, { name: 'master-0' });
    const masterUp = async (m) => {
      for (const n of ['VI_OURS', 'VI_KA']) await m.waitForLine(new RegExp(`\\(${n}\\) Entering MASTER STATE`), { timeoutMs: 10_000 });
    };
    await masterUp(master);

    const oursConfFile = join(lab.dir, 'ours.conf');
    writeFileSync(oursConfFile, conf('ours', [{ ...common, name: 'VI_1', vrid: vridOurs, prio: 100, vip: vipOurs }]));
    const ours = lab.spawn(
      ho,
      [process.execPath, CLI, '-n', '-l', '-P', '-f', oursConfFile, '-p', join(lab.dir, 'ours.pid'), '-r', join(lab.dir, 'ours-vrrp.pid')],
      { name: 'ours' },
    );
    const ka = lab.keepalived(hk, conf('ka', [{ ...common, name: 'VI_1', vrid: vridKa, prio: 100, vip: vipKa }]), { name: 'ka-backup' });
    const backups = [
      { who: 'ours', proc: ours, host: ho, vip: vipOurs, vrid: vridOurs, samples: [] },
      { who: 'keepalived', proc: ka, host: hk, vip: vipKa, vrid: vridKa, samples: [] },
    ];
    for (const b of backups) await b.proc.waitForLine(/Entering BACKUP STATE/, { timeoutMs: 10_000 });

    const hasVip = async (b) => (await netns.run('ip', ['-n', b.host.ns, '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(`inet ${b.vip}/`);
    // Earliest legal takeover is 3 x advert_int + skew - advert_int after the kill; polling
    // starts a little before that so 40 `ip` processes a second do not load the machine for the
    // whole wait.
    const pollFrom = 2 * intervalMs;

    for (let i = 0; i < runs; i++) {
      // Steady state, then a kill at a random phase of the advert interval.
      await sleep(intervalMs * (1 + Math.random()) + 50);
      const froms = backups.map((b) => b.proc.lines.length);
      const parent = master.pid;
      const child = await readPid(master.vrrpPidFile);
      // Freeze the parent first so it cannot respawn the VRRP child; SIGKILL the child (the advert
      // sender: no priority-0 advert), then the parent.
      signal(parent, 'SIGSTOP');
      const killedAt = nowMs();
      signal(child, 'SIGKILL');
      signal(parent, 'SIGKILL');

      const measured = await Promise.all(
        backups.map(async (b, k) => {
          const lineP = b.proc.waitForLine(/Entering MASTER STATE/, { from: froms[k], timeoutMs: 4 * intervalMs + 5000 });
          const vipP = (async () => {
            await sleep(Math.max(0, killedAt + pollFrom - nowMs()));
            const deadline = killedAt + 4 * intervalMs + 5000;
            for (;;) {
              const t0 = nowMs();
              if (await hasVip(b)) return nowMs();
              if (t0 > deadline) return NaN;
              await sleep(Math.max(0, 10 - (nowMs() - t0)));
            }
          })();
          const [line, vipAt] = await Promise.all([lineP, vipP]);
          // keepalived-ts logs JSON with its own `time` (ms): when the down timer fired, before the pipe.
          let logged = NaN;
          try {
            logged = JSON.parse(line.text).time - killedAt;
          } catch {
            /* keepalived's text line */
          }
          return { line: line.at - killedAt, vip: vipAt - killedAt, logged };
        }),
      );
      await master.exited;
      measured.forEach((m, k) => backups[k].samples.push({ killedAt, ...m }));

      // Next round: a fresh MASTER (priority 255 enters MASTER at once), both backups yield.
      if (i + 1 < runs) {
        const froms2 = backups.map((b) => b.proc.lines.length);
        master = lab.keepalived(hm, masterConf, { name: `master-${i + 1}` });
        await masterUp(master);
        await Promise.all(backups.map((b, k) => b.proc.waitForLine(/Entering BACKUP STATE/, { from: froms2[k], timeoutMs: 10_000 })));
        await netns.poll(async () => !(await hasVip(backups[0])) && !(await hasVip(backups[1])), {
          timeoutMs: 3000,
          intervalMs: 20,
          what: 'VIPs gone from the backups',
        });
      }
    }

    // Wire figures from the capture (tcpdump timestamps, same clock as Date.now()).
    if (dump) {
      await sleep(300);
      const ads = adverts(dump);
      for (const b of backups) {
        for (const s of b.samples) {
          const lastMaster = ads.filter((a) => a.src === hm.address && a.vrid === b.vrid && a.t <= s.killedAt + 1).at(-1);
          const firstBackup = ads.find((a) => a.src === b.host.address && a.vrid === b.vrid && a.t > s.killedAt);
          s.wire = firstBackup ? firstBackup.t - s.killedAt : NaN;
          s.phase = lastMaster ? s.killedAt - lastMaster.t : NaN;
          s.fromLastAdvert = firstBackup && lastMaster ? firstBackup.t - lastMaster.t : NaN;
          s.loggedFromLastAdvert = lastMaster ? s.logged + s.killedAt - lastMaster.t : NaN;
        }
      }
    }
    const result = { version, advertInt: advert, runs, expectedMasterDownMs: 3 * intervalMs + ((256 - 100) * (version === 3 ? intervalMs : 1000)) / 256 };
    for (const b of backups) {
      const pick = (k) => b.samples.map((s) => s[k]).filter(Number.isFinite);
      result[b.who] = {
        logLine: summary(pick('line')),
        vip: summary(pick('vip')),
        wire: summary(pick('wire')),
        fromLastAdvert: summary(pick('fromLastAdvert')),
        killPhase: summary(pick('phase')),
        loggedFromLastAdvert: summary(pick('loggedFromLastAdvert')),
      };
    }
    result.ratioOfMedians = {};
    for (const k of ['logLine', 'vip', 'wire', 'fromLastAdvert']) result.ratioOfMedians[k] = ratio(result.ours[k].median, result.keepalived[k].median);
    return result;
  } finally {
    await lab.teardown();
  }
}

function printFailover(r, kaVersion) {
  const W = [40, 20, 8, 8, 8, 8, 8];
  console.log(
    `\nFailover: keepalived-ts vs keepalived ${kaVersion} as BACKUP (prio 100) after kill -9 of a keepalived MASTER (prio 255), VRRPv${r.version} advert_int ${r.advertInt}, ${r.runs} kills, paired (ms; RFC Master_Down_Interval ${r.expectedMasterDownMs.toFixed(0)})`,
  );
  console.log(pad(['metric', 'backup', 'min', 'median', 'p90', 'max', 'ratio'], W));
  const rows = [
    ['"Entering MASTER STATE" after kill', 'logLine'],
    ['VIP present after kill (10 ms poll)', 'vip'],
    ['first advert on the wire after kill', 'wire'],
    ['last MASTER advert -> first advert', 'fromLastAdvert'],
  ];
  for (const [label, k] of rows) {
    const o = r.ours[k];
    const t = r.keepalived[k];
    if (!o.n && !t.n) continue;
    console.log(pad([label, 'keepalived-ts', f0(o.min), f0(o.median), f0(o.p90), f0(o.max), `${f2(r.ratioOfMedians[k])}x`], W));
    console.log(pad(['', `keepalived ${kaVersion}`, f0(t.min), f0(t.median), f0(t.p90), f0(t.max), ''], W));
  }
  const lg = r.ours.loggedFromLastAdvert;
  if (lg.n)
    console.log(
      `keepalived-ts's own log time of "Entering MASTER STATE", after the last MASTER advert: median ${f0(lg.median)} ms (min ${f0(lg.min)}, max ${f0(lg.max)})`,
    );
  const ph = r.ours.killPhase;
  if (ph.n) console.log(`kill phase after the last MASTER advert: ${f0(ph.min)}-${f0(ph.max)} ms (median ${f0(ph.median)})`);
}

// ---------- experiment 2: advert jitter ----------
async function jitter(netns) {
  const lab = await netns.createLab({ hosts: 4, subnet: 84 });
  try {
    const defs = [
      { who: 'ours', version: 2, advert: 1, vrid: 61 },
      { who: 'keepalived', version: 2, advert: 1, vrid: 62 },
      { who: 'ours', version: 3, advert: 0.1, vrid: 63 },
      { who: 'keepalived', version: 3, advert: 0.1, vrid: 64 },
    ];
    const daemons = [];
    for (const [i, d] of defs.entries()) {
      const host = lab.hosts[i];
      const text = conf(`j${i}`, [{ name: 'VI_1', version: d.version, advert: d.advert, vrid: d.vrid, prio: 100, vip: `10.99.84.${100 + i}` }]);
      let proc;
      let cpuPid;
      if (d.who === 'ours') {
        const file = join(lab.dir, `ours-${i}.conf`);
        writeFileSync(file, text);
        proc = lab.spawn(
          host,
          [process.execPath, CLI, '-n', '-l', '-P', '-f', file, '-p', join(lab.dir, `ours-${i}.pid`), '-r', join(lab.dir, `ours-${i}-vrrp.pid`)],
          { name: `ours-${i}` },
        );
        cpuPid = async () => proc.pid;
      } else {
        proc = lab.keepalived(host, text, { name: `ka-${i}` });
        cpuPid = () => readPid(proc.vrrpPidFile); // the VRRP child does the work
      }
      const dump = startTcpdump(lab, `p${i + 1}`, ['-Q', 'in']);
      daemons.push({ ...d, host, proc, cpuPid, dump });
    }
    for (const d of daemons) await d.proc.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
    for (const d of daemons) d.pid = await d.cpuPid();
    await sleep(1000);

    const windows = [];
    const window = async (load) => {
      const start = nowMs();
      const cpu0 = daemons.map((d) => cpuTicks(d.pid));
      await sleep(JITTER_S * 1000);
      const end = nowMs();
      const cpu = daemons.map((d, k) => ((cpuTicks(d.pid) - cpu0[k]) / CLK_TCK / ((end - start) / 1000)) * 100);
      windows.push({ load, start, end, cpu });
    };
    await window('idle');
    const cores = availableParallelism();
    const burners = [];
    for (let c = 0; c < cores; c++) burners.push(lab.spawn(lab.hosts[c % lab.hosts.length], [process.execPath, '-e', 'for(;;){}'], { name: `burner-${c}` }));
    await sleep(1000);
    await window(`${cores} CPU burners`);
    await Promise.all(burners.map((b) => b.kill('SIGKILL', 0)));
    await sleep(1500); // tcpdump delivers its last batch

    const rows = [];
    for (const w of windows) {
      for (const [k, d] of daemons.entries()) {
        const intervalMs = d.advert * 1000;
        const ts = adverts(d.dump)
          .filter((a) => a.src === d.host.address && a.vrid === d.vrid && a.t >= w.start && a.t <= w.end)
          .map((a) => a.t);
        const dev = [];
        let earliest = Infinity;
        for (let j = 1; j < ts.length; j++) {
          const x = ts[j] - ts[j - 1] - intervalMs;
          dev.push(Math.abs(x));
          earliest = Math.min(earliest, x);
        }
        rows.push({
          who: d.who,
          version: d.version,
          advertInt: d.advert,
          load: w.load,
          adverts: ts.length,
          expected: Math.floor((w.end - w.start) / intervalMs),
          p50: pct(dev, 50),
          p99: pct(dev, 99),
          max: dev.length ? Math.max(...dev) : NaN,
          earliest: Number.isFinite(earliest) ? earliest : NaN,
          cpuPercent: w.cpu[k],
        });
      }
    }
    return { windowSeconds: JITTER_S, rows };
  } finally {
    await lab.teardown();
  }
}

function printJitter(j, kaVersion) {
  const W = [18, 12, 16, 12, 8, 8, 8, 10, 8, 8];
  console.log(
    `\nAdvert jitter of a MASTER: |gap - advert_int| in ms over ${j.windowSeconds} s windows (tcpdump on the bridge port; all four daemons in the same windows)`,
  );
  console.log(pad(['daemon', 'protocol', 'load', 'adverts', 'p50', 'p99', 'max', 'earliest', 'CPU %', 'p99 ratio'], W));
  const name = (who) => (who === 'ours' ? 'keepalived-ts' : `keepalived ${kaVersion}`);
  for (const r of j.rows) {
    const peer = j.rows.find((x) => x.who === 'keepalived' && x.version === r.version && x.load === r.load);
    const rt = r.who === 'ours' && peer ? `${f2(ratio(r.p99, peer.p99))}x` : '';
    console.log(
      pad(
        [
          name(r.who),
          `v${r.version} ${r.advertInt}s`,
          r.load,
          `${r.adverts}/${r.expected}`,
          f2(r.p50),
          f2(r.p99),
          f2(r.max),
          f2(r.earliest),
          r.cpuPercent.toFixed(1),
          rt,
        ],
        W,
      ),
    );
  }
}

// ---------- entry ----------
export async function run() {
  const started = Date.now();
  console.log(`\nFailover benchmark (BENCH_FAILOVER_RUNS=${RUNS}, BENCH_FAILOVER_JITTER_S=${JITTER_S})`);
  if (!existsSync(CLI)) {
    console.log(`skipped: ${CLI} is missing (npm run build)`);
    return { skipped: 'dist/keepalived-ts.mjs missing' };
  }
  const netns = await loadNetns();
  const cap = netns.keepalivedCapability();
  if (!cap.ok) {
    console.log(`skipped: ${cap.reason}`);
    return { skipped: cap.reason };
  }
  const kaVersion = cap.version ?? '?';
  const tcpdump = hasTcpdump();
  if (!tcpdump) console.log('tcpdump is not installed (apt-get install -y tcpdump): wire figures and the jitter experiment are skipped');
  const result = { keepalivedVersion: kaVersion, runs: RUNS };
  result.failoverV2 = await failover(netns, { version: 2, advert: 1, runs: RUNS, tcpdump });
  printFailover(result.failoverV2, kaVersion);
  result.failoverV3 = await failover(netns, { version: 3, advert: 0.1, runs: Math.max(3, Math.ceil(RUNS / 2)), tcpdump });
  printFailover(result.failoverV3, kaVersion);
  if (tcpdump) {
    result.jitter = await jitter(netns);
    printJitter(result.jitter, kaVersion);
  }
  result.seconds = (Date.now() - started) / 1000;
  console.log(`\nfailover benchmark took ${result.seconds.toFixed(0)} s`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
