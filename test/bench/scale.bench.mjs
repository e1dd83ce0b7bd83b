// 1,000-instance benchmark (issue 14): keepalived-ts and keepalived 2.2.7, one after the other, on
// the same configuration: 1,000 VRRPv2 instances, VRIDs 1-250 on each of four veth interfaces of
// a fresh director namespace, one /32 VIP each, advert_int 1, every instance BACKUP priority 100
// with no peer (each becomes MASTER after its Master_Down_Interval, 3.6 s). For each daemon:
// - time from spawn to the first and to all 1,000 VIPs on the interfaces (`ip -4 addr`, polled);
// - steady-state CPU% of its process tree (helpers included: reaped children count through
//   cutime/cstime) over a window that starts 7 s after the last VIP (past garp_master_delay 5);
// - peak RSS of the tree (sampled every 100 ms from spawn to the end of the window);
// - advert jitter on the wire: tcpdump in the peer namespace on the four peer ends, |gap - n s|
//   between consecutive adverts of one instance, p50/p99/max; adverts seen against expected.
// Then the ratios ours / keepalived.
//
// Env: BENCH_SCALE_WINDOW_S (steady-state window, default 20), BENCH_SCALE_TIMEOUT_S (time allowed
// for all VIPs, default 120), BENCH_SCALE_PER_IF (instances per interface, default 250).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLK_TCK, f0, f1, f2, nowMs, pad, pct, ROOT, sleep } from './common.mjs';

const CLI = join(ROOT, 'dist/keepalived-ts.mjs');
const WINDOW_S = Math.max(5, Number(process.env.BENCH_SCALE_WINDOW_S ?? 20));
const TIMEOUT_S = Math.max(10, Number(process.env.BENCH_SCALE_TIMEOUT_S ?? 120));
const PER_IF = Math.min(255, Math.max(1, Number(process.env.BENCH_SCALE_PER_IF ?? 250)));
const IFS = 4;
const TOTAL = IFS * PER_IF;
const SETTLE_MS = 7000;

const vip = (i, vrid) => `10.${200 + i}.${vrid}.1`;

function config() {
  const out = ['global_defs {\n  router_id scale\n}\n'];
  for (let i = 0; i < IFS; i++)
    for (let vrid = 1; vrid <= PER_IF; vrid++)
      out.push(`vrrp_instance VI_${i}_${vrid} {
  state BACKUP
  interface vs${i}
  virtual_router_id ${vrid}
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${vip(i, vrid)}/32
  }
}
`);
  return out.join('');
}

const ip = (args) => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
};

/** A director namespace with vs0..vs3, their peers vp0..vp3 in a peer namespace. */
function makeNamespaces(tag) {
  const d = `ktscale-${process.pid}-${tag}-d`;
  const p = `ktscale-${process.pid}-${tag}-p`;
  ip(['netns', 'add', d]);
  ip(['netns', 'add', p]);
  for (const ns of [d, p]) ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  for (let i = 0; i < IFS; i++) {
    ip(['-n', d, 'link', 'add', `vs${i}`, 'type', 'veth', 'peer', 'name', `vp${i}`, 'netns', p]);
    ip(['-n', d, 'addr', 'add', `192.168.${210 + i}.1/24`, 'dev', `vs${i}`]);
    ip(['-n', p, 'addr', 'add', `192.168.${210 + i}.2/24`, 'dev', `vp${i}`]);
    ip(['-n', d, 'link', 'set', `vs${i}`, 'up']);
    ip(['-n', p, 'link', 'set', `vp${i}`, 'up']);
  }
  return {
    d,
    p,
    remove() {
      for (const ns of [d, p]) spawnSync('ip', ['netns', 'del', ns]);
    },
  };
}

