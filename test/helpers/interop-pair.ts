// The namespace lab that an interop test file shares between its tests, with the vitest hooks that
// make and unmake it: ours on one host, the real keepalived 2.2.7 (or a sender, a capture) on the
// other, every process the tests start tracked and stopped after each test, and whatever a kill -9
// leaves behind (VIPs, nft tables, VMACs) removed before the next.
//
//   const skip = netnsSkip('AH interop tests', { keepalived: true });
//   describe.skipIf(skip)('...', () => {
//     const pair = interopPair({ subnet: 61, vips: [VIP] });
//     it('...', async () => {
//       const k = pair.startKeepalived(conf(100), 'a');   // on pair.theirs, tracked
//       const o = pair.startOurs(conf(150), 'a');         // on pair.ours, tracked
//       await pair.waitVip(pair.ours, true, 3000, 'VIP on ours');
//     });
//   });
//
// oneHostLab() is the same for the tests that need one namespace and nothing tracked: a Lab made in
// beforeAll and torn down in afterAll, with the host at hand.
//
//   describe.skipIf(netnsSkip('VMAC fault tests', { keepalived: true }))('...', () => {
//     const lab = oneHostLab({ subnet: 151 });
//     it('...', async () => {
//       await lab.exec(lab.host, ['ip', 'link', 'add', ...]);
//     });
//   });
//
// It lives beside netns.ts, not in it: netns.ts is bundled for plain Node by the benchmarks, where
// vitest cannot be imported.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createLab, poll, type Host, type Keepalived, type Lab, type Proc } from './netns.js';

export interface InteropPairOptions {
  /** Third octet of the lab subnet 10.99.X.0/24: one per test file. */
  subnet: number;
  /** Host namespaces on the bridge (default 2: ours, theirs). */
  hosts?: number;
  /** Addresses that stop() flushes from every host's eth0 (what a kill -9 leaves); the first is
   * what hasVip() and waitVip() look for unless told another. */
  vips?: string[];
  /** How stop() ends the tracked processes: SIGKILL with 100 ms to die unless told otherwise;
   * `reverse` stops the last started first (a capture started before the daemon outlives it). */
  stopWith?: { signal: NodeJS.Signals; graceMs: number; reverse?: boolean };
  /** Runs once the lab is up (extra addresses, waiting for link-local addresses). */
  setup?: (pair: InteropPair) => Promise<void>;
  /** Runs in stop() after the processes are gone and the VIPs flushed (nft rules, VMACs). */
  cleanup?: (pair: InteropPair) => Promise<void>;
  /** stop() after every test (default true); false where a process outlives a test on purpose. */
  stopAfterEach?: boolean;
}

/** Which implementation a test case runs. */
export type Who = 'ours' | 'keepalived';

export interface InteropPair {
  readonly lab: Lab;
  readonly hosts: Host[];
  /** hosts[0], where the tests run keepalived-ts. */
  readonly ours: Host;
  /** hosts[1], where they run keepalived 2.2.7 or a peer of another kind. */
  readonly theirs: Host;
  /** keepalived-ts -P in the foreground, named `ours-TAG`, on `host` (default ours); `env` adds to ours. */
  startOurs(config: string, tag: string, opts?: { host?: Host; env?: NodeJS.ProcessEnv }): Keepalived;
  /** keepalived 2.2.7 -P in the foreground, named `ka-TAG`, on `host` (default theirs). */
  startKeepalived(config: string, tag: string, opts?: { host?: Host; extraArgs?: string[]; env?: NodeJS.ProcessEnv }): Keepalived;
  /** One or the other on `host`, for the tests that run the same case against both. */
  start(who: Who, host: Host, config: string, tag: string): Keepalived;
  /** Any other long-running process, tracked like the daemons. */
  spawn(where: string | Host, argv: string[], opts?: { name?: string; env?: NodeJS.ProcessEnv }): Proc;
  /** Have stop() end a process started otherwise. */
  track<P extends Proc>(p: P): P;
  /** Whether `vip` (default the first of opts.vips), IPv4 or IPv6, is on the host's eth0. */
  hasVip(h: Host, vip?: string): Promise<boolean>;
  /** Until hasVip() is `want`. */
  waitVip(h: Host, want: boolean, timeoutMs: number, what: string, vip?: string): Promise<true>;
  /** Ends every tracked process, flushes the VIPs, runs opts.cleanup. */
  stop(): Promise<void>;
}

class Pair implements InteropPair {
  private created: Lab | undefined;
  private readonly procs: Proc[] = [];

  constructor(private readonly opts: InteropPairOptions) {}

  get lab(): Lab {
    if (!this.created) throw new Error('the interop lab is made in beforeAll: use it inside a test or hook');
    return this.created;
  }
  get hosts(): Host[] {
    return this.lab.hosts;
  }
  get ours(): Host {
    return this.hosts[0];
  }
  get theirs(): Host {
    return this.hosts[1];
  }

  async up(): Promise<void> {
    this.created = await createLab({ hosts: this.opts.hosts ?? 2, subnet: this.opts.subnet });
    await this.opts.setup?.(this);
  }

  startOurs(config: string, tag: string, opts: { host?: Host; env?: NodeJS.ProcessEnv } = {}): Keepalived {
    const env = opts.env && { ...process.env, ...opts.env };
    return this.track(this.lab.ours(opts.host ?? this.ours, config, { name: `ours-${tag}`, env }));
  }

