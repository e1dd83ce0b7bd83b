// Advert-flood benchmark: a MASTER under a flood of lower-priority adverts (valid ones, same VRID
// and password, priority 50 against its 150), keepalived-ts and then keepalived 2.2.7 on the same
// host namespace with the same flood, in network namespaces (test/helpers/netns.ts).
//
// Per daemon: an idle window, then a flood window from a second namespace
// (test/helpers/vrrp-send.py, multicast, TTL 255). Figures: the MASTER's adverts on the wire
// (tcpdump on its bridge port, filtered in the kernel on its source address so that the flood
// does not crowd the capture), the adverts it says it sent (SIGUSR2 stats), the interval between
// consecutive adverts (p50, p99, max), the largest gap (a BACKUP declares the master dead after
// 3 x advert_int + skew), the daemon's CPU (utime + stime over the window) and RSS (VmRSS sampled
// every 200 ms), and the log lines it wrote during the window. For keepalived the VRRP child is
// measured (it does the work).
//
// Env: BENCH_FLOOD_S (seconds of flood, default 10), BENCH_FLOOD_RATE (packets per second,
// default 0 = as fast as one Python sender can).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADVERT_RE, CLK_TCK, cpuTicks, f0, f1, loadNetns, nowMs, pad, pct, readPid, ROOT, rssMb, sleep } from './common.mjs';

const CLI = join(ROOT, 'dist/keepalived-ts.mjs');
const SENDER = join(ROOT, 'test/helpers/vrrp-send.py');
const FLOOD_S = Math.max(2, Number(process.env.BENCH_FLOOD_S ?? 10));
const RATE = Math.max(0, Number(process.env.BENCH_FLOOD_RATE ?? 0));
const IDLE_S = 5;

const advertTimes = (proc, src, from, to) =>
  proc.lines
    .map((l) => ADVERT_RE.exec(l.text))
    .filter((m) => m && m[2] === src)
    .map((m) => Number(m[1]) * 1000)
    .filter((t) => t >= from && t <= to);

const conf = (vrid, vip) => `global_defs {
  router_id flood
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${vrid}
  priority 150
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass bench
  }
  virtual_ipaddress {
    ${vip}/24
  }
}
`;

function intervals(ts) {
  const gaps = [];
  for (let i = 1; i < ts.length; i++) gaps.push(ts[i] - ts[i - 1]);
  return { adverts: ts.length, p50: pct(gaps, 50), p99: pct(gaps, 99), min: gaps.length ? Math.min(...gaps) : NaN, max: gaps.length ? Math.max(...gaps) : NaN };
}

