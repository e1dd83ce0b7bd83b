// Moving virtual addresses and routes: `ip` commands built from the model (pure, unit-tested),
// run as lines of one long-lived `ip -batch` (ip-batch.ts) or through an injected executor; and
// gratuitous ARPs, paced per interface as keepalived does (garp-pacer.ts), written by the daemon
// itself through the cap addon (garp-cap.ts). Only where cap cannot load does each ARP fork
// iputils arping (about a second each, run in the background, a few at a time).
import { spawn } from 'node:child_process';
import type { ResolvedVirtualAddress, ResolvedVrrpInstance, RouteSpec, RuleSpec, VirtualAddress } from '../config/model/index.js';
import type { Clock } from '../core/clock.js';
import { CapGarpSender, loadCap } from './garp-cap.js';
import { GarpPacer } from './garp-pacer.js';
import { batchLine, IpBatch, type CommandResult } from './ip-batch.js';

export type { CommandResult };

export type Exec = (argv: string[]) => Promise<CommandResult>;

/** `ip addr add|del` for one virtual address, on its interface, as keepalived applies it. */
export function ipAddrArgs(op: 'add' | 'del', v: ResolvedVirtualAddress): string[] {
  const args = ['ip', v.family === 6 ? '-6' : '-4', 'addr', op, `${v.address}/${v.prefix}`];
  if (op === 'add') {
    if (v.brd) args.push('brd', v.brd);
    if (v.peer) args.push('peer', v.peer);
    if (v.scope) args.push('scope', v.scope);
    if (v.label) args.push('label', v.label);
    if (v.preferredLft) args.push('preferred_lft', v.preferredLft);
    for (const f of v.flags) if (['home', 'mngtmpaddr', 'noprefixroute', 'autojoin'].includes(f)) args.push(f);
    // keepalived (vrrp_ipaddress.c) adds every IPv6 VIP with IFA_F_NODAD, so that a duplicate does
    // not leave it dadfailed; `-nodad` is how a configuration asks for DAD after all.
    if (v.family === 6 && !v.flags.includes('-nodad')) args.push('nodad');
  }
  args.push('dev', v.dev);
  return args;
}

/** `ip route add|del` for a virtual route, its words passed through (keepalived's ip route syntax). */
export function ipRouteArgs(op: 'add' | 'del', r: RouteSpec): string[] {
  // keepalived-only words are not ip route's: no_track, and track_group with its name.
  const words = r.args.filter((w, i, all) => w !== 'no_track' && w !== 'track_group' && all[i - 1] !== 'track_group');
  // keepalived (vrrp_iproute.c netlink_route): proto keepalived (18) unless a no_track route names
  // its own, and scope global unless one is written (ip would make a route without via scope link).
  const scoped = op === 'add' && !words.includes('scope') ? [...words, 'scope', 'global'] : words;
  return ['ip', 'route', op === 'add' ? 'replace' : 'del', ...withProtocol(scoped, r.noTrack ? undefined : KEEPALIVED_PROTO, KEEPALIVED_PROTO)];
}

/** `ip rule add|del` for a virtual or static rule, its words passed through (keepalived's ip rule
 * syntax), with the preference keepalived numbered it with when it has none. */
export function ipRuleArgs(op: 'add' | 'del', r: RuleSpec): string[] {
  // keepalived-only words: no_track, track_group NAME, and inet6 (the family of a rule without
  // an address; `from ::/0` is ip's "from all" in IPv6, and unlike -6 a batch line can carry it).
  const words = r.args.filter((w, i, all) => w !== 'no_track' && w !== 'inet6' && w !== 'track_group' && all[i - 1] !== 'track_group');
  if (r.args.includes('inet6') && !r.from && !r.to) words.unshift('from', '::/0');
  if (!r.args.some((w) => w === 'preference' || w === 'pref' || w === 'priority') && r.preference !== undefined) words.push('preference', String(r.preference));
  // keepalived (vrrp_iprule.c): protocol keepalived (18) on a tracked rule; a no_track one as written.
  return ['ip', 'rule', op, ...withProtocol(words, r.noTrack ? undefined : KEEPALIVED_PROTO)];
}

