// SMTP_CHECK as keepalived's check_smtp.c runs it: connect, a 220 greeting, `HELO name` answered
// by 250, then QUIT and any reply line. connect_timeout bounds the connection and every read.
import { Socket } from 'node:net';
import { openTcp, type ProbeResult, type Target } from './probes.js';

/** keepalived's SMTP_BUFF_MAX: a reply line longer than this fails the check. */
const MAX_LINE = 511;

/** Reads one line at a time. Like keepalived's read(), taking a line takes everything received
 * with it: what followed its newline is dropped, what arrives later is kept for the next line. */
function lineReader(s: Socket, timeoutSec: number): () => Promise<string | { error: string }> {
  let buf = '';
  let waiter: ((r: string | { error: string }) => void) | undefined;
  let failure: string | undefined;
  const settle = (r: string | { error: string }): void => {
    const w = waiter;
    waiter = undefined;
    w?.(r);
  };
  const deliver = (): void => {
    if (!waiter) return;
    const nl = buf.indexOf('\n');
    if (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = '';
      settle(line);
      return;
    }
    if (buf.length >= MAX_LINE) failure ??= `no end of line within ${MAX_LINE} bytes`;
    if (failure) settle({ error: failure });
  };
  const fail = (why: string): void => {
    failure ??= why;
    deliver();
  };
  s.setTimeout(timeoutSec * 1000, () => fail(`read timeout after ${timeoutSec}s`));
  s.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    deliver();
  });
  s.on('end', () => fail('connection closed by the server'));
  s.on('error', (e: NodeJS.ErrnoException) => fail(`${e.code ?? 'error'}: ${e.message}`));
  return () =>
    new Promise((r) => {
      waiter = r;
      deliver();
    });
}

/** keepalived's smtp_get_status(): exactly three digits, then a space or the end of the line. */
const replyCode = (line: string): number | undefined => (/^\d{3}(?: |$)/.test(line) ? Number(line.slice(0, 3)) : undefined);

export async function smtpProbe(t: Target, heloName: string): Promise<ProbeResult> {
  const s = await openTcp(t, false);
  if (!(s instanceof Socket)) return { ok: false, ...s, reason: `SMTP: ${s.reason}` };
  const next = lineReader(s, t.connectTimeout);
  try {
    const steps: [send: string | undefined, expect: number | undefined, what: string][] = [
      [undefined, 220, 'greeting'],
      [`HELO ${heloName}\r\n`, 250, 'after HELO'],
      // Any line answers QUIT.
      ['QUIT\r\n', undefined, 'after QUIT'],
    ];
    for (const [send, expect, what] of steps) {
      if (send) s.write(send);
      const line = await next();
      if (typeof line !== 'string') return { ok: false, reason: `SMTP: ${line.error} (waiting for the reply ${what})` };
      const code = replyCode(line);
      if (expect !== undefined && code !== expect)
        return { ok: false, reason: `SMTP: expected ${expect} ${what}, got ${code ?? JSON.stringify(line.slice(0, 40))}` };
    }
    return { ok: true, reason: 'SMTP: 220, 250 and QUIT answered' };
  } finally {
    s.destroy();
  }
}
