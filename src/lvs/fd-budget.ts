// The descriptors the embedded data plane may use. The process has RLIMIT_NOFILE of them (Node has
// no getrlimit: it is read from /proc/self/limits); what is open at start, a reserve for the health
// checks and a spare part for everything else (logs, the control socket, scripts, a reload's
// reads) are kept back, and the rest is for clients: a TCP connection holds two (the client's and
// the real server's), a UDP flow one. When the client part is used up the TCP forwarders stop
// accepting (the kernel's backlog holds the next clients) and the UDP forwarders recycle their
// oldest flows, so client load can never make a health check fail with EMFILE and take a healthy
// real server out.
import { readdirSync, readFileSync } from 'node:fs';

/** The soft "Max open files" of /proc/self/limits (`text`); undefined if absent. */
export function parseFdLimit(text: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m) return undefined;
  return m[1] === 'unlimited' ? UNLIMITED : Number(m[1]);
}

/** What "unlimited" counts as: Linux's fs.nr_open default. */
const UNLIMITED = 1_048_576;

/** Descriptors this process has open now (undefined where /proc is not there). */
function openNow(): number | undefined {
  try {
    // The directory read itself holds one while it runs.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

/** Where the limit is unknown: Linux's usual soft limit. */
const FALLBACK_LIMIT = 1024;

/** How a limit of `limit` descriptors, `inUse` of them open already, is shared out. */
export function planFds(limit: number, inUse: number): { checks: number; spare: number; clients: number } {
  const clamp = (n: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, Math.floor(n)));
  const checks = clamp(limit / 8, 16, 256);
  const spare = clamp(limit / 16, 16, 1024);
  return { checks, spare, clients: Math.max(0, limit - inUse - checks - spare) };
}

export interface FdBudgetOptions {
  limit: number;
  inUse: number;
  log?: (level: 'info' | 'warn', message: string) => void;
}

/** A TCP forwarder's listener, which stops and starts accepting with the budget. */
export interface Pausable {
  pauseAccept(): void;
  resumeAccept(): void;
}

export class FdBudget {
  readonly limit: number;
  /** Descriptors kept for the health checks' probes in flight. */
  readonly checkReserve: number;
  /** Descriptors for clients (TCP connections take two, UDP flows one). */
  readonly clientFds: number;
  /** Client descriptors held now. */
  used = 0;
  private paused = false;
  private pausedAt = 0;
  private readonly listeners = new Set<Pausable>();
  readonly stats = { pauses: 0, pausedMs: 0 };

  constructor(private readonly opts: FdBudgetOptions) {
    const plan = planFds(opts.limit, opts.inUse);
    this.limit = opts.limit;
    this.checkReserve = plan.checks;
    this.clientFds = plan.clients;
  }

  /** TCP connections at once: two descriptors each. */
  get maxConnections(): number {
    return Math.floor(this.clientFds / 2);
  }

  /** Whether `n` more descriptors fit. */
  fits(n: number): boolean {
    return this.used + n <= this.clientFds;
  }

  /** Hold `n` descriptors (a connection accepted while the pause took effect may overshoot). */
  take(n: number): void {
    this.used += n;
    if (!this.paused && !this.fits(2)) this.pause();
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
    // Resume with some room, not at the first close: no pause and resume per connection (and
    // with none held at all, whatever the limit: a budget too small for the room still serves).
    if (this.paused && (this.used + this.hysteresis() <= this.clientFds || this.used === 0)) this.resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  add(l: Pausable): void {
    this.listeners.add(l);
    if (this.paused) l.pauseAccept();
  }

  remove(l: Pausable): void {
    this.listeners.delete(l);
  }

  private hysteresis(): number {
    return Math.max(2, Math.min(64, Math.floor(this.clientFds / 32) * 2));
  }

  private pause(): void {
    this.paused = true;
    this.pausedAt = Date.now();
    this.stats.pauses++;
    for (const l of this.listeners) l.pauseAccept();
    this.opts.log?.(
      'warn',
      `connection limit reached: ${this.used} of ${this.clientFds} client descriptors in use (open files limit ${this.limit}, ${this.checkReserve} kept for health checks); new clients wait in the listen backlog`,
    );
  }

  private resume(): void {
    this.paused = false;
    const ms = Date.now() - this.pausedAt;
    this.stats.pausedMs += ms;
    for (const l of this.listeners) l.resumeAccept();
    this.opts.log?.('info', `accepting connections again after ${(ms / 1000).toFixed(1)} s at the connection limit (${this.stats.pauses} pause(s) so far)`);
  }
}

let processBudget: FdBudget | undefined;

/**
 * The budget of this process, made at the first call from RLIMIT_NOFILE and what is open then;
 * `log` is the first caller's.
 */
export function processFds(log?: FdBudgetOptions['log']): FdBudget {
  if (processBudget) return processBudget;
  let limit: number | undefined;
  try {
    limit = parseFdLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    limit = undefined;
  }
  const inUse = openNow() ?? 64;
  processBudget = new FdBudget({ limit: limit ?? FALLBACK_LIMIT, inUse, log });
  log?.(
    'info',
    `open files limit ${processBudget.limit}: up to ${processBudget.maxConnections} client connections, ${processBudget.checkReserve} descriptors kept for health checks`,
  );
  return processBudget;
}
