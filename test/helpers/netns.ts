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
import { chmodSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keepalivedCapability, NetnsHost, netnsCapability, poll, run, runOk, type Proc, type RunResult } from '../../src/lab/netns/host.js';
import { copyRuntimePackages } from './readable.js';

// The namespace machinery is product code now (the lab's netns backend uses it too).
export { keepalivedCapability, netnsCapability, poll, run, runOk } from '../../src/lab/netns/host.js';

/** Why tests that need namespaces (and keepalived 2.2.7, and nft, where asked) cannot run here,
 * said once on the console; undefined where they can. For describe.skipIf(). */
export function netnsSkip(what: string, needs: { keepalived?: boolean; nft?: boolean } = {}): string | undefined {
  const reason =
    netnsCapability().reason ??
    (needs.keepalived ? keepalivedCapability().reason : undefined) ??
    (needs.nft && !existsSync('/usr/sbin/nft') && !existsSync('/sbin/nft') ? 'no nft (apt-get install nftables)' : undefined);
  if (reason) console.warn(`${what} skipped: ${reason}`);
  return reason;
}

/** Whether a process with this pid exists (a zombie included): for polls waiting for one to end. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
/** Waits until each host's eth0 has a link-local address out of DAD (IPv6 adverts are sent from it). */
export async function waitLinkLocal(lab: Lab): Promise<void> {
  for (const h of lab.hosts)
    await poll(
      async () => {
        const out = (await lab.exec(h, ['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).stdout;
        return (/inet6 fe80/.test(out) && !/tentative/.test(out)) || undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'link-local address ready' },
    );
}

/** kill -9 of every keepalived process in a namespace: a crash. Killing the parent alone lets its
 * VRRP child (PR_SET_PDEATHSIG) stop cleanly, with a priority-0 advert. */
export async function killKeepalivedNs(ns: string): Promise<void> {
  const r = await run('ip', ['netns', 'pids', ns]);
  const pids = r.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'keepalived';
      } catch {
        return false; // gone already
      }
    });
  // Stopped first: the parent's death then cannot make a child stop cleanly before its own kill.
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  for (const pid of pids) process.kill(pid, 'SIGKILL');
}
export type { Capability, OutputLine, Proc, RunResult } from '../../src/lab/netns/host.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

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
  /** Bundle TypeScript (imports resolved from resolveDir) with esbuild and run it with Node in a namespace. `wrap`
   * runs it through a command (e.g. setpriv as another user), with a readable copy of the packages it loads. */
  spawnNode(ns: string | Host, source: string, opts: { resolveDir: string; name?: string; args?: string[]; wrap?: string[] }): Promise<Proc>;
  /** The real keepalived, VRRP only, in the foreground, logging to its stdout/stderr. env replaces
   * the environment (TMPDIR, say, where its JSON dump goes). */
  keepalived(host: Host, config: string, opts?: { name?: string; extraArgs?: string[]; env?: NodeJS.ProcessEnv }): Keepalived;
  /** Ours (dist/keepalived-ts.mjs) the same way: VRRP only, foreground, JSON lines on stdout.
   * env replaces the environment (TMPDIR, say, where SIGUSR2's dump goes). */
  ours(host: Host, config: string, opts: { name: string; env?: NodeJS.ProcessEnv }): Keepalived;
  /** IPv4 addresses on the host's eth0 (without prefix length). */
  addresses(host: Host): Promise<string[]>;
  /** Kill every process this lab started and delete its namespaces and files. Idempotent. */
  teardown(): Promise<void>;
}

class LabImpl implements Lab {
  readonly hosts: Host[] = [];
  readonly bridgeNs: string;
  readonly dir: string;
  private procCount = 0;

  constructor(private readonly host: NetnsHost) {
    this.bridgeNs = `${host.id}-br`;
    this.dir = host.dir;
  }

  get id(): string {
    return this.host.id;
  }

