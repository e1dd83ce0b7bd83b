// Config-test benchmark: keepalived-ts -t against keepalived -t on the same generated files, in
// the same run. Node's start-up (~100 ms) dominates the whole-process comparison, so the
// marginal cost per line is reported too, for both: the process time difference between a 100k-
// and a 25k-line config over the line difference. Then a `~SEQ` line generating a million small
// blocks: time and peak RSS of each (targets: within 2x keepalived's time, under 512 MB). Then
// deep $VAR definitions (a 200-deep chain, 40 doubling levels): time and peak RSS. Each target of
// issue 13 is judged on this run's figures ("met" / "NOT met").
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateConfig, SEQ_MILLION, varChain, varDoubling } from './config-gen.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist/keepalived-ts.mjs');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
/** A run still going after this long is killed and reported as such. */
const SEQ_TIMEOUT_MS = Number(process.env.BENCH_SEQ_TIMEOUT_MS ?? 180_000);
/** Issue 13's targets, judged on the figures of this run. */
const TARGET = { perLine: 1, endToEnd: 1.5, seqTime: 2, seqMb: 512, varMs: 250, varMb: 256 };
const verdict = (ok) => (ok ? 'met' : 'NOT met');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timeProcess(cmd, args) {
  const times = [];
  let status;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    status = r.status;
  }
  return { ms: median(times), status };
}

/** One run: wall time and peak RSS (VmHWM, polled from /proc while it runs). */
function timeAndPeak(cmd, args) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: 'ignore' });
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // gone between the tick and the read
      }
    }, 20);
    const killer = setTimeout(() => child.kill('SIGKILL'), SEQ_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(killer);
      resolve({
        ms: Number(process.hrtime.bigint() - t0) / 1e6,
        peakMb: peakKb / 1024,
        status: signal ? `killed after ${SEQ_TIMEOUT_MS / 1000} s` : `exit ${code}`,
      });
    });
  });
}

