// The daemon's log: a config or packet string with terminal controls (an instance name, a
// script's argv, an error message) is escaped wherever it sits in the log call, not only in the
// message, so tailing the log cannot drive a terminal.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { daemonLogOptions } from '../../src/daemon/log-options.js';

function logger(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { log: pino(daemonLogOptions(), sink), lines };
}

describe('daemon log options', () => {
  it('escapes control, C1 and bidi characters in the message and in the fields', async () => {
    const { log, lines } = logger();
    log.warn({ vrrp: 'VI_\u202e1', script: ['/tmp/\x9b31m', 'x'] }, '(VI_\x1b[2J) Entering MASTER STATE');
    log.error({ err: new Error('cannot read \x7f\x85file') }, 'failed');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first.msg).toBe('(VI_\\x1b[2J) Entering MASTER STATE');
    expect(first.vrrp).toBe('VI_\\u202e1');
    expect(first.script).toEqual(['/tmp/\\x9b31m', 'x']);
    expect((second.err as { message: string }).message).toBe('cannot read \\x7f\\x85file');
    // Nothing a terminal would act on is left in the raw lines.
    for (const l of lines) expect(l).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
  });
});