  async setup(nHosts: number, subnet: number): Promise<void> {
    const ip = (args: string[]) => runOk('ip', args);
    await this.host.addNamespace('br');
    await ip(['-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    // 224.0.0.0/24 is flooded anyway; no snooping keeps every other group simple too.
    await ip(['-n', this.bridgeNs, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await ip(['-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);
    for (let i = 0; i < nHosts; i++) {
      const ns = await this.host.addNamespace(`h${i + 1}`);
      const port = `p${i + 1}`;
      await ip(['-n', this.bridgeNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await ip(['-n', this.bridgeNs, 'link', 'set', port, 'master', 'br0', 'up']);
      const address = `10.99.${subnet}.${i + 1}`;
      await ip(['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      this.hosts.push({ index: i, ns, ifname: 'eth0', address, prefixLength: 24 });
    }
    for (const h of this.hosts) await this.host.waitUp(h.ns, 'eth0');
  }

  private nsName(ns: string | Host): string {
    return typeof ns === 'string' ? ns : ns.ns;
  }

  exec(ns: string | Host, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return this.host.exec(this.nsName(ns), argv, opts);
  }

  spawn(ns: string | Host, argv: string[], opts: { name?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
    this.procCount++;
    return this.host.spawn(this.nsName(ns), argv, opts);
  }

  async spawnNode(ns: string | Host, source: string, opts: { resolveDir: string; name?: string; args?: string[]; wrap?: string[] }): Promise<Proc> {
    const name = opts.name ?? `node${this.procCount + 1}`;
    // A wrapped program may run as a user who cannot read the clone (in a home directory or a
    // `mktemp -d`): it gets a directory of its own, readable by all, with its bundle and a copy of
    // the packages the product loads at run time.
    const dir = opts.wrap ? join(this.dir, name) : this.dir;
    const outfile = join(dir, `${name}.mjs`);
    const { build } = await import('esbuild');
    await build({
      stdin: { contents: source, resolveDir: opts.resolveDir, loader: 'ts', sourcefile: `${name}.ts` },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      // Native addons and npm packages load from node_modules at run time.
      packages: 'external',
      logLevel: 'error',
    });
    chmodSync(outfile, 0o644);
    // The bundle lives outside the repository: its bare imports and createRequire() calls resolve
    // through a node_modules next to it (NODE_PATH as well, for require()): a symlink to the
    // repository's, or for a wrapped program the copy.
    const modules = join(dir, 'node_modules');
    if (opts.wrap) copyRuntimePackages(modules);
    else if (!existsSync(modules)) symlinkSync(join(REPO_ROOT, 'node_modules'), modules);
    const env = { ...process.env, NODE_PATH: modules };
    return this.spawn(ns, [...(opts.wrap ?? []), process.execPath, outfile, ...(opts.args ?? [])], { name, env });
  }

  keepalived(host: Host, config: string, opts: { name?: string; extraArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Keepalived {
    const name = opts.name ?? `keepalived-${host.index + 1}-${this.procCount + 1}`;
    const configFile = join(this.dir, `${name}.conf`);
    const pidFile = join(this.dir, `${name}.pid`);
    const vrrpPidFile = join(this.dir, `${name}-vrrp.pid`);
    writeFileSync(configFile, config);
    const p = this.spawn(host, ['keepalived', '-n', '-l', '-D', '-P', '-f', configFile, '-p', pidFile, '-r', vrrpPidFile, ...(opts.extraArgs ?? [])], {
      name,
      env: opts.env,
    });
    return Object.assign(p, { configFile, pidFile, vrrpPidFile });
  }

  ours(host: Host, config: string, opts: { name: string; env?: NodeJS.ProcessEnv }): Keepalived {
    const configFile = join(this.dir, `${opts.name}.conf`);
    const pidFile = join(this.dir, `${opts.name}.pid`);
    const vrrpPidFile = join(this.dir, `${opts.name}-vrrp.pid`);
    writeFileSync(configFile, config);
    const cli = join(REPO_ROOT, 'dist/keepalived-ts.mjs');
    const p = this.spawn(host, [process.execPath, cli, '-n', '-l', '-P', '-f', configFile, '-p', pidFile, '-r', vrrpPidFile], {
      name: opts.name,
      env: opts.env,
    });
    return Object.assign(p, { configFile, pidFile, vrrpPidFile });
  }

  async addresses(host: Host): Promise<string[]> {
    const out = await runOk('ip', ['-n', host.ns, '-4', '-o', 'addr', 'show', 'dev', host.ifname]);
    return [...out.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
  }

  teardown(): Promise<void> {
    return this.host.teardown();
  }
}

/** Build a lab: one bridge namespace and opts.hosts host namespaces, each with eth0 on the bridge. */
export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const cap = netnsCapability();
  if (!cap.ok) throw new Error(`cannot create a namespace lab: ${cap.reason}`);
  const lab = new LabImpl(NetnsHost.create());
  try {
    await lab.setup(opts.hosts ?? 2, opts.subnet ?? 1);
  } catch (err) {
    await lab.teardown();
    throw err;
  }
  return lab;
}
