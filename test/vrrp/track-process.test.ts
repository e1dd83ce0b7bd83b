// vrrp_track_process against a process table the test writes, on a virtual clock: keepalived's
// reading of the block (vrrp_parser.c), its matching rules (track_process.c check_params) and its
// quorum counting with fork_delay / terminate_delay, replayed from one-second snapshots.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import { VirtualClock } from '../../src/core/clock.js';
import type { ProcEntry } from '../../src/proc/process-table.js';
import type { VrrpEngine } from '../../src/vrrp/engine.js';
import { matchesProcess, processMatcher, startProcessTrackers } from '../../src/vrrp/track-process.js';

const block = (body: string): string => `vrrp_track_process tp {\n${body}\n}\n`;
const instance = (track = 'tp') =>
  `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n priority 100\n track_process {\n  ${track}\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n`;

function matcher(body: string) {
  const { config, diagnostics } = loadConfigText(block(body) + instance());
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return processMatcher(config.trackProcesses[0])!;
}

const cmd = (...argv: string[]): Buffer => Buffer.from(argv.map((a) => `${a}\0`).join(''), 'latin1');

describe('vrrp_track_process: the block as keepalived reads it', () => {
  it('a name alone matches /proc/PID/comm; parameters mean an exact match of the command line', () => {
    expect(matcher('process nginx')).toMatchObject({ path: 'nginx', fullCommand: false, paramMatch: 'none', quorum: 1 });
    expect(matcher('process /usr/sbin/nginx -g x')).toMatchObject({ fullCommand: true, paramMatch: 'exact' });
    expect(matcher('process nginx\n param_match')).toMatchObject({ fullCommand: true, paramMatch: 'exact' });
    expect(matcher('process nginx\n param_match initial')).toMatchObject({ fullCommand: true, paramMatch: 'initial' });
    expect(matcher('process nginx\n full_command')).toMatchObject({ fullCommand: true, paramMatch: 'none' });
  });

  it('quorum_max 0 means OK only while none runs; the later of delay and fork_delay wins', () => {
    expect(matcher('process x\n quorum_max 0')).toMatchObject({ quorum: 0, quorumMax: 0 });
    expect(matcher('process x\n delay 2\n fork_delay 0.5')).toMatchObject({ forkDelayUs: 500_000, terminateDelayUs: 2_000_000 });
    expect(matcher('process x\n fork_delay 0.5\n delay 2')).toMatchObject({ forkDelayUs: 2_000_000, terminateDelayUs: 2_000_000 });
  });

  it("quorum above quorum_max: the second of the two lines is ignored, with keepalived 2.2.7's message", () => {
    const load = (body: string) => loadConfigText(block(body) + instance());
    const a = load('process x\n quorum 3\n quorum_max 2');
    expect(a.diagnostics.map((d) => `${d.line} ${d.message}`)).toEqual(['4 quorum_max is less than quorum - ignoring']);
    expect(processMatcher(a.config.trackProcesses[0])).toMatchObject({ quorum: 3, quorumMax: Number.MAX_SAFE_INTEGER });
    const b = load('process x\n quorum_max 2\n quorum 3');
    expect(b.diagnostics.map((d) => `${d.line} ${d.message}`)).toEqual(['4 Quorum is greater than quorum_max - ignoring']);
    expect(processMatcher(b.config.trackProcesses[0])).toMatchObject({ quorum: 1, quorumMax: 2 });
    const c = load('process x\n quorum_max 0\n quorum 1');
    expect(processMatcher(c.config.trackProcesses[0])).toMatchObject({ quorum: 0, quorumMax: 0 });
  });

  it('matches as check_params does: exact, partial (first parameters exactly), initial (the last may be longer)', () => {
    const m = (body: string, argv: string[], comm = 'x') => matchesProcess(matcher(body), comm, () => cmd(...argv));
    expect(m('process nginx', [], 'nginx')).toBe(true);
    expect(m('process nginx', [], 'nginx-debug')).toBe(false);
    // No pgrep-style search: a longer name does not match, nor a path for a name.
    expect(m('process ngin', [], 'nginx')).toBe(false);
    expect(m('process nginx\n full_command', ['/usr/sbin/nginx', '-g'])).toBe(false);
    expect(m('process /usr/sbin/nginx\n full_command', ['/usr/sbin/nginx', '-g'])).toBe(true);

    expect(m('process srv -p 80', ['srv', '-p', '80'])).toBe(true);
    expect(m('process srv -p 80', ['srv', '-p', '8080'])).toBe(false);
    expect(m('process srv -p 80', ['srv', '-p', '80', '-v'])).toBe(false);
    expect(m('process srv\n param_match', ['srv'])).toBe(true);
    expect(m('process srv\n param_match', ['srv', '-v'])).toBe(false);

    expect(m('process srv -p 80\n param_match partial', ['srv', '-p', '80', '-v'])).toBe(true);
    expect(m('process srv -p 80\n param_match partial', ['srv', '-p', '8080'])).toBe(false);
    expect(m('process srv -p 80\n param_match initial', ['srv', '-p', '8080'])).toBe(true);
    expect(m('process srv -p 80\n param_match initial', ['srv', '-p', '90'])).toBe(false);
  });
});

