// Logging to syslog as keepalived does: facility daemon (or -S), keepalived's ident per process
// (Keepalived, Keepalived_vrrp, Keepalived_healthcheckers), plain text in keepalived's wording;
// -l also writes the JSON lines to stdout, -G sends nothing to syslog. Checked against a real
// rsyslogd listening on a private socket (KEEPALIVED_TS_SYSLOG_SOCKET), whose template prints
// facility, severity, ident and pid. A syslog that is absent or gone costs a line on stderr, never
// the daemon.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchedLines, consoleStamp, daemonLogDestination, subsystemOf } from '../../src/daemon/log-options.js';
import { parseLogFacility, severityOf, SyslogSink, syslogLine, type DatagramSender } from '../../src/daemon/syslog.js';
import { oneHostLab } from '../helpers/interop-pair.js';
import { netnsSkip, poll, REPO_ROOT } from '../helpers/netns.js';
import { PrivateRsyslog, rsyslogCapability } from '../helpers/rsyslog.js';

const CLI = join(REPO_ROOT, 'dist/keepalived-ts.mjs');

describe('syslog lines', () => {
  it('reads -S as keepalived does: 0-7, local0-7, user, daemon; anything else is invalid', () => {
    expect(['0', '7', 'local0', 'local3', 'local7', 'user', 'daemon'].map(parseLogFacility)).toEqual([16, 23, 16, 19, 23, 1, 3]);
    expect(['8', 'local8', 'LOCAL0', 'kern', '', ' 1', 'local'].map(parseLogFacility)).toEqual(Array(7).fill(undefined));
  });

  it("writes glibc's datagram: <PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE, local time", () => {
    expect(syslogLine(3, 6, new Date(2026, 11, 6, 9, 5, 3), 'Keepalived_vrrp', 42, '(VI_1) Entering MASTER STATE')).toBe(
      '<30>Dec  6 09:05:03 Keepalived_vrrp[42]: (VI_1) Entering MASTER STATE',
    );
    expect(syslogLine(19, 3, new Date(2026, 0, 16, 23, 59, 59), 'Keepalived', 7, 'x')).toBe('<155>Jan 16 23:59:59 Keepalived[7]: x');
    expect(syslogLine(3, 6, new Date(), 'K', 1, 'y'.repeat(10_000)).length).toBeLessThan(4200);
    expect([60, 50, 40, 30, 20, 10].map(severityOf)).toEqual([2, 3, 4, 6, 7, 7]);
    expect(consoleStamp(new Date(2026, 11, 6, 21, 51, 41))).toBe('Sun Dec  6 21:51:41 2026');
  });

  it("names keepalived's process from the line's fields", () => {
    expect([{ subsystem: 'vrrp' }, { vrrp: 'VI_1' }, { group: 'G' }, { lvs: true }, { bfd: true }, { subsystem: 'checker' }, {}].map(subsystemOf)).toEqual([
      'vrrp',
      'vrrp',
      'vrrp',
      'checker',
      'bfd',
      'checker',
      'main',
    ]);
  });
});

/** A socket whose sends fail as told: undefined sends, 'congested' is EAGAIN, else an errno. */
function fakeSender(): DatagramSender & { sent: string[]; tries: number; mode: 'ok' | 'congested' | 'gone' | 'missing' | 'throws' } {
  const s = {
    sent: [] as string[],
    tries: 0,
    mode: 'ok' as 'ok' | 'congested' | 'gone' | 'missing' | 'throws',
    send(buf: Buffer, _path: string, cb: (err?: Error & { code?: unknown }) => void): void {
      s.tries++;
      if (s.mode === 'missing') return cb(Object.assign(new Error('send -2'), { code: -2 }));
      if (s.mode === 'throws') throw new Error('EBADF');
      if (s.mode === 'congested') return cb(Object.assign(new Error('send -11'), { code: -11 }));
      if (s.mode === 'gone') return cb(Object.assign(new Error('send -111'), { code: -111 }));
      s.sent.push(buf.toString());
      cb();
    },
    close: () => undefined,
  };
  return s;
}

