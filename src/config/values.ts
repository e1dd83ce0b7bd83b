// Argument types for the keyword table: each knows how to read a keyword's words, how to show
// itself in the keyword reference, and what to say when the words are wrong.
import { ipFamily } from '../core/address.js';
import { parseUmaskNumber } from '../core/umask.js';
import type { RuleId } from './rules.js';
import type { Word } from './syntax.js';

export type Parsed<V> = { value: V; warning?: string; word?: Word } | { error: string; hint?: string; word?: Word; rule?: RuleId };

export interface ValueType<V> {
  /** How the arguments look, for docs and messages: `<1..255>`, `on|off`. */
  usage: string;
  parse(args: Word[]): Parsed<V>;
}

const err = (error: string, hint?: string, word?: Word, rule?: RuleId): Parsed<never> => ({ error, hint, word, rule });

/** Keyword alone. keepalived ignores extra words after most keywords, so we do too. */
export const flag: ValueType<true> = { usage: '', parse: () => ({ value: true }) };

const BOOLS: Record<string, boolean> = { on: true, true: true, yes: true, off: false, false: false, no: false };

/** `<BOOL>`: on|off|true|false|yes|no, the keyword alone meaning true. */
export const bool: ValueType<boolean> = {
  usage: '[on|off]',
  parse(args) {
    if (args.length === 0) return { value: true };
    const v = BOOLS[args[0].text.toLowerCase()];
    return v === undefined ? err(`'${args[0].text}' is not a boolean`, 'write on, off, true, false, yes or no', args[0]) : { value: v };
  },
};

function needOne(args: Word[], what: string): Word | Parsed<never> {
  return args.length ? args[0] : err(`missing ${what}`);
}

/** Whole number in [min, max]; keepalived says "number '300' outside range [1, 255]". */
export function int(min: number, max: number): ValueType<number> {
  // Made once per type, not per line read: parse runs for every number in the config.
  const range = `a number between ${min} and ${max}`;
  return {
    usage: `<${min}..${max}>`,
    parse(args) {
      const w = needOne(args, range);
      if (!('text' in w)) return w;
      if (!/^[+-]?\d+$/.test(w.text)) return err(`'${w.text}' is not a whole number`, `write a number between ${min} and ${max}`, w);
      const n = Number(w.text);
      if (n < min || n > max) return err(`number '${w.text}' outside range [${min}, ${max}]`, `write a number between ${min} and ${max}`, w, 'value-range');
      return { value: n };
    },
  };
}

/** Decimal number (timers in seconds, µs resolution in keepalived) in [min, max]. */
export function decimal(min: number, max: number, unit = 's'): ValueType<number> {
  const range = `a number between ${min} and ${max}`;
  return {
    usage: `<${min}..${max}${unit}>`,
    parse(args) {
      const w = needOne(args, range);
      if (!('text' in w)) return w;
      if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(w.text)) return err(`'${w.text}' is not a number`, `write a number between ${min} and ${max}`, w);
      const n = Number(w.text);
      if (n < min || n > max) return err(`number '${w.text}' outside range [${min}, ${max}]`, `write a number between ${min} and ${max}`, w, 'value-range');
      return { value: n };
    },
  };
}

const UMASK_BITS: Record<string, number> = {
  IRUSR: 0o400,
  IWUSR: 0o200,
  IXUSR: 0o100,
  IRGRP: 0o040,
  IWGRP: 0o020,
  IXGRP: 0o010,
  IROTH: 0o004,
  IWOTH: 0o002,
  IXOTH: 0o001,
};

/** global_defs umask (keepalived's umask_handler): a number, or bit names joined by '|' (spaces
 * around the '|' allowed), with keepalived's messages. */
export const umaskValue: ValueType<number> = {
  usage: '<NUMBER>|<BITS>',
  parse(args) {
    const first = needOne(args, 'a umask');
    if (!('text' in first)) return first;
    if (/^[0-9]/.test(first.text)) {
      if (args.length !== 1) return err('Extra parameter(s) to umask option', 'write one number, e.g. umask 0077', args[1]);
      const n = parseUmaskNumber(first.text);
      return n === undefined ? err(`invalid umask value ${first.text}`, 'write permission bits as a number, e.g. 0077', first) : { value: n };
    }
    let bits = 0;
    let needOr = false;
    for (const w of args) {
      for (let i = 0; i < w.text.length;) {
        if (needOr) {
          if (w.text[i] !== '|') return err(`Invalid umask syntax ${w.text}`, "separate bit names with '|', e.g. IWGRP|IWOTH", w);
          needOr = false;
          i++;
          continue;
        }
        const bit = UMASK_BITS[w.text.slice(i, i + 5)];
        if (bit === undefined) return err(`Unknown umask bit ${w.text.slice(i)}`, `bit names are ${Object.keys(UMASK_BITS).join(', ')}`, w);
        bits |= bit;
        i += 5;
        needOr = true;
      }
    }
    return needOr ? { value: bits } : err('umask missing bit value', 'end with a bit name, e.g. IWGRP|IWOTH', args[args.length - 1]);
  },
};

