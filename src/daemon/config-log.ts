// How the daemon logs a configuration's findings at start and at each reload.
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';

interface Log {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * A config's findings in the log, each on its line, except keywords keepalived-ts does not act
 * on: one line per keyword, at its first use, with how many uses there are.
 */
export function logDiagnostics(diags: readonly Diagnostic[], log: Log): void {
  const unimplemented = new Map<string, { first: Diagnostic; uses: number }>();
  for (const d of diags) {
    if (d.rule !== 'keyword-not-implemented') log[d.severity === 'error' ? 'error' : 'warn']({ rule: d.rule }, formatDiagnostic(d));
    else {
      const seen = unimplemented.get(d.message);
      if (seen) seen.uses++;
      else unimplemented.set(d.message, { first: d, uses: 1 });
    }
  }
  for (const { first, uses } of unimplemented.values()) {
    const more = uses > 1 ? `; ${uses} uses, the first here` : '';
    log.warn({ rule: first.rule }, formatDiagnostic({ ...first, message: `${first.message}${more}`, hint: undefined }));
  }
}
