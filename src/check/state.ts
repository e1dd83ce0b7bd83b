// One checker's verdict over time, as keepalived decides it (check_*.c, ipwrapper.c): while UP (or
// before the first result), a failure is retried after delay_before_retry and only retry+1
// failures in a row take it DOWN; while DOWN one success brings it UP. With alpha a checker
// starts DOWN. Pure: results in, verdict and next delay out.

export interface CheckerTiming {
  delayLoop: number;
  retry: number;
  delayBeforeRetry: number;
}

export interface CheckerState {
  up: boolean;
  /** Failures in a row while UP. */
  failures: number;
}

export interface Verdict {
  state: CheckerState;
  /** The checker changed from UP to DOWN or back. */
  changed: boolean;
  /** Seconds until the next run: delay_before_retry while retrying, else delay_loop. */
  nextIn: number;
}

export function initialChecker(alpha: boolean): CheckerState {
  return { up: !alpha, failures: 0 };
}

export function checkerResult(s: CheckerState, ok: boolean, t: CheckerTiming): Verdict {
  if (ok) return { state: { up: true, failures: 0 }, changed: !s.up, nextIn: t.delayLoop };
  if (!s.up) return { state: s, changed: false, nextIn: t.delayLoop };
  const failures = s.failures + 1;
  if (failures > t.retry) return { state: { up: false, failures: 0 }, changed: true, nextIn: t.delayLoop };
  return { state: { up: true, failures }, changed: false, nextIn: t.delayBeforeRetry };
}
