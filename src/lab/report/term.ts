// Terminal text helpers for the lab's timeline: columns a string takes (ANSI colors take none, CJK
// and emoji take two), truncation, padding and word wrap that keep to a width, and `clean`, which
// makes user text (scenario names, reasons) unable to move the cursor or recolor the terminal.

import { printable } from '../../core/text.js';

const ANSI = /\x1b\[[0-9;]*m/g;

/** User text (names, reasons) made unable to drive the terminal: src/core/text.ts. */
export const clean = printable;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (/\p{Mn}|\p{Me}/u.test(ch)) return 0;
  if (/\p{Emoji_Presentation}/u.test(ch)) return 2;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

/** Columns `s` takes on a terminal. */
export function textWidth(s: string): number {
  let w = 0;
  for (const ch of stripAnsi(s)) w += charWidth(ch);
  return w;
}

/** `s` padded with spaces to `width` columns. */
export function padTo(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - textWidth(s)));
}

/** `s` cut to `width` columns, ending in … when cut (colors reset so they do not leak). */
export function fit(s: string, width: number): string {
  if (textWidth(s) <= width) return s;
  let out = '';
  let w = 0;
  for (const tok of s.match(/\x1b\[[0-9;]*m|[^]/gu) ?? []) {
    if (tok.startsWith('\x1b[')) {
      out += tok;
      continue;
    }
    const cw = charWidth(tok);
    if (w + cw > width - 1) break;
    out += tok;
    w += cw;
  }
  return out + '…' + (/\x1b\[/.test(s) ? '\x1b[0m' : '');
}

/**
 * `text` wrapped at spaces into lines of at most `width` columns, continuation lines indented by
 * `hang`; a word longer than a line is broken where it must be.
 */
export function wrap(text: string, width: number, hang = 0): string[] {
  if (textWidth(text) <= width) return [text];
  const indent = ' '.repeat(Math.min(hang, Math.floor(width / 2)));
  const lines: string[] = [];
  let cur = '';
  let w = 0;
  let words = 0;
  const newline = (): void => {
    lines.push(cur);
    [cur, w, words] = [indent, indent.length, 0];
  };
  for (const tok of text.match(/\x1b\[[0-9;]*m| +|[^ \x1b]+|\x1b/g) ?? []) {
    if (tok.startsWith('\x1b[')) {
      cur += tok;
    } else if (tok.startsWith(' ')) {
      if (lines.length > 0 && words === 0) continue; // no leading spaces on continuation lines
      if (w + tok.length <= width) [cur, w] = [cur + tok, w + tok.length];
    } else {
      const tw = textWidth(tok);
      if (w + tw > width && words > 0) newline();
      if (w + tw <= width) {
        [cur, w, words] = [cur + tok, w + tw, words + 1];
        continue;
      }
      for (const ch of tok) {
        const cw = charWidth(ch);
        if (w + cw > width && w > indent.length) newline();
        [cur, w, words] = [cur + ch, w + cw, words + 1];
      }
    }
  }
  if (words > 0 || lines.length === 0) lines.push(cur);
  return lines;
}
