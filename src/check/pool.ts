// The checker service: every checker of every real server the daemon balances, on one clock, with
// one bound on probes in flight. A real server is alive while all its checkers are UP (keepalived
// ipwrapper.c); the pool reports each change. Its weight is the configured one plus what MISC_CHECK
// misc_dynamic and FILE_CHECK add (each checker's part, keepalived's cur_weight). A reload hands it
// the new configuration: a checker whose settings are unchanged keeps its state, its timer and
// its part of the weight (keepalived's checker compare/migrate, check_api.h), so the new
// configured weight applies with the dynamic part still in effect. Clock, randomness and the
// probe itself are injected, so the schedule is testable on a virtual clock and the daemon plugs
// in the real network probes; FILE_CHECK track files are read here, at start and then every
// FILE_POLL seconds. It reports to the data plane through lvs/health.ts, and only through it.
import type { BfdSessions } from '../bfd/sessions.js';
import type { Clock } from '../core/clock.js';
import {
  WEIGHT_MAX,
  type CheckerTiming,
  type Config,
  type ResolvedCheck,
  type ResolvedRealServer as RealServer,
  type ResolvedVirtualServer as VirtualServer,
} from '../config/model/index.js';
import type { Health, HealthChecks } from '../lvs/health.js';
import { FileCheckWatch } from './probe-file.js';
import type { ProbeResult } from './probes.js';
import { checkerResult, initialChecker, type CheckerState } from './state.js';

/** One checker to run, with what it inherits filled in, and the servers it checks. */
export interface CheckJob extends ResolvedCheck {
  vs: VirtualServer;
  rs: RealServer;
}

export interface PoolEvents {
  /** The real server's checkers are all UP (true) or one went DOWN (false). */
  realServer?(vs: VirtualServer, rs: RealServer, alive: boolean, reason: string): void;
  /** The weight of an alive real server: after it changes, and each time the server comes back. */
  weight?(vs: VirtualServer, rs: RealServer, weight: number): void;
  /** One checker went UP or DOWN and its real server stayed alive or not as it was. */
  checker?(vs: VirtualServer, rs: RealServer, up: boolean, reason: string): void;
  log?(level: 'info' | 'warn', message: string): void;
}

export interface PoolEnv {
  clock: Clock;
  /** Runs one check; dispose(), when there, releases what the probes share (called by stop()). */
  probe: ((job: CheckJob) => Promise<ProbeResult>) & { dispose?(): void };
  random: () => number;
  /**
   * Descriptors the probes in flight may hold at once, over all real servers (default 256): the
   * daemon gives the reserve its descriptor budget keeps for health checks (lvs/fd-budget.ts),
   * so client load never leaves a probe without one. A MISC_CHECK counts for its spawn's pipe pair.
   */
  maxInFlight?: number;
  /** Without it, BFD_CHECK is reported once and leaves its server alone. */
  bfd?: BfdSessions;
}

/** `[address]:port` of a server, as the pool's log lines name it. */
const placeOf = (srv: { rs: RealServer }): string => `[${srv.rs.address}]:${srv.rs.port}`;

/** Seconds between reads of a FILE_CHECK's file (keepalived is told of changes by inotify). */
export const FILE_POLL = 0.5;
const FILE_TIMING = { delayLoop: FILE_POLL, retry: 0, delayBeforeRetry: FILE_POLL, warmup: 0 };

interface SlotBase {
  job: CheckJob;
  /** What it runs with: a reload keeps the slot (and its state) when this is unchanged. */
  key: string;
  state: CheckerState;
  /** What this checker adds to the configured weight (keepalived's cur_weight). */
  delta: number;
  /** Dropped by a reload or stop: its timer and a probe in flight come to nothing. */
  gone?: boolean;
}

/** A checker run on its own timer. */
interface TimedSlot extends SlotBase {
  timing: CheckerTiming;
  check(): Promise<ProbeResult>;
}

/** BFD_CHECK: no timer, the session's changes set it. */
interface BfdSlot extends SlotBase {
  bfd: string;
}

type Slot = TimedSlot | BfdSlot;

interface Server {
  vs: VirtualServer;
  rs: RealServer;
  slots: Slot[];
  alive: boolean;
  /** The configured weight, and the last weight told through events.weight. */
  base: number;
  told: number;
  stats: ServerCheckStats;
}

