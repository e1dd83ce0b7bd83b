// Network-namespace labs for tests that need real interfaces, real multicast and the real keepalived.
//
//   const cap = netnsCapability();            // { ok: false, reason } unless root and `ip netns` work
//   const lab = await createLab({ hosts: 2 }); // bridge namespace + 2 hosts, eth0 = 10.99.1.1/24, .2/24
//   afterAll(() => lab.teardown());            // also runs from a process 'exit' hook
//   const ka = lab.keepalived(lab.hosts[0], 'vrrp_instance VI_1 { ... }');
//   await ka.waitForLine(/Entering MASTER STATE/);
//   const ours = await lab.spawnNode(lab.hosts[1], tsSource, { resolveDir }); // esbuild-bundled TS
//   await lab.exec(lab.hosts[0], ['ip', 'addr']);   // or lab.addresses(host)
//
// Every name carries a per-lab prefix (ktlab + pid + counter + random), so parallel test files
// never collide, and every process and namespace a lab creates is removed by teardown(), by a
// process 'exit'/signal hook if the test never got there, and, failing both (SIGKILL), by the next
// createLab() once the owning pid is gone. Traffic stays on the lab's bridge: nothing is attached
// to the caller's namespace.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Capability {
  ok: boolean;
  /** Why not, when ok is false (printed by skipping tests). */
  reason?: string;
}

let netnsCap: Capability | undefined;

/** Root, and `ip netns add/exec/del` work (tried on a throw-away namespace). */
export function netnsCapability(): Capability {
  if (netnsCap) return netnsCap;
  const cap = ((): Capability => {
    if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: `network namespaces need root (uid ${process.getuid?.()})` };
    const probe = `${LAB_PREFIX}${process.pid}-probe${Math.random().toString(36).slice(2, 8)}`;
    const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
    if (add.error) return { ok: false, reason: `cannot run ip (iproute2): ${add.error.message}` };
    if (add.status !== 0) return { ok: false, reason: `ip netns add failed: ${add.stderr.trim()}` };
    try {
      const exec = spawnSync('ip', ['netns', 'exec', probe, 'ip', 'link', 'show', 'lo'], { encoding: 'utf8' });
      if (exec.status !== 0) return { ok: false, reason: `ip netns exec failed: ${exec.stderr.trim()}` };
      const veth = spawnSync('ip', ['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'], { encoding: 'utf8' });
      if (veth.status !== 0) return { ok: false, reason: `cannot create veth pairs: ${veth.stderr.trim()}` };
      const br = spawnSync('ip', ['-n', probe, 'link', 'add', 'b0', 'type', 'bridge'], { encoding: 'utf8' });
      if (br.status !== 0) return { ok: false, reason: `cannot create bridges: ${br.stderr.trim()}` };
      return { ok: true };
    } finally {
      spawnSync('ip', ['netns', 'del', probe]);
    }
  })();
  netnsCap = cap;
  return cap;
}

let keepalivedCap: (Capability & { version?: string }) | undefined;

