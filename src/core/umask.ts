// A umask as numbers are written for it: keepalived's --umask and global_defs umask's numeric form.

/** A umask as strtol(.., 0) reads it (0 octal, 0x hex, else decimal): permission bits only.
 * undefined: not such a number. */
export function parseUmaskNumber(text: string): number | undefined {
  const n = /^0[xX][0-9a-fA-F]+$/.test(text)
    ? parseInt(text.slice(2), 16)
    : /^0[0-7]*$/.test(text)
      ? parseInt(text, 8)
      : /^[1-9][0-9]*$/.test(text)
        ? parseInt(text, 10)
        : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 0o777 ? n : undefined;
}