  startKeepalived(config: string, tag: string, opts: { host?: Host; extraArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Keepalived {
    const env = opts.env && { ...process.env, ...opts.env };
    return this.track(this.lab.keepalived(opts.host ?? this.theirs, config, { name: `ka-${tag}`, extraArgs: opts.extraArgs, env }));
  }

  start(who: Who, host: Host, config: string, tag: string): Keepalived {
    return who === 'keepalived' ? this.startKeepalived(config, tag, { host }) : this.startOurs(config, tag, { host });
  }

  spawn(where: string | Host, argv: string[], opts: { name?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
    return this.track(this.lab.spawn(where, argv, opts));
  }

  track<P extends Proc>(p: P): P {
    this.procs.push(p);
    return p;
  }

  async hasVip(h: Host, vip = this.firstVip()): Promise<boolean> {
    if (!vip.includes(':')) return (await this.lab.addresses(h)).includes(vip);
    return (await this.lab.exec(h, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(` ${vip}/`);
  }

  waitVip(h: Host, want: boolean, timeoutMs: number, what: string, vip = this.firstVip()): Promise<true> {
    return poll(async () => (await this.hasVip(h, vip)) === want || undefined, { timeoutMs, intervalMs: 20, what });
  }

  private firstVip(): string {
    const vip = this.opts.vips?.[0];
    if (!vip) throw new Error('interopPair: no vips given, so name the VIP');
    return vip;
  }

  async stop(): Promise<void> {
    if (!this.created) return; // beforeAll failed: nothing was started
    const { signal, graceMs, reverse } = this.opts.stopWith ?? { signal: 'SIGKILL', graceMs: 100 };
    const procs = this.procs.splice(0);
    for (const p of reverse ? procs.reverse() : procs) await p.kill(signal, graceMs);
    for (const h of this.hosts) for (const vip of this.opts.vips ?? []) await this.lab.exec(h, ['ip', 'addr', 'flush', 'dev', 'eth0', 'to', vipPrefix(vip)]);
    await this.opts.cleanup?.(this);
  }

  async down(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await this.created?.teardown();
    }
  }
}

/** An address as `ip addr flush to` takes it: one host, or the prefix given. */
const vipPrefix = (vip: string): string => (vip.includes('/') ? vip : `${vip}/${vip.includes(':') ? 128 : 32}`);

/** A lab for the enclosing describe block: made in beforeAll, stopped after each test (unless told
 * not to) and torn down in afterAll, whatever the tests did. */
export function interopPair(opts: InteropPairOptions): InteropPair {
  const pair = new Pair(opts);
  beforeAll(() => pair.up(), 60_000);
  if (opts.stopAfterEach ?? true) afterEach(() => pair.stop(), 60_000);
  afterAll(() => pair.down(), 60_000);
  return pair;
}

export interface OneHostLabOptions {
  /** Third octet of the lab subnet 10.99.X.0/24: one per test file. */
  subnet: number;
  /** Runs once the lab is up (interfaces, a daemon shared by the tests). */
  setup?: (lab: OneHostLab) => Promise<void>;
  /** Runs in afterAll before the teardown, whatever the tests and setup did. */
  cleanup?: () => Promise<void>;
}

/** A Lab of one host namespace; `host` is its only host. */
export interface OneHostLab extends Lab {
  readonly host: Host;
}

class OneHost implements OneHostLab {
  private created: Lab | undefined;

  constructor(private readonly opts: OneHostLabOptions) {}

  private get lab(): Lab {
    if (!this.created) throw new Error('the one-host lab is made in beforeAll: use it inside a test or hook');
    return this.created;
  }
  get host(): Host {
    return this.lab.hosts[0];
  }
  get id(): string {
    return this.lab.id;
  }
  get bridgeNs(): string {
    return this.lab.bridgeNs;
  }
  get hosts(): Host[] {
    return this.lab.hosts;
  }
  get dir(): string {
    return this.lab.dir;
  }
  exec(...args: Parameters<Lab['exec']>): ReturnType<Lab['exec']> {
    return this.lab.exec(...args);
  }
  spawn(...args: Parameters<Lab['spawn']>): ReturnType<Lab['spawn']> {
    return this.lab.spawn(...args);
  }
  spawnNode(...args: Parameters<Lab['spawnNode']>): ReturnType<Lab['spawnNode']> {
    return this.lab.spawnNode(...args);
  }
  keepalived(...args: Parameters<Lab['keepalived']>): ReturnType<Lab['keepalived']> {
    return this.lab.keepalived(...args);
  }
  ours(...args: Parameters<Lab['ours']>): ReturnType<Lab['ours']> {
    return this.lab.ours(...args);
  }
  addresses(h: Host): Promise<string[]> {
    return this.lab.addresses(h);
  }

  async up(): Promise<void> {
    this.created = await createLab({ hosts: 1, subnet: this.opts.subnet });
    await this.opts.setup?.(this);
  }

  async teardown(): Promise<void> {
    try {
      if (this.created) await this.opts.cleanup?.();
    } finally {
      await this.created?.teardown();
    }
  }
}

/** A one-host lab for the enclosing describe block: made (and set up) in beforeAll, torn down in
 * afterAll, whatever the tests or the setup did. */
export function oneHostLab(opts: OneHostLabOptions): OneHostLab {
  const lab = new OneHost(opts);
  beforeAll(() => lab.up(), 60_000);
  afterAll(() => lab.teardown(), 60_000);
  return lab;
}
