// Rate-limited logging for what arrives at packet rate: drops by reason, lower-priority adverts,
// address-list mismatches. Per key, the first line is logged and the rest are counted, then summed
// up once per window ("(VI_1) 4999 more adverts dropped for ttl in the last 10 s (last: ...)");
// a key that stayed quiet for a whole window logs its next line in full again. Counters elsewhere
// stay exact: this only decides which lines are written.
//
// keepalived (2.3 and later; 2.2.7 logs every packet) logs each error once per instance until the
// instance changes state or accepts a new master, after which the next one is logged again
// (vrrp.c, log_rate_limited_error and rlflags). reset() is that re-arming; the windowed summary is
// ours, so that a flood that never ends still shows in the log, with its size.
//
// Pure: the caller passes the time (µs) and schedules flush() at nextFlushAt().
import { US_PER_SEC } from './timers.js';

export interface LimitedLine {
  level: 'info' | 'warn';
  message: string;
}

interface KeyState {
  level: 'info' | 'warn';
  /** Start of the current window: the line logged in full, or the last summary. */
  since: number;
  /** Last occurrence, logged or not. */
  lastAt: number;
  /** Occurrences not logged since `since`. */
  suppressed: number;
  /** The text of the last one, shown in the summary. */
  last: string;
  /** What the summary counts: "adverts dropped for ttl". */
  what: string;
}

export class LogLimiter {
  private readonly keys = new Map<string, KeyState>();

  /** `prefix` starts every summary line, e.g. "(VI_1) ". */
  constructor(
    private readonly prefix = '',
    readonly windowUs = 10 * US_PER_SEC,
  ) {}

  /**
   * One occurrence of `key` at `now`: the line to log now, or undefined when it only counts
   * towards the next summary. `detail` is the message without the prefix.
   */
  offer(key: string, now: number, level: 'info' | 'warn', detail: string, what: string): LimitedLine | undefined {
    const k = this.keys.get(key);
    if (!k || (k.suppressed === 0 && now - k.lastAt >= this.windowUs)) {
      this.keys.set(key, { level, since: now, lastAt: now, suppressed: 0, last: detail, what });
      return { level, message: this.prefix + detail };
    }
    k.lastAt = now;
    k.suppressed++;
    k.last = detail;
    k.what = what;
    return undefined;
  }

  /** When the next summary is due, if any occurrence is waiting for one. */
  nextFlushAt(): number | undefined {
    let at: number | undefined;
    for (const k of this.keys.values()) if (k.suppressed > 0 && (at === undefined || k.since + this.windowUs < at)) at = k.since + this.windowUs;
    return at;
  }

  /** The summaries due at `now`; each starts a new window for its key. */
  flush(now: number): LimitedLine[] {
    const out: LimitedLine[] = [];
    for (const k of this.keys.values()) {
      if (k.suppressed === 0 || now < k.since + this.windowUs) continue;
      out.push(this.summary(k, now));
      k.since = now;
      k.suppressed = 0;
    }
    return out;
  }

  /** keepalived's re-arming (a state change, a new master): pending counts are summed up now and
   * every key logs its next line in full. */
  reset(now: number): LimitedLine[] {
    const out = [...this.keys.values()].filter((k) => k.suppressed > 0).map((k) => this.summary(k, now));
    this.keys.clear();
    return out;
  }

  private summary(k: KeyState, now: number): LimitedLine {
    const secs = Math.max(1, Math.round((now - k.since) / US_PER_SEC));
    return { level: k.level, message: `${this.prefix}${k.suppressed} more ${k.what} in the last ${secs} s (last: ${k.last})` };
  }
}
