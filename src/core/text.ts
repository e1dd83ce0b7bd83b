// User text on its way to a terminal or a log: config words, file names, scenario names and
// labels can hold anything, including escape sequences that would move the cursor, recolor or
// retitle the terminal of whoever reads the message. `printable` shows them instead.

// C0 and C1 controls and DEL, bidi overrides and isolates, and invisible characters (zero-width
// spaces and joiners, line and paragraph separators, the byte-order mark).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** `s` with every control or invisible character written as `\xNN` (or `\uNNNN` above 0xff). */
export function printable(s: string): string {
  return String(s).replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * `value` with `printable` applied to every string in it: in arrays and plain objects (a log
 * call's fields: an instance name, a script's argv), and in an Error's message and stack (as
 * {type, message, stack}, what pino writes of one). Other objects, and what lies deeper than
 * `depth`, are left as they are.
 */
export function printableDeep(value: unknown, depth = 4): unknown {
  if (typeof value === 'string') return printable(value);
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => printableDeep(v, depth - 1));
  if (value instanceof Error)
    return { type: value.name, message: printable(value.message), ...(value.stack ? { stack: printable(value.stack).replace(/\\x0a/g, '\n') } : {}) };
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [printable(k), printableDeep(v, depth - 1)]));
}

// What JSON.stringify leaves raw. Only strings hold such characters, so escaping them keeps the JSON valid.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** JSON text of `value` with the characters `printable` escapes written as `\uNNNN`: JSON.stringify
 * escapes only C0, and leaves DEL, C1 and bidi controls raw for a terminal to act on. */
export function printableJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Config text as the person who wrote it sees it. Config files are read byte for byte (latin1),
 * as keepalived reads them, so columns count bytes; a UTF-8 file's non-ASCII words would then
 * print as mojibake (a no-break space as "Â "). A string made only of such bytes that is valid
 * UTF-8 is shown decoded; anything else is returned as it is.
 */
export function fromConfigBytes(s: string): string {
  if (!/[\u0080-\u00ff]/.test(s) || /[^\u0000-\u00ff]/.test(s)) return s;
  try {
    return UTF8.decode(Buffer.from(s, 'latin1'));
  } catch {
    return s;
  }
}