/** RTPROT_KEEPALIVED: what `ip route`/`ip rule` show as "proto keepalived". */
const KEEPALIVED_PROTO = '18';

/** The words with their protocol set to `force` (replacing one written), else as written, else `fallback`. */
function withProtocol(words: string[], force?: string, fallback?: string): string[] {
  const at = words.findIndex((w) => w === 'protocol' || w === 'proto');
  if (force === undefined) return at >= 0 || fallback === undefined ? words : [...words, 'protocol', fallback];
  return [...(at >= 0 ? [...words.slice(0, at), ...words.slice(at + 2)] : words), 'protocol', force];
}

/** static_ipaddress, static_routes and static_rules: set at start-up, kept while the daemon runs. */
export interface StaticEntries {
  addresses: ResolvedVirtualAddress[];
  routes: RouteSpec[];
  rules: RuleSpec[];
}

export const NO_STATIC: StaticEntries = { addresses: [], routes: [], rules: [] };

export function arpingArgs(v: { dev: string; address: string }): string[] {
  return ['arping', '-U', '-c', '1', '-I', v.dev, v.address];
}

export const spawnExec: Exec = (argv) =>
  new Promise((resolve) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    p.on('error', (e) => resolve({ code: null, stderr: e.message }));
    p.on('close', (code) => resolve({ code, stderr: stderr.trim() }));
  });

/** arping processes running at once, and waiting: a MASTER transition of many VIPs forks
 * garp_master_repeat of them per VIP, twice; unbounded, 1,000 VIPs meant 5,000 processes at once. */
export const ARPING_CONCURRENCY = 16;
export const ARPING_QUEUE_LIMIT = 20_000;

/** Writes one gratuitous ARP frame (false: it could not, and said so). */
export interface GarpSink {
  send(dev: string, address: string): boolean;
  close?(): void;
  /** Lets go of what it holds on `dev` (an interface about to be deleted). */
  forget?(dev: string): void;
}

/** Requests handed to the pacer per event-loop turn: a burst of 1,000 VIPs x 5 does not hold
 * adverts back for the whole burst. */
const GARPS_PER_TURN = 256;

export interface AddressDriverOptions {
  /** Runs arping (when there is no sink), and the ip commands when there is no batch. */
  exec?: Exec;
  /** Where gratuitous ARPs go: default, frames through cap when neither this nor `exec` is
   * given, else (or where cap cannot load) arping through `exec`. */
  garp?: GarpSink;
  /** The garp interval of an interface in µs (vrrp_garp_interval, garp_group); default none. */
  garpIntervalUs?: (dev: string) => number;
  /** Paces the gratuitous ARPs (the daemon's real clock; a test's own). */
  clock: Clock;
  /** Runs ip commands as batch lines; default: one `ip -batch` process when `exec` is not given. */
  batch?: { run(lines: readonly string[]): Promise<CommandResult[]>; restart?(): Promise<void> };
  log?: (level: 'info' | 'warn', message: string) => void;
  /** -D: keepalived's "(VI_1) setting VIPs." and "removing VIPs." lines (vrrp_handle_ipaddress). */
  detail?: boolean;
}

interface Gathering {
  batch: NonNullable<AddressDriverOptions['batch']>;
  lines: string[];
  results: Promise<CommandResult[]>;
  /** Writes the lines (once). */
  flush(): void;
  written: boolean;
}

/** Lines gathered at most before they are written (gathered()). */
const GATHER_LINES = 64;

