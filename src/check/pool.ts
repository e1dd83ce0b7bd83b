// Every checker of every real server on one clock, with a bound on probes in flight. A real server
// is alive while all its checkers are UP (keepalived ipwrapper.c); the pool reports each change.
// Clock, randomness and the probe itself are injected, so the schedule is testable on a virtual
// clock and the daemon plugs in the real network probes.
import type { Clock } from '../core/clock.js';
import type { Checker, Config, RealServer, VirtualServer } from '../config/model/index.js';
import { effectiveTiming } from '../config/keywords/checkers.js';
import type { ProbeResult } from './probes.js';
import { checkerResult, initialChecker, type CheckerState } from './state.js';

export interface CheckJob {
  vs: VirtualServer;
  rs: RealServer;
  checker: Checker;
  connectTimeout: number;
}

export interface PoolEvents {
  /** The real server's checkers are all UP (true) or one went DOWN (false). */
  realServer?(vs: VirtualServer, rs: RealServer, alive: boolean, reason: string): void;
  /** MISC_CHECK misc_dynamic asked for a weight. */
  weight?(vs: VirtualServer, rs: RealServer, weight: number): void;
  log?(level: 'info' | 'warn', message: string): void;
}

export interface PoolEnv {
  clock: Clock;
  probe(job: CheckJob): Promise<ProbeResult>;
  random: () => number;
  maxInFlight?: number;
}

/** Checker types the pool can run; the others are reported once and leave the server alone. */
export const RUNNABLE = new Set(['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK']);

interface Slot {
  job: CheckJob;
  timing: { delayLoop: number; retry: number; delayBeforeRetry: number; warmup: number };
  state: CheckerState;
}

interface Server {
  vs: VirtualServer;
  rs: RealServer;
  slots: Slot[];
  alive: boolean;
}

const US = 1_000_000;

export class CheckerPool {
  private readonly servers: Server[] = [];
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private stopped = false;
  /** Probes run so far, for the daemon's statistics. */
  readonly counters = { probes: 0, failures: 0 };

  constructor(cfg: Config, private readonly env: PoolEnv, private readonly events: PoolEvents = {}) {
    const unsupported = new Set<string>();
    for (const vs of cfg.virtualServers) {
      for (const rs of vs.realServers) {
        const slots: Slot[] = [];
        for (const checker of rs.checkers) {
          if (!RUNNABLE.has(checker.type)) {
            unsupported.add(checker.type);
            continue;
          }
          const t = effectiveTiming(vs, rs, checker);
          if (!t) continue;
          const alpha = ('alpha' in checker ? checker.alpha : undefined) ?? rs.alpha ?? vs.alpha;
          slots.push({ job: { vs, rs, checker, connectTimeout: t.connectTimeout ?? 5 }, timing: t, state: initialChecker(alpha) });
        }
        // Without alpha a server is in the pool from the start; with it, after its first success.
        this.servers.push({ vs, rs, slots, alive: slots.every((s) => s.state.up) });
      }
    }
    for (const t of unsupported) events.log?.('warn', `${t} is not implemented yet: real servers that use it are not checked by it`);
  }

  /** Real servers and whether they are alive now. */
  get status(): readonly { vs: VirtualServer; rs: RealServer; alive: boolean }[] {
    return this.servers;
  }

  start(): void {
    for (const srv of this.servers) {
      for (const slot of srv.slots) {
        // keepalived: first run after 1 s plus a random part of warmup (default delay_loop).
        const first = 1 + this.env.random() * slot.timing.warmup;
        this.schedule(srv, slot, first);
      }
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private schedule(srv: Server, slot: Slot, inSec: number): void {
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

  private async run(srv: Server, slot: Slot): Promise<void> {
    if (this.stopped) return;
    await this.acquire();
    let r: ProbeResult;
    try {
      r = await this.env.probe(slot.job);
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
    const where = `[${srv.rs.address}]:${srv.rs.port ?? 0}`;
    if (!r.ok && v.state.up) this.events.log?.('info', `${slot.job.checker.type} on ${where} failed (${r.reason}); retry ${v.state.failures} of ${slot.timing.retry}`);
    if (r.ok && r.weight !== undefined) this.events.weight?.(srv.vs, srv.rs, r.weight);
    const alive = srv.slots.every((s) => s.state.up);
    if (alive !== srv.alive) {
      srv.alive = alive;
      const reason = alive ? `${slot.job.checker.type} succeeded` : `${slot.job.checker.type} failed: ${r.reason}`;
      this.events.log?.(alive ? 'info' : 'warn', `${alive ? 'Adding' : 'Removing'} service ${where} ${alive ? 'to' : 'from'} VS (${reason})`);
      this.events.realServer?.(srv.vs, srv.rs, alive, reason);
    }
    this.schedule(srv, slot, v.nextIn);
  }
}
