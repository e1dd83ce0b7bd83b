// The scenario's quantities as people write them: "5s", "250ms", "1.5s", "2m" or a plain number
// of seconds for times; "30%" or 0.3 for probabilities. Parsers return undefined for anything
// else so that the caller reports it with its position.
import type { Micros } from './scenario.js';

const UNIT: Record<string, number> = { us: 1, µs: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

/** A duration or point in time, in µs; undefined when it is not one (or negative). */
export function parseTime(v: unknown): Micros | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1e6) : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(us|µs|ms|s|m|h)?\s*$/.exec(v);
  return m ? Math.round(Number(m[1]) * UNIT[m[2] ?? 's']) : undefined;
}

/** A probability in [0, 1]. */
export function parseProbability(v: unknown): number | undefined {
  let p: number | undefined;
  if (typeof v === 'number') p = v;
  else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
    if (m) p = Number(m[1]) / 100;
  }
  return p !== undefined && p >= 0 && p <= 1 ? p : undefined;
}

/** µs back to the shortest unit ("1.5s", "250ms"), in a form parseTime reads back. */
export function formatTime(us: Micros): string {
  if (us === 0) return '0s';
  if (us < 1e3) return `${us}us`;
  if (us < 1e6) return `${+(us / 1e3).toFixed(3)}ms`;
  return `${+(us / 1e6).toFixed(3)}s`;
}