/** Every process's parent and CPU ticks (own + reaped children) and RSS, from /proc. */
function procTable() {
  const t = new Map();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 4 (ppid), 14-17 (utime stime cutime cstime), 24 (rss pages), counted from 1.
      t.set(Number(e), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), rssPages: Number(f[21]) });
    } catch {
      // gone
    }
  }
  return t;
}
const PAGE_MB = 4096 / 1024 / 1024;
function tree(root) {
  const t = procTable();
  const kids = new Map();
  for (const [pid, x] of t) kids.set(x.ppid, [...(kids.get(x.ppid) ?? []), pid]);
  let ticks = 0;
  let rss = 0;
  let n = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    const x = t.get(pid);
    if (!x) continue;
    ticks += x.ticks;
    rss += x.rssPages * PAGE_MB;
    n++;
    stack.push(...(kids.get(pid) ?? []));
  }
  return { ticks, rssMb: rss, n };
}

function vipCount(ns) {
  const out = spawnSync('ip', ['-n', ns, '-4', '-o', 'addr', 'show'], { encoding: 'utf8' }).stdout;
  return (out.match(/ inet 10\.2\d\d\.\d+\.1\/32 /g) ?? []).length;
}

const ADVERT = /^(\d+\.\d+) .*?IP (\S+) > 224\.0\.0\.18: VRRPv2, Advertisement, vrid (\d+)/;

