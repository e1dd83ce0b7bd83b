// The VM harness (test/helpers/vm): a script runs as root in Debian's kernel, sees the host's files
// but cannot change them, has no network but its own, and its status and output come back; QEMU
// never outlives a run, whether it ends, times out or is killed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pidExists, poll } from '../helpers/netns.js';
import { runInVm, VM_RUN, vmUnavailable } from '../helpers/vm/vm.js';

const unavailable = vmUnavailable();
if (unavailable) console.log(`vm harness: skipped: ${unavailable}`);

const qemuPid = (stderr: string): number | undefined => {
  const m = /qemu pid (\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
};

describe.skipIf(unavailable !== undefined)('the VM harness', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kts-vm-harness-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the script as root in its own kernel and returns its status and output; the host is untouched', async () => {
    const script = join(dir, 'probe.sh');
    const marker = join(dir, 'written-in-the-vm');
    writeFileSync(
      script,
      [
        'echo "kernel $(uname -r) host $(hostname) uid $(id -u) cwd $PWD"',
        'printf "arg <%s>\\n" "$@"',
        'echo "links $(ls /sys/class/net | tr "\\n" " ")"',
        `cat ${join(dir, 'from-host')}`,
        `echo x > ${marker} && echo wrote`,
        'modprobe ip_vs && test -e /proc/net/ip_vs && echo ipvs',
        'echo to-stderr >&2',
        'exit 3',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'from-host'), 'host file seen\n');
    const r = await runInVm(script, ['one', 'two words'], { timeoutSeconds: 240 });
    console.log(`vm harness: run ${r.seconds.toFixed(1)} s`);
    expect(r.status, r.stderr + r.output).toBe(3);
    expect(r.output).toMatch(/^kernel \S+ host kts-vm uid 0 cwd \//m);
    expect(r.output).not.toContain(`kernel ${release()} `);
    expect(r.output).toContain('arg <one>\narg <two words>\n');
    expect(r.output).toContain('links lo \n'); // no NIC
    expect(r.output).toContain('host file seen\n');
    expect(r.output).toContain('wrote\n');
    expect(r.output).toContain('ipvs\n');
    expect(r.output).toContain('to-stderr\n');
    expect(existsSync(marker)).toBe(false); // the write stayed in the VM's overlay
  }, 300_000);

  it('ends a run that outlives its timeout: status 124, and QEMU is gone', async () => {
    const script = join(dir, 'sleep.sh');
    writeFileSync(script, 'sleep 600\n');
    const r = await runInVm(script, [], { timeoutSeconds: 3, env: { KTS_VM_VERBOSE: '1' } });
    expect(r.status, r.stderr).toBe(124);
    const pid = qemuPid(r.stderr);
    expect(pid).toBeDefined();
    expect(pidExists(pid!)).toBe(false);
  }, 120_000);

  it('stops QEMU when the runner itself is terminated', async () => {
    const script = join(dir, 'sleep2.sh');
    writeFileSync(script, 'sleep 600\n');
    const child = spawn('bash', [VM_RUN, script], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KTS_VM_VERBOSE: '1' } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const pid = await poll(() => qemuPid(stderr), { timeoutMs: 60_000, what: 'QEMU to start' });
    expect(pidExists(pid)).toBe(true);
    child.kill('SIGTERM');
    expect(await closed).toBe(143);
    expect(pidExists(pid)).toBe(false);
  }, 120_000);
});