/** A real server's checks as the metrics endpoint shows them (haproxy's check_* columns). */
export interface ServerCheckStats {
  /** Probes that gave a verdict, and those that failed. */
  checks: number;
  failures: number;
  /** The last probe: whether it succeeded and how long it took (seconds). */
  lastOk?: boolean;
  lastDuration?: number;
  /** Times the server went out of service, and came back. */
  downs: number;
  ups: number;
}

const US = 1_000_000;

/** Descriptors a probe holds: a socket, or the pipe pair libuv spawns a MISC_CHECK's child with. */
const fdsOf = (job: CheckJob): number => (job.checker.type === 'MISC_CHECK' ? 2 : 1);

/** The probe found no descriptor (ours or the system's): says nothing about the real server. */
const NO_FD = /\bE[MN]FILE\b/;

/** A real server's identity across reloads: its service and its address and port. */
function serverKey(vs: VirtualServer, rs: RealServer): string {
  const service = vs.kind === 'address' ? `${vs.protocol} ${vs.address}:${vs.port}` : vs.kind === 'fwmark' ? `fwmark ${vs.fwmark}` : `group ${vs.group}`;
  return `${service} ${rs.address}:${rs.port}`;
}

const withoutSpans = (k: string, v: unknown): unknown => (k === 'span' || k === 'spans' ? undefined : v);

export class CheckerPool implements HealthChecks {
  private readonly servers = new Map<string, Server>();
  /** Descriptors held by the probes in flight, and the probes waiting for some. */
  private inFlight = 0;
  private readonly waiting: { n: number; go: () => void }[] = [];
  /** A probe that found no descriptor was logged; said again once a probe runs normally. */
  private noFdSaid = false;
  private started = false;
  private stopped = false;
  private unwatch?: () => void;
  private events: PoolEvents;
  /** BFD_CHECK without sessions was reported: said once, not at every reload. */
  private bfdNoted = false;
  /** Probes run so far, for the daemon's statistics. */
  readonly counters = { probes: 0, failures: 0, noFd: 0 };

  /** With `cfg`, checks all its virtual servers' real servers; else none until check(). */
  constructor(
    cfg: Config | undefined,
    private readonly env: PoolEnv,
    events: PoolEvents = {},
  ) {
    this.events = events;
    if (cfg) this.check(cfg.resolved.virtualServers);
  }

  /** Real servers, whether they are alive now, and their checks' counts. */
  get status(): readonly { vs: VirtualServer; rs: RealServer; alive: boolean; weight: number; stats: Readonly<ServerCheckStats> }[] {
    return [...this.servers.values()].map((srv) => ({ vs: srv.vs, rs: srv.rs, alive: srv.alive, weight: this.weightOf(srv), stats: srv.stats }));
  }

  check(virtualServers: readonly VirtualServer[], events?: PoolEvents): void {
    if (events) this.events = { ...this.events, ...events };
    let bfdIgnored = false;
    const old = new Map(this.servers);
    this.servers.clear();
    for (const vs of virtualServers) {
      for (const rs of vs.realServers) {
        const key = serverKey(vs, rs);
        const prev = old.get(key);
        old.delete(key);
        // keepalived's migrate: each new checker takes over an old one with the same settings.
        const before = prev?.slots ?? [];
        const spare = [...before];
        const slots: Slot[] = [];
        for (const check of rs.checks) {
          const job = { ...check, vs, rs };
          const checker = check.checker;
          if (checker.type === 'BFD_CHECK' && !this.env.bfd) {
            bfdIgnored = true;
            continue;
          }
          const slotKey = JSON.stringify(check, withoutSpans);
          const i = spare.findIndex((s) => s.key === slotKey);
          if (i >= 0) {
            const [kept] = spare.splice(i, 1);
            kept.job = job;
            slots.push(kept);
            continue;
          }
          const slot = this.newSlot(job, slotKey);
          if (slot) slots.push(slot);
        }
        for (const s of spare) s.gone = true;
        const srv: Server = prev ?? { vs, rs, slots, alive: true, base: rs.weight, told: rs.weight, stats: { checks: 0, failures: 0, downs: 0, ups: 0 } };
        Object.assign(srv, { vs, rs, slots, base: rs.weight });
        // Without alpha a server is in the pool from the start; with it, after its first success.
        srv.alive = slots.every((s) => s.state.up);
        if (prev && srv.alive) srv.told = this.weightOf(srv);
        this.servers.set(key, srv);
        if (!this.started) continue;
        // FILE_CHECK values of a server new to a running pool, as start() tells them.
        if (!prev) this.tellWeight(srv, false);
        for (const s of slots) if (!before.includes(s)) this.begin(srv, s);
      }
    }
    for (const srv of old.values()) for (const s of srv.slots) s.gone = true;
    if (this.started) this.watchBfd();
    if (bfdIgnored && !this.bfdNoted) this.events.log?.('warn', 'BFD_CHECK: no BFD sessions run here, so real servers that use it are not checked by it');
    this.bfdNoted ||= bfdIgnored;
  }

