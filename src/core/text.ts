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

// What JSON.stringify leaves raw. Only strings hold such characters, so escaping them keeps the JSON valid.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** JSON text of `value` with the characters `printable` escapes written as `\uNNNN`: JSON.stringify
 * escapes only C0, and leaves DEL, C1 and bidi controls raw for a terminal to act on. */
export function printableJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
