// Every checker of every real server on one clock, with a bound on probes in flight. A real server
// is alive while all its checkers are UP (keepalived ipwrapper.c); the pool reports each change.
// Its weight is the configured one plus what MISC_CHECK misc_dynamic and FILE_CHECK add (each
// checker's part, keepalived's cur_weight). Clock, randomness and the probe itself are injected, so
// the schedule is testable on a virtual clock and the daemon plugs in the real network probes;
// FILE_CHECK track files are read here, at start and then every FILE_POLL seconds.
import type { BfdSessions } from '../bfd/sessions.js';
import type { Clock } from '../core/clock.js';
import { WEIGHT_MAX, type CheckerTiming, type Config, type ResolvedCheck, type ResolvedRealServer as RealServer, type ResolvedVirtualServer as VirtualServer } from '../config/model/index.js';
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
  log?(level: 'info' | 'warn', message: string): void;
}

export interface PoolEnv {
  clock: Clock;
  probe(job: CheckJob): Promise<ProbeResult>;
  random: () => number;
  maxInFlight?: number;
  /** Without it, BFD_CHECK is reported once and leaves its server alone. */
  bfd?: BfdSessions;
}

/** Seconds between reads of a FILE_CHECK's file (keepalived is told of changes by inotify). */
export const FILE_POLL = 0.5;
const FILE_TIMING = { delayLoop: FILE_POLL, retry: 0, delayBeforeRetry: FILE_POLL, warmup: 0 };

interface SlotBase {
  job: CheckJob;
  state: CheckerState;
  /** What this checker adds to the configured weight (keepalived's cur_weight). */
  delta: number;
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
}

const US = 1_000_000;

export class CheckerPool {
  private readonly servers: Server[] = [];
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private stopped = false;
  private unwatch?: () => void;
  /** Probes run so far, for the daemon's statistics. */
  readonly counters = { probes: 0, failures: 0 };

  constructor(cfg: Config, private readonly env: PoolEnv, private readonly events: PoolEvents = {}) {
    let bfdIgnored = false;
    for (const vs of cfg.resolved.virtualServers) {
      for (const rs of vs.realServers) {
        const slots: Slot[] = [];
        for (const check of rs.checks) {
          const checker = check.checker;
          if (checker.type === 'BFD_CHECK' && !env.bfd) {
            bfdIgnored = true;
            continue;
          }
          if (checker.type === 'FILE_CHECK') {
            const track = cfg.trackFiles.find((f) => f.name === checker.trackFile);
            // keepalived drops a FILE_CHECK whose track_file is unknown or has no file.
            if (!track?.file) continue;
            const watch = new FileCheckWatch({ ...track, file: track.file }, checker);
            // The file is read now: a server whose file says fault is never added.
            const first = watch.read();
            slots.push({ job: { ...check, vs, rs }, timing: FILE_TIMING, state: initialChecker(!first.ok), delta: first.addWeight ?? 0, check: async () => watch.read() });
            continue;
          }
          if (checker.type === 'BFD_CHECK') {
            if (!checker.name) continue;
            const name = checker.name;
            const job = { ...check, vs, rs };
            // keepalived applies the session's state at start whatever alpha says: a session not
            // yet Up keeps its server out until it is. One this side never hears of (bfd_instance
            // marked `vrrp`) leaves the checker as alpha has it.
            const up = env.bfd!.isUp(name);
            const state = initialChecker(up === undefined ? check.alpha : !up);
            slots.push({ job, state, delta: 0, bfd: name });
            continue;
          }
          if (!check.timing) continue;
          const job = { ...check, vs, rs };
          slots.push({ job, timing: check.timing, state: initialChecker(check.alpha), delta: 0, check: () => this.env.probe(job) });
        }
        const base = rs.weight;
        // Without alpha a server is in the pool from the start; with it, after its first success.
        this.servers.push({ vs, rs, slots, alive: slots.every((s) => s.state.up), base, told: base });
      }
    }
    if (bfdIgnored) events.log?.('warn', 'BFD_CHECK: no BFD sessions run here, so real servers that use it are not checked by it');
  }