/** Adds and removes an instance's VIPs and routes, in order, one instance at a time. */
export class IpAddressDriver {
  private queue: Promise<void> = Promise.resolve();
  /** Changes queued one after another (not pipelined) and not done yet. */
  private serial = 0;
  private readonly exec: Exec;
  private readonly batch: AddressDriverOptions['batch'];
  private arpingRunning = 0;
  private arpingWaiting: string[][] = [];
  private arpingHead = 0;
  /** Gratuitous ARPs not sent because the queue was full (counted, logged once per burst). */
  arpingDropped = 0;
  /** The ARP sink, chosen at the first ARP (cap loads only on a director that sends one); null: arping. */
  private sink?: GarpSink | null;
  private readonly pacer: GarpPacer;
  private intervalUs: (dev: string) => number;
  /** Pipelined lines waiting for the end of this turn (gathered()). */
  private gathering?: Gathering;

  constructor(private readonly opts: AddressDriverOptions) {
    this.exec = opts.exec ?? spawnExec;
    this.batch = opts.batch ?? (opts.exec ? undefined : new IpBatch());
    if (opts.garp) this.sink = opts.garp;
    else if (opts.exec) this.sink = null;
    this.intervalUs = opts.garpIntervalUs ?? (() => 0);
    this.pacer = new GarpPacer({
      clock: opts.clock,
      intervalUs: (dev) => this.intervalUs(dev),
      send: (dev, address) => {
        if (this.sink === undefined) this.sink = capSink(opts.log);
        if (this.sink) this.sink.send(dev, address);
        else this.arping(arpingArgs({ dev, address }));
      },
    });
  }

  /** The garp intervals of a (new) configuration. */
  setGarpIntervals(intervalUs: (dev: string) => number): void {
    this.intervalUs = intervalUs;
  }

  /** Gratuitous ARPs handed to the pacer that it holds back for their interface's interval. */
  get garpsPending(): number {
    return this.pacer.pendingCount;
  }

  /** Stops pacing and closes the ARP handles (the daemon's stop). */
  closeGarp(): void {
    this.pacer.clear();
    this.sink?.close?.();
  }

  /** Before `dev` is deleted (a VMAC): its ARP handle is closed, as libpcap's poll on a deleted
   * interface aborts the process (cap's binding asserts). */
  releaseInterface(dev: string): void {
    this.sink?.forget?.(dev);
  }