/** Namespaces plus a keepalived binary on PATH. */
export function keepalivedCapability(): Capability & { version?: string } {
  if (keepalivedCap) return keepalivedCap;
  const ns = netnsCapability();
  if (!ns.ok) return (keepalivedCap = ns);
  const v = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
  if (v.error) return (keepalivedCap = { ok: false, reason: `keepalived is not installed (${v.error.message}); apt-get install keepalived` });
  const version = /Keepalived v(\S+)/.exec(`${v.stdout}${v.stderr}`)?.[1];
  return (keepalivedCap = { ok: true, version });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion (no shell). */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 10_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr: err && code === null ? `${stderr}${err.message}` : stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like run, but throws with the command's stderr when it fails. */
export async function runOk(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Poll until fn returns something other than undefined/false; throws after timeoutMs. */
export async function poll<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, opts: { timeoutMs: number; intervalMs?: number; what: string; diagnose?: () => string }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() >= deadline) {
      const extra = opts.diagnose ? `\n${opts.diagnose()}` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${extra}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

export interface OutputLine {
  /** Milliseconds since the epoch when the line reached us. */
  at: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface Proc {
  readonly name: string;
  readonly ns: string;
  readonly pid: number | undefined;
  /** Every complete line of stdout and stderr so far, in arrival order. */
  readonly lines: OutputLine[];
  /** stdout and stderr as text (including an unterminated last line). */
  output(): string;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Write to the process's stdin. */
  write(text: string): void;
  /** Wait for a line matching re, looking only at lines from index `from` on (default 0). */
  waitForLine(re: RegExp, opts?: { timeoutMs?: number; from?: number }): Promise<OutputLine & { index: number }>;
  /** Signal it (default SIGTERM), escalate to SIGKILL after graceMs, resolve when it has exited. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

class ProcImpl implements Proc {
  readonly lines: OutputLine[] = [];
  private partial = { stdout: '', stderr: '' };
  private child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;

  constructor(
    readonly name: string,
    readonly ns: string,
    argv: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env });
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream]!.setEncoding('utf8');
      this.child[stream]!.on('data', (chunk: string) => this.take(stream, chunk));
    }
    this.child.stdin!.on('error', () => {
      /* the process exited before reading its input */
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.lines.push({ at: Date.now(), stream: 'stderr', text: `spawn failed: ${err.message}` });
        this.done = true;
        resolve({ code: null, signal: null });
      });
      this.child.on('close', (code, signal) => {
        for (const s of ['stdout', 'stderr'] as const) if (this.partial[s]) this.take(s, '\n');
        this.done = true;
        resolve({ code, signal });
      });
    });
  }

  private take(stream: 'stdout' | 'stderr', chunk: string): void {
    const text = this.partial[stream] + chunk;
    const parts = text.split('\n');
    this.partial[stream] = parts.pop()!;
    const at = Date.now();
    for (const p of parts) this.lines.push({ at, stream, text: p });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
  get exitCode(): number | null {
    return this.child.exitCode;
  }
  get signalCode(): NodeJS.Signals | null {
    return this.child.signalCode;
  }
  get running(): boolean {
    return !this.done;
  }

  output(): string {
    const texts = this.lines.map((l) => l.text);
    for (const s of [this.partial.stdout, this.partial.stderr]) if (s) texts.push(s);
    return texts.join('\n');
  }

  write(text: string): void {
    if (!this.done) this.child.stdin!.write(text);
  }

  async waitForLine(re: RegExp, opts: { timeoutMs?: number; from?: number } = {}): Promise<OutputLine & { index: number }> {
    const from = opts.from ?? 0;
    return poll(
      () => {
        for (let i = from; i < this.lines.length; i++) if (re.test(this.lines[i].text)) return { ...this.lines[i], index: i };
        return undefined;
      },
      { timeoutMs: opts.timeoutMs ?? 10_000, intervalMs: 20, what: `${re} in the output of ${this.name} (ns ${this.ns})`, diagnose: () => this.tail() },
    );
  }

  tail(n = 25): string {
    const status = this.done ? ` (exited: code ${this.child.exitCode}, signal ${this.child.signalCode})` : '';
    return `--- last lines of ${this.name}${status} ---\n${this.lines
      .slice(-n)
      .map((l) => l.text)
      .join('\n')}`;
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    if (this.done || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, signal);
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      if (!this.done && this.child.pid !== undefined) {
        try {
          process.kill(this.child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  killSync(): void {
    if (this.done || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

export interface Host {
  /** 0-based position in lab.hosts. */
  index: number;
  /** The namespace name (unique to this lab). */
  ns: string;
  /** Interface name inside the namespace. */
  ifname: 'eth0';
  /** eth0's IPv4 address. */
  address: string;
  prefixLength: number;
}

export interface Keepalived extends Proc {
  readonly configFile: string;
  readonly pidFile: string;
  readonly vrrpPidFile: string;
}

export interface LabOptions {
  /** Number of host namespaces (default 2). */
  hosts?: number;
  /** Third octet of the lab subnet 10.99.X.0/24 (default 1); hosts get .1, .2, ... */
  subnet?: number;
}

export interface Lab {
  readonly id: string;
  readonly bridgeNs: string;
  readonly hosts: Host[];
  /** A private temporary directory for configs, pid files and bundles. */
  readonly dir: string;
  /** Run a command in a namespace to completion. */
  exec(ns: string | Host, argv: string[], opts?: { timeoutMs?: number; input?: string }): Promise<RunResult>;
  /** Start a long-running process in a namespace; teardown kills it. */
  spawn(ns: string | Host, argv: string[], opts?: { name?: string; env?: NodeJS.ProcessEnv }): Proc;
  /** Bundle TypeScript (imports resolved from resolveDir) with esbuild and run it with Node in a namespace. */
  spawnNode(ns: string | Host, source: string, opts: { resolveDir: string; name?: string; args?: string[]; wrap?: string[] }): Promise<Proc>;
  /** The real keepalived, VRRP only, in the foreground, logging to its stdout/stderr. */
  keepalived(host: Host, config: string, opts?: { name?: string; extraArgs?: string[] }): Keepalived;
  /** IPv4 addresses on the host's eth0 (without prefix length). */
  addresses(host: Host): Promise<string[]>;
  /** Kill every process this lab started and delete its namespaces and files. Idempotent. */
  teardown(): Promise<void>;
}

const liveLabs = new Set<LabImpl>();
let exitHookInstalled = false;
let labCounter = 0;

const LAB_PREFIX = 'ktlab';

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = () => {
    for (const lab of liveLabs) lab.teardownSync();
  };
  // Safety net for a test that never reached afterAll: synchronous cleanup only.
  process.on('exit', cleanup);
  // Interrupted runs: clean up, then let the signal do what it would have done.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanup();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** True when the test process named in a lab name (ktlab<pid>-...) no longer exists. */
function deadOwner(name: string): boolean {
  const m = new RegExp(`^${LAB_PREFIX}(\\d+)-`).exec(name);
  if (!m) return false;
  try {
    process.kill(Number(m[1]), 0);
    return false; // its test process is alive: its labs are its own business
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Namespaces and directories left by an earlier run that died without cleaning up (SIGKILL, crash). */
function sweepOrphans(): void {
  for (const entry of readdirSync(tmpdir())) if (deadOwner(entry)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (!deadOwner(name)) continue;
    const pids = (spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '').split(/\s+/).filter((x) => /^\d+$/.test(x));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('ip', ['netns', 'del', name]);
  }
}

class LabImpl implements Lab {
  readonly hosts: Host[] = [];
  readonly bridgeNs: string;
  readonly dir: string;
  private readonly procs: ProcImpl[] = [];
  private readonly namespaces: string[] = [];
  private torn = false;
  private removed = false;
  private tearingDown: Promise<void> | undefined;

  constructor(readonly id: string) {
    this.bridgeNs = `${id}-br`;
    this.dir = mkdtempSync(join(tmpdir(), `${id}-`));
    // Readable by an unprivileged user too (tests that drop root run bundles from here).
    chmodSync(this.dir, 0o755);
  }

  async setup(nHosts: number, subnet: number): Promise<void> {
    const ip = (args: string[]) => runOk('ip', args);
    const addNs = async (name: string) => {
      await ip(['netns', 'add', name]);
      this.namespaces.push(name);
      await ip(['-n', name, 'link', 'set', 'lo', 'up']);
    };
    await addNs(this.bridgeNs);
    await ip(['-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    // 224.0.0.0/24 is flooded anyway; no snooping keeps every other group simple too.
    await ip(['-n', this.bridgeNs, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await ip(['-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);
    for (let i = 0; i < nHosts; i++) {
      const ns = `${this.id}-h${i + 1}`;
      await addNs(ns);
      const port = `p${i + 1}`;
      await ip(['-n', this.bridgeNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await ip(['-n', this.bridgeNs, 'link', 'set', port, 'master', 'br0', 'up']);
      const address = `10.99.${subnet}.${i + 1}`;
      await ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      this.hosts.push({ index: i, ns, ifname: 'eth0', address, prefixLength: 24 });
    }
    // Carrier comes up asynchronously; keepalived starts in FAULT without it.
    for (const h of this.hosts) {
      await poll(async () => /state UP/.test((await run('ip', ['-n', h.ns, 'link', 'show', 'eth0'])).stdout), { timeoutMs: 5000, what: `eth0 up in ${h.ns}` });
    }
  }

  private nsName(ns: string | Host): string {
    return typeof ns === 'string' ? ns : ns.ns;
  }

  exec(ns: string | Host, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.nsName(ns), ...argv], opts);
  }

  spawn(ns: string | Host, argv: string[], opts: { name?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
    if (this.torn) throw new Error(`lab ${this.id} is torn down`);
    const p = new ProcImpl(opts.name ?? argv[0], this.nsName(ns), argv, opts.env ?? process.env);
    this.procs.push(p);
    return p;
  }

  async spawnNode(ns: string | Host, source: string, opts: { resolveDir: string; name?: string; args?: string[]; wrap?: string[] }): Promise<Proc> {
    const name = opts.name ?? `node${this.procs.length + 1}`;
    const outfile = join(this.dir, `${name}.mjs`);
    const { build } = await import('esbuild');
    await build({
      stdin: { contents: source, resolveDir: opts.resolveDir, loader: 'ts', sourcefile: `${name}.ts` },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      // Native addons and npm packages load from the repository's node_modules at run time.
      packages: 'external',
      logLevel: 'error',
    });
    chmodSync(outfile, 0o644);
    // The bundle lives outside the repository: its bare imports and createRequire() calls resolve
    // through a node_modules symlink next to it (NODE_PATH as well, for require()).
    const link = join(this.dir, 'node_modules');
    if (!existsSync(link)) symlinkSync(join(REPO_ROOT, 'node_modules'), link);
    const env = { ...process.env, NODE_PATH: join(REPO_ROOT, 'node_modules') };
    return this.spawn(ns, [...(opts.wrap ?? []), process.execPath, outfile, ...(opts.args ?? [])], { name, env });
  }

  keepalived(host: Host, config: string, opts: { name?: string; extraArgs?: string[] } = {}): Keepalived {
    const name = opts.name ?? `keepalived-${host.index + 1}-${this.procs.length + 1}`;
    const configFile = join(this.dir, `${name}.conf`);
    const pidFile = join(this.dir, `${name}.pid`);
    const vrrpPidFile = join(this.dir, `${name}-vrrp.pid`);
    writeFileSync(configFile, config);
    const p = this.spawn(host, ['keepalived', '-n', '-l', '-D', '-P', '-f', configFile, '-p', pidFile, '-r', vrrpPidFile, ...(opts.extraArgs ?? [])], { name });
    return Object.assign(p, { configFile, pidFile, vrrpPidFile }) as Keepalived;
  }

  async addresses(host: Host): Promise<string[]> {
    const out = await runOk('ip', ['-n', host.ns, '-4', '-o', 'addr', 'show', 'dev', host.ifname]);
    return [...out.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
  }

  /** Processes still inside our namespaces (children of what we spawned, such as keepalived's VRRP child). */
  private nsPids(): number[] {
    const pids: number[] = [];
    for (const ns of this.namespaces) {
      const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
      for (const s of (r.stdout ?? '').split(/\s+/)) if (/^\d+$/.test(s)) pids.push(Number(s));
    }
    return pids;
  }

  private removeAll(): void {
    if (this.removed) return;
    this.removed = true;
    // Anything left in our namespaces was started by this lab (directly or as a child).
    for (const pid of this.nsPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const ns of [...this.namespaces].reverse()) spawnSync('ip', ['netns', 'del', ns]);
    this.namespaces.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
    liveLabs.delete(this);
  }

  teardown(): Promise<void> {
    this.torn = true;
    this.tearingDown ??= (async () => {
      try {
        // Gracefully first: keepalived removes its VIPs and sends priority-0 adverts on SIGTERM.
        await Promise.all(this.procs.map((p) => p.kill('SIGTERM', 3000)));
        // A killed process leaves its namespace only once the kernel has reaped it.
        await poll(() => this.nsPids().length === 0, { timeoutMs: 3000, what: 'processes in the lab namespaces to exit' }).catch(() => undefined);
      } finally {
        this.removeAll();
      }
    })();
    return this.tearingDown;
  }

  /** For the exit hook: no waiting, SIGKILL everything (even if an async teardown is under way). */
  teardownSync(): void {
    this.torn = true;
    for (const p of this.procs) p.killSync();
    this.removeAll();
  }
}

/** Build a lab: one bridge namespace and opts.hosts host namespaces, each with eth0 on the bridge. */
export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const cap = netnsCapability();
  if (!cap.ok) throw new Error(`cannot create a namespace lab: ${cap.reason}`);
  installExitHook();
  sweepOrphans();
  const id = `${LAB_PREFIX}${process.pid}-${++labCounter}${Math.random().toString(36).slice(2, 6)}`;
  const lab = new LabImpl(id);
  liveLabs.add(lab);
  try {
    await lab.setup(opts.hosts ?? 2, opts.subnet ?? 1);
  } catch (err) {
    await lab.teardown();
    throw err;
  }
  return lab;
}