async function one(netns, who, subnet) {
  const lab = await netns.createLab({ hosts: 2, subnet });
  try {
    const [hm, hf] = lab.hosts;
    const vrid = 71;
    const vip = `10.99.${subnet}.100`;
    const dump = lab.spawn(
      lab.bridgeNs,
      ['tcpdump', '-i', 'p1', '-Q', 'in', '-nn', '-tt', '-l', '--immediate-mode', 'proto', '112', 'and', 'src', 'host', hm.address],
      { name: 'tcpdump-p1' },
    );
    await dump.waitForLine(/listening on/, { timeoutMs: 5000 });
    let proc;
    let pid;
    if (who === 'ours') {
      const file = join(lab.dir, 'ours.conf');
      writeFileSync(file, conf(vrid, vip));
      proc = lab.spawn(hm, [process.execPath, CLI, '-n', '-l', '-P', '-f', file, '-p', join(lab.dir, 'ours.pid'), '-r', join(lab.dir, 'ours-vrrp.pid')], {
        name: 'ours',
      });
      await proc.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
      pid = proc.pid;
    } else {
      proc = lab.keepalived(hm, conf(vrid, vip), { name: 'ka' });
      await proc.waitForLine(/Entering MASTER STATE/, { timeoutMs: 15_000 });
      pid = await readPid(proc.vrrpPidFile);
    }
    // Adverts the daemon says it sent (SIGUSR2 stats dump, keepalived's format for both).
    const sentCount = async () => {
      const file = '/tmp/keepalived.stats';
      rmSync(file, { force: true });
      process.kill(proc.pid, 'SIGUSR2');
      for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(20);
      await sleep(50);
      try {
        return Number(/Advertisements:\s*\n\s*Received: \d+\s*\n\s*Sent: (\d+)/.exec(readFileSync(file, 'utf8'))?.[1] ?? NaN);
      } catch {
        return NaN;
      }
    };
    const window = async (flood) => {
      const sent0 = await sentCount();
      const lines0 = proc.lines.length;
      const cpu0 = cpuTicks(pid);
      const rss0 = rssMb(pid);
      let rssMax = rss0;
      const start = nowMs();
      let sender;
      if (flood) {
        const args = [
          'python3',
          SENDER,
          '--dst',
          '224.0.0.18',
          '--vrid',
          String(vrid),
          '--prio',
          '50',
          '--vip',
          vip,
          '--pass',
          'bench',
          '--seconds',
          String(FLOOD_S),
          '--rate',
          String(RATE),
        ];
        sender = lab.exec(hf, args, { timeoutMs: (FLOOD_S + 30) * 1000 });
      }
      const until = start + (flood ? FLOOD_S : IDLE_S) * 1000;
      while (nowMs() < until) {
        rssMax = Math.max(rssMax, rssMb(pid));
        await sleep(200);
      }
      const sent = sender ? await sender : undefined;
      const end = nowMs();
      const advertsSent = (await sentCount()) - sent0;
      const cpu = ((cpuTicks(pid) - cpu0) / CLK_TCK / ((end - start) / 1000)) * 100;
      let floodInfo;
      try {
        floodInfo = sent ? JSON.parse(sent.stdout.trim().split('\n').at(-1)) : undefined;
      } catch {
        floodInfo = { sent: NaN, seconds: NaN, error: sent?.stderr };
      }
      return {
        start,
        end,
        advertsSent,
        cpu,
        rss0,
        rssMax,
        logLines: proc.lines.length - lines0,
        flood: floodInfo,
        stillMaster: !proc.lines.slice(lines0).some((l) => /Entering (BACKUP|FAULT) STATE/.test(l.text)),
      };
    };
    const idle = await window(false);
    const flood = await window(true);
    await sleep(1500); // tcpdump delivers its last batch
    await dump.kill('SIGINT', 3000);
    // A capture that lost packets would show missing adverts that were sent: say so.
    const captureDrops = Number(/(\d+) packets? dropped by kernel/.exec(dump.output())?.[1] ?? NaN);
    const mk = (w) => ({ ...w, ...intervals(advertTimes(dump, hm.address, w.start, w.end)) });
    return { who, idle: mk(idle), flood: mk(flood), captureDrops };
  } finally {
    await lab.teardown();
  }
}

function print(results, kaVersion) {
  const W = [18, 8, 12, 9, 7, 8, 8, 8, 8, 8, 12, 10];
  console.log(
    `\nAdvert flood: a MASTER (priority 150, advert_int 1) under ${RATE ? `${RATE} pps` : 'a flat-out'} flood of valid priority-50 adverts for ${FLOOD_S} s (intervals in ms, tcpdump on its bridge port)`,
  );
  console.log(pad(['daemon', 'window', 'flood pps', 'on wire', 'sent', 'p50', 'p99', 'min', 'max', 'CPU %', 'RSS MB', 'log lines'], W));
  for (const r of results) {
    const name = r.who === 'ours' ? 'keepalived-ts' : `keepalived ${kaVersion}`;
    for (const k of ['idle', 'flood']) {
      const w = r[k];
      const pps = w.flood ? f0(w.flood.sent / w.flood.seconds) : '-';
      console.log(
        pad(
          [name, k, pps, w.adverts, f0(w.advertsSent), f0(w.p50), f0(w.p99), f0(w.min), f0(w.max), f1(w.cpu), `${f0(w.rss0)}->${f0(w.rssMax)}`, w.logLines],
          W,
        ),
      );
    }
    if (r.captureDrops) console.log(`  (tcpdump lost ${r.captureDrops} packets in ${name}'s run: gaps may be adverts it missed)`);
  }
}

export async function run() {
  const started = Date.now();
  console.log(`\nFlood benchmark (BENCH_FLOOD_S=${FLOOD_S}, BENCH_FLOOD_RATE=${RATE})`);
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
  if (spawnSync('tcpdump', ['--version']).error) {
    console.log('skipped: tcpdump is not installed');
    return { skipped: 'tcpdump missing' };
  }
  const results = [await one(netns, 'ours', 86), await one(netns, 'keepalived', 87)];
  print(results, cap.version ?? '?');
  const seconds = (Date.now() - started) / 1000;
  console.log(`\nflood benchmark took ${seconds.toFixed(0)} s`);
  return { keepalivedVersion: cap.version, floodSeconds: FLOOD_S, rate: RATE, results, seconds };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
