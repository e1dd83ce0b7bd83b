// Notify scripts as keepalived runs them: which scripts, in what order, with which args; the FIFO
// line format; and the Notifier running them for real through a ScriptRunner.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScriptRef } from '../../src/config/values.js';
import { fifoLine, type IdentityFor, Notifier, notifyCommands, notifyPlan, type NotifyRecord, type NotifyScripts } from '../../src/daemon/notify.js';
import { ScriptRunner } from '../../src/proc/script-runner.js';

const ref = (...argv: string[]): ScriptRef => ({ command: argv.join(' '), argv });

const all: NotifyScripts = {
  notifyMaster: ref('/m.sh', 'x'),
  notifyBackup: ref('/b.sh'),
  notifyFault: ref('/f.sh'),
  notifyStop: ref('/s.sh'),
  notify: ref('/n.sh', 'extra1'),
};

describe('notifyCommands', () => {
  it("runs the state's own script first with its args only, then the generic one with 4 appended", () => {
    // keepalived observed: `extra1 INSTANCE VI_1 MASTER 150`
    expect(notifyCommands('INSTANCE', 'VI_1', 'MASTER', 150, all)).toEqual([
      ['/m.sh', 'x'],
      ['/n.sh', 'extra1', 'INSTANCE', 'VI_1', 'MASTER', '150'],
    ]);
    expect(notifyCommands('INSTANCE', 'VI_1', 'BACKUP', 90, all)).toEqual([['/b.sh'], ['/n.sh', 'extra1', 'INSTANCE', 'VI_1', 'BACKUP', '90']]);
    expect(notifyCommands('INSTANCE', 'VI_1', 'FAULT', 100, all)).toEqual([['/f.sh'], ['/n.sh', 'extra1', 'INSTANCE', 'VI_1', 'FAULT', '100']]);
    expect(notifyCommands('INSTANCE', 'VI_1', 'STOP', 100, all)).toEqual([['/s.sh'], ['/n.sh', 'extra1', 'INSTANCE', 'VI_1', 'STOP', '100']]);
  });

  it('gives groups priority 0 and GROUP as the type', () => {
    expect(notifyCommands('GROUP', 'G1', 'BACKUP', 200, all)).toEqual([['/b.sh'], ['/n.sh', 'extra1', 'GROUP', 'G1', 'BACKUP', '0']]);
  });

  it('runs only what is configured', () => {
    expect(notifyCommands('INSTANCE', 'VI_2', 'MASTER', 100, { notifyBackup: ref('/b.sh') })).toEqual([]);
    expect(notifyCommands('INSTANCE', 'VI_2', 'MASTER', 100, { notify: ref('/n.sh') })).toEqual([['/n.sh', 'INSTANCE', 'VI_2', 'MASTER', '100']]);
    expect(notifyPlan('INSTANCE', 'VI_2', 'MASTER', 100, all).map((c) => c.keyword)).toEqual(['notify_master', 'notify']);
  });

  it('reports DELETED only with notify_deleted, FAULT otherwise', () => {
    expect(notifyCommands('INSTANCE', 'VI_1', 'DELETED', 100, all)).toEqual([['/f.sh'], ['/n.sh', 'extra1', 'INSTANCE', 'VI_1', 'FAULT', '100']]);
    expect(notifyCommands('INSTANCE', 'VI_1', 'DELETED', 100, { ...all, notifyDeleted: true })).toEqual([
      ['/n.sh', 'extra1', 'INSTANCE', 'VI_1', 'DELETED', '100'],
    ]);
    expect(notifyCommands('INSTANCE', 'VI_1', 'DELETED', 100, { ...all, notifyDeleted: ref('/d.sh', 'gone') })).toEqual([
      ['/d.sh', 'gone'],
      ['/n.sh', 'extra1', 'INSTANCE', 'VI_1', 'DELETED', '100'],
    ]);
  });

  it('does not let callers mutate the configured argv', () => {
    const cfg = { notify: ref('/n.sh') };
    notifyCommands('INSTANCE', 'VI_1', 'MASTER', 1, cfg)[0].push('junk');
    expect(cfg.notify.argv).toEqual(['/n.sh']);
  });
});

