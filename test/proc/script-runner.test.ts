// The process edge with real processes (no child_process mocks): exit codes, timeouts, process
// group kills, output floods, spawn failures, the concurrency bound, shutdown, running as another
// user — plus script_user resolution.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupAlive, processAlive, runScript, ScriptRunner } from '../../src/proc/script-runner.js';
import { defaultScriptUser, parseGroup, parsePasswd, readUserDb, resolveScriptUser, scriptIdentity, type UserDb } from '../../src/proc/users.js';

const isRoot = process.getuid?.() === 0;
let dir: string;

/** An executable /bin/sh script in the test directory. */
function script(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

async function until(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ka-runner-'));
  chmodSync(dir, 0o777); // readable and writable by the `nobody` test
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runScript', () => {
  it('reports the exit status of the script', async () => {
    const s = script('exit.sh', 'exit "$1"');
    const rs = await Promise.all(['0', '1', '2'].map((c) => runScript([s, c], { timeoutMs: 5000 })));
    expect(rs.map((r) => r.code)).toEqual([0, 1, 2]);
    expect(rs.every((r) => r.signal === null && !r.timedOut && r.error === undefined)).toBe(true);
    expect(rs.every((r) => r.durationMs > 0 && r.durationMs < 2000)).toBe(true);
  });

  it('execs without a shell, finds bare names through PATH, runs in / with the given env', async () => {
    // A shell would expand $HOME and split on the space; execve passes the word through as is.
    const s = script('args.sh', '[ "$1" = \'$HOME x\' ] && [ "$#" = 1 ] && [ "$(pwd)" = / ] && [ "$KA_TEST" = yes ]');
    const r = await runScript([s, '$HOME x'], { timeoutMs: 5000, env: { ...process.env, KA_TEST: 'yes' } });
    expect(r.code).toBe(0);
    const bare = await runScript(['sh', '-c', 'exit 7'], { timeoutMs: 5000 });
    expect(bare.code).toBe(7);
  });

  it('kills a hung script at its timeout (SIGTERM to the group) and says so', async () => {
    let pid = 0;
    const r = await runScript(['sleep', '60'], { timeoutMs: 300, onSpawn: (p) => (pid = p) });
    expect(r).toMatchObject({ code: null, signal: 'SIGTERM', timedOut: true });
    // kill latency: the script ends within a few ms of its timeout
    expect(r.durationMs).toBeGreaterThanOrEqual(295);
    expect(r.durationMs).toBeLessThan(300 + 250);
    expect(processAlive(pid)).toBe(false);
  });

  it('SIGKILLs a script that ignores SIGTERM once the grace has passed', async () => {
    const s = script('stubborn.sh', 'trap "" TERM\nwhile :; do sleep 0.05; done');
    const t0 = Date.now();
    let pid = 0;
    const r = await runScript([s], { timeoutMs: 200, killGraceMs: 300, onSpawn: (p) => (pid = p) });
    const took = Date.now() - t0;
    expect(r).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: true });
    expect(r.durationMs).toBeGreaterThanOrEqual(490); // timeout + grace
    expect(took).toBeLessThan(200 + 300 + 300);
    expect(groupAlive(pid)).toBe(false);
  });

  it('kills the children of a timed-out script with its process group', async () => {
    const pidFile = join(dir, 'child.pid');
    const s = script('parent.sh', `sleep 60 &\necho $! > ${pidFile}\nwait`);
    const r = await runScript([s], { timeoutMs: 250, killGraceMs: 1000 });
    expect(r.timedOut).toBe(true);
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(child).toBeGreaterThan(1);
    // kill -0 alone would still see the orphan as a zombie where PID 1 does not reap (containers)
    expect(processAlive(child)).toBe(false);
    // SIGTERM reached the whole group at once: no need to wait for the SIGKILL grace
    expect(r.durationMs).toBeLessThan(250 + 250);
  });

  it('waits out children that ignore SIGTERM after their parent died, then SIGKILLs them', async () => {
    const pidFile = join(dir, 'hard-child.pid');
    const s = script('parent2.sh', `sh -c 'trap "" TERM; while :; do sleep 0.05; done' &\necho $! > ${pidFile}\nwait`);
    const t0 = Date.now();
    const r = await runScript([s], { timeoutMs: 200, killGraceMs: 400 });
    const took = Date.now() - t0;
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGTERM' }); // the parent died of SIGTERM
    expect(r.durationMs).toBeLessThan(200 + 200);
    expect(took).toBeGreaterThanOrEqual(590); // but we resolved only after the group was SIGKILLed
    expect(processAlive(child)).toBe(false);
  });

  it('sends output to /dev/null: 100 MB of stdout+stderr costs no memory and never blocks', async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    const r = await runScript(['sh', '-c', 'head -c 50000000 /dev/zero; head -c 50000000 /dev/zero >&2; exit 0'], { timeoutMs: 10000 });
    const growth = process.memoryUsage().rss - before;
    expect(r.code).toBe(0);
    expect(r.timedOut).toBe(false);
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  });

  it('resolves spawn failures with code null and the errno, never throwing', async () => {
    const missing = await runScript(['/nonexistent/dir/check.sh'], { timeoutMs: 1000 });
    expect(missing).toMatchObject({ code: null, signal: null, timedOut: false, errno: 'ENOENT' });
    expect(missing.error).toContain('ENOENT');
    const bare = await runScript(['no-such-command-ka-test'], { timeoutMs: 1000 });
    expect(bare.errno).toBe('ENOENT');
    const p = join(dir, 'not-exec.sh');
    writeFileSync(p, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const noexec = await runScript([p], { timeoutMs: 1000 });
    expect(noexec).toMatchObject({ code: null, errno: 'EACCES' });
    const empty = await runScript([], { timeoutMs: 1000 });
    expect(empty.code).toBeNull();
    expect(empty.error).toBeDefined();
  });

  it.skipIf(!isRoot)("runs the script as another user with only that user's group", async () => {
    const nobody = resolveScriptUser(readUserDb(), 'nobody');
    if (!nobody.ok) throw new Error(nobody.error);
    const out = join(dir, 'id.out');
    const s = script('id.sh', `{ id -u; id -g; id -G; } > ${out}`);
    const r = await runScript([s], { timeoutMs: 5000, uid: nobody.uid, gid: nobody.gid });
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n').slice(0, 3)).toEqual([String(nobody.uid), String(nobody.gid), String(nobody.gid)]);
    expect(nobody.uid).toBe(65534);
  });
});