  health(vs: VirtualServer, rs: RealServer): Health {
    const srv = this.servers.get(serverKey(vs, rs));
    return srv ? { alive: srv.alive, weight: this.weightOf(srv) } : { alive: true, weight: rs.weight };
  }

  start(): void {
    this.started = true;
    this.watchBfd();
    for (const srv of this.servers.values()) {
      // FILE_CHECK values read at construction.
      this.tellWeight(srv, false);
      for (const slot of srv.slots) this.begin(srv, slot);
    }
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
    this.env.probe.dispose?.();
  }

  private newSlot(job: CheckJob, key: string): Slot | undefined {
    const checker = job.checker;
    if (checker.type === 'FILE_CHECK') {
      // keepalived drops a FILE_CHECK whose track_file is unknown or has no file.
      if (!job.file) return undefined;
      const watch = new FileCheckWatch(job.file);
      // The file is read now: a server whose file says fault is never added.
      const first = watch.read();
      return { job, key, timing: FILE_TIMING, state: initialChecker(!first.ok), delta: first.addWeight ?? 0, check: async () => watch.read() };
    }
    if (checker.type === 'BFD_CHECK') {
      if (!checker.name || !this.env.bfd) return undefined;
      // keepalived applies the session's state at start whatever alpha says: a session not
      // yet Up keeps its server out until it is. One this side never hears of (bfd_instance
      // marked `vrrp`) leaves the checker as alpha has it.
      const up = this.env.bfd.isUp(checker.name);
      return { job, key, state: initialChecker(up === undefined ? job.alpha : !up), delta: 0, bfd: checker.name };
    }
    if (!job.timing) return undefined;
    // The job as of now: a reload that keeps the slot gives it the new config's servers.
    const slot: TimedSlot = { job, key, timing: job.timing, state: initialChecker(job.alpha), delta: 0, check: () => this.env.probe(slot.job) };
    return slot;
  }

  /** A checker's first run: keepalived waits 1 s plus a random part of warmup (default delay_loop). */
  private begin(srv: Server, slot: Slot): void {
    if ('bfd' in slot) return;
    this.schedule(srv, slot, 1 + this.env.random() * slot.timing.warmup);
  }

  private watchBfd(): void {
    if (this.unwatch || ![...this.servers.values()].some((srv) => srv.slots.some((s) => 'bfd' in s))) return;
    this.unwatch = this.env.bfd?.watch((name, up, reason) => this.bfdChanged(name, up, reason));
  }

  /** A BFD session changed: its BFD_CHECKs go DOWN or UP at once (no retries: BFD has its own). */
  private bfdChanged(name: string, up: boolean, reason: string): void {
    if (this.stopped) return;
    for (const srv of this.servers.values()) {
      for (const slot of srv.slots) {
        if (!('bfd' in slot) || slot.bfd !== name || slot.state.up === up) continue;
        slot.state = { up, failures: 0 };
        this.settle(srv, slot, up ? `BFD ${name} is up` : `BFD ${name} went down (${reason})`, true);
      }
    }
  }

  /** keepalived's effective weight, as IPVS takes it (real_weight(): 0..2^31-1). */
  private weightOf(srv: Server): number {
    const w = srv.slots.reduce((a, s) => a + s.delta, srv.base);
    return Math.max(0, Math.min(WEIGHT_MAX, w));
  }

  private tellWeight(srv: Server, cameBack: boolean): void {
    const w = this.weightOf(srv);
    if (!srv.alive || (w === srv.told && !cameBack)) return;
    if (w !== srv.told) this.events.log?.('info', `Changing weight from ${srv.told} to ${w} for ${placeOf(srv)}`);
    srv.told = w;
    this.events.weight?.(srv.vs, srv.rs, w);
  }

  private schedule(srv: Server, slot: TimedSlot, inSec: number): void {
    this.env.clock.setTimer(this.env.clock.now() + inSec * US, () => void this.run(srv, slot));
  }