/** A process table the test edits, the tracker on a virtual clock, and what reached the engine. */
function world(conf: string) {
  const { config, diagnostics } = loadConfigText(conf);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const clock = new VirtualClock();
  const procs = new Map<number, ProcEntry & { argv?: string[] }>();
  const tracked: [number, boolean][] = [];
  const logs: string[] = [];
  const engine = { setTracked: (_k: string, _n: string, up: boolean) => tracked.push([clock.now() / 1000, up]) } as unknown as VrrpEngine;
  const stop = startProcessTrackers(config, engine, {
    clock,
    log: (_l, m) => logs.push(m),
    pollUs: 1_000_000,
    table: {
      snapshot: () => new Map([...procs].map(([pid, e]) => [pid, { ppid: e.ppid, comm: e.comm }])),
      cmdline: (pid, max) => {
        const a = procs.get(pid)?.argv;
        return a ? cmd(...a).subarray(0, max) : undefined;
      },
    },
  });
  return { clock, procs, tracked, logs, stop, ms: (n: number) => clock.advance(n * 1000) };
}

describe('vrrp_track_process: quorum from snapshots', () => {
  it('starts from what runs (no "Quorum" line), and sees an exit and a restart at the next scan', () => {
    const w = world(block(' process kt-web') + instance());
    expect(w.tracked).toEqual([[0, false]]);
    expect(w.logs).toEqual(['(VI_1) entering FAULT state (tracked process tp quorum not achieved)']);
    w.procs.set(10, { ppid: 1, comm: 'kt-web' });
    w.ms(999);
    expect(w.tracked).toHaveLength(1);
    w.ms(1);
    expect(w.tracked.at(-1)).toEqual([1000, true]);
    expect(w.logs.at(-1)).toBe('Quorum gained for tracked process tp');
    w.procs.delete(10);
    w.ms(1000);
    expect(w.tracked.at(-1)).toEqual([2000, false]);
    expect(w.logs.at(-1)).toBe('Quorum lost for tracked process tp');
    w.stop();
    w.procs.set(11, { ppid: 1, comm: 'kt-web' });
    w.ms(5000);
    expect(w.tracked).toHaveLength(3);
  });

  it('quorum 2 and quorum_max 3: too few and too many both fail', () => {
    const w = world(block(' process kt-web\n quorum 2\n quorum_max 3') + instance());
    for (const pid of [10, 11]) w.procs.set(pid, { ppid: 1, comm: 'kt-web' });
    w.ms(1000);
    expect(w.tracked.at(-1)).toEqual([1000, true]);
    w.procs.set(12, { ppid: 1, comm: 'kt-web' });
    w.ms(1000);
    expect(w.tracked).toHaveLength(2);
    w.procs.set(13, { ppid: 1, comm: 'kt-web' });
    w.ms(1000);
    expect(w.tracked.at(-1)).toEqual([3000, false]);
    w.procs.delete(13);
    w.procs.delete(12);
    w.procs.delete(11);
    w.ms(1000);
    // 4 → 1 in one scan: through the range and out below it at one instant, no up/down flap.
    expect(w.tracked).toHaveLength(3);
    expect(w.logs.filter((l) => l.startsWith('Quorum'))).toEqual(['Quorum gained for tracked process tp', 'Quorum lost for tracked process tp']);
    w.procs.set(11, { ppid: 1, comm: 'kt-web' });
    w.ms(1000);
    expect(w.tracked.at(-1)).toEqual([5000, true]);
  });

  it('terminate_delay rides out a restart; fork_delay holds a quorum reached by a fork', () => {
    const w = world(block(' process kt-web\n terminate_delay 3\n fork_delay 2\n quorum 2') + instance());
    w.procs.set(10, { ppid: 1, comm: 'kt-web' });
    w.procs.set(11, { ppid: 1, comm: 'kt-web' });
    w.ms(1000);
    expect(w.tracked.at(-1)).toEqual([1000, true]);
    // One ends and another starts (an exec: its parent is not counted) within the delay.
    w.procs.delete(11);
    w.ms(1000);
    w.procs.set(12, { ppid: 1, comm: 'kt-web' });
    w.ms(5000);
    expect(w.tracked).toHaveLength(2);
    // One ends for good: down 3 s after the scan that saw it.
    w.procs.delete(12);
    w.ms(1000);
    w.ms(2999);
    expect(w.tracked).toHaveLength(2);
    w.ms(1);
    expect(w.tracked.at(-1)).toEqual([11_000, false]);
    // A fork of the counted one: up 2 s after the scan that saw it.
    w.procs.set(13, { ppid: 10, comm: 'kt-web' });
    w.ms(1000);
    expect(w.tracked).toHaveLength(3);
    w.ms(2000);
    expect(w.tracked.at(-1)).toEqual([14_000, true]);
  });

  it('a counted process that takes another name stops counting at once; weight 0 reverse faults while it runs', () => {
    const w = world(block(' process kt-web\n terminate_delay 5') + instance('tp weight 0 reverse'));
    expect(w.logs).toEqual([]);
    w.procs.set(10, { ppid: 1, comm: 'kt-web' });
    w.ms(1000);
    expect(w.tracked.at(-1)).toEqual([1000, true]);
    w.procs.set(10, { ppid: 1, comm: 'kt-other' });
    w.ms(1000);
    expect(w.tracked.at(-1)).toEqual([2000, false]);
  });

  it('full_command with parameters reads the command line of new processes only', () => {
    const w = world(block(' process /opt/kt-srv -p 80') + instance());
    w.procs.set(10, { ppid: 1, comm: 'kt-srv', argv: ['/opt/kt-srv', '-p', '8080'] });
    w.procs.set(11, { ppid: 1, comm: 'kt-srv', argv: ['/opt/kt-srv', '-p', '80'] });
    w.ms(1000);
    expect(w.tracked.at(-1)).toEqual([1000, true]);
    w.procs.delete(11);
    w.ms(1000);
    expect(w.tracked.at(-1)).toEqual([2000, false]);
  });

  it('tracks nothing (and reads nothing) when no instance or group tracks the block', () => {
    const { config } = loadConfigText(block(' process kt-web') + instance().replace(/ track_process \{\n {2}tp\n \}\n/, ''));
    let reads = 0;
    const stop = startProcessTrackers(config, {} as VrrpEngine, {
      clock: new VirtualClock(),
      log: () => undefined,
      pollUs: 1_000_000,
      table: { snapshot: () => (reads++, new Map()), cmdline: () => undefined },
    });
    stop();
    expect(reads).toBe(0);
  });
});
