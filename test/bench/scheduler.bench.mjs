// Scheduler benchmark: picks per second of every IPVS scheduler at 10, 1,000 and 10,000
// destinations, beside the IPVS way (a scan of the whole list per pick, src/lvs/schedulers/
// reference.ts) for the algorithms where our index replaces that scan. Each pick is followed by
// what the forwarder does with it: bind a connection (half of them go ESTABLISHED) and close the
// one opened 2n picks earlier, so the counters — and the least-connection indexes — keep moving.
// Clients and virtual addresses vary per pick (4,096 of each) so sh/mh/dh/lblc/lblcr hash real keys.
//
// Env: BENCH_SCHED_MS (time per measurement, default 150).
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MS = Number(process.env.BENCH_SCHED_MS ?? 150);
const SIZES = [10, 1000, 10000];

const imp = (p) => import(pathToFileURL(join(ROOT, 'dist/lvs', p)).href);

function clients() {
  const out = [];
  for (let i = 0; i < 4096; i++) {
    const a = (Math.imul(i + 1, 2654435761) >>> 0) | 0x01000000;
    const b = (Math.imul(i + 7, 0x85ebca6b) >>> 0) | 0x01000000;
    out.push({
      src: `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`,
      srcPort: 1024 + (i % 60000),
      dst: `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${(i % 1024) & 255}`,
      dstPort: 80,
    });
  }
  return out;
}

const MIXED = (i) => 1 + (i % 5);

function measure(Dest, makeScheduler, n, conns, weight = MIXED) {
  const ds = [];
  for (let i = 0; i < n; i++) ds.push(new Dest({ address: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, port: 80, weight: weight(i, n) }));
  const s = makeScheduler();
  let t0 = performance.now();
  s.onDestsChanged(ds);
  const buildMs = performance.now() - t0;
  const window = 2 * n;
  const ring = new Array(window).fill(null);
  let k = 0;
  let now = 0;
  let misses = 0;
  const step = (count) => {
    for (let i = 0; i < count; i++, k++) {
      now += 10; // 10 µs per pick on the virtual clock
      const d = s.pick(ds, conns[k & 4095], now);
      const slot = k % window;
      const old = ring[slot];
      if (old) old.d.unbindConn(old.kind);
      if (d) {
        const kind = k & 1 ? 'active' : 'inactive';
        d.bindConn(kind);
        ring[slot] = { d, kind };
      } else {
        ring[slot] = null;
        misses++;
      }
    }
  };
  step(Math.min(20000, 20 * n)); // warm up and reach a steady load
  let picks = 0;
  let batch = 256;
  t0 = performance.now();
  let el;
  while ((el = performance.now() - t0) < MS) {
    step(batch);
    picks += batch;
    if (el < MS / 4) batch *= 2;
  }
  s.dispose();
  return { perSec: picks / (el / 1000), buildMs, misses };
}

const fmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));

export async function run() {
  const { Dest } = await imp('dest.js');
  const { createScheduler, SCHEDULER_NAMES } = await imp('schedulers/index.js');
  const { createReferenceScheduler, REFERENCE_NAMES } = await imp('schedulers/reference.js');
  const conns = clients();
  const result = {};
  const rows = [];
  for (const name of SCHEDULER_NAMES) {
    const ours = SIZES.map((n) => measure(Dest, () => createScheduler(name, name === 'mh' && n > 4093 ? { mhTableIndex: 14 } : {}), n, conns));
    result[name] = { ours };
    rows.push([name, ...ours.map((r) => fmt(r.perSec)), `${ours[2].buildMs.toFixed(1)} ms`]);
    if (REFERENCE_NAMES.includes(name)) {
      const ref = SIZES.map((n) => measure(Dest, () => createReferenceScheduler(name), n, conns));
      result[name].ipvsScan = ref;
      rows.push([`  ${name} IPVS-style scan`, ...ref.map((r) => fmt(r.perSec)), '']);
      rows.push([`  ${name} ours / scan`, ...ours.map((r, i) => `${(r.perSec / ref[i].perSec).toFixed(1)}x`), '']);
    }
  }
  // Where the IPVS walk costs more than O(1) per pick: one heavy destination (every wrr pass above
  // weight 1 finds only it, after walking the whole list), and rr with the first 90 % of the list
  // quiesced (a drained block: every wrap walks it).
  const skewed = [
    ['wrr', 'wrr, weights 100,1,1,...', (i) => (i === 0 ? 100 : 1)],
    ['rr', 'rr, first 90% weight 0', (i, n) => (i < 0.9 * n ? 0 : 1)],
  ];
  for (const [name, label, weight] of skewed) {
    const ours = SIZES.map((n) => measure(Dest, () => createScheduler(name), n, conns, weight));
    const ref = SIZES.map((n) => measure(Dest, () => createReferenceScheduler(name), n, conns, weight));
    result[label] = { ours, ipvsScan: ref };
    rows.push([label, ...ours.map((r) => fmt(r.perSec)), '']);
    rows.push([`  IPVS-style scan`, ...ref.map((r) => fmt(r.perSec)), '']);
    rows.push([`  ours / scan`, ...ours.map((r, i) => `${(r.perSec / ref[i].perSec).toFixed(1)}x`), '']);
  }
  console.log(`\nSchedulers: picks/s (pick + bind + close an older connection), ${MS} ms per cell, Node ${process.version}`);
  console.log(['scheduler', '10 dests', '1,000 dests', '10,000 dests', 'build @10k'].map((c, i) => c.padEnd(i ? 14 : 28)).join(''));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(i ? 14 : 28)).join(''));
  console.log('Weights 1..5 in turn unless stated. mh at 10,000 destinations uses mhTableIndex 14 (16,381 slots): IPVS refuses more destinations than slots.');
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