  private get maxInFlight(): number {
    return this.env.maxInFlight ?? 256;
  }

  /** Hold `n` descriptors for a probe, in turn (first come, first served). */
  private async acquire(n: number): Promise<void> {
    if (!this.waiting.length && this.inFlight + n <= this.maxInFlight) {
      this.inFlight += n;
      return;
    }
    await new Promise<void>((go) => this.waiting.push({ n, go }));
  }

  private release(n: number): void {
    this.inFlight -= n;
    while (this.waiting.length && this.inFlight + this.waiting[0].n <= this.maxInFlight) {
      const next = this.waiting.shift()!;
      this.inFlight += next.n;
      next.go();
    }
  }

  private async run(srv: Server, slot: TimedSlot): Promise<void> {
    if (this.stopped || slot.gone) return;
    const fds = Math.min(fdsOf(slot.job), this.maxInFlight);
    await this.acquire(fds);
    let r: ProbeResult;
    const began = this.env.clock.now();
    try {
      r = await slot.check();
    } catch (e) {
      r = { ok: false, reason: `probe error: ${(e as Error).message}` };
    } finally {
      this.release(fds);
    }
    if (this.stopped || slot.gone) return;
    const where = placeOf(srv);
    if (!r.ok && NO_FD.test(r.reason)) {
      // Out of descriptors is this host's trouble, not the real server's: no verdict, try again.
      this.counters.noFd++;
      if (!this.noFdSaid)
        this.events.log?.('warn', `${slot.job.checker.type} on ${where} could not run (${r.reason}); not counted against the server, retrying`);
      this.noFdSaid = true;
      return this.schedule(srv, slot, slot.timing.delayBeforeRetry);
    }
    if (r.unrun) {
      // keepalived (layer4.c connect_error): logged each time, no verdict, again after delay_loop.
      this.events.log?.('warn', `${slot.job.checker.type} on ${where}: ${r.reason}; not counted against the server, rescheduling`);
      return this.schedule(srv, slot, slot.timing.delayLoop);
    }
    this.noFdSaid = false;
    this.counters.probes++;
    if (!r.ok) this.counters.failures++;
    const st = srv.stats;
    st.checks++;
    if (!r.ok) st.failures++;
    st.lastOk = r.ok;
    st.lastDuration = (this.env.clock.now() - began) / US;
    const v = checkerResult(slot.state, r.ok, slot.timing);
    const moved = v.state.up !== slot.state.up;
    slot.state = v.state;
    if (!r.ok && v.state.up)
      this.events.log?.('info', `${slot.job.checker.type} on ${where} failed (${r.reason}); retry ${v.state.failures} of ${slot.timing.retry}`);
    // misc_dynamic asks for a weight in all, FILE_CHECK for an addition; a checker that goes DOWN adds nothing.
    if (r.ok) slot.delta = r.addWeight ?? (r.weight === undefined ? 0 : r.weight - srv.base);
    else if (!v.state.up) slot.delta = 0;
    this.settle(srv, slot, r.ok ? `${slot.job.checker.type} succeeded` : `${slot.job.checker.type} failed: ${r.reason}`, moved);
    this.schedule(srv, slot, v.nextIn);
  }

  /** After a checker's verdict: the server's aliveness and weight, told when they change, and
   * the checker's own change (`moved`) when the server's aliveness stays. */
  private settle(srv: Server, slot: Slot, why: string, moved: boolean): void {
    const alive = srv.slots.every((s) => s.state.up);
    const cameBack = alive && !srv.alive;
    if (alive !== srv.alive) {
      srv.alive = alive;
      if (alive) srv.stats.ups++;
      else srv.stats.downs++;
      const where = placeOf(srv);
      const reason = alive ? `${slot.job.checker.type} succeeded` : why;
      this.events.log?.(alive ? 'info' : 'warn', `${alive ? 'Adding' : 'Removing'} service ${where} ${alive ? 'to' : 'from'} VS (${reason})`);
      this.events.realServer?.(srv.vs, srv.rs, alive, reason);
    } else if (moved) {
      const where = placeOf(srv);
      this.events.log?.('info', `${why} on ${where}; the server stays ${alive ? 'in service' : 'out of service'}`);
      this.events.checker?.(srv.vs, srv.rs, slot.state.up, why);
    }
    this.tellWeight(srv, cameBack);
  }
}
