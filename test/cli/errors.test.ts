// The CLI's error lines: user errors in one line with what to do, and the last resort for bugs.
import { describe, expect, it } from 'vitest';
import { EXIT_INTERNAL, reportInternalError, userError, writeFailure } from '../../src/cli/errors.js';

describe('user error lines', () => {
  it('are one line: program, what, where, what to do; input made printable', () => {
    expect(userError('lab', 'cannot write the report', '/tmp/\x1b[2Jx.html', 'give another path')).toBe(
      'keepalived-ts lab: cannot write the report: /tmp/\\x1b[2Jx.html (give another path)\n',
    );
    expect(userError('', 'unexpected argument', "'a\nb'")).toBe("keepalived-ts: unexpected argument: 'a\\x0ab'\n");
  });

  it('a failed write says why in words and what to do', () => {
    expect(writeFailure('', 'the config test log', '/x/y.log', 'ENOENT')).toBe(
      'keepalived-ts: cannot write the config test log: /x/y.log: no such file or directory (create the directory first, or give another path)\n',
    );
    expect(writeFailure('lab', 'the report', '/tmp', 'EISDIR')).toMatch(/is a directory \(give a file name, not a directory\)\n$/);
  });
});

describe('the last resort', () => {
  const report = (e: unknown, env: Record<string, string | undefined> = {}) => {
    let out = '';
    const code = reportInternalError(e, env, (s) => (out += s));
    return { code, out };
  };

  it('prints one line that calls it a bug, with where it was thrown, and exits 70', () => {
    const { code, out } = report(new TypeError('x.y is not a function'));
    expect(code).toBe(EXIT_INTERNAL);
    expect(out.split('\n')).toHaveLength(2);
    expect(out).toMatch(/^keepalived-ts: internal error: TypeError: x\.y is not a function \(at .+errors\.test\.ts:\d+:\d+\): this is a bug in keepalived-ts/);
    expect(out).toContain('KEEPALIVED_TS_DEBUG=1 shows the stack');
    expect(out).not.toMatch(/^ {4}at /m);
  });

  it('prints the stack with KEEPALIVED_TS_DEBUG set', () => {
    const { out } = report(new Error('boom'), { KEEPALIVED_TS_DEBUG: '1' });
    expect(out).toMatch(/^keepalived-ts: internal error: Error: boom .*this is a bug/);
    expect(out).toMatch(/^ {4}at /m);
    expect(report(new Error('boom'), { KEEPALIVED_TS_DEBUG: '0' }).out).not.toMatch(/^ {4}at /m);
  });

  it('copes with thrown non-errors and control characters in messages', () => {
    expect(report('just a string').out).toMatch(/^keepalived-ts: internal error: Error: just a string/);
    const { out } = report(new Error('bad \x1b[31m\nthing'));
    expect(out).toContain('bad \\x1b[31m\\x0athing');
    expect(out.split('\n')).toHaveLength(2);
  });
});
