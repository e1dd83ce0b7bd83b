// The notify FIFOs against real FIFOs and real reader processes: keepalived's rules on which FIFO
// gets which line, the FIFO made 0600 and removed again, a symlink or a regular file planted at
// the path refused without a byte written through it, and a FIFO nobody reads that never makes a
// write wait.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GlobalDefs } from '../../src/config/model/global.js';
import type { ScriptRef } from '../../src/config/values.js';
import { NotifyFifos, openFifo, planFifos, rsLine, trio, vsLine } from '../../src/daemon/notify-fifo.js';
import { fifoLine } from '../../src/daemon/notify.js';
import { daemonDir } from './harness.js';
import { poll } from '../helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'kt-fifo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = (what: string): string => join(dir, `${what}-${++n}`);
const ref = (...argv: string[]): ScriptRef => ({ command: argv.join(' '), argv });
const defs = (g: Partial<GlobalDefs>): GlobalDefs => g as GlobalDefs;
const logged = (): { lines: string[]; log: (l: 'info' | 'warn', m: string) => void } => {
  const lines: string[] = [];
  return { lines, log: (_l, m) => void lines.push(m) };
};
const until = (what: string, ok: () => boolean, timeoutMs = 10_000): Promise<true> => poll(() => ok(), { what, timeoutMs, intervalMs: 25 });

describe('which FIFO gets which line (core/global_data.c)', () => {
  const both = { vrrp: true, lvs: true };

  it('sends VRRP lines to notify_fifo and vrrp_notify_fifo, checker lines to notify_fifo and lvs_notify_fifo', () => {
    const p = planFifos(defs({ notifyFifo: ['/g'], vrrpNotifyFifo: ['/v', 'u', 'grp'], lvsNotifyFifo: ['/l'] }), both, () => {});
    expect(p.map(({ name, types, vrrp, lvs, user, group }) => ({ name, types, vrrp, lvs, user, group }))).toEqual([
      { name: '/g', types: [''], vrrp: true, lvs: true, user: undefined, group: undefined },
      { name: '/v', types: ['vrrp_'], vrrp: true, lvs: false, user: 'u', group: 'grp' },
      { name: '/l', types: ['lvs_'], vrrp: false, lvs: true, user: undefined, group: undefined },
    ]);
  });

  it('opens only the FIFOs of the parts that run', () => {
    const g = defs({ notifyFifo: ['/g'], vrrpNotifyFifo: ['/v'], lvsNotifyFifo: ['/l'] });
    expect(planFifos(g, { vrrp: true, lvs: false }, () => {}).map((p) => p.name)).toEqual(['/g', '/v']);
    expect(planFifos(g, { vrrp: false, lvs: true }, () => {}).map((p) => p.name)).toEqual(['/g', '/l']);
    expect(planFifos(g, { vrrp: false, lvs: false }, () => {})).toEqual([]);
  });

  it("ignores a vrrp or lvs FIFO named as the global one, in keepalived's words", () => {
    const msgs: string[] = [];
    const p = planFifos(defs({ notifyFifo: ['/g'], vrrpNotifyFifo: ['/g'], vrrpNotifyFifoScript: ref('/v.sh'), lvsNotifyFifo: ['/g'] }), both, (m) =>
      msgs.push(m),
    );
    expect(p.map((x) => [x.name, x.script])).toEqual([['/g', undefined]]);
    expect(msgs).toEqual([
      'notify FIFO /g has been specified for global and vrrp FIFO - ignoring vrrp FIFO',
      'notify FIFO /g has been specified for global and LVS FIFO - ignoring LVS FIFO',
    ]);
  });

  it('opens a FIFO shared by vrrp and lvs once; with a script each, the lvs one is ignored', () => {
    const msgs: string[] = [];
    const p = planFifos(
      defs({ vrrpNotifyFifo: ['/s'], vrrpNotifyFifoScript: ref('/v.sh'), lvsNotifyFifo: ['/s'], lvsNotifyFifoScript: ref('/l.sh') }),
      both,
      (m) => msgs.push(m),
    );
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ name: '/s', types: ['vrrp_', 'lvs_'], vrrp: true, lvs: true, script: ref('/v.sh'), scriptOwner: 'vrrp' });
    expect(msgs).toEqual(['LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script']);
  });

  it('runs the global script once, on the checker side when checkers run (vrrp.c)', () => {
    const g = defs({ notifyFifo: ['/g'], notifyFifoScript: ref('/g.sh') });
    expect(planFifos(g, both, () => {})[0].scriptOwner).toBe('lvs');
    expect(planFifos(g, { vrrp: true, lvs: false }, () => {})[0].scriptOwner).toBe('vrrp');
  });

  it("writes keepalived's lines (vrrp_notify.c, ipwrapper.c, the man page's examples)", () => {
    expect(fifoLine('INSTANCE', 'VI_1', 'MASTER', 100)).toBe('INSTANCE "VI_1" MASTER 100');
    expect(fifoLine('GROUP', 'G1', 'BACKUP', 200)).toBe('GROUP "G1" BACKUP 0');
    const vs = trio('192.168.201.15', 'TCP', 80);
    expect(vsLine(vs, true)).toBe('VS [192.168.201.15]:tcp:80 UP');
    expect(rsLine(trio('1.2.3.4', 'TCP', 80), vs, false)).toBe('RS [1.2.3.4]:tcp:80 [192.168.201.15]:tcp:80 DOWN');
  });
});

