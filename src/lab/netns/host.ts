// Network namespaces as a resource that cannot leak: the lab's netns backend and the tests that
// need real interfaces both build on this.
//
//   const host = NetnsHost.create();                 // ktlab<pid>-<n><rand>, plus a private dir
//   const ns = await host.addNamespace('n1');        // ktlab123-1ab-n1, lo up
//   const p = host.spawn(ns, ['keepalived', ...], { group: true, onLine });
//   await host.teardown();                           // also from 'exit' and SIGINT/SIGTERM/SIGHUP
//
// Every name carries the prefix with the owner's pid, so parallel runs never collide, and what a
// host creates is removed by teardown(), by a process exit/signal hook if the owner never got
// there, and, failing both (SIGKILL), by the next NetnsHost.create() once the owning pid is gone.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const LAB_PREFIX = 'ktlab';

export interface Capability {
  ok: boolean;
  /** Why not, when ok is false. */
  reason?: string;
}

/** Run fn on a throw-away namespace named after us (swept like any other if we die meanwhile). */
function withProbeNamespace(fn: (ns: string) => Capability): Capability {
  const probe = `${LAB_PREFIX}${process.pid}-probe${Math.random().toString(36).slice(2, 8)}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error) return { ok: false, reason: `cannot run ip (iproute2): ${add.error.message}` };
  if (add.status !== 0) return { ok: false, reason: `ip netns add failed: ${add.stderr.trim()}` };
  try {
    return fn(probe);
  } finally {
    spawnSync('ip', ['netns', 'del', probe]);
  }
}

let netnsCap: Capability | undefined;

/** Root, and `ip netns add/exec/del`, veth pairs and bridges work (tried on a throw-away namespace). */
export function netnsCapability(): Capability {
  if (netnsCap) return netnsCap;
  netnsCap = ((): Capability => {
    if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
    if (typeof process.getuid !== 'function' || process.getuid() !== 0)
      return { ok: false, reason: `network namespaces need root (uid ${process.getuid?.()})` };
    return withProbeNamespace((probe) => {
      const exec = spawnSync('ip', ['netns', 'exec', probe, 'ip', 'link', 'show', 'lo'], { encoding: 'utf8' });
      if (exec.status !== 0) return { ok: false, reason: `ip netns exec failed: ${exec.stderr.trim()}` };
      const veth = spawnSync('ip', ['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'], { encoding: 'utf8' });
      if (veth.status !== 0) return { ok: false, reason: `cannot create veth pairs: ${veth.stderr.trim()}` };
      const br = spawnSync('ip', ['-n', probe, 'link', 'add', 'b0', 'type', 'bridge'], { encoding: 'utf8' });
      if (br.status !== 0) return { ok: false, reason: `cannot create bridges: ${br.stderr.trim()}` };
      return { ok: true };
    });
  })();
  return netnsCap;
}

const keepalivedCaps = new Map<string, Capability & { version?: string }>();

/** Namespaces plus a runnable keepalived (`bin`, default the one on PATH). */
export function keepalivedCapability(bin = 'keepalived'): Capability & { version?: string } {
  const known = keepalivedCaps.get(bin);
  if (known) return known;
  const cap = ((): Capability & { version?: string } => {
    const ns = netnsCapability();
    if (!ns.ok) return ns;
    const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (v.error) return { ok: false, reason: `keepalived is not installed (${bin}: ${v.error.message}); apt-get install keepalived` };
    const version = /Keepalived v(\S+)/.exec(`${v.stdout}${v.stderr}`)?.[1];
    return { ok: true, version };
  })();
  keepalivedCaps.set(bin, cap);
  return cap;
}

let netemCap: Capability | undefined;

/** tc with the netem qdisc (module sch_netem), for link loss, delay and duplication. */
export function netemCapability(): Capability {
  if (netemCap) return netemCap;
  const ns = netnsCapability();
  netemCap = !ns.ok
    ? ns
    : withProbeNamespace((probe) => {
        const tc = spawnSync('ip', ['netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { encoding: 'utf8' });
        if (tc.error) return { ok: false, reason: `cannot run tc (iproute2): ${tc.error.message}` };
        if (tc.status !== 0) return { ok: false, reason: `the netem qdisc is not available (kernel module sch_netem): ${tc.stderr.trim()}` };
        return { ok: true };
      });
  return netemCap;
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
export async function poll<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs: number; intervalMs?: number; what: string; diagnose?: () => string },
): Promise<T> {
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
  /** performance.now() when the line reached us (the monotonic clock the lab times with). */
  mono: number;
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
  readonly running: boolean;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Write to the process's stdin. */
  write(text: string): void;
  /** Wait for a line matching re, looking only at lines from index `from` on (default 0). */
  waitForLine(re: RegExp, opts?: { timeoutMs?: number; from?: number }): Promise<OutputLine & { index: number }>;
  /** Send a signal without waiting (to the whole process group when spawned with `group`). */
  signal(signal: NodeJS.Signals): void;
  /** Signal it (default SIGTERM), escalate to SIGKILL after graceMs, resolve when it has exited. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** The last n lines, for error messages. */
  tail(n?: number): string;
}

export interface SpawnOptions {
  name?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Its own process group: signals reach its children too (keepalived's VRRP and checker
   * processes, our daemon's scripts), and a terminal's Ctrl-C does not (the owner cleans up). */
  group?: boolean;
  /** Called for each complete line as it arrives. */
  onLine?: (line: OutputLine) => void;
}

class ProcImpl implements Proc {
  readonly lines: OutputLine[] = [];
  private partial = { stdout: '', stderr: '' };
  private child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;
  private readonly group: boolean;
  private readonly onLine?: (line: OutputLine) => void;

  constructor(
    readonly name: string,
    readonly ns: string,
    argv: string[],
    opts: SpawnOptions,
  ) {
    this.group = opts.group ?? false;
    this.onLine = opts.onLine;
    // `ip netns exec` execs the command after setns: the pid is the command's own.
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      detached: this.group,
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream]!.setEncoding('utf8');
      this.child[stream]!.on('data', (chunk: string) => this.take(stream, chunk));
    }
    this.child.stdin!.on('error', () => {
      /* the process exited before reading its input */
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.push({ at: Date.now(), mono: performance.now(), stream: 'stderr', text: `spawn failed: ${err.message}` });
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

  private push(line: OutputLine): void {
    this.lines.push(line);
    this.onLine?.(line);
  }

  private take(stream: 'stdout' | 'stderr', chunk: string): void {
    const text = this.partial[stream] + chunk;
    const parts = text.split('\n');
    this.partial[stream] = parts.pop()!;
    const at = Date.now();
    const mono = performance.now();
    for (const p of parts) this.push({ at, mono, stream, text: p });
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

  signal(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    // The group outlives its leader (children of a SIGKILLed keepalived), so signal it even
    // when the leader is gone; a plain process only while we have not reaped it.
    if (!this.group && this.done) return;
    try {
      process.kill(this.group ? -this.child.pid : this.child.pid, signal);
    } catch {
      /* already gone */
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    if (this.done || this.child.pid === undefined) {
      if (this.group) this.signal('SIGKILL'); // stragglers of a dead leader
      return;
    }
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    if (this.group) this.signal('SIGKILL');
  }

  killSync(): void {
    if (this.group || !this.done) this.signal('SIGKILL');
  }
}

const liveHosts = new Set<NetnsHost>();
let exitHookInstalled = false;
let hostCounter = 0;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = () => {
    for (const h of liveHosts) h.teardownSync();
  };
  // Safety net for an owner that never reached teardown(): synchronous cleanup only.
  process.on('exit', cleanup);
  // Interrupted runs: clean up, then let the signal do what it would have done.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanup();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** True when the process named in a lab name (ktlab<pid>-...) no longer exists. */
function deadOwner(name: string): boolean {
  const m = new RegExp(`^${LAB_PREFIX}(\\d+)-`).exec(name);
  if (!m) return false;
  try {
    process.kill(Number(m[1]), 0);
    return false; // its owner is alive: its labs are its own business
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function namespacePids(ns: string): number[] {
  const out = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  return out
    .split(/\s+/)
    .filter((x) => /^\d+$/.test(x))
    .map(Number);
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Namespaces and directories left by an earlier run that died without cleaning up (SIGKILL, crash). */
export function sweepOrphans(): void {
  for (const entry of readdirSync(tmpdir())) if (deadOwner(entry)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (!deadOwner(name)) continue;
    killAll(namespacePids(name));
    spawnSync('ip', ['netns', 'del', name]);
  }
}

/** The namespaces, processes and directory of one lab. */
export class NetnsHost {
  /** A private temporary directory (mode 0755: scripts running as another user read from it). */
  readonly dir: string;
  private readonly procs: ProcImpl[] = [];
  private readonly namespaces: string[] = [];
  private torn = false;
  private removed = false;
  private tearingDown: Promise<void> | undefined;

  private constructor(readonly id: string) {
    this.dir = mkdtempSync(join(tmpdir(), `${id}-`));
    chmodSync(this.dir, 0o755);
  }

  /** Sweep orphans of dead owners, then reserve a new prefix. Throws when namespaces are unusable. */
  static create(): NetnsHost {
    const cap = netnsCapability();
    if (!cap.ok) throw new Error(`cannot create network namespaces: ${cap.reason}`);
    installExitHook();
    sweepOrphans();
    const host = new NetnsHost(`${LAB_PREFIX}${process.pid}-${++hostCounter}${Math.random().toString(36).slice(2, 6)}`);
    liveHosts.add(host);
    return host;
  }

  /** Create namespace `<id>-<suffix>` with lo up; teardown deletes it. */
  async addNamespace(suffix: string): Promise<string> {
    if (this.torn) throw new Error(`lab ${this.id} is torn down`);
    const name = `${this.id}-${suffix}`;
    await runOk('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await runOk('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** Run a command in a namespace to completion. */
  exec(ns: string, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', ns, ...argv], opts);
  }

  /** Start a long-running process in a namespace; teardown kills it. */
  spawn(ns: string, argv: string[], opts: SpawnOptions = {}): Proc {
    if (this.torn) throw new Error(`lab ${this.id} is torn down`);
    const p = new ProcImpl(opts.name ?? argv[0], ns, argv, opts);
    this.procs.push(p);
    return p;
  }

  /** Wait until `ifname` in `ns` has carrier (veth carrier comes up asynchronously; keepalived
   * starts in FAULT without it). */
  async waitUp(ns: string, ifname: string, timeoutMs = 5000): Promise<void> {
    await poll(async () => /state UP/.test((await run('ip', ['-n', ns, 'link', 'show', ifname])).stdout), { timeoutMs, what: `${ifname} up in ${ns}` });
  }

  /** Processes still inside our namespaces (children of what we spawned, such as keepalived's VRRP child). */
  pids(): number[] {
    return this.namespaces.flatMap(namespacePids);
  }

  private removeAll(): void {
    if (this.removed) return;
    this.removed = true;
    // Anything left in our namespaces was started by this lab (directly or as a child).
    killAll(this.pids());
    for (const ns of [...this.namespaces].reverse()) spawnSync('ip', ['netns', 'del', ns]);
    this.namespaces.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
    liveHosts.delete(this);
  }

  /** Stop every process (SIGTERM, then SIGKILL after graceMs), delete the namespaces and the directory. Idempotent. */
  teardown(graceMs = 3000): Promise<void> {
    this.torn = true;
    this.tearingDown ??= (async () => {
      try {
        // Gracefully first: keepalived removes its VIPs and sends priority-0 adverts on SIGTERM.
        await Promise.all(this.procs.map((p) => p.kill('SIGTERM', graceMs)));
        // A killed process leaves its namespace only once the kernel has reaped it.
        await poll(() => this.pids().length === 0, { timeoutMs: 3000, what: 'processes in the lab namespaces to exit' }).catch(() => undefined);
      } finally {
        this.removeAll();
      }
    })();
    return this.tearingDown;
  }

  /** For exit and signal hooks: no waiting, SIGKILL everything (even if an async teardown is under way). */
  teardownSync(): void {
    this.torn = true;
    for (const p of this.procs) p.killSync();
    this.removeAll();
  }
}
