// Every user error the built CLI can meet, as a table: the exit status (keepalived's where it has
// one), and what it prints: one line `keepalived-ts[ CMD]: WHAT: WHERE (WHAT TO DO)`, or one
// FILE:LINE:COL diagnostic line per finding, never a stack trace and never a raw control character.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = join(__dirname, '../../dist/keepalived-ts.mjs');
const EXAMPLE = join(__dirname, '../../conf-examples/lab/master-killed.yaml');
const dir = mkdtempSync(join(tmpdir(), 'kt-user-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, KEEPALIVED_TS_DEBUG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const p = (name: string): string => join(dir, name);
const OK_CONF = 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n';
/** A socket that answers the control protocol with nonsense. */
let liar: Server;

beforeAll(async () => {
  writeFileSync(p('ok.conf'), OK_CONF);
  mkdirSync(p('a-dir'));
  // An executable config with an error keepalived would report if it read it: it does not.
  writeFileSync(p('exec.conf'), 'vrrp_instance VI_1 {\n bogus_keyword 1\n}\n', { mode: 0o755 });
  execFileSync('mkfifo', [p('fifo.conf')]);
  writeFileSync(p('binary'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0x0a, 0x1b, 0x5b, 0x32, 0x4a]));
  writeFileSync(p('huge.conf'), '');
  truncateSync(p('huge.conf'), 17 << 20);
  writeFileSync(p('huge.yaml'), '# padding\n'.repeat((1 << 20) / 10 + 1));
  writeFileSync(p('a-file'), 'not a directory\n');
  liar = createServer((c) => c.end('<html>not json</html>')).listen(p('liar.sock'));
  await new Promise((r) => liar.once('listening', r));
});
afterAll(() => liar.close());

/** One user error line; CMD is the sub-command or '' for keepalived-ts itself. */
const oneLine = (cmd: string, what: RegExp): RegExp => new RegExp(`^keepalived-ts${cmd ? ` ${cmd}` : ''}: ${what.source}.*\\(.+\\)\\n$`);
/** Diagnostics only: FILE:LINE:COL: severity: message [rule], one per line. */
const DIAGNOSTIC = /^.+:\d+:\d+: (error|warning): .+ \[[a-z0-9-]+\]$/;

interface Case {
  name: string;
  args: () => string[];
  env?: () => Record<string, string>;
  status: number;
  /** The whole of stderr, or each of its lines is a diagnostic with this text (DIAGNOSTIC form). */
  stderr?: RegExp | { diagnostic: RegExp };
  /** For commands that report on stdout (lint): each non-summary line is a diagnostic with this text. */
  stdout?: { diagnostic: RegExp };
}

const CASES: Case[] = [
  // keepalived-ts: the daemon's options and the config test
  { name: 'an unknown option', args: () => ['--bogus'], status: 2, stderr: oneLine('', /unknown option '--bogus'/) },
  { name: 'an option without its value', args: () => ['-f'], status: 2, stderr: oneLine('', /option '-f' needs a value/) },
  { name: 'a stray argument', args: () => ['-t', p('ok.conf')], status: 2, stderr: oneLine('', /unexpected argument: '.*ok\.conf'/) },
  { name: 'an unknown signal name (keepalived: exit 1)', args: () => ['--signum=NOPE'], status: 1, stderr: /^Unknown sigfunc NOPE\n$/ },
  {
    name: '--config-test=LOG in a missing directory',
    args: () => [`--config-test=${p('missing/x.log')}`, '-f', p('ok.conf')],
    status: 1,
    stderr: oneLine('', /cannot write the config test log: .*missing\/x\.log: no such file or directory/),
  },
  {
    name: '--config-test=LOG naming a directory',
    args: () => [`--config-test=${p('a-dir')}`, '-f', p('ok.conf')],
    status: 1,
    stderr: oneLine('', /cannot write the config test log: .*a-dir: is a directory/),
  },
  // keepalived 2.2.7 skips a directory, an executable or a non-regular file and exits 0 (observed).
  { name: '-t on a directory', args: () => ['-t', '-f', p('a-dir')], status: 0, stderr: { diagnostic: /is a directory - skipping .*\[file-skipped\]/ } },
  {
    name: '-t on an executable file',
    args: () => ['-t', '-f', p('exec.conf')],
    status: 0,
    stderr: { diagnostic: /is not a regular non-executable file - skipping .*\[file-skipped\]/ },
  },
  { name: '-t on a FIFO', args: () => ['-t', '-f', p('fifo.conf')], status: 0, stderr: { diagnostic: /not a regular non-executable file - skipping/ } },
  {
    name: '-t with a --target-version that is no version',
    args: () => ['-t', '--target-version', 'latest', '-f', p('ok.conf')],
    status: 2,
    stderr: oneLine('', /--target-version 'latest' is not a version/),
  },
  { name: '-t -e on a missing file', args: () => ['-t', '-e', '-f', p('absent.conf')], status: 4, stderr: { diagnostic: /Config files missing/ } },
  { name: '-t on a binary file', args: () => ['-t', '-f', p('binary')], status: 4, stderr: { diagnostic: /is a binary file/ } },
  { name: '-t on a file over 16 MiB', args: () => ['-t', '-f', p('huge.conf')], status: 4, stderr: { diagnostic: /is larger than 16 MiB/ } },
  { name: '-t on /dev/zero (a device)', args: () => ['-t', '-f', '/dev/zero'], status: 0, stderr: { diagnostic: /not a regular non-executable file/ } },
  // lint
  { name: 'lint without a file', args: () => ['lint'], status: 2, stderr: oneLine('lint', /no config file given/) },
  { name: 'lint with an unknown option', args: () => ['lint', '--bogus', p('ok.conf')], status: 2, stderr: oneLine('lint', /unknown option '--bogus'/) },
  { name: 'lint --format xml', args: () => ['lint', '--format', 'xml', p('ok.conf')], status: 2, stderr: oneLine('lint', /--format must be text or json/) },
  { name: 'lint -i without its value', args: () => ['lint', p('ok.conf'), '-i'], status: 2, stderr: oneLine('lint', /option '-i' needs a value/) },
  { name: 'lint on a missing file', args: () => ['lint', p('absent.conf')], status: 1, stdout: { diagnostic: /error: Config files missing/ } },
  {
    name: 'lint with a --target-version that is no version',
    args: () => ['lint', '--target-version=2.x', p('ok.conf')],
    status: 2,
    stderr: oneLine('lint', /--target-version must be a version such as 2.2.7, not '2.x'/),
  },
  { name: 'lint on a directory', args: () => ['lint', p('a-dir')], status: 1, stdout: { diagnostic: /is a directory/ } },
  { name: 'lint on a binary file', args: () => ['lint', p('binary')], status: 1, stdout: { diagnostic: /is a binary file/ } },
  // lab
  { name: 'lab without a scenario', args: () => ['lab'], status: 2, stderr: oneLine('lab', /give one scenario file/) },
  { name: 'lab with two scenarios', args: () => ['lab', EXAMPLE, EXAMPLE], status: 2, stderr: oneLine('lab', /give one scenario file/) },
  { name: 'lab with an unknown option', args: () => ['lab', '--bogus', EXAMPLE], status: 2, stderr: oneLine('lab', /unknown option '--bogus'/) },
  { name: 'lab with an unknown backend', args: () => ['lab', EXAMPLE, '--backend', 'vm'], status: 2, stderr: oneLine('lab', /--backend must be sim or netns/) },
  { name: 'lab on a missing scenario', args: () => ['lab', p('absent.yaml')], status: 3, stderr: { diagnostic: /the scenario file does not exist/ } },
  { name: 'lab on a directory', args: () => ['lab', p('a-dir')], status: 3, stderr: { diagnostic: /is a directory, not a file/ } },
  {
    name: 'lab on a path through a file',
    args: () => ['lab', p('a-file/x.yaml')],
    status: 3,
    stderr: { diagnostic: /cannot read the scenario: a part of the path is not a directory/ },
  },
  { name: 'lab on a binary file', args: () => ['lab', p('binary')], status: 3, stderr: { diagnostic: /is a binary file/ } },
  { name: 'lab on a scenario over 1 MiB', args: () => ['lab', p('huge.yaml')], status: 3, stderr: { diagnostic: /larger than 1 MiB.*\[lab-limit\]/ } },
  {
    name: 'lab --report in a missing directory',
    args: () => ['lab', EXAMPLE, '--report', p('missing/dir/x.html')],
    status: 2,
    stderr: oneLine('lab', /cannot write the report: .*missing\/dir\/x\.html: no such file or directory/),
  },
  {
    name: 'lab --report naming a directory',
    args: () => ['lab', EXAMPLE, '--report', p('a-dir')],
    status: 2,
    stderr: oneLine('lab', /cannot write the report: .*a-dir: is a directory/),
  },
  {
    name: 'lab --report under a file',
    args: () => ['lab', EXAMPLE, '--report', p('a-file/x.html')],
    status: 2,
    stderr: oneLine('lab', /cannot write the report: .*a-file\/x\.html: a part of the path is not a directory/),
  },
  // ipvsadm
  { name: 'ipvsadm without -L', args: () => ['ipvsadm'], status: 2, stderr: oneLine('ipvsadm', /only the listing is supported/) },
  { name: 'ipvsadm with an unknown option', args: () => ['ipvsadm', '-Ln', '--bogus'], status: 2, stderr: oneLine('ipvsadm', /unknown option: '--bogus'/) },
  {
    name: 'ipvsadm with no daemon running',
    args: () => ['ipvsadm', '-Ln', `--pid=${p('absent.pid')}`],
    env: () => ({ KEEPALIVED_TS_RUNTIME_DIR: p('a-dir') }),
    status: 1,
    stderr: oneLine('ipvsadm', /no running keepalived-ts: .*absent.*\.ctl: connect ENOENT/),
  },
  {
    name: 'ipvsadm on a socket that is no control socket',
    args: () => ['ipvsadm', '-Ln'],
    env: () => ({ KEEPALIVED_TS_CONTROL: p('liar.sock') }),
    status: 1,
    stderr: oneLine('ipvsadm', /not an answer from keepalived-ts: .*liar\.sock/),
  },
  {
    name: 'ipvsadm on a control socket that is a file',
    args: () => ['ipvsadm', '-Ln'],
    env: () => ({ KEEPALIVED_TS_CONTROL: p('a-file') }),
    status: 1,
    stderr: oneLine('ipvsadm', /refusing the control socket: .*a-file is not a socket/),
  },
  // keywords, rules
  { name: 'keywords with an argument', args: () => ['keywords', 'vrrp'], status: 2, stderr: oneLine('keywords', /unexpected argument: 'vrrp'/) },
  { name: 'rules with an argument', args: () => ['rules', '--json'], status: 2, stderr: oneLine('rules', /unexpected argument: '--json'/) },
];

// C0 controls but newline, DEL and C1 controls: none may reach a terminal from echoed input.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('user errors on the command line', () => {
  it.each(CASES)('$name', async (c) => {
    const r = await run(c.args(), c.env?.());
    expect(r.stdout + r.stderr).not.toMatch(/^ {4}at /m);
    expect(r.stderr).not.toMatch(RAW_CONTROL);
    if (c.stderr instanceof RegExp) expect(r.stderr).toMatch(c.stderr);
    else if (c.stderr) {
      const lines = r.stderr.split('\n').slice(0, -1);
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(DIAGNOSTIC);
      expect(r.stderr).toMatch(c.stderr.diagnostic);
    }
    if (c.stdout) {
      const lines = r.stdout.split('\n').slice(0, -2);
      expect(r.stdout).toMatch(/\d+ file\(s\): \d+ error\(s\), \d+ warning\(s\)\n$/);
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(DIAGNOSTIC);
      expect(r.stdout).toMatch(c.stdout.diagnostic);
      expect(r.stderr).toBe('');
    }
    expect(r.status).toBe(c.status);
  });

  it('the daemon: an unwritable pid file is one fatal log line and exit 1', async () => {
    const r = await run(['-n', '-l', '-C', '-f', p('ok.conf'), '-p', p('missing/dir/lb.pid')], { KEEPALIVED_TS_CONTROL: p('daemon.sock') });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(/^ {4}at /m);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 60, msg: expect.stringMatching(/^Cannot write pid file .*missing\/dir\/lb\.pid: ENOENT/) as unknown });
  });

  it('the daemon: a runtime directory that is a file is one fatal log line and exit 1', async () => {
    const r = await run(['-n', '-l', '-C', '-f', p('ok.conf'), '-p', p('lb.pid')], { KEEPALIVED_TS_RUNTIME_DIR: p('a-file') });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(/^ {4}at /m);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 60,
      msg: expect.stringMatching(/runtime directory .*a-file exists and is not a directory/) as unknown,
    });
  });

  it('a reader that closes the pipe early ends the output quietly', async () => {
    const r = await new Promise<Ran>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'keywords'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (status) => resolve({ status, stdout: '', stderr }));
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
  });
});
