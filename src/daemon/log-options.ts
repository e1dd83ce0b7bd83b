// The daemon's pino options: one place for them (pino's own defaultOptions idea). Messages carry
// config strings (instance and script names, file names, diagnostics), so every string argument
// of a log call is made printable first: a name holding an escape sequence shows as `\x1b[...`
// in the log rather than acting on the terminal of whoever tails it. JSON escapes C0 already;
// DEL, C1 controls and bidi overrides it leaves alone.
import type { LoggerOptions, LogFn } from 'pino';
import { printable } from '../core/text.js';

export function daemonLogOptions(detail = false): LoggerOptions {
  return {
    base: { pid: process.pid },
    level: detail ? 'debug' : 'info',
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? printable(a) : a)) as Parameters<LogFn>);
      },
    },
  };
}