/** One word. */
export const word: ValueType<string> = {
  usage: '<STRING>',
  parse(args) {
    const w = needOne(args, 'a value');
    return 'text' in w ? { value: w.text } : w;
  },
};

/** All remaining words, joined with single spaces. */
export const text: ValueType<string> = {
  usage: '<TEXT>',
  parse: (args) => (args.length ? { value: args.map((a) => a.text).join(' ') } : err('missing a value')),
};

/** Every word as a list (for `vrrp_ipsets a b c` style keywords). */
export const words: ValueType<string[]> = { usage: '<WORD>...', parse: (args) => ({ value: args.map((a) => a.text) }) };

/** One of a fixed set, matched as keepalived matches it (case-sensitive unless told). */
export function oneOf<const T extends string>(values: readonly T[], opts: { ignoreCase?: boolean } = {}): ValueType<T> {
  const choices = `one of ${values.join(', ')}`;
  return {
    usage: values.join('|'),
    parse(args) {
      const w = needOne(args, choices);
      if (!('text' in w)) return w;
      const hit = values.find((v) => (opts.ignoreCase ? v.toLowerCase() === w.text.toLowerCase() : v === w.text));
      return hit ? { value: hit } : err(`invalid value '${w.text}'`, `write one of ${values.join(', ')}`, w, 'value-enum');
    },
  };
}

export interface IpPrefix {
  address: string;
  family: 4 | 6;
  /** Prefix length when written as ADDR/LEN. */
  prefix?: number;
}

export function parseIp(w: Word, opts: { prefix?: boolean } = {}): Parsed<IpPrefix> {
  const text = w.text;
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const len = slash < 0 ? undefined : text.slice(slash + 1);
  const fam = ipFamily(addr);
  if (fam === 0 || (len !== undefined && len.includes('/')))
    return err(
      `'${w.text}' is not an IP address`,
      opts.prefix ? 'write an address such as 192.168.1.10/24 or 2001:db8::1/64' : 'write an address such as 192.168.1.10',
      w,
    );
  if (len === undefined) return { value: { address: addr, family: fam } };
  const max = fam === 4 ? 32 : 128;
  if (!opts.prefix || !/^\d+$/.test(len) || Number(len) > max)
    return err(`'${w.text}' has an invalid prefix length`, `write a prefix length between 0 and ${max}`, w);
  return { value: { address: addr, family: fam, prefix: Number(len) } };
}

export const ip: ValueType<IpPrefix> = {
  usage: '<IP>',
  parse(args) {
    const w = needOne(args, 'an IP address');
    return 'text' in w ? parseIp(w) : w;
  },
};

/**
 * An IPv4 or IPv6 address, kept as the address written (validated). Read as keepalived's
 * inet_stosockaddr does: a '-RANGE' or '/LEN' suffix is dropped unread (unicast_src_ip 10.0.0.1/24).
 */
export const address: ValueType<string> = {
  usage: '<IP>',
  parse(args) {
    const w = needOne(args, 'an IP address');
    if (!('text' in w)) return w;
    const cut = w.text.search(/[-/]/);
    const p = parseIp(cut > 0 ? { ...w, text: w.text.slice(0, cut) } : w);
    if ('error' in p) return cut > 0 ? err(`'${w.text}' is not an IP address`, 'write an address such as 192.168.1.10', w) : p;
    return { value: p.value.address };
  },
};

export const ipPrefix: ValueType<IpPrefix> = {
  usage: '<IP[/LEN]>',
  parse(args) {
    const w = needOne(args, 'an IP address');
    return 'text' in w ? parseIp(w, { prefix: true }) : w;
  },
};

export function parsePort(w: Word): Parsed<number> {
  if (!/^\d+$/.test(w.text) || Number(w.text) > 65535) return err(`'${w.text}' is not a port number`, 'write a port between 0 and 65535', w);
  return { value: Number(w.text) };
}

export const port: ValueType<number> = {
  usage: '<PORT>',
  parse(args) {
    const w = needOne(args, 'a port number');
    return 'text' in w ? parsePort(w) : w;
  },
};

export interface ScriptRef {
  /** The command as written: first word is the program, the rest its argv (no shell). */
  command: string;
  argv: string[];
  user?: string;
  group?: string;
  /** Words after the command that keepalived ignores (see script()). */
  dropped?: string[];
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** No further words: shared, never stored or changed. */
const NO_WORDS: readonly string[] = [];

/** keepalived's escapes inside script strings: \n \t \xHH \nnn \cX, others literal. */
export function unescapeScript(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|c.|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    if (e[0] === 'c' && e.length === 2) return String.fromCharCode(e.charCodeAt(1) & 0x1f);
    return ESCAPES[e] ?? e;
  });
}

