// keepalived's SMTP dialogue (core/smtp.c) against a real SMTP server (aiosmtpd): HELO (not EHLO)
// with the helo name, the envelope, keepalived's headers and body; a refused recipient, a server
// that is not there and one that never answers are logged in keepalived's words and end the
// alert; alerts beyond the bound are dropped and counted, and send() never waits.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ACTIVE, MAX_QUEUED, SmtpAlerter, rfc822Date, smtpSettings, type SmtpSettings } from '../../src/daemon/smtp-alert.js';
import { checkerBody, quorumMail, rsAlerts, VrrpMail, vrrpAlerts, vsAlerts } from '../../src/daemon/email-alerts.js';
import { parseData, smtpSinkMissing, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { poll } from '../helpers/netns.js';

const missing = smtpSinkMissing();
if (missing) console.warn(`SMTP alert tests skipped: ${missing}`);
const dir = mkdtempSync(join(tmpdir(), 'kt-smtp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const settings = (port: number, more: Partial<SmtpSettings> = {}): SmtpSettings => ({
  host: '127.0.0.1',
  port,
  helo: 'director1.example',
  from: 'keepalived@director1.example',
  to: ['ops@example.org', 'oncall@example.org'],
  timeoutMs: 5000,
  routerId: 'LVS_1',
  ...more,
});
const logged = () => {
  const lines: string[] = [];
  return { lines, log: (_l: 'info' | 'warn', m: string) => void lines.push(m) };
};

describe('global_defs to SMTP settings (global_data.c)', () => {
  const g = { notificationEmail: ['a@b'], smtpServer: { host: '10.0.0.1', port: 25 }, smtpConnectTimeout: 30 };
  it('sends nothing without recipients or a server', () => {
    expect(smtpSettings({ ...g, notificationEmail: [] })).toBeUndefined();
    expect(smtpSettings({ ...g, smtpServer: undefined })).toBeUndefined();
  });
  it('defaults the sender to USER@HOST, the HELO name and router_id to the host name', () => {
    expect(smtpSettings(g, 'lb1', 'root')).toMatchObject({ from: 'root@lb1', helo: 'lb1', routerId: 'lb1', timeoutMs: 30_000 });
    expect(smtpSettings({ ...g, notificationEmailFrom: 'x@y', smtpHeloName: 'h', routerId: 'R' }, 'lb1', 'root')).toMatchObject({
      from: 'x@y',
      helo: 'h',
      routerId: 'R',
    });
  });
  it('formats the Date header as strftime "%a, %d %b %Y %H:%M:%S %z"', () => {
    expect(rfc822Date(new Date(2021, 2, 1, 9, 44, 8))).toMatch(/^Mon, 01 Mar 2021 09:44:08 [+-]\d{4}$/);
  });
});

describe('which alerts are sent (vrrp_notify.c, check_data.c, vrrp.c)', () => {
  it('takes an object smtp_alert, else smtp_alert_vrrp / _checker, else smtp_alert, else the default', () => {
    expect(vrrpAlerts(undefined, {} as never)).toBe(false);
    expect(vrrpAlerts(undefined, { smtpAlert: true } as never)).toBe(true);
    expect(vrrpAlerts(undefined, { smtpAlert: true, smtpAlertVrrp: false } as never)).toBe(false);
    expect(vrrpAlerts(false, { smtpAlert: true } as never)).toBe(false);
    expect(rsAlerts(undefined, {} as never)).toBe(true);
    expect(rsAlerts(undefined, { smtpAlert: false } as never)).toBe(false);
    expect(vsAlerts(undefined, {} as never)).toBe(false);
    expect(vsAlerts(undefined, { smtpAlert: false, smtpAlertChecker: true } as never)).toBe(true);
  });
  it('mails a state once (last_email_state), and no FAULT with no_email_faults', () => {
    const m = new VrrpMail();
    const g = { noEmailFaults: true } as never;
    expect(m.transition('INSTANCE', 'VI_1', 'MASTER', true, g, 'R')).toEqual({
      subject: '[R] VRRP Instance VI_1 - Entering MASTER state',
      body: '=> VRRP Instance is now owning VRRP VIPs <=',
    });
    expect(m.transition('INSTANCE', 'VI_1', 'MASTER', true, g, 'R')).toBeUndefined();
    expect(m.transition('INSTANCE', 'VI_1', 'FAULT', true, g, 'R')).toBeUndefined();
    expect(m.transition('GROUP', 'G', 'BACKUP', true, g, 'R')).toEqual({
      subject: '[R] VRRP Group G - Entering BACKUP state',
      body: '=> All VRRP group instances are now in BACKUP state <=',
    });
    expect(m.transition('INSTANCE', 'VI_2', 'MASTER', false, g, 'R')).toBeUndefined();
  });
  it("words checker and quorum mail as keepalived's checkers do", () => {
    expect(checkerBody('TCP_CHECK', false)).toBe('=> TCP CHECK failed on service <=');
    expect(checkerBody('HTTP_GET', false)).toBe('=> CHECK failed on service : HTTP request failed <=');
    expect(checkerBody('PING_CHECK', true)).toBe('=> ICMP CHECK succeed on service <=');
    expect(checkerBody('FILE_CHECK', true)).toBeUndefined();
    expect(quorumMail('R', '[10.0.0.1]:tcp:80', false, { quorum: 3, hysteresis: 1, weightSum: 1 })).toEqual({
      subject: '[R] Virtualserver [10.0.0.1]:tcp:80 - DOWN',
      body: '=> Lost quorum 3+1=2 <= 1 <=',
    });
  });
});

describe.skipIf(missing)('the SMTP dialogue against aiosmtpd', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink(dir, 'unit');
  });
  afterAll(() => sink?.stop());

  it("sends HELO, the envelope and keepalived's headers and body, one connection per alert", async () => {
    const l = logged();
    const a = new SmtpAlerter(settings(sink.port), l.log, true);
    const before = sink.mail().length;
    a.send('[LVS_1] VRRP Instance VI_1 - Entering MASTER state', '=> VRRP Instance is now owning VRRP VIPs <=');
    a.send('second', 'body two');
    await a.settled();
    const got = sink.mail().slice(before);
    expect(got).toHaveLength(2);
    const m = got.find((x) => x.data.includes('VI_1'))!;
    expect(m).toMatchObject({ helo: 'director1.example', esmtp: false, from: 'keepalived@director1.example', to: ['ops@example.org', 'oncall@example.org'] });
    const { headers, body } = parseData(m.data);
    expect(Object.keys(headers)).toEqual(['Date', 'From', 'Subject', 'X-Mailer', 'To']);
    expect(headers).toMatchObject({
      From: 'keepalived@director1.example',
      Subject: '[LVS_1] VRRP Instance VI_1 - Entering MASTER state',
      'X-Mailer': 'Keepalived',
      To: 'ops@example.org, oncall@example.org',
    });
    expect(headers.Date).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/);
    expect(body).toBe('=> VRRP Instance is now owning VRRP VIPs <=\r\n');
    expect(a.counters).toEqual({ sent: 2, failed: 0, dropped: 0 });
    expect(l.lines).toContain(`Remote SMTP server [127.0.0.1]:${sink.port} connected.`);
    expect(l.lines).toContain('SMTP alert successfully sent.');
  });

  it('logs a refused recipient with its code and ends with QUIT, sending nothing', async () => {
    const l = logged();
    const a = new SmtpAlerter(settings(sink.port, { to: ['ok@example.org', 'reject@example.org'] }), l.log);
    const before = sink.mail().length;
    a.send('s', 'b');
    await a.settled();
    expect(sink.mail().length).toBe(before);
    expect(l.lines).toEqual([`Error processing RCPT cmd on SMTP server [127.0.0.1]:${sink.port}. SMTP status code = 550`]);
    expect(a.counters.failed).toBe(1);
  });
});

