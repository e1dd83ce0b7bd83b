// FILE_CHECK as keepalived's check_file.c and track_file.c run it. The file holds a number (read
// like strtol(buf, NULL, 0): decimal, 0x hex or 0 octal; no number, no file: 0). With weight 0 a
// non-zero value is a fault (with reverse: a zero value); otherwise value × weight (× -1 with
// reverse) is added to the real server's weight, and a result at or below -2^31 is a fault.
// keepalived follows the file with inotify; we read it when asked (the pool polls it).
import { readFileSync } from 'node:fs';
import type { ResolvedCheck } from '../config/model/index.js';
import { parseTrackValue } from '../config/values.js';
import type { ProbeResult } from './probes.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** keepalived reads at most this much of the file. */
const READ_MAX = 127;

function readValue(path: string): { value: number } | { invalid: string } {
  let text: string;
  try {
    text = readFileSync(path, 'latin1').slice(0, READ_MAX);
  } catch {
    return { value: 0 };
  }
  const value = parseTrackValue(text);
  return value === undefined ? { invalid: text.trim().slice(0, 20) } : { value };
}

/** The verdict for a value: a fault, or what it adds to the weight. */
export function fileVerdict(value: number, weight: number, reverse: boolean): ProbeResult {
  if (weight === 0) {
    const fault = (value !== 0) !== reverse;
    return fault
      ? { ok: false, reason: `value ${value} is a fault${reverse ? ' (reverse)' : ''}`, addWeight: 0 }
      : { ok: true, reason: `value ${value}`, addWeight: 0 };
  }
  const product = value * weight * (reverse ? -1 : 1);
  if (product <= INT32_MIN) return { ok: false, reason: `value ${value} × weight ${weight}${reverse ? ' reversed' : ''} is a fault`, addWeight: 0 };
  return { ok: true, reason: `value ${value} adds ${Math.min(product, INT32_MAX)} to the weight`, addWeight: Math.min(product, INT32_MAX) };
}

/** One FILE_CHECK on its track_file. An unreadable number keeps the last value, as keepalived. */
export class FileCheckWatch {
  private last = 0;

  /** The file, weight and reverse as the config resolved them (the checker's, else the track_file's). */
  constructor(private readonly file: NonNullable<ResolvedCheck['file']>) {}

  read(): ProbeResult {
    const { path, weight, reverse } = this.file;
    const r = readValue(path);
    const invalid = 'invalid' in r ? `; ignored invalid number "${r.invalid}"` : '';
    if ('value' in r) this.last = r.value;
    const v = fileVerdict(this.last, weight, reverse);
    return { ...v, reason: `FILE: ${path}: ${v.reason}${invalid}` };
  }
}