describe('fifoLine', () => {
  it('formats instance and group lines as keepalived writes them', () => {
    expect(fifoLine('INSTANCE', 'VI_1', 'MASTER', 100)).toBe('INSTANCE "VI_1" MASTER 100');
    expect(fifoLine('GROUP', 'G1', 'BACKUP', 150)).toBe('GROUP "G1" BACKUP 0');
    expect(fifoLine('INSTANCE', 'VI_1', 'MASTER_RX_LOWER_PRI', 90)).toBe('INSTANCE "VI_1" MASTER_RX_LOWER_PRI 90');
    expect(fifoLine('INSTANCE', 'VI 2', 'BACKUP_PRIORITY', 254)).toBe('INSTANCE "VI 2" BACKUP_PRIORITY 254');
  });
});

describe('Notifier (real scripts)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'ka-notify-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const script = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return p;
  };

  it("runs the scripts fire-and-forget with keepalived's argv and records each result", async () => {
    const out = join(dir, 'argv.log');
    const rec = script('rec.sh', `echo "$0 $*" >> ${out}`);
    const runner = new ScriptRunner();
    const seen: NotifyRecord[] = [];
    const n = new Notifier(runner, { onResult: (r) => seen.push(r) });
    const recs = n.notify('INSTANCE', 'VI_1', 'MASTER', 150, { notifyMaster: ref(rec, 'master-arg'), notify: ref(rec, 'extra1') });
    expect(recs.map((r) => r.keyword)).toEqual(['notify_master', 'notify']);
    expect(recs.every((r) => r.result === undefined)).toBe(true); // returned before the scripts ran
    await n.settled();
    const lines = readFileSync(out, 'utf8').trim().split('\n').sort();
    expect(lines).toEqual([`${rec} extra1 INSTANCE VI_1 MASTER 150`, `${rec} master-arg`].sort());
    expect(recs.map((r) => r.result?.code)).toEqual([0, 0]);
    expect(seen).toHaveLength(2);
    expect(n.history).toHaveLength(2);
  });

  it('kills a hung STOP notify at its timeout (keepalived: 1 s) but lets other notifies run on', async () => {
    const runner = new ScriptRunner({ killGraceMs: 100 });
    const n = new Notifier(runner, { stopTimeoutMs: 150 });
    const hang = ref('sleep', '60');
    const [stop] = n.notify('INSTANCE', 'VI_1', 'STOP', 100, { notifyStop: hang });
    const [master] = n.notify('INSTANCE', 'VI_1', 'MASTER', 100, { notifyMaster: hang });
    const r = await stop.done;
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
    expect(r.durationMs).toBeLessThan(150 + 300);
    expect(master.result).toBeUndefined(); // no timeout for ordinary notifies, as keepalived
    expect(runner.running).toBe(1);
    await runner.shutdown({ graceMs: 100 });
    expect((await master.done).aborted).toBe(true);
  });

  it('records a script whose user cannot be resolved, and a missing script, without throwing', async () => {
    const runner = new ScriptRunner();
    const n = new Notifier(runner, {
      identity: (s): ReturnType<IdentityFor> => (s.user === 'ghost' ? { error: "Script user 'ghost' does not exist" } : {}),
    });
    const [bad] = n.notify('GROUP', 'G1', 'FAULT', 0, { notifyFault: { ...ref('/bin/true'), user: 'ghost' } });
    const [missing] = n.notify('GROUP', 'G1', 'FAULT', 0, { notifyFault: ref(join(dir, 'nope.sh')) });
    await n.settled();
    expect(bad.result).toMatchObject({ code: null, error: "Script user 'ghost' does not exist" });
    expect(missing.result).toMatchObject({ code: null, errno: 'ENOENT' });
  });

  it.skipIf(process.getuid?.() !== 0)('passes the resolved uid/gid to the script', async () => {
    const out = join(dir, 'uid.out');
    const who = script('uid.sh', `id -u > ${out}`);
    chmodSync(dir, 0o777); // the script, running as nobody, writes here
    const n = new Notifier(new ScriptRunner(), { identity: () => ({ uid: 65534, gid: 65534 }) });
    const [r] = n.notify('INSTANCE', 'VI_1', 'BACKUP', 100, { notifyBackup: ref(who) });
    await n.settled();
    expect(r).toMatchObject({ uid: 65534, gid: 65534 });
    expect(readFileSync(out, 'utf8').trim()).toBe('65534');
  });
});
