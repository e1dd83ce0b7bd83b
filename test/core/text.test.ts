// printable(): what reaches a terminal from user input cannot drive it.
import { describe, expect, it } from 'vitest';
import { fromConfigBytes, printable, printableDeep, printableJson } from '../../src/core/text.js';

describe('printable', () => {
  it('escapes C0 controls, DEL and C1 controls as \\xNN', () => {
    expect(printable('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(printable('\x00\x07\t\n\r\x7f\x80\x9b\x9f')).toBe('\\x00\\x07\\x09\\x0a\\x0d\\x7f\\x80\\x9b\\x9f');
  });

  it('escapes bidi overrides and invisible characters as \\uNNNN', () => {
    expect(printable('VI_\u202e1\u200b\ufeff')).toBe('VI_\\u202e1\\u200b\\ufeff');
  });

  it('leaves printable text alone, accents, CJK and emoji included', () => {
    const text = "priority: number '300' outside range [1, 255] — é 中 🚀 \\x1b";
    expect(printable(text)).toBe(text);
  });

  it('every character from U+0000 to U+00FF comes out printable', () => {
    const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
    expect(printable(all)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});

describe('printableJson', () => {
  it('is JSON that parses back to the same value, with DEL, C1 and bidi controls escaped', () => {
    const value = { name: 'x\x1b\x7f\x9b\u202ey', list: ['\n'] };
    const text = printableJson(value, 2);
    expect(text).not.toMatch(/[\u007f-\u009f\u202e]/);
    expect(text).toContain('\\u009b');
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('printableDeep', () => {
  it('escapes the strings of arrays and plain objects, keys included, and leaves numbers alone', () => {
    expect(printableDeep({ vrrp: 'VI\x1b[2J', argv: ['/bin/\u202eh', 3], n: 1, nested: { 'k\x9b': 'v\x7f' } })).toEqual({
      vrrp: 'VI\\x1b[2J',
      argv: ['/bin/\\u202eh', 3],
      n: 1,
      nested: { 'k\\x9b': 'v\\x7f' },
    });
  });

  it("an Error becomes pino's {type, message, stack}, escaped, with the stack's lines kept", () => {
    const e = new TypeError('bad \x1b]0;title\x07 name');
    const out = printableDeep({ err: e }) as { err: { type: string; message: string; stack: string } };
    expect(out.err.type).toBe('TypeError');
    expect(out.err.message).toBe('bad \\x1b]0;title\\x07 name');
    expect(out.err.stack.split('\n').length).toBeGreaterThan(1);
    expect(out.err.stack).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  it('leaves objects of other classes as they are', () => {
    const b = Buffer.from('\x1b');
    expect(printableDeep({ b }) as { b: Buffer }).toEqual({ b });
  });
});

describe('fromConfigBytes', () => {
  it('shows a UTF-8 config word read byte for byte as its characters, and leaves anything else alone', () => {
    const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
    expect(latin1('\u00a0')).toBe('\u00c2\u00a0'); // what the reader holds for a no-break space
    expect(fromConfigBytes(latin1("Unknown keyword '\u00a0'"))).toBe("Unknown keyword '\u00a0'");
    expect(fromConfigBytes(latin1('réseau'))).toBe('réseau');
    expect(fromConfigBytes('plain ascii')).toBe('plain ascii');
    expect(fromConfigBytes('latin1 byte \u00e9 alone')).toBe('latin1 byte \u00e9 alone'); // not UTF-8
    expect(fromConfigBytes('× and \u00c3\u00a9 with \u2192')).toBe('× and \u00c3\u00a9 with \u2192'); // already text
  });
});
