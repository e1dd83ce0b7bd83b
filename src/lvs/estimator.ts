// IPVS statistics: the totals `ipvsadm -Ln --stats` shows and the rates `--rate` shows, for a
// service or a destination. The estimator follows ip_vs_est.c: every 2 seconds the change since
// the last sample becomes a rate, folded into an average with weight 1/4
// (avg += (rate − avg) / 4), so a step change shows after a few samples, as in the kernel. The
// kernel assumes exactly 2 s between samples; we divide by the time that really passed, which is
// the same thing when the timer is on time. Pure: time is passed in.

/** Totals since the entry was created (struct ip_vs_kstats). */
export interface Counters {
  conns: number;
  inpkts: number;
  outpkts: number;
  inbytes: number;
  outbytes: number;
}

/** Per-second rates (ipvsadm --rate: CPS, InPPS, OutPPS, InBPS, OutBPS; BPS is bytes per second). */
export interface Rates {
  cps: number;
  inpps: number;
  outpps: number;
  inbps: number;
  outbps: number;
}

export interface Estimate {
  /** The counters at the last sample. */
  last: Counters;
  /** µs, on the clock that took the sample; unset before the first (which then counts as one period). */
  at?: number;
  /** The averages, unrounded. */
  avg: Rates;
}

/** ip_vs_est.c's period. */
export const ESTIMATOR_PERIOD_US = 2_000_000;

const PAIRS = [
  ['conns', 'cps'],
  ['inpkts', 'inpps'],
  ['outpkts', 'outpps'],
  ['inbytes', 'inbps'],
  ['outbytes', 'outbps'],
] as const;

export const zeroCounters = (): Counters => ({ conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0 });
const zeroRates = (): Rates => ({ cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 });

/** Start estimating from these totals (ip_vs_start_estimator / ip_vs_zero_estimator). */
export function startEstimate(c: Counters = zeroCounters(), now?: number): Estimate {
  return { last: { ...c }, at: now, avg: zeroRates() };
}

/** One sample: the next estimate from the totals now. */
export function sampleEstimate(e: Estimate, c: Counters, now: number): Estimate {
  const dt = (e.at === undefined ? ESTIMATOR_PERIOD_US : now - e.at) / 1e6;
  if (dt <= 0) return e;
  const avg = { ...e.avg };
  for (const [count, rate] of PAIRS) avg[rate] += ((c[count] - e.last[count]) / dt - avg[rate]) / 4;
  return { last: { ...c }, at: now, avg };
}

/** The rates as ipvsadm prints them: whole numbers (ip_vs_read_estimator rounds). */
export function readRates(e: Estimate): Rates {
  const out = zeroRates();
  for (const [, rate] of PAIRS) out[rate] = Math.round(e.avg[rate]);
  return out;
}

/** A service's or destination's totals and their estimate: the one place they are kept. */
export class Stats {
  readonly totals: Counters = zeroCounters();
  private est = startEstimate();

  /** Called for every connection and every report of its bytes: field by field, not by key. */
  add(d: Partial<Counters>): void {
    const t = this.totals;
    if (d.conns) t.conns += d.conns;
    if (d.inpkts) t.inpkts += d.inpkts;
    if (d.outpkts) t.outpkts += d.outpkts;
    if (d.inbytes) t.inbytes += d.inbytes;
    if (d.outbytes) t.outbytes += d.outbytes;
  }

  sample(now: number): void {
    this.est = sampleEstimate(this.est, this.totals, now);
  }

  get rates(): Rates {
    return readRates(this.est);
  }
}
