// vrrp_track_process on real processes: stand-ins are copies of sleep under distinctive names,
// read through /proc by the daemon's table and counted on the real clock. Killing one is seen at
// the next one-second scan; the kernel's 15-byte comm truncation applies as in keepalived.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { RealClock } from '../../src/daemon/clock.js';
import { parseStat, procTable, SCAN_TURN } from '../../src/proc/process-table.js';
import type { VrrpEngine } from '../../src/vrrp/engine.js';
import { startProcessTrackers } from '../../src/vrrp/track-process.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-tproc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tag = Math.random().toString(36).slice(2, 8);
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A copy of sleep called `name`, started with `args`. */
function standIn(name: string, args: string[] = ['600']): ChildProcess {
  const bin = join(dir, name);
  try {
    copyFileSync('/bin/sleep', bin, 1);
  } catch {
    // already there
  }
  const c = spawn(bin, args, { stdio: 'ignore' });
  children.push(c);
  return c;
}

const until = async (what: string, ok: () => boolean, ms = 8000): Promise<number> => {
  const t0 = performance.now();
  while (!ok()) {
    if (performance.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - t0;
};

function track(block: string) {
  const conf = `vrrp_track_process tp {\n${block}\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n priority 100\n track_process {\n  tp\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n`;
  const { config } = loadConfigText(conf);
  const states: boolean[] = [];
  const logs: string[] = [];
  const engine = { setTracked: (_k: string, _n: string, up: boolean) => states.push(up) } as unknown as VrrpEngine;
  const stop = startProcessTrackers(config, engine, { clock: new RealClock(), table: procTable(), pollUs: 1_000_000, log: (_l, m) => logs.push(m) });
  return { states, logs, stop, up: () => states.at(-1) };
}

describe('the /proc process table', () => {
  it('reads a name holding spaces and parentheses, the parent and zombie state', () => {
    expect(parseStat('42 (a (b) c) S 7 42 42 0 -1')).toEqual({ comm: 'a (b) c', ppid: 7, zombie: false });
    expect(parseStat('43 (x) Z 1 0')).toMatchObject({ zombie: true });
  });

  it('a periodic scan reads in turns: other callbacks run between its chunks, and it sees the same table', async () => {
    const root = join(dir, 'proc');
    const n = SCAN_TURN * 3 + 5;
    for (let pid = 1; pid <= n; pid++) {
      mkdirSync(join(root, String(pid)), { recursive: true });
      writeFileSync(join(root, String(pid), 'stat'), `${pid} (kt-${pid}) ${pid === 7 ? 'Z' : 'S'} 1 ${pid} ${pid} 0 -1`);
    }
    mkdirSync(join(root, 'self'), { recursive: true });
    const table = procTable(root);
    let turns = 0;
    let done = false;
    const count = (): void => {
      turns++;
      if (!done) setImmediate(count);
    };
    setImmediate(count);
    const inTurns = await table.snapshotInTurns!();
    done = true;
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(inTurns).toEqual(table.snapshot());
    expect(inTurns.size).toBe(n - 1);
    expect(inTurns.get(9)).toEqual({ comm: 'kt-9', ppid: 1 });
  });

  it('sees a stand-in with its name and parent, and its command line', async () => {
    const c = standIn(`kt-tp-${tag}`, ['600', '10']);
    await until('the stand-in in /proc', () => procTable().snapshot().get(c.pid!)?.comm === `kt-tp-${tag}`);
    expect(procTable().snapshot().get(c.pid!)?.ppid).toBe(process.pid);
    expect(procTable().cmdline(c.pid!, 4096)?.toString('latin1')).toBe(`${join(dir, `kt-tp-${tag}`)}\x00600\x0010\x00`);
  }, 15_000);
});

describe('vrrp_track_process on real processes', () => {
  it('up while the stand-in runs; killed, down at the next scan; back, up again', async () => {
    const c = standIn(`kt-tp-${tag}`);
    await until('started', () => procTable().snapshot().get(c.pid!)?.comm === `kt-tp-${tag}`);
    const t = track(` process kt-tp-${tag}`);
    try {
      expect(t.states).toEqual([true]);
      c.kill('SIGKILL');
      const lost = await until('quorum lost', () => t.up() === false);
      console.log(`track_process: a killed process seen after ${lost.toFixed(0)} ms (scan every 1000 ms)`);
      expect(lost).toBeLessThan(5000);
      expect(t.logs).toEqual([`Quorum lost for tracked process tp`]);
      standIn(`kt-tp-${tag}`);
      const gained = await until('quorum gained', () => t.up() === true);
      console.log(`track_process: a started process seen after ${gained.toFixed(0)} ms`);
    } finally {
      t.stop();
    }
  }, 30_000);

  it('quorum 2: one of two killed is a loss; a name longer than 15 bytes matches only truncated', async () => {
    const long = `kt-tp-${tag}-long-name`;
    const a = standIn(long);
    const b = standIn(long);
    await until('started', () => [a, b].every((p) => procTable().snapshot().get(p.pid!)?.comm === long.slice(0, 15)));
    const full = track(` process ${long}\n quorum 2`);
    const cut = track(` process ${long.slice(0, 15)}\n quorum 2`);
    try {
      expect(full.states).toEqual([false]);
      expect(cut.states).toEqual([true]);
      b.kill('SIGKILL');
      await until('quorum lost', () => cut.up() === false);
      expect(full.states).toEqual([false]);
    } finally {
      full.stop();
      cut.stop();
    }
  }, 30_000);

  it('param_match: exact, partial and initial against the real command line', async () => {
    const bin = join(dir, `kt-tp-${tag}`);
    const c = standIn(`kt-tp-${tag}`, ['600', '10']);
    await until('started', () => procTable().snapshot().get(c.pid!)?.comm === `kt-tp-${tag}`);
    const cases: [string, boolean][] = [
      [` process ${bin} 600 10`, true],
      [` process ${bin} 600`, false],
      [` process ${bin} 600\n param_match partial`, true],
      [` process ${bin} 600 1\n param_match initial`, true],
      [` process ${bin} 600 1\n param_match partial`, false],
      [` process kt-tp-${tag}\n full_command`, false],
    ];
    for (const [block, want] of cases) {
      const t = track(block);
      t.stop();
      expect(t.states, block).toEqual([want]);
    }
  }, 15_000);
});
