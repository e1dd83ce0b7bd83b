// VRRP timers in microseconds, as keepalived computes them (no rounding to centiseconds, unlike
// FRR): Skew_Time and Master_Down_Interval of RFC 3768 §6.1 (v2) and RFC 5798 §6.1 (v3).

export const US_PER_SEC = 1_000_000;
export const US_PER_CS = 10_000;

/** v2: (256 − prio)/256 s whatever the interval; v3: (256 − prio) × Master_Adver_Interval / 256. */
export function skewUs(version: 2 | 3, priority: number, masterAdverIntUs: number): number {
  if (version === 2) return ((256 - priority) * US_PER_SEC) / 256;
  return ((256 - priority) * masterAdverIntUs) / 256;
}

/** down_timer_adverts (3) × Master_Adver_Interval + Skew_Time. */
export function masterDownUs(version: 2 | 3, priority: number, masterAdverIntUs: number, downTimerAdverts = 3): number {
  return downTimerAdverts * masterAdverIntUs + skewUs(version, priority, masterAdverIntUs);
}