describe('a server that fails', () => {
  it('logs a refused connection', async () => {
    const s: Server = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    const l = logged();
    const a = new SmtpAlerter(settings(port), l.log);
    a.send('s', 'b');
    await a.settled();
    expect(l.lines).toEqual([`SMTP connection ERROR to [127.0.0.1]:${port}.`]);
  });

  it('gives up on a server that never answers after smtp_connect_timeout, without holding up send()', async () => {
    // A peer that accepts and says nothing, as a hung relay.
    const held: Socket[] = [];
    const s = createServer((c) => void held.push(c));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    const l = logged();
    const a = new SmtpAlerter(settings(port, { timeoutMs: 200 }), l.log);
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) a.send(`s${i}`, 'b');
    expect(Date.now() - t0).toBeLessThan(1000);
    // MAX_ACTIVE in flight, MAX_QUEUED waiting, the rest dropped and said once.
    expect(a.counters.dropped).toBe(100 - MAX_ACTIVE - MAX_QUEUED);
    expect(l.lines.filter((x) => x.includes('dropped'))).toHaveLength(1);
    await poll(() => a.counters.failed === MAX_ACTIVE + MAX_QUEUED, { what: 'every alert to time out', timeoutMs: 60_000, intervalMs: 50 });
    expect(l.lines).toContain(`Timeout reading data to remote SMTP server [127.0.0.1]:${port}.`);
    held.forEach((c) => c.destroy());
    await new Promise((r) => s.close(r));
  }, 90_000);
});