  /** Real servers and whether they are alive now. */
  get status(): readonly { vs: VirtualServer; rs: RealServer; alive: boolean }[] {
    return this.servers;
  }

  start(): void {
    if (this.servers.some((srv) => srv.slots.some((s) => 'bfd' in s))) this.unwatch = this.env.bfd?.watch((name, up, reason) => this.bfdChanged(name, up, reason));
    for (const srv of this.servers) {
      // FILE_CHECK values read at construction.
      this.tellWeight(srv, false);
      for (const slot of srv.slots) {
        if ('bfd' in slot) continue;
        // keepalived: first run after 1 s plus a random part of warmup (default delay_loop).
        const first = 1 + this.env.random() * slot.timing.warmup;
        this.schedule(srv, slot, first);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.unwatch?.();
  }

  /** A BFD session changed: its BFD_CHECKs go DOWN or UP at once (no retries: BFD has its own). */
  private bfdChanged(name: string, up: boolean, reason: string): void {
    if (this.stopped) return;
    for (const srv of this.servers) {
      for (const slot of srv.slots) {
        if (!('bfd' in slot) || slot.bfd !== name || slot.state.up === up) continue;
        slot.state = { up, failures: 0 };
        this.settle(srv, slot, up ? `BFD ${name} is up` : `BFD ${name} went down (${reason})`);
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
    if (w !== srv.told) this.events.log?.('info', `Changing weight from ${srv.told} to ${w} for [${srv.rs.address}]:${srv.rs.port}`);
    srv.told = w;
    this.events.weight?.(srv.vs, srv.rs, w);
  }

  private schedule(srv: Server, slot: TimedSlot, inSec: number): void {
    this.env.clock.setTimer(this.env.clock.now() + inSec * US, () => void this.run(srv, slot));
  }

  private async acquire(): Promise<void> {
    const max = this.env.maxInFlight ?? 256;
    if (this.inFlight < max) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  private async run(srv: Server, slot: TimedSlot): Promise<void> {
    if (this.stopped) return;
    await this.acquire();
    let r: ProbeResult;
    try {
      r = await slot.check();
    } catch (e) {
      r = { ok: false, reason: `probe error: ${(e as Error).message}` };
    } finally {
      this.release();
    }
    if (this.stopped) return;
    this.counters.probes++;
    if (!r.ok) this.counters.failures++;
    const v = checkerResult(slot.state, r.ok, slot.timing);
    slot.state = v.state;
    const where = `[${srv.rs.address}]:${srv.rs.port}`;
    if (!r.ok && v.state.up) this.events.log?.('info', `${slot.job.checker.type} on ${where} failed (${r.reason}); retry ${v.state.failures} of ${slot.timing.retry}`);
    // misc_dynamic asks for a weight in all, FILE_CHECK for an addition; a checker that goes DOWN adds nothing.
    if (r.ok) slot.delta = r.addWeight ?? (r.weight === undefined ? 0 : r.weight - srv.base);
    else if (!v.state.up) slot.delta = 0;
    this.settle(srv, slot, r.ok ? `${slot.job.checker.type} succeeded` : `${slot.job.checker.type} failed: ${r.reason}`);
    this.schedule(srv, slot, v.nextIn);
  }

  /** After a checker's verdict: the server's aliveness and weight, told when they change. */
  private settle(srv: Server, slot: Slot, why: string): void {
    const alive = srv.slots.every((s) => s.state.up);
    const cameBack = alive && !srv.alive;
    if (alive !== srv.alive) {
      srv.alive = alive;
      const where = `[${srv.rs.address}]:${srv.rs.port}`;
      const reason = alive ? `${slot.job.checker.type} succeeded` : why;
      this.events.log?.(alive ? 'info' : 'warn', `${alive ? 'Adding' : 'Removing'} service ${where} ${alive ? 'to' : 'from'} VS (${reason})`);
      this.events.realServer?.(srv.vs, srv.rs, alive, reason);
    }
    this.tellWeight(srv, cameBack);
  }
}