describe('the syslog sink: bounded, never blocking, never throwing', () => {
  it('queues while syslog is congested, drops beyond its bound, counts and reports the drops', async () => {
    const sender = fakeSender();
    const warnings: string[] = [];
    const sink = new SyslogSink({ path: '/x', facility: 3, pid: 1, sender, warn: (l) => warnings.push(l), queueLimit: 3, retryMs: 5 });
    sender.mode = 'congested';
    for (let i = 0; i < 6; i++) sink.write(6, 'Keepalived', `line ${i}`);
    expect(sink.stats).toEqual({ sent: 0, dropped: 3 });
    expect(sink.working).toBe(true);
    sender.mode = 'ok';
    await poll(() => sender.sent.length >= 4 || undefined, { timeoutMs: 5000, what: 'the queue to drain' });
    expect(sender.sent.map((l) => l.replace(/^<\d+>.{15} /, ''))).toEqual([
      'Keepalived[1]: line 0',
      'Keepalived[1]: line 1',
      'Keepalived[1]: line 2',
      'Keepalived[1]: 3 log line(s) could not be sent to syslog and were dropped',
    ]);
    expect(warnings).toEqual([]);
    sink.close();
  });

  it('warns once while syslog is gone, never throws, and sends again once it is back', () => {
    const sender = fakeSender();
    const warnings: string[] = [];
    const sink = new SyslogSink({ path: '/dev/log', facility: 3, pid: 1, sender, warn: (l) => warnings.push(l) });
    sender.mode = 'gone';
    sink.write(6, 'Keepalived', 'a');
    sink.write(6, 'Keepalived', 'b');
    sender.mode = 'throws';
    expect(() => sink.write(6, 'Keepalived', 'c')).not.toThrow();
    expect(sink.working).toBe(false);
    expect(warnings).toEqual(['keepalived-ts: cannot log to syslog at /dev/log: ECONNREFUSED; logging goes on without syslog until it takes lines again']);
    sender.mode = 'ok';
    sink.write(6, 'Keepalived', 'd');
    expect(sink.working).toBe(true);
    expect(sender.sent.map((l) => l.replace(/^<\d+>.{15} /, ''))).toEqual([
      'Keepalived[1]: d',
      'Keepalived[1]: 3 log line(s) could not be sent to syslog and were dropped',
    ]);
    expect(sink.stats).toEqual({ sent: 2, dropped: 3 });
  });

  it('no socket at the path (ENOENT): later lines are dropped without a send until the path exists again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kt-syslog-missing-'));
    try {
      const path = join(dir, 'log');
      const sender = fakeSender();
      const warnings: string[] = [];
      let ms = 0;
      const sink = new SyslogSink({ path, facility: 3, pid: 1, sender, warn: (l) => warnings.push(l), monotonicMs: () => ms });
      sender.mode = 'missing';
      for (let i = 0; i < 5; i++) sink.write(6, 'Keepalived', `line ${i}`);
      expect(sender.tries).toBe(1);
      expect(warnings).toEqual([`keepalived-ts: cannot log to syslog at ${path}: ENOENT; logging goes on without syslog until it takes lines again`]);
      writeFileSync(path, '');
      sender.mode = 'ok';
      // The path is looked for again a second after the last look, not at every line.
      ms = 999;
      sink.write(6, 'Keepalived', 'too soon');
      expect(sender.tries).toBe(1);
      ms = 1000;
      sink.write(6, 'Keepalived', 'back');
      expect(sender.tries).toBe(3);
      expect(sender.sent.map((l) => l.replace(/^<\d+>.{15} /, ''))).toEqual([
        'Keepalived[1]: back',
        'Keepalived[1]: 6 log line(s) could not be sent to syslog and were dropped',
      ]);
      expect(sink.stats).toEqual({ sent: 2, dropped: 6 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the destination: JSON to the console, the message to syslog, keepalived console lines on stderr only when syslog fails and there is no console', () => {
    const sender = fakeSender();
    const sink = new SyslogSink({ path: '/x', facility: 3, pid: 1, sender, warn: () => undefined });
    const consoleLines: string[] = [];
    const fallback: string[] = [];
    const line = '{"level":30,"time":1796594138857,"pid":1,"subsystem":"vrrp","msg":"(VI_1) Entering MASTER STATE"}\n';
    daemonLogDestination({ console: { write: (l) => consoleLines.push(l) }, syslog: sink, fallback: (l) => fallback.push(l) }).write(line);
    expect(consoleLines).toEqual([line]);
    expect(sender.sent[0]).toMatch(/^<30>\w{3} [ \d]\d [\d:]{8} Keepalived_vrrp\[1\]: \(VI_1\) Entering MASTER STATE$/);
    const bare = daemonLogDestination({ syslog: sink, fallback: (l) => fallback.push(l) });
    bare.write(line);
    expect(fallback).toEqual([]);
    sender.mode = 'gone';
    bare.write(line);
    expect(fallback).toEqual([`${consoleStamp(new Date(1796594138857))}: (VI_1) Entering MASTER STATE\n`]);
    // -G and no -l: nothing anywhere, as keepalived.
    daemonLogDestination({ fallback: (l) => fallback.push(l) }).write(line);
    expect(fallback).toHaveLength(1);
  });

  it('gathers the lines of one event-loop turn into one write, in order, and writes what is left at exit', async () => {
    const writes: string[] = [];
    let atExit: (() => void) | undefined;
    const write = batchedLines(
      (t) => writes.push(t),
      (f) => (atExit = f),
    );
    write('a\n');
    write('b\n');
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
    write('c\n');
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['a\nb\n', 'c\n']);
    write('d\n');
    atExit?.();
    expect(writes).toEqual(['a\nb\n', 'c\n', 'd\n']);
  });
});