/** Split a command string into argv: quotes group, backslash escapes, no shell expansion. */
export function splitCommand(s: string): string[] {
  // The common command, one word of plain ASCII: itself (as the loop below would give).
  let plain = s.length > 0;
  for (let i = 0; plain && i < s.length; i++) {
    const c = s.charCodeAt(i);
    plain = c > 32 && c < 127 && c !== 34 && c !== 39 && c !== 92;
  }
  if (plain) return [s];
  const out: string[] = [];
  let cur = '';
  let have = false;
  let q = '';
  // Literal characters are taken as slices of `s`, not added one by one: a string grown a
  // character at a time is a chain of pieces in V8, held per script for the config's lifetime.
  let run = -1;
  const flush = (i: number): void => {
    if (run >= 0) cur += s.slice(run, i);
    run = -1;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) {
        flush(i);
        q = '';
      } else if (c === '\\' && q === '"' && i + 1 < s.length) {
        flush(i);
        cur += unescapeScript(c + s[++i]);
      } else if (run < 0) run = i;
    } else if (c === '"' || c === "'") {
      flush(i);
      q = c;
      have = true;
    } else if (c === '\\' && i + 1 < s.length) {
      flush(i);
      cur += s[++i];
      have = true;
    } else if (/\s/.test(c)) {
      flush(i);
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      if (run < 0) run = i;
      have = true;
    }
  }
  flush(s.length);
  if (have) out.push(cur);
  // A pushed-to array keeps spare room (17 slots after the first push): copy it to its size.
  return out.slice();
}

/** Commands met lately, split: a generated config (a `~SEQ` of a million blocks, hundreds of
 * instances with one check) repeats one command line, and each use then shares its string and
 * argv (read-only, frozen) rather than holding copies. Bounded: emptied when full. */
const COMMANDS = new Map<string, { command: string; argv: string[] }>();
const COMMANDS_MAX = 4096;

function commandOf(text: string): { command: string; argv: string[] } {
  let c = COMMANDS.get(text);
  if (c) return c;
  const argv = splitCommand(text);
  // One string, not two equal copies, for the common unquoted one-word command.
  if (argv.length === 1 && argv[0] === text) argv[0] = text;
  c = { command: text, argv: Object.freeze(argv) as string[] };
  if (COMMANDS.size >= COMMANDS_MAX) COMMANDS.clear();
  COMMANDS.set(text, c);
  return c;
}

/**
 * A script keyword (`notify_master`, `script`, `misc_path`...). keepalived takes the FIRST word as
 * the whole command line (so arguments need quotes) and, for notify-style keywords, the next two
 * words as user and group. Unquoted arguments after `script` are silently dropped by keepalived
 * 2.2.7 (`script killall -0 nginx` runs plain `killall`); they are kept in `dropped` for lint.
 */
export function script(opts: { user: boolean }): ValueType<ScriptRef> {
  return {
    usage: opts.user ? '<"COMMAND [ARGS]"> [USER [GROUP]]' : '<"COMMAND [ARGS]">',
    parse(args) {
      if (args.length === 0) return err('missing a script', 'write the command, quoted if it has arguments: "/usr/local/bin/check arg"');
      const split = commandOf(args[0].text);
      if (split.argv.length === 0) return err('empty script', 'write the command to run', args[0]);
      const { command, argv } = split;
      const rest = args.length === 1 ? NO_WORDS : args.slice(1).map((r) => r.text);
      const value: ScriptRef = { command, argv };
      if (opts.user) {
        const [user, group] = rest.length === 1 && rest[0].includes(':') ? rest[0].split(':') : rest.map((r) => r.replace(/^:/, ''));
        if (user) value.user = user;
        if (group) value.group = group;
        if (rest.length > 2) value.dropped = rest.slice(2);
      } else if (rest.length) value.dropped = rest.slice();
      return { value };
    },
  };
}

/** `USER [[:]GROUP]` as in script_user and vrrp_script's `user`. */
export const userGroup: ValueType<{ user: string; group?: string }> = {
  usage: '<USER> [[:]GROUP]',
  parse(args) {
    if (!args.length) return err('missing a user name');
    const [u, g] = args[0].text.includes(':') && args.length === 1 ? args[0].text.split(':') : [args[0].text, args[1]?.text.replace(/^:/, '')];
    return { value: g ? { user: u, group: g } : { user: u } };
  },
};

/** Any parse function, for keywords with a grammar of their own (virtual_ipaddress lines...). */
export function custom<V>(usage: string, parse: (args: Word[]) => Parsed<V>): ValueType<V> {
  return { usage, parse };
}

const TRACK_VALUE_MIN = -2147483648;
const TRACK_VALUE_MAX = 2147483648;

/** A track_file or FILE_CHECK file's contents: the number at its start as strtol(…, 0) reads it
 * (decimal, 0x hex, 0 octal; no number reads as 0); undefined outside keepalived's range. */
export function parseTrackValue(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!m) return 0;
  const digits = m[2];
  const radix = /^0[xX]/.test(digits) ? 16 : digits.length > 1 && digits[0] === '0' ? 8 : 10;
  const v = Number.parseInt(radix === 16 ? digits.slice(2) : digits, radix) * (m[1] === '-' ? -1 : 1);
  // keepalived accepts TRACK_VALUE_MIN..TRACK_VALUE_MAX and ignores anything else.
  return v < TRACK_VALUE_MIN || v > TRACK_VALUE_MAX ? undefined : v;
}