async function measure(who, tag) {
  const ns = makeNamespaces(tag);
  const dir = mkdtempSync(join(tmpdir(), `ktscale-${who}-`));
  const procs = [];
  const onSignal = () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    ns.remove();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const file = join(dir, 'scale.conf');
    writeFileSync(file, config());
    const log = openSync(join(dir, `${who}.log`), 'w');
    const argv =
      who === 'ours'
        ? [process.execPath, CLI, '-n', '-P', '-f', file, '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid')]
        : ['keepalived', '-n', '-P', '-f', file, '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid')];
    const t0 = nowMs();
    // `ip netns exec` execs the daemon: the pid is the daemon's.
    const daemon = spawn('ip', ['netns', 'exec', ns.d, ...argv], { stdio: ['ignore', log, log] });
    procs.push(daemon);
    let first = NaN;
    let all = NaN;
    let peak = 0;
    const deadline = t0 + TIMEOUT_S * 1000;
    let count = 0;
    while (nowMs() < deadline) {
      count = vipCount(ns.d);
      peak = Math.max(peak, tree(daemon.pid).rssMb);
      if (count > 0 && Number.isNaN(first)) first = nowMs() - t0;
      if (count >= TOTAL) {
        all = nowMs() - t0;
        break;
      }
      await sleep(100);
    }
    const sampleFor = async (ms) => {
      const end = nowMs() + ms;
      while (nowMs() < end) {
        peak = Math.max(peak, tree(daemon.pid).rssMb);
        await sleep(100);
      }
    };
    await sampleFor(SETTLE_MS);
    // The window: tcpdump on the peer ends, writing a capture file (printing 1,000 lines a
    // second loses packets on a busy box), CPU ticks of the tree at both ends.
    const pcap = join(dir, 'adverts.pcap');
    const dump = spawn('ip', ['netns', 'exec', ns.p, 'tcpdump', '-i', 'any', '-nn', '-B', '32768', '--immediate-mode', '-w', pcap, 'proto', '112'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    procs.push(dump);
    let stderr = '';
    dump.stderr.on('data', (b) => (stderr += b.toString()));
    for (let i = 0; i < 50 && !/listening on/.test(stderr); i++) await sleep(100);
    const c0 = tree(daemon.pid).ticks;
    const w0 = nowMs();
    await sampleFor(WINDOW_S * 1000);
    const c1 = tree(daemon.pid).ticks;
    const w1 = nowMs();
    dump.kill('SIGTERM');
    await new Promise((r) => (dump.exitCode !== null ? r() : dump.once('exit', r)));
    const cpu = ((c1 - c0) / CLK_TCK / ((w1 - w0) / 1000)) * 100;
    const lines = spawnSync('tcpdump', ['-r', pcap, '-nn', '-tt'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout.split('\n');
    // Jitter per instance (source address + VRID): |gap - 1000 ms| between consecutive adverts.
    // A gap of about n seconds (n >= 2) spans n - 1 adverts the capture does not hold, lost by
    // tcpdump on a busy box ("dropped by kernel") or never sent: its jitter is |gap - n s|, and
    // the missing adverts are counted apart (and show in "adverts seen"), so that one lost packet
    // does not read as a second of jitter.
    const last = new Map();
    const jitter = [];
    let spanned = 0;
    let seen = 0;
    const m = /(\d+) packets dropped by kernel/.exec(stderr);
    const dropped = m ? m[1] : '';
    for (const l of lines) {
      const a = ADVERT.exec(l);
      const t = a ? Number(a[1]) * 1000 : NaN;
      // Only the window's adverts: the capture starts a little before it and ends a little after.
      if (!a || t < w0 || t > w1) continue;
      seen++;
      const key = `${a[2]} ${a[3]}`;
      const prev = last.get(key);
      if (prev !== undefined) {
        const n = Math.max(1, Math.round((t - prev) / 1000));
        jitter.push(Math.abs(t - prev - n * 1000));
        spanned += n - 1;
      }
      last.set(key, t);
    }
    const expected = Math.round((TOTAL * (w1 - w0)) / 1000);
    daemon.kill('SIGTERM');
    await new Promise((r) => {
      const timer = setTimeout(r, 15_000);
      daemon.once('exit', () => (clearTimeout(timer), r()));
    });
    return { who, count, first, all, cpu, peak, jitter, spanned, seen, expected, instances: last.size, dropped, dir };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    ns.remove();
  }
}

function report(results) {
  const w = [12, 12, 12, 10, 11, 10, 10, 10, 20];
  console.log(pad(['daemon', 'first VIP s', 'all VIPs s', 'CPU %', 'RSS MB', 'jit p50', 'jit p99', 'jit max', 'adverts seen/expected'], w));
  for (const r of results) {
    console.log(
      pad(
        [
          r.who,
          f2(r.first / 1000),
          Number.isNaN(r.all) ? `- (${r.count})` : f2(r.all / 1000),
          f1(r.cpu),
          f0(r.peak),
          f2(pct(r.jitter, 50)),
          f2(pct(r.jitter, 99)),
          f2(Math.max(...r.jitter)),
          `${r.seen}/${r.expected} (${f1((100 * r.seen) / r.expected)}%)`,
        ],
        w,
      ),
    );
  }
  const [o, k] = results;
  if (o && k) {
    const x = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${f2(a / b)}x` : '-');
    console.log(
      pad(
        [
          'ours/ka',
          x(o.first, k.first),
          x(o.all, k.all),
          x(o.cpu, k.cpu),
          x(o.peak, k.peak),
          x(pct(o.jitter, 50), pct(k.jitter, 50)),
          x(pct(o.jitter, 99), pct(k.jitter, 99)),
          x(Math.max(...o.jitter), Math.max(...k.jitter)),
          x(o.seen / o.expected, k.seen / k.expected),
        ],
        w,
      ),
    );
  }
  for (const r of results) {
    const lost = r.dropped && r.dropped !== '0' ? `tcpdump says ${r.dropped} packets dropped by kernel; ` : '';
    if (lost || r.spanned) console.log(`(${r.who}: ${lost}${r.spanned} adverts missing between captured ones)`);
  }
  console.log('jitter: |gap - n x advert_int| in ms between consecutive captured adverts of one instance (n = 1, or the');
  console.log('        whole number of intervals a gap spans when adverts are missing), seen by tcpdump in the peer namespace');
}

export async function run() {
  console.log(`\nScale benchmark: ${TOTAL} VRRPv2 instances (${PER_IF} per interface x ${IFS}), one /32 VIP each, advert_int 1 (window ${WINDOW_S} s)`);
  if (process.getuid?.() !== 0) return console.log('skipped: needs root for namespaces');
  if (spawnSync('tcpdump', ['--version']).error) return console.log('skipped: no tcpdump');
  const haveKa = !spawnSync('keepalived', ['--version']).error;
  const results = [await measure('ours', 'o')];
  if (haveKa) results.push(await measure('keepalived', 'k'));
  else console.log('keepalived not installed: ours only');
  report(results);
  for (const r of results) rmSync(r.dir, { recursive: true, force: true });
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