const rsyslogCap = rsyslogCapability();
if (!rsyslogCap.ok) console.warn(`real-rsyslog tests skipped: ${rsyslogCap.reason}`);

interface Daemon {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<void>;
}

describe.skipIf(!rsyslogCap.ok)('a real rsyslogd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-syslog-'));
  const rsyslog = new PrivateRsyslog(dir);
  const sock = rsyslog.sock;
  const syslogLines = (): string[] => rsyslog.lines();

  beforeAll(() => rsyslog.start());
  afterAll(async () => {
    await rsyslog.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function daemon(name: string, args: string[], conf: string, env: NodeJS.ProcessEnv = {}): Daemon {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, conf);
    const child = spawn(process.execPath, [CLI, '-n', ...args, '-f', file, '-p', join(dir, `${name}.pid`)], {
      env: { ...process.env, TMPDIR: dir, KEEPALIVED_TS_SYSLOG_SOCKET: sock, KEEPALIVED_TS_CONTROL: join(dir, `${name}.sock`), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return {
      child,
      stdout: () => stdout,
      stderr: () => stderr,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
      },
    };
  }

  // A checker that fails at once: the healthcheckers' lines, at warning for the removal.
  const checkerConf = (port: number): string =>
    `global_defs {\n router_id lb1\n}\nvirtual_server 127.0.0.1 ${port} {\n delay_loop 1\n lvs_sched rr\n lvs_method NAT\n protocol TCP\n real_server 127.0.0.1 ${port + 1} {\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n}\n`;

  it('-G sends nothing; without it the lines arrive with facility, severity and ident; -l keeps the JSON on stdout', async () => {
    const quiet = daemon('quiet', ['-l', '-G', '-C'], checkerConf(18541));
    await poll(() => quiet.stdout().includes('Removing service') || undefined, { timeoutMs: 20_000, what: 'the -G daemon to log', diagnose: quiet.stderr });
    await quiet.stop();
    const d = daemon('loud', ['-l', '-S', 'local3', '-C'], checkerConf(18551));
    try {
      const pid = d.child.pid!;
      await poll(() => syslogLines().some((l) => l.includes(`Keepalived_healthcheckers[${pid}]: Removing service`)) || undefined, {
        timeoutMs: 20_000,
        what: 'the removal in syslog',
        diagnose: () => `${syslogLines().join('\n')}\n${d.stderr()}`,
      });
      await d.stop();
      await poll(() => syslogLines().some((l) => l.includes(`[${pid}]: Stopped`)) || undefined, { timeoutMs: 10_000, what: 'Stopped in syslog' });
      const lines = syslogLines();
      // Datagrams on one socket are read in order: the -G daemon, first, sent none.
      expect(lines.filter((l) => l.includes(`[${quiet.child.pid}]`))).toEqual([]);
      const ours = lines.filter((l) => l.includes(`[${pid}]`));
      expect(ours).toContain(`local3.info Keepalived[${pid}]: Starting keepalived-ts, 0 VRRP instance(s), 1 virtual server(s) from ${join(dir, 'loud.conf')}`);
      expect(ours.find((l) => l.includes('Removing service'))).toMatch(
        new RegExp(`^local3\\.warning Keepalived_healthcheckers\\[${pid}\\]: Removing service \\[127\\.0\\.0\\.1\\]:18552 from VS `),
      );
      expect(ours).toContain(`local3.info Keepalived[${pid}]: Received SIGTERM: stopping`);
      expect(ours).toContain(`local3.info Keepalived[${pid}]: Stopped`);
      // Plain text, not JSON.
      for (const l of ours) expect(l).not.toMatch(/\]: \{/);
      // -l: the same lines as JSON on stdout, as before.
      const json = d
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { msg: string });
      expect(json.map((j) => j.msg)).toContain('Stopped');
      expect(d.stderr()).toBe('');
    } finally {
      await d.stop();
    }
  }, 60_000);

  it("an -S keepalived does not know is one line ('Invalid log facility'), and the default facility, daemon, stays", async () => {
    const d = daemon('badfacility', ['-S', 'local8', '-C'], 'global_defs {\n router_id lb1\n}\n');
    try {
      const pid = d.child.pid!;
      const line = await poll(() => syslogLines().find((l) => l.includes(`[${pid}]: Starting keepalived-ts`)), {
        timeoutMs: 20_000,
        what: 'the start in syslog',
      });
      expect(line).toMatch(/^daemon\.info Keepalived\[/);
      expect(d.stderr()).toBe("Invalid log facility 'local8'\n");
    } finally {
      await d.stop();
    }
  }, 60_000);

  it('escapes control characters from the config in syslog lines', async () => {
    // An unknown keyword holding an escape sequence: its diagnostic is logged at start.
    const d = daemon('hostile', ['-C'], `global_defs {\n router_id lb1\n}\nbogus\x1b[2J_keyword\n`);
    try {
      const pid = d.child.pid!;
      await poll(() => syslogLines().some((l) => l.includes(`[${pid}]: Starting keepalived-ts`)) || undefined, {
        timeoutMs: 20_000,
        what: 'the start in syslog',
      });
      const hostile = syslogLines().find((l) => l.includes(`[${pid}]`) && l.includes('_keyword'));
      expect(hostile).toContain('bogus\\x1b[2J_keyword');
      expect(hostile).not.toContain('\x1b');
      // rsyslog writes a raw control character as #033: none reached it.
      expect(hostile).not.toContain('#033');
    } finally {
      await d.stop();
    }
  }, 60_000);

  it('a syslog that goes away costs one line on stderr, not the daemon; its lines arrive again once it is back', async () => {
    const d = daemon('survivor', ['-l', '-C'], checkerConf(18561));
    try {
      const pid = d.child.pid!;
      await poll(() => syslogLines().some((l) => l.includes(`[${pid}]: Control socket`)) || undefined, { timeoutMs: 20_000, what: 'the start in syslog' });
      await rsyslog.stop();
      // SIGUSR1: a data dump, and a line that says so.
      d.child.kill('SIGUSR1');
      d.child.kill('SIGUSR1');
      await poll(() => d.stderr().includes('cannot log to syslog') || undefined, { timeoutMs: 20_000, what: 'the warning' });
      expect(d.stderr()).toBe(`keepalived-ts: cannot log to syslog at ${sock}: ENOENT; logging goes on without syslog until it takes lines again\n`);
      await rsyslog.start();
      // A line at least every half second: a missing socket is looked for again once a second.
      let usr1At = 0;
      await poll(
        () => {
          if (Date.now() - usr1At >= 500) {
            usr1At = Date.now();
            d.child.kill('SIGUSR1');
          }
          return syslogLines().some((l) => l.includes(`Keepalived[${pid}]: `) && l.includes('could not be sent to syslog')) || undefined;
        },
        {
          timeoutMs: 20_000,
          what: 'the dropped-lines note',
          diagnose: () => syslogLines().slice(-5).join('\n'),
        },
      );
      expect(d.child.exitCode).toBeNull();
      // stdout (-l) never missed a line: still one JSON object per line.
      for (const l of d.stdout().trim().split('\n')) expect(() => JSON.parse(l) as unknown).not.toThrow();
    } finally {
      await d.stop();
    }
  }, 60_000);

  it('no syslog socket at all: one line on stderr, then keepalived-style console lines there when there is no -l', async () => {
    const d = daemon('nosock', ['-C'], checkerConf(18571), { KEEPALIVED_TS_SYSLOG_SOCKET: join(dir, 'missing', 'log') });
    try {
      await poll(() => d.stderr().includes('Control socket') || undefined, { timeoutMs: 20_000, what: 'the start on stderr', diagnose: d.stderr });
      const lines = d.stderr().trim().split('\n');
      expect(lines[0]).toBe(
        `keepalived-ts: cannot log to syslog at ${join(dir, 'missing', 'log')}: ENOENT; logging goes on without syslog until it takes lines again`,
      );
      expect(
        lines.some((l) => /^\w{3} \w{3} [ \d]\d [\d:]{8} \d{4}: Starting keepalived-ts, 0 VRRP instance\(s\)/.test(l)),
        lines.join('\n'),
      ).toBe(true);
      expect(lines.filter((l) => l.includes('cannot log to syslog'))).toHaveLength(1);
      expect(d.stdout()).toBe('');
    } finally {
      await d.stop();
    }
  }, 60_000);

  describe.skipIf(netnsSkip('syslog namespace tests'))('VRRP in a namespace', () => {
    const lab = oneHostLab({ subnet: 77 });

    it("a transition is logged as keepalived's VRRP process logs it: daemon.info, Keepalived_vrrp", async () => {
      const file = join(lab.dir, 'vrrp.conf');
      writeFileSync(
        file,
        'vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 77\n priority 100\n advert_int 1\n virtual_ipaddress {\n  10.99.77.100/24\n }\n}\n',
      );
      const p = lab.spawn(lab.host, [process.execPath, CLI, '-n', '-P', '-f', file, '-p', join(lab.dir, 'v.pid'), '-r', join(lab.dir, 'v-vrrp.pid')], {
        name: 'ours-syslog',
        env: { ...process.env, KEEPALIVED_TS_SYSLOG_SOCKET: sock, KEEPALIVED_TS_RUNTIME_DIR: join(lab.dir, 'rt') },
      });
      const line = await poll(() => syslogLines().find((l) => / Keepalived_vrrp\[\d+\]: \(VI_1\) Entering MASTER STATE$/.test(l)), {
        timeoutMs: 20_000,
        what: 'the MASTER transition in syslog',
        diagnose: () => `${syslogLines().slice(-8).join('\n')}\n${p.tail(10)}`,
      });
      expect(line).toMatch(/^daemon\.info Keepalived_vrrp\[\d+\]: \(VI_1\) Entering MASTER STATE$/);
      // Without -l nothing on the console, as keepalived.
      expect(p.output()).toBe('');
    }, 60_000);
  });
});