describe('ScriptRunner', () => {
  it('never runs more than maxConcurrent scripts at once and queues the rest in order', async () => {
    const log = join(dir, 'conc.log');
    writeFileSync(log, '');
    const s = script('conc.sh', `echo "+ $1" >> ${log}\nsleep 0.25\necho "- $1" >> ${log}`);
    const runner = new ScriptRunner({ maxConcurrent: 3 });
    let maxSeen = 0;
    const poll = setInterval(() => (maxSeen = Math.max(maxSeen, runner.running)), 5);
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 9 }, (_, i) => runner.run([s, String(i)], { timeoutMs: 5000 })));
    const took = Date.now() - t0;
    clearInterval(poll);
    expect(rs.every((r) => r.code === 0)).toBe(true);
    // Reconstruct concurrency from what the scripts themselves wrote.
    let now = 0;
    let max = 0;
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    for (const l of lines) {
      now += l.startsWith('+') ? 1 : -1;
      max = Math.max(max, now);
    }
    expect(lines).toHaveLength(18);
    expect(max).toBe(3);
    expect(runner.peak).toBe(3);
    expect(maxSeen).toBeLessThanOrEqual(3);
    // FIFO: the first three started first
    expect(
      lines
        .filter((l) => l.startsWith('+'))
        .slice(0, 3)
        .map((l) => l.slice(2))
        .sort(),
    ).toEqual(['0', '1', '2']);
    // three waves of 0.25 s
    expect(took).toBeGreaterThanOrEqual(740);
    expect(took).toBeLessThan(2500);
    expect(runner.running).toBe(0);
  });

  it('shutdown kills running scripts (SIGKILL after its grace), drops the queue and refuses new runs', async () => {
    const runner = new ScriptRunner({ maxConcurrent: 2 });
    const pids: number[] = [];
    const ready = join(dir, 'stubborn2.ready');
    const stubborn = script('stubborn2.sh', `trap "" TERM\ntouch ${ready}\nwhile :; do sleep 0.05; done`);
    const a = runner.run(['sleep', '60'], { timeoutMs: 0, onSpawn: (p) => pids.push(p) });
    const b = runner.run([stubborn], { timeoutMs: 0, onSpawn: (p) => pids.push(p) });
    const queued = runner.run(['sleep', '60'], { timeoutMs: 0 });
    // SIGTERM must not arrive before the script has set its trap
    expect(await until(() => pids.length === 2 && existsSync(ready))).toBe(true);
    expect(runner.running).toBe(2);
    expect(runner.queued).toBe(1);
    const t0 = Date.now();
    await runner.shutdown({ graceMs: 200 });
    const took = Date.now() - t0;
    const [ra, rb, rq] = await Promise.all([a, b, queued]);
    expect(ra).toMatchObject({ signal: 'SIGTERM', aborted: true, timedOut: false });
    expect(rb).toMatchObject({ signal: 'SIGKILL', aborted: true });
    expect(rq).toMatchObject({ code: null, error: 'script runner shut down' });
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(800);
    expect(pids.every((p) => !processAlive(p) && !groupAlive(p))).toBe(true);
    const late = await runner.run(['true'], { timeoutMs: 1000 });
    expect(late.error).toBe('script runner shut down');
  });
});

