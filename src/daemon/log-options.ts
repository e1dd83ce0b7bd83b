// The daemon's pino options: one place for them (pino's own defaultOptions idea). Messages carry
// config and packet strings (instance and script names, file names, diagnostics), so every
// string of a log call is made printable first, the message and the fields of its object alike
// (`{ vrrp: name }`, a script's argv, an error's message): a name holding an escape sequence
// shows as `\x1b[...` in the log rather than acting on the terminal of whoever tails it. JSON
// escapes C0 already; DEL, C1 controls and bidi overrides it leaves alone.
import type { LoggerOptions, LogFn } from 'pino';
import { printableDeep } from '../core/text.js';
import { IDENTS, MONTHS, severityOf, type Subsystem, type SyslogSink } from './syslog.js';

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

/** Where the daemon's lines go: keepalived's -l console (our pino JSON lines, on stdout) and
 * syslog unless -G (plain text, keepalived's wording). */
export interface LogTargets {
  console?: { write(line: string): unknown };
  syslog?: SyslogSink;
  /** Written the line as keepalived's console does when syslog cannot take it and there is no
   * console: a daemon whose syslog is gone still says what it does (stderr). */
  fallback?: (line: string) => unknown;
}

/** The keepalived process a line belongs to, from its fields: the child loggers' `subsystem`,
 * else what the call names (`{ vrrp }`, `{ group }`: VRRP; `{ lvs }`: checkers; `{ bfd }`). */
export function subsystemOf(rec: Record<string, unknown>): Subsystem {
  const s = rec.subsystem;
  if (s === 'vrrp' || s === 'checker' || s === 'bfd') return s;
  if (rec.vrrp !== undefined || rec.group !== undefined) return 'vrrp';
  if (rec.lvs !== undefined) return 'checker';
  if (rec.bfd !== undefined) return 'bfd';
  return 'main';
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** keepalived's console stamp, strftime's `%c` in the C locale: `Sun Dec  6 21:51:41 2026`. */
export function consoleStamp(at: Date): string {
  // The same second's stamp again (lines come in bursts: toTimeString looks up the time zone).
  const second = Math.floor(at.getTime() / 1000);
  if (second === stamped.second) return stamped.text;
  const day = String(at.getDate()).padStart(2, ' ');
  const text = `${DAYS[at.getDay()]} ${MONTHS[at.getMonth()]} ${day} ${at.toTimeString().slice(0, 8)} ${at.getFullYear()}`;
  stamped = { second, text };
  return text;
}
let stamped = { second: NaN, text: '' };

/** pino's destination: each JSON line it writes goes to the console as it is, and to syslog as
 * the message alone (already made printable by the logMethod hook) with its ident and severity. */
export function daemonLogDestination(targets: LogTargets): { write(line: string): void } {
  return {
    write(line: string): void {
      targets.console?.write(line);
      const { syslog, fallback } = targets;
      if (!syslog) return;
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const msg = typeof rec.msg === 'string' ? rec.msg : '';
      syslog.write(severityOf(Number(rec.level)), IDENTS[subsystemOf(rec)], msg);
      if (fallback && !targets.console && !syslog.working) fallback(`${consoleStamp(new Date(Number(rec.time) || Date.now()))}: ${msg}\n`);
    },
  };
}

/**
 * A line writer that gathers the lines of one event-loop turn into one write: 1,000 instances
 * starting or going MASTER log thousands of lines, and a write(2) each was a fifth of the CPU of
 * such a turn on a busy box. What is gathered goes out when the turn ends, or at exit.
 */
export function batchedLines(write: (text: string) => unknown, onExit: (flush: () => void) => void = (f) => process.once('exit', f)): (line: string) => void {
  let lines: string[] = [];
  const flush = (): void => {
    if (!lines.length) return;
    const text = lines.join('');
    lines = [];
    write(text);
  };
  onExit(flush);
  return (line) => {
    if (lines.push(line) === 1) setImmediate(flush);
  };
}
