// Data-plane benchmark, inside a QEMU VM with Debian's kernel (this host's has no IPVS): new
// connections per second through kernel IPVS and through the embedded forwarder, on the same
// LVS-NAT pool of three real servers, our daemon with --data-plane=kernel and then
// --data-plane=forwarder on the same config (vm-dataplane-vm.sh holds the lab). The VM runs under
// TCG (QEMU without KVM) on a shared host: CPU work is tens of times slower than native and
// varies with the host's load, so the absolute figures say little; the ratio between the planes,
// measured in the same VM within the same round, is the figure.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { f0, f1, f2, loadTs, pad, ROOT } from './common.mjs';

const SECONDS = Number(process.env.BENCH_VM_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_VM_ROUNDS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_VM_CONCURRENCY ?? 8);
const CLI = join(ROOT, 'dist/keepalived-ts.mjs');

/** `key value key value ...` on a line starting with `first` (its first word), as an object. */
function fields(text, first) {
  const line = text.split('\n').find((l) => l.startsWith(`${first} `));
  if (!line) return {};
  const w = line.split(' ');
  return Object.fromEntries(w.flatMap((k, i) => (i % 2 === 0 && i + 1 < w.length ? [[k, w[i + 1]]] : [])));
}

/** The measured runs of the VM's output: plane, round and figures. */
function runs(got) {
  return [...got]
    .filter(([k]) => k.startsWith('run '))
    .map(([k, text]) => {
      const [, plane, round] = k.split(' ');
      const c = fields(text, 'conns');
      const vm = /^vm-cpu busy (\d+) system (\d+) softirq (\d+)$/m.exec(text);
      const dir = /^director-cpu (\d+)% ms-per-conn ([\d.]+)$/m.exec(text);
      return {
        plane,
        round: Number(round),
        ready: Number(fields(text, 'ready').ready),
        connsPerSec: Number(c.conns) / Number(c.seconds),
        errors: Number(c.errors),
        p50: Number(c.p50),
        p99: Number(c.p99),
        servers: c.servers,
        vmBusy: Number(vm?.[1]),
        softirq: Number(vm?.[3]),
        directorCpu: Number(dir?.[1]),
        directorMs: Number(dir?.[2]),
        ipvsConns: /^ipvs conns (\d+)$/m.exec(text)?.[1],
      };
    });
}

export async function run() {
  console.log('\nData planes in a VM: kernel IPVS against the embedded forwarder, same LVS-NAT pool');
  if (!existsSync(CLI)) return void console.log(`skipped: ${CLI} is missing (npm run build)`);
  const { vmUnavailable, runInVm, sections } = await loadTs('test/helpers/vm/vm.ts');
  const why = vmUnavailable();
  if (why) return void console.log(`skipped: ${why}`);
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const loadBefore = load();
  const r = await runInVm(join(ROOT, 'test/bench/vm-dataplane-vm.sh'), [CLI, String(SECONDS), String(ROUNDS), String(CONCURRENCY)], {
    timeoutSeconds: 300 + ROUNDS * 2 * (SECONDS + 120),
  });
  const got = sections(r.output);
  const rows = runs(got);
  if (r.status !== 0 || !got.has('end') || rows.length !== 2 * ROUNDS) {
    console.log(`failed: VM status ${r.status} after ${f0(r.seconds)} s\n${r.output.trim().split('\n').slice(-25).join('\n')}\n${r.stderr.trim()}`);
    return { failed: r.status };
  }
  console.log(
    `TCG figures (QEMU without KVM, 2 vCPUs, on a host with load ${loadBefore} -> ${load()}): the absolute rates are not a host's; only the ratio means anything.`,
  );
  console.log(
    `3 real servers (rr), a client of ${CONCURRENCY} loops each one connection at a time (connect, one line, the answer, the server's close); ${ROUNDS} round(s) of ${SECONDS} s per plane after 3 s of warm-up; VM run ${f0(r.seconds)} s`,
  );
  const w = [11, 7, 9, 10, 10, 8, 16, 15, 9, 21];
  console.log(pad(['plane', 'round', 'conn/s', 'p50 ms', 'p99 ms', 'errors', 'director CPU', 'VM busy (si)', 'ready s', 'per real server'], w));
  for (const x of rows)
    console.log(
      pad(
        [
          x.plane,
          x.round,
          f1(x.connsPerSec),
          f1(x.p50),
          f1(x.p99),
          x.errors,
          `${f0(x.directorCpu)}% ${f2(x.directorMs)}ms`,
          `${f0(x.vmBusy)}% (${f0(x.softirq)}%)`,
          f1(x.ready),
          `${x.servers}${x.ipvsConns ? ` (ipvs ${x.ipvsConns})` : ''}`,
        ],
        w,
      ),
    );
  const per = (plane) => rows.filter((x) => x.plane === plane).sort((a, b) => a.round - b.round);
  const [kernel, forwarder] = [per('kernel'), per('forwarder')];
  const ratios = kernel.map((k, i) => k.connsPerSec / forwarder[i].connsPerSec);
  const sum = (xs) => xs.reduce((a, x) => a + x.connsPerSec, 0);
  console.log(`ratio kernel IPVS / embedded forwarder, connections per second: ${f2(sum(kernel) / sum(forwarder))}x (rounds ${ratios.map(f2).join(', ')})`);
  console.log('director CPU: the daemon process (ms of its CPU per connection); with IPVS the kernel forwards in softirq and the daemon only checks.');
  return { kernel, forwarder, ratio: sum(kernel) / sum(forwarder) };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
