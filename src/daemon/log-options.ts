// The daemon's pino options: one place for them (pino's own defaultOptions idea). Messages carry
// config and packet strings (instance and script names, file names, diagnostics), so every
// string of a log call is made printable first, the message and the fields of its object alike
// (`{ vrrp: name }`, a script's argv, an error's message): a name holding an escape sequence
// shows as `\x1b[...` in the log rather than acting on the terminal of whoever tails it. JSON
// escapes C0 already; DEL, C1 controls and bidi overrides it leaves alone.
import type { LoggerOptions, LogFn } from 'pino';
import { printableDeep } from '../core/text.js';

export function daemonLogOptions(detail = false): LoggerOptions {
  return {
    base: { pid: process.pid },
    level: detail ? 'debug' : 'info',
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => printableDeep(a)) as Parameters<LogFn>);
      },
    },
  };
}