  /**
   * One ip command of a VMAC (link add/set/del, its address), in order after the queued address
   * changes and through the same `ip -batch`: a long-lived ip caches interface indexes by name, and
   * only the links it deletes itself leave its cache (a VMAC made again has a new index).
   */
  run(argv: string[]): Promise<CommandResult> {
    const line = this.batch ? batchLine(argv) : undefined;
    const batch = line !== undefined ? this.batch : undefined;
    this.serial++;
    const result = this.queue
      .then(async () => (batch && line !== undefined ? await batch.run([line]) : await this.each([argv]))[0])
      .finally(() => this.serial--);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** After the queued changes, later ip commands run in a new `ip -batch` (IpBatch.restart). */
  restartBatch(): Promise<void> {
    const restart = this.batch?.restart?.bind(this.batch);
    if (!restart) return this.queue;
    this.serial++;
    const done = this.queue.then(restart).finally(() => this.serial--);
    this.queue = done.catch(() => undefined);
    return this.queue;
  }

  /** Resolves when every queued change is applied. */
  settled(): Promise<void> {
    return this.queue;
  }

  add(inst: ResolvedVrrpInstance): Promise<void> {
    return this.enqueue(
      [
        ...[...inst.virtualIpaddress, ...inst.virtualIpaddressExcluded].map((v) => ipAddrArgs('add', v)),
        ...inst.virtualRoutes.map((r) => ipRouteArgs('add', r)),
        ...inst.virtualRules.map((r) => ipRuleArgs('add', r)),
      ],
      this.vipLines(inst, 'sett'),
    );
  }

  remove(inst: ResolvedVrrpInstance): Promise<void> {
    return this.removeEach([inst]);
  }

  /** remove() for each instance, in order, as one change (the left-overs of every instance at start). */
  removeEach(insts: readonly ResolvedVrrpInstance[]): Promise<void> {
    if (!insts.length) return this.queue;
    for (const inst of insts) this.pacer.cancel(inst.name);
    return this.enqueue(
      insts.flatMap((inst) => [
        ...inst.virtualRules.map((r) => ipRuleArgs('del', r)),
        ...inst.virtualRoutes.map((r) => ipRouteArgs('del', r)),
        ...[...inst.virtualIpaddress, ...inst.virtualIpaddressExcluded].map((v) => ipAddrArgs('del', v)),
      ]),
      insts.flatMap((inst) => this.vipLines(inst, 'remov')),
    );
  }

  /** keepalived -D: one line for the VIPs and one for the excluded ones, when there are any. */
  private vipLines(inst: ResolvedVrrpInstance, verb: 'sett' | 'remov'): string[] {
    if (!this.opts.detail) return [];
    const lines: string[] = [];
    if (inst.virtualIpaddress.length) lines.push(`(${inst.name}) ${verb}ing VIPs.`);
    if (inst.virtualIpaddressExcluded.length) lines.push(`(${inst.name}) ${verb}ing E-VIPs.`);
    return lines;
  }

  /** Sets the static entries, as keepalived at start-up (vrrp_daemon.c start_vrrp): addresses,
   * routes, rules. With `was` (a reload), first removes what only `was` has (clear_diff_static_*). */
  setStatic(entries: StaticEntries, was: StaticEntries = NO_STATIC): Promise<void> {
    const gone = staticOnlyIn(was, entries);
    const added = staticOnlyIn(entries, was);
    if (staticCount(gone)) void this.clearStatic(gone);
    if (!staticCount(added)) return this.queue;
    return this.enqueue(
      [...added.addresses.map((v) => ipAddrArgs('add', v)), ...added.routes.map((r) => ipRouteArgs('add', r)), ...added.rules.map((r) => ipRuleArgs('add', r))],
      ['Setting static addresses, routes and rules.'],
    );
  }

  /** Removes static entries, as keepalived at its stop (vrrp_daemon.c stop_vrrp): rules, routes, addresses. */
  clearStatic(entries: StaticEntries): Promise<void> {
    if (!staticCount(entries)) return this.queue;
    return this.enqueue(
      [
        ...entries.rules.map((r) => ipRuleArgs('del', r)),
        ...entries.routes.map((r) => ipRouteArgs('del', r)),
        ...entries.addresses.map((v) => ipAddrArgs('del', v)),
      ],
      ['Removing static addresses, routes and rules.'],
    );
  }

  /** garp_master_repeat gratuitous ARPs per IPv4 VIP now, and again after garp_master_delay. */
  announce(inst: ResolvedVrrpInstance, schedule: (delayMs: number, fn: () => void) => void = (d, fn) => void setTimeout(fn, d).unref()): void {
    // The VMAC's when the VIPs are on one (keepalived logs the interface they go out on).
    const dev = inst.vmac?.ifname ?? inst.interface;
    const burst = (): void => this.burst(inst, inst.garpMasterRepeat);
    const v4 = inst.virtualIpaddress.filter((v) => v.family === 4);
    // IPv6 VIPs get unsolicited neighbour adverts instead (ndisc.ts), logged there.
    if (!v4.length) return;
    this.opts.log?.('info', `(${inst.name}) Sending/queueing gratuitous ARPs on ${dev} for ${v4.map((v) => v.address).join(', ')}`);
    // The frames announce VIPs that must be there to answer: the first burst waits for the queued `ip addr add`.
    void this.queue.then(() => {
      burst();
      if (inst.garpMasterDelay > 0) schedule(inst.garpMasterDelay * 1000, burst);
    });
  }

  /** `repeat` gratuitous ARPs per IPv4 VIP, after the queued address changes (a MASTER's refresh
   * or lower-priority burst; keepalived logs these only with -D). */
  gratuitous(inst: ResolvedVrrpInstance, repeat: number): void {
    void this.queue.then(() => this.burst(inst, repeat));
  }

  /** One gratuitous ARP for each of these IPv4 addresses, on its own interface, after the queued
   * address changes (garp_extra_if; keepalived logs these only with -D). */
  gratuitousEach(owner: string, addresses: readonly ResolvedVirtualAddress[]): void {
    void this.queue.then(() => {
      for (const v of addresses) if (v.family === 4) this.pacer.request(owner, v.dev, v.address);
    });
  }

  /** keepalived's order (vrrp_send_link_update): every VIP once, `repeat` times over, each
   * through the pacer (which holds it back while its interface's garp interval runs). */
  private burst(inst: ResolvedVrrpInstance, repeat: number): void {
    const v4 = inst.virtualIpaddress.filter((v) => v.family === 4); // IPv6: neighbour adverts (ndisc.ts)
    const total = repeat * v4.length;
    const next = (i: number): void => {
      const end = Math.min(total, i + GARPS_PER_TURN);
      for (; i < end; i++) {
        const v = v4[i % v4.length];
        this.pacer.request(inst.name, v.dev, v.address, i % v4.length);
      }
      if (i < total) setImmediate(() => next(i));
    };
    next(0);
  }

  /** One process per command, in order. */
  private async each(cmds: string[][]): Promise<CommandResult[]> {
    const results: CommandResult[] = [];
    for (const argv of cmds) results.push(await this.exec(argv));
    return results;
  }

  /** Runs arping with at most ARPING_CONCURRENCY processes at once, in order; beyond
   * ARPING_QUEUE_LIMIT waiting, drops (counted). */
  private arping(argv: string[]): void {
    if (this.arpingRunning >= ARPING_CONCURRENCY) {
      if (this.arpingWaiting.length - this.arpingHead >= ARPING_QUEUE_LIMIT) {
        if (this.arpingDropped++ === 0)
          this.opts.log?.('warn', `gratuitous ARP queue full (${ARPING_QUEUE_LIMIT} waiting): dropping ARPs; later drops are counted, not logged`);
        return;
      }
      this.arpingWaiting.push(argv);
      return;
    }
    this.arpingRunning++;
    void this.exec(argv).then(() => {
      this.arpingRunning--;
      if (this.arpingHead < this.arpingWaiting.length) {
        const next = this.arpingWaiting[this.arpingHead++];
        // Drop the consumed prefix now and then, so the queue stays O(1) per ARP.
        if (this.arpingHead > 1024 && this.arpingHead * 2 > this.arpingWaiting.length) {
          this.arpingWaiting = this.arpingWaiting.slice(this.arpingHead);
          this.arpingHead = 0;
        }
        this.arping(next);
      }
    });
  }

  private enqueue(cmds: string[][], messages: readonly string[]): Promise<void> {
    // Said when decided, as keepalived says it just before its netlink call: in order with the
    // state lines around it.
    for (const m of messages) this.opts.log?.('info', m);
    const lines = this.batch ? cmds.map(batchLine) : [];
    const batch = this.batch && lines.every((l): l is string => l !== undefined) ? this.batch : undefined;
    // setImmediate: an advert that announced mastership may still be queued in the raw socket
    // (its buffer was full); let the event loop send it first. (Gathered lines may go earlier,
    // gathered(): the adverts of those instances were written by then unless the buffer was full.)
    const turn = () => new Promise<void>((r) => setImmediate(r));
    if (batch && this.serial === 0) {
      // Pipelined: ip runs its stdin in order, so these lines go out now, behind the earlier
      // batches, without waiting for their results (one round trip per instance made 1,000
      // VIPs take 15 s on a busy box); results are still reported in order.
      const results = this.gathered(batch, lines as string[]);
      this.queue = Promise.all([this.queue, results]).then(([, r]) => this.report(cmds, r));
      return this.queue;
    }
    // Commands that cannot be batch lines run one process each, in order after everything before
    // them; what comes after them waits for them in turn.
    this.serial++;
    this.queue = this.queue
      .then(turn)
      .then(async () => this.report(cmds, batch ? await batch.run(lines as string[]) : await this.each(cmds)))
      .finally(() => this.serial--);
    return this.queue;
  }

  /**
   * Lines for the batch, written together with the other changes asked for in this event-loop
   * turn: 1,000 instances going MASTER on one timer were 1,000 writes, each with its sentinel line
   * for ip to run and its own result to wait for (and the GARP bursts behind them one resolved
   * write at a time). Written at the end of the turn, or when a change comes with GATHER_LINES
   * already waiting, so that ip adds the first VIPs while the later instances still make their
   * transitions. (One change is never split: the left-overs removed at start, 1,000 lines, wait
   * for the end of the turn, and ip is not started before the engine.)
   */
  private gathered(batch: NonNullable<AddressDriverOptions['batch']>, lines: string[]): Promise<CommandResult[]> {
    if (this.gathering && this.gathering.lines.length >= GATHER_LINES) this.gathering.flush();
    let g = this.gathering;
    if (!g || g.batch !== batch) {
      let write!: () => void;
      const next: Gathering = {
        batch,
        lines: [],
        results: new Promise<CommandResult[]>((resolve) => {
          write = () => resolve(batch.run(next.lines));
        }),
        flush: () => {
          if (this.gathering === next) this.gathering = undefined;
          if (next.written) return;
          next.written = true;
          write();
        },
        written: false,
      };
      setImmediate(() => next.flush());
      this.gathering = g = next;
    }
    const from = g.lines.length;
    for (const l of lines) g.lines.push(l);
    return g.results.then((r) => r.slice(from, from + lines.length));
  }

  private report(cmds: string[][], results: CommandResult[]): void {
    cmds.forEach((argv, i) => {
      const r = results[i];
      // Adding an address that is already there (or deleting a missing one: iproute2 6.x says
      // 'Address not found') is not an error.
      // A rule that is not there: "No such file or directory" (keepalived ignores ENOENT there too).
      const absent = argv[1] === 'rule' && argv[2] === 'del' && /No such file or directory/.test(r.stderr);
      if (r.code !== 0 && !absent && !/File exists|already assigned|Cannot assign requested address|Address not found|No such process/.test(r.stderr)) {
        this.opts.log?.('warn', `${argv.join(' ')} failed: ${r.stderr || `exit ${r.code}`}`);
      }
    });
  }
}

/** Frames through cap, or, where it cannot load, undefined (arping) with one line saying so. */
function capSink(log: AddressDriverOptions['log']): GarpSink | null {
  const cap = loadCap();
  if ('error' in cap) {
    log?.('warn', `Gratuitous ARPs through arping, one process each: the cap addon cannot load (${cap.error})`);
    return null;
  }
  return new CapGarpSender({ cap, log: (l, m) => log?.(l, m) });
}

const staticCount = (s: StaticEntries): number => s.addresses.length + s.routes.length + s.rules.length;

/** The entries of `a` that `b` does not have, compared without their config positions. */
function staticOnlyIn(a: StaticEntries, b: StaticEntries): StaticEntries {
  const key = (x: object): string => JSON.stringify({ ...x, span: undefined });
  const minus = <T extends object>(l: T[], m: T[]): T[] => {
    const have = new Set(m.map(key));
    return l.filter((x) => !have.has(key(x)));
  };
  return { addresses: minus(a.addresses, b.addresses), routes: minus(a.routes, b.routes), rules: minus(a.rules, b.rules) };
}

/** The static entries of a configuration; addresses without a dev go on default_interface (keepalived). */
export function staticEntries(cfg: {
  staticIpaddress: readonly VirtualAddress[];
  staticRoutes: readonly RouteSpec[];
  staticRules: readonly RuleSpec[];
  globalDefs: { defaultInterface: string };
}): StaticEntries {
  return {
    addresses: cfg.staticIpaddress.map((a) => ({ ...a, dev: a.dev ?? cfg.globalDefs.defaultInterface })),
    routes: [...cfg.staticRoutes],
    rules: [...cfg.staticRules],
  };
}