describe('a real FIFO', () => {
  it('is made 0600 when missing, carries lines to a reader process, and is removed at close', async () => {
    const name = path('made');
    const { lines, log } = logged();
    const fifo = openFifo(name, { type: 'vrrp_', log })!;
    expect(fifo).toBeDefined();
    const st = lstatSync(name);
    expect(st.isFIFO()).toBe(true);
    expect((st.mode & 0o777).toString(8)).toBe('600');
    const out = path('out');
    const cat = spawn('/bin/sh', ['-c', `exec cat "$1" > "$2"`, 'sh', name, out]);
    const ended = new Promise((r) => cat.once('exit', r));
    // The reader opens once it runs; lines written before are in the FIFO for it anyway.
    fifo.write('INSTANCE "VI_1" BACKUP 100');
    fifo.write('INSTANCE "VI_1" MASTER 100');
    await until('the reader', () => existsSync(out) && readFileSync(out, 'utf8').split('\n').length >= 3);
    fifo.close();
    // Our write end closed: the reader sees end of file and ends.
    await ended;
    expect(readFileSync(out, 'utf8')).toBe('INSTANCE "VI_1" BACKUP 100\nINSTANCE "VI_1" MASTER 100\n');
    expect(existsSync(name)).toBe(false);
    expect(lines).toEqual([]);
  });

  it('uses a FIFO that is there and leaves it there', () => {
    const name = path('there');
    expect(spawnSync('mkfifo', [name]).status).toBe(0);
    const fifo = openFifo(name, { type: '', log: () => {} })!;
    expect(fifo.write('VS [10.0.0.1]:tcp:80 UP')).toBe(true);
    fifo.close();
    expect(lstatSync(name).isFIFO()).toBe(true);
  });

  it('refuses a symlink planted at the path, as keepalived (O_NOFOLLOW, errno 40), and writes nothing through it', () => {
    const victim = path('victim');
    writeFileSync(victim, 'victim\n');
    const target = path('target-fifo');
    expect(spawnSync('mkfifo', [target]).status).toBe(0);
    for (const to of [victim, target]) {
      const name = path('link');
      symlinkSync(to, name);
      const { lines, log } = logged();
      expect(openFifo(name, { type: 'lvs_', log })).toBeUndefined();
      expect(lines).toEqual([`Unable to open lvs_notify fifo ${name} - errno 40`]);
      expect(lstatSync(name).isSymbolicLink()).toBe(true);
    }
    expect(readFileSync(victim, 'utf8')).toBe('victim\n');
  });

  it('refuses a path that is not a FIFO (keepalived would write into it)', () => {
    const name = path('regular');
    writeFileSync(name, 'keep\n', { mode: 0o600 });
    const { lines, log } = logged();
    expect(openFifo(name, { type: '', log })).toBeUndefined();
    expect(lines).toEqual([`Unable to open notify fifo ${name} - not a FIFO`]);
    expect(readFileSync(name, 'utf8')).toBe('keep\n');
    expect(statSync(name).isFile()).toBe(true);
  });

  it('says so when the FIFO cannot be made', () => {
    const name = join(dir, 'no-such-dir', 'fifo');
    const { lines, log } = logged();
    expect(openFifo(name, { type: 'vrrp_', log })).toBeUndefined();
    expect(lines).toEqual([`Unable to create vrrp_notify fifo ${name}`]);
  });

  it('never waits on a FIFO nobody reads: a full one drops lines, counted, logged once', () => {
    const name = path('unread');
    const { lines, log } = logged();
    const fifo = openFifo(name, { type: '', log })!;
    const line = `INSTANCE "${'x'.repeat(50)}" MASTER 100`;
    const t0 = performance.now();
    for (let i = 0; i < 5000; i++) fifo.write(line);
    const ms = performance.now() - t0;
    fifo.close();
    // 5000 lines of 73 bytes are 365 KB: a pipe holds 64 KiB (Linux default), the rest is dropped.
    expect(fifo.written + fifo.dropped).toBe(5000);
    expect(fifo.dropped).toBeGreaterThan(0);
    expect(fifo.written * (line.length + 1)).toBeLessThanOrEqual(1 << 20);
    expect(lines).toEqual([`notify fifo ${name}: full (is anything reading it?): dropping lines`]);
    // Had a write waited for a reader, this would never have ended; generous for a busy box.
    expect(ms).toBeLessThan(5000);
  });

  it('starts the FIFO script with the FIFO name last, once the FIFO is open; a bad owner is reported', async () => {
    const name = path('scripted');
    const started: string[][] = [];
    const { lines, log } = logged();
    const env = {
      log,
      owner: (user?: string) => (user === 'nobody-such' ? { error: 'no' } : { uid: process.getuid!(), gid: process.getgid!() }),
      runScript: (_s: ScriptRef, argv: string[], _stop: AbortSignal) => {
        started.push(argv);
        expect(lstatSync(argv[argv.length - 1]).isFIFO()).toBe(true);
        return Promise.resolve();
      },
    };
    const bad = path('bad-owner');
    const fifos = NotifyFifos.start(
      defs({ notifyFifo: [name], notifyFifoScript: ref('/bin/reader', '-x'), lvsNotifyFifo: [bad, 'nobody-such'] }),
      { vrrp: true, lvs: true },
      env,
    );
    await until('the script end', () => lines.includes('lvs notify fifo script terminated'));
    expect(started).toEqual([['/bin/reader', '-x', name]]);
    expect(lines[0]).toBe(`Invalid user/group for lvs_ fifo ${bad} - ignoring`);
    expect(existsSync(bad)).toBe(false);
    fifos.vrrp('INSTANCE "VI_1" MASTER 100');
    fifos.lvs('VS [10.0.0.1]:tcp:80 UP');
    expect(fifos.stats()).toEqual([{ name, written: 2, dropped: 0 }]);
    fifos.close();
    expect(existsSync(name)).toBe(false);
  });
});

