// A throw-away QEMU VM with Debian's own kernel, for tests that need what this host's kernel lacks
// (IPVS above all). vm-run.sh does the work (kernel cache, initramfs, boot, cleanup); this wraps it
// for vitest:
//
//   const why = vmUnavailable();                  // a reason to skip, or undefined
//   const r = await runInVm('/abs/script.sh', ['arg'], { timeoutSeconds: 300 });
//   r.status, r.output (the script's stdout+stderr), r.stderr (vm-run's own), r.seconds
//
// The script runs as root in the VM with the host's / (read-only underneath, writes discarded),
// so it reads the repository and files the test wrote; it reports back through its output.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const VM_RUN = fileURLToPath(new URL('./vm-run.sh', import.meta.url));

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Why the VM cannot run here (printed by the tests that skip), or undefined. */
export function vmUnavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the VM tests need x86-64 Linux';
  if (process.getuid?.() !== 0) return 'the VM tests need root (the 9p export of / maps no users)';
  for (const [cmd, pkg] of [
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['busybox', 'busybox-static'],
    ['xz', 'xz-utils'],
    ['modprobe', 'kmod'],
    ['dpkg-deb', 'dpkg'],
  ])
    if (!has(cmd)) return `no ${cmd}: install ${pkg} (.ci/run does)`;
  return undefined;
}

export interface VmResult {
  /** The script's exit status; 124 when the VM ran out of time, 125 when it failed before the script ended. */
  status: number;
  output: string;
  stderr: string;
  seconds: number;
}

/** Every vm-run.sh still running, ended if this process exits first (vm-run.sh then stops its QEMU). */
const running = new Set<ChildProcess>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of running) c.kill('SIGTERM');
  });
}

export function runInVm(script: string, args: string[] = [], opts: { timeoutSeconds?: number; env?: Record<string, string> } = {}): Promise<VmResult> {
  const timeout = opts.timeoutSeconds ?? 300;
  const started = Date.now();
  hookExit();
  return new Promise((resolve) => {
    const child = spawn('bash', [VM_RUN, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env, KTS_VM_TIMEOUT: String(timeout) },
    });
    running.add(child);
    let output = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // vm-run.sh has its own watchdog; this one covers vm-run.sh itself hanging (SIGTERM: its
    // trap stops QEMU by PID).
    const guard = setTimeout(() => child.kill('SIGTERM'), (timeout + 60) * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      running.delete(child);
      resolve({ status: code ?? (signal ? 128 : 125), output, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** A VM script's `=== NAME` sections, by name: the lines after each header up to the next. */
export function sections(output: string): Map<string, string> {
  const got = new Map<string, string>();
  let key: string | undefined;
  for (const line of output.split('\n')) {
    const m = /^=== (.+)$/.exec(line);
    if (m) got.set((key = m[1]), '');
    else if (key) got.set(key, `${got.get(key)}${line}\n`);
  }
  return got;
}
