// The start gate: FIFOs that hold a process (a shell before exec, our daemon in itself) until the
// lab opens them all at once. Real FIFOs and processes; no namespace needed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { START_GATE_ENV as DAEMON_ENV, startGate } from '../../../src/daemon/start-gate.js';
import { awaitGates, gatedArgv, makeGate, releaseGates, START_GATE_ENV } from '../../../src/lab/netns/start-gate.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-start-gate-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A process behind a gate, and what it has printed so far. */
function gated(path: string, argv: string[]) {
  const [cmd, ...args] = gatedArgv(path, argv);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  return { child, out: () => out, exited, gate: { node: argv.join(' '), path, alive: () => child.exitCode === null, tail: () => out } };
}

describe('the start gate', () => {
  it('holds each shell-gated process until every gate opens, then it becomes its command', async () => {
    const a = join(dir, 'a.gate');
    const b = join(dir, 'b.gate');
    makeGate(a);
    makeGate(b);
    const pa = gated(a, ['/bin/echo', 'a ran']);
    const pb = gated(b, ['/bin/echo', 'b ran']);
    const fds = await awaitGates([pa.gate, pb.gate], 10_000);
    expect([...fds.keys()].sort()).toEqual(['/bin/echo a ran', '/bin/echo b ran']);
    // Both wait at their gates: nothing has run yet.
    await new Promise((r) => setTimeout(r, 100));
    expect(pa.out() + pb.out()).toBe('');
    const at = releaseGates(fds);
    expect(at.size).toBe(2);
    expect(await pa.exited).toBe(0);
    expect(await pb.exited).toBe(0);
    expect(pa.out()).toBe('a ran\n');
    expect(pb.out()).toBe('b ran\n');
  });

  it('says which process exited before reaching its gate', async () => {
    const a = join(dir, 'a.gate');
    makeGate(a);
    const gone = { node: 'lb9', path: a, alive: () => false, tail: () => 'lb9: bad config' };
    await expect(awaitGates([gone], 5000)).rejects.toThrow(/lb9's daemon exited before its start gate\nlb9: bad config/);
  });

  it('our daemon waits in itself until the lab writes, and hides the variable from its scripts', async () => {
    expect(START_GATE_ENV).toBe(DAEMON_ENV);
    const a = join(dir, 'ours.gate');
    makeGate(a);
    const env: NodeJS.ProcessEnv = { [DAEMON_ENV]: a };
    let opened: string | undefined;
    const waiting = startGate(env).then((p) => (opened = p));
    expect(env[DAEMON_ENV]).toBeUndefined();
    const fds = await awaitGates([{ node: 'ours', path: a, alive: () => true, tail: () => '' }], 10_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(opened).toBeUndefined();
    releaseGates(fds);
    await waiting;
    expect(opened).toBe(a);
    // Without a gate nothing waits.
    expect(await startGate({})).toBeUndefined();
  });
});