describe('a running daemon', () => {
  const d = daemonDir('kt-fifo-daemon-');
  const script = (name: string, body: string): string => {
    const p = join(d.dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return p;
  };
  const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');

  it('writes VS and RS lines to notify_fifo (read by its script) and lvs_notify_fifo (read by cat), between its startup and shutdown scripts', async () => {
    const order = join(d.dir, 'order');
    const globalFifo = join(d.dir, 'global.fifo');
    const globalOut = join(d.dir, 'global.out');
    const lvsFifo = join(d.dir, 'lvs.fifo');
    const lvsOut = join(d.dir, 'lvs.out');
    const up = join(d.dir, 'up');
    writeFileSync(up, '');
    // The startup script runs before the FIFOs exist, the shutdown script once ours is removed.
    const startup = script('startup.sh', `[ -e ${globalFifo} ] && echo startup-late >> ${order} || echo startup >> ${order}`);
    const shutdown = script('shutdown.sh', `[ -e ${globalFifo} ] && echo shutdown-early >> ${order} || echo shutdown >> ${order}`);
    const reader = script('reader.sh', `echo "reader $#" >> ${order}\nexec cat "$1" > ${globalOut}`);
    // lvs_notify_fifo is there already, read by a cat of ours: its open waits for the daemon's.
    expect(spawnSync('mkfifo', [lvsFifo]).status).toBe(0);
    const cat = spawn('/bin/sh', ['-c', 'exec cat "$1" > "$2"', 'sh', lvsFifo, lvsOut]);
    const catEnded = new Promise((r) => cat.once('exit', r));
    writeFileSync(
      d.conf,
      `global_defs {
  router_id fifo
  enable_script_security
  script_user root
  notify_fifo ${globalFifo}
  notify_fifo_script ${reader}
  lvs_notify_fifo ${lvsFifo}
  startup_script ${startup}
  shutdown_script ${shutdown}
}
virtual_server 127.0.0.1 18461 {
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  real_server 127.0.0.1 18462 {
    MISC_CHECK {
      misc_path "/bin/test -e ${up}"
    }
  }
}
`,
    );
    const k = d.daemon('fifo');
    try {
      await until('the reader script', () => read(order).includes('reader'), 20_000);
      expect((lstatSync(globalFifo).mode & 0o777).toString(8)).toBe('600');
      rmSync(up);
      const vs = '[127.0.0.1]:tcp:18461';
      const rs = '[127.0.0.1]:tcp:18462';
      const down = `RS ${rs} ${vs} DOWN\nVS ${vs} DOWN\n`;
      await poll(() => read(lvsOut) === down && read(globalOut) === down, {
        what: 'the DOWN lines',
        timeoutMs: 20_000,
        diagnose: () => `[${read(lvsOut)}][${read(globalOut)}]\n${k.output().slice(-3000)}`,
      });
      writeFileSync(up, '');
      const both = `${down}RS ${rs} ${vs} UP\nVS ${vs} UP\n`;
      await until('the UP lines', () => read(lvsOut) === both && read(globalOut) === both, 20_000);
      // A reload closes the FIFOs, makes ours again (the old reader sees end of file) and starts
      // its script again, as keepalived.
      k.signal('SIGHUP');
      await until('the script again', () => read(order) === 'startup\nreader 1\nreader 1\n', 20_000);
      await until('the first script to end', () => k.output().includes('lvs notify fifo script terminated'), 20_000);
      rmSync(up);
      await poll(() => read(globalOut) === down, {
        what: 'the DOWN lines after the reload',
        timeoutMs: 20_000,
        diagnose: () => `[${read(globalOut)}]\n${k.output().slice(-3000)}`,
      });
      expect(await k.stop()).toBe(0);
      await catEnded;
      expect(read(order)).toBe('startup\nreader 1\nreader 1\nshutdown\n');
      // Ours removed, the one that was there kept.
      expect(existsSync(globalFifo)).toBe(false);
      expect(lstatSync(lvsFifo).isFIFO()).toBe(true);
      expect(k.output()).toContain('lvs notify fifo script terminated');
    } finally {
      k.signal('SIGKILL');
      cat.kill('SIGKILL');
    }
  }, 90_000);

  it('is not held up by a full FIFO nobody reads, and refuses a symlink planted at a FIFO path', async () => {
    // A FIFO filled to the brim, nobody reading: every write of the daemon meets a full pipe.
    const unread = join(d.dir, 'unread.fifo');
    expect(spawnSync('mkfifo', [unread]).status).toBe(0);
    const filler = openSync(unread, constants.O_RDWR | constants.O_NONBLOCK);
    const chunk = Buffer.alloc(4096, 120);
    for (;;) {
      try {
        writeSync(filler, chunk);
      } catch {
        break;
      }
    }
    const victim = d.victim();
    const planted = join(d.dir, 'planted.fifo');
    symlinkSync(victim, planted);
    const up = join(d.dir, 'up2');
    writeFileSync(
      d.conf,
      `global_defs {
  router_id fifo2
  notify_fifo ${planted}
  lvs_notify_fifo ${unread}
}
virtual_server 127.0.0.1 18463 {
  delay_loop 1
  protocol TCP
  real_server 127.0.0.1 18464 {
    MISC_CHECK {
      misc_path "/bin/test -e ${up}"
    }
  }
}
`,
    );
    const k = d.daemon('fifo2', ['-D']);
    try {
      await until('the refusal', () => k.output().includes(`Unable to open notify fifo ${planted} - errno 40`), 20_000);
      // Flapping the real server writes to the unread FIFO; the daemon carries on regardless.
      for (const present of [false, true, false, true]) {
        if (present) writeFileSync(up, '');
        else rmSync(up, { force: true });
        const want = present ? 'UP' : 'DOWN';
        const seen = k.output().split(`service [127.0.0.1]:18464`).length;
        await until(`the real server ${want}`, () => k.output().split(`service [127.0.0.1]:18464`).length > seen, 20_000);
      }
      const t0 = Date.now();
      expect(await k.stop()).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(k.output()).toContain(`notify fifo ${unread}: full (is anything reading it?): dropping lines`);
      expect(readFileSync(victim, 'utf8')).toBe('victim\n');
      expect(lstatSync(planted).isSymbolicLink()).toBe(true);
      expect(lstatSync(unread).isFIFO()).toBe(true);
    } finally {
      k.signal('SIGKILL');
      closeSync(filler);
    }
  }, 90_000);
});