// ---------------------------------------------------------------------------------------------

const PASSWD = `root:x:0:0:root:/root:/bin/bash
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
+nisuser::::::
broken line
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
daemon:x:1:
wheel:x:10:alice,bob
nogroup:x:65534:
`;
const db: UserDb = { users: parsePasswd(PASSWD), groups: parseGroup(GROUP) };
const withKs: UserDb = { users: [...db.users, { name: 'keepalived_script', uid: 997, gid: 996, home: '/', shell: '' }], groups: db.groups };

describe('script users', () => {
  it('parses passwd and group files, skipping comments, NIS entries and junk', () => {
    expect(db.users.map((u) => [u.name, u.uid, u.gid])).toEqual([
      ['root', 0, 0],
      ['daemon', 1, 1],
      ['nobody', 65534, 65534],
    ]);
    expect(db.groups.find((g) => g.name === 'wheel')).toEqual({ name: 'wheel', gid: 10, members: ['alice', 'bob'] });
  });

  it("resolves USER [GROUP], the group defaulting to the user's primary group", () => {
    expect(resolveScriptUser(db, 'nobody')).toEqual({ ok: true, uid: 65534, gid: 65534, user: 'nobody', group: 'nogroup' });
    expect(resolveScriptUser(db, 'nobody', 'wheel')).toMatchObject({ ok: true, uid: 65534, gid: 10 });
    expect(resolveScriptUser(db, 'ghost')).toEqual({ ok: false, error: "Script user 'ghost' does not exist" });
    expect(resolveScriptUser(db, 'nobody', 'ghosts')).toEqual({ ok: false, error: "Script group 'ghosts' does not exist" });
  });

  it('defaults to keepalived_script, else the running user; security makes a missing one an error', () => {
    const self = { uid: 1, gid: 1 };
    expect(defaultScriptUser(withKs, {}, self)).toMatchObject({ ok: true, uid: 997, gid: 996, user: 'keepalived_script' });
    expect(defaultScriptUser(db, {}, self)).toEqual({ ok: true, uid: 1, gid: 1, user: 'daemon', group: 'daemon' });
    expect(defaultScriptUser(db, { enableScriptSecurity: true }, self)).toEqual({
      ok: false,
      error: 'Unable to set default user keepalived_script for script',
    });
    expect(defaultScriptUser(withKs, { scriptUser: { user: 'nobody' } }, self)).toMatchObject({ ok: true, uid: 65534 });
    // a script's own user wins over script_user
    expect(scriptIdentity(withKs, { user: 'root' }, { scriptUser: { user: 'nobody' } }, self)).toMatchObject({ ok: true, uid: 0, gid: 0 });
    expect(scriptIdentity(withKs, {}, { scriptUser: { user: 'nobody', group: 'wheel' } }, self)).toMatchObject({ ok: true, uid: 65534, gid: 10 });
  });
});