function hasKeepalived() {
  try {
    execFileSync('keepalived', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const cell = (row) => row.map((c, i) => String(c).padEnd(i ? 20 : 40)).join('');

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'kt-bench-'));
  // The same shape at two sizes: 360 and 1440 vrrp_instance, 119 and 475 virtual_server x 18 real_server.
  const sizes = [
    { name: '25k', opts: { instances: 360, virtualServers: 119 } },
    { name: '100k', opts: { instances: 1440, virtualServers: 475 } },
  ].map((s) => {
    const text = generateConfig(s.opts);
    const path = join(dir, `${s.name}.conf`);
    writeFileSync(path, text);
    return { ...s, path, lines: text.split('\n').length };
  });
  const seq = join(dir, 'seq.conf');
  writeFileSync(seq, SEQ_MILLION);
  const ka = hasKeepalived();

  const ours = sizes.map((s) => timeProcess(process.execPath, [CLI, '-t', '-f', s.path]));
  const theirs = ka ? sizes.map((s) => timeProcess('keepalived', ['-t', '-f', s.path])) : undefined;
  const dl = sizes[1].lines - sizes[0].lines;
  const perLine = (t) => ((t[1].ms - t[0].ms) * 1000) / dl;

  console.log(`\nConfig test: generated keepalived.conf of ${sizes.map((s) => `${s.lines}`).join(' and ')} lines, whole process, median of ${RUNS}`);
  console.log(cell(['what', ...sizes.map((s) => `${s.lines} lines`), 'marginal per line']));
  console.log(cell(['keepalived-ts -t', ...ours.map((t) => `${t.ms.toFixed(1)} ms (exit ${t.status})`), `${perLine(ours).toFixed(2)} µs`]));
  if (theirs) {
    console.log(cell(['keepalived 2.2.7 -t', ...theirs.map((t) => `${t.ms.toFixed(1)} ms (exit ${t.status})`), `${perLine(theirs).toFixed(2)} µs`]));
    console.log(
      cell([
        'ratio keepalived-ts / keepalived',
        ...ours.map((t, i) => `${(t.ms / theirs[i].ms).toFixed(2)}x`),
        `${(perLine(ours) / perLine(theirs)).toFixed(2)}x`,
      ]),
    );
    console.log(
      `target: per line at most ${TARGET.perLine}x keepalived's: ${verdict(perLine(ours) <= TARGET.perLine * perLine(theirs))}; ` +
        `end to end within ${TARGET.endToEnd}x on ${sizes[1].lines} lines: ${verdict(ours[1].ms <= TARGET.endToEnd * theirs[1].ms)}`,
    );
  } else console.log('keepalived not installed: no comparison (apt-get install keepalived)');

  console.log(`\n~SEQ: one line generating a million blocks (${SEQ_MILLION.trim()}), one run each`);
  const seqOurs = await timeAndPeak(process.execPath, [CLI, '-t', '-f', seq]);
  console.log(cell(['keepalived-ts -t', `${(seqOurs.ms / 1000).toFixed(2)} s`, `peak RSS ${seqOurs.peakMb.toFixed(0)} MB`, seqOurs.status]));
  let seqTheirs;
  if (ka) {
    seqTheirs = await timeAndPeak('keepalived', ['-t', '-f', seq]);
    console.log(cell(['keepalived 2.2.7 -t', `${(seqTheirs.ms / 1000).toFixed(2)} s`, `peak RSS ${seqTheirs.peakMb.toFixed(0)} MB`, seqTheirs.status]));
    console.log(cell(['ratio keepalived-ts / keepalived', `${(seqOurs.ms / seqTheirs.ms).toFixed(2)}x`, `${(seqOurs.peakMb / seqTheirs.peakMb).toFixed(2)}x`]));
    console.log(
      `target: within ${TARGET.seqTime}x keepalived's time: ${verdict(seqOurs.ms <= TARGET.seqTime * seqTheirs.ms)}; ` +
        `under ${TARGET.seqMb} MB: ${verdict(seqOurs.peakMb < TARGET.seqMb)}`,
    );
  } else console.log(`target: under ${TARGET.seqMb} MB: ${verdict(seqOurs.peakMb < TARGET.seqMb)}`);

  // Deep $VAR definitions: a 200-deep chain, and 40 levels each doubling the text (2^40
  // characters unbounded). Both must end quickly and small, whatever the config asks for: the
  // time is judged beyond our own start-up (the same process on a one-block config).
  const tiny = join(dir, 'tiny.conf');
  writeFileSync(tiny, 'global_defs {\n  router_id tiny\n}\n');
  const base = timeProcess(process.execPath, [CLI, '-t', '-f', tiny]).ms;
  console.log(
    `\n$VAR definitions, one run each (target: each at most ${TARGET.varMs} ms beyond our ${base.toFixed(0)} ms on a one-block config, and under ${TARGET.varMb} MB)`,
  );
  const vars = [];
  for (const [name, text] of [
    ['chain of 200', varChain(200)],
    ['40 doubling levels', varDoubling(40)],
  ]) {
    const path = join(dir, `var-${vars.length}.conf`);
    writeFileSync(path, text);
    const o = await timeAndPeak(process.execPath, [CLI, '-t', '-f', path]);
    const k = ka ? await timeAndPeak('keepalived', ['-t', '-f', path]) : undefined;
    const figs = (r) => `${r.ms.toFixed(0)} ms, ${r.peakMb.toFixed(0)} MB, ${r.status}`;
    console.log(`${name.padEnd(40)}ours ${figs(o)}${k ? `; keepalived ${figs(k)}` : ''}`);
    console.log(`target: ${verdict(o.ms - base <= TARGET.varMs && o.peakMb < TARGET.varMb)}`);
    vars.push({ name, ours: o, keepalived: k });
  }
  rmSync(dir, { recursive: true, force: true });
  return { sizes: sizes.map((s) => s.lines), ours, theirs, seq: { ours: seqOurs, keepalived: seqTheirs }, vars };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
