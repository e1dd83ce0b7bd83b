// keepalived's email alerts (global_defs notification_email, smtp_server, smtp_alert*), as
// keepalived 2.2.7's core/smtp.c sends them:
// - only when notification_email lists someone and smtp_server is set (smtp_alert);
// - one TCP connection per alert, the fixed RFC 821 dialogue of its SMTP_FSM: wait for 220, then
//   `HELO name` (smtp_helo_name, default the host name, else "localhost"), `MAIL FROM:<from>`,
//   `RCPT TO:<addr>` per address, `DATA`, the headers (Date, From, Subject, X-Mailer: Keepalived,
//   To: all addresses comma separated), a blank line, the body, `\r\n.\r\n`, then `QUIT`. No EHLO,
//   no AUTH, no STARTTLS (keepalived has none);
// - each wait (connect and every reply) bounded by smtp_connect_timeout; a wrong reply code is
//   logged "Error processing CMD cmd on SMTP server [ip]:port. SMTP status code = N" and the
//   dialogue ends with QUIT; failures are logged with keepalived's sentences.
// Hand written rather than nodemailer: nodemailer sends EHLO first and then speaks ESMTP (PIPELINING,
// STARTTLS when offered, 8BITMIME), its own Message-ID and MIME headers, so a relay sees another
// dialogue than keepalived's; the whole dialogue here is ~150 lines with no dependency.
// Safer than keepalived: at most MAX_ACTIVE connections at once and MAX_QUEUED alerts waiting;
// beyond that an alert is dropped, counted and logged (keepalived opens a socket per alert, unbounded).
import { connect, type Socket } from 'node:net';
import { hostname, userInfo } from 'node:os';

/** core/smtp.h MAX_HEADERS_LENGTH and MAX_BODY_LENGTH, less their NUL. */
const MAX_SUBJECT = 255;
const MAX_BODY = 511;
/** SMTP_BUFFER_MAX: a reply longer than this ends the dialogue. */
const BUFFER_MAX = 1024;
export const MAX_ACTIVE = 4;
export const MAX_QUEUED = 64;

export interface SmtpSettings {
  host: string;
  port: number;
  helo: string;
  from: string;
  to: string[];
  /** smtp_connect_timeout, in ms: the bound on the connect and on each reply. */
  timeoutMs: number;
  routerId: string;
}

export type SmtpLog = (level: 'info' | 'warn', message: string) => void;

/** The settings keepalived derives from global_defs (global_data.c init_global_data), or none when it sends no mail. */
export function smtpSettings(
  g: {
    notificationEmail: string[];
    notificationEmailFrom?: string;
    smtpServer?: { host: string; port: number };
    smtpHeloName?: string;
    smtpConnectTimeout: number;
    routerId?: string;
  },
  host = hostname(),
  user = safeUser(),
): SmtpSettings | undefined {
  if (!g.notificationEmail.length || !g.smtpServer) return undefined;
  return {
    host: g.smtpServer.host,
    port: g.smtpServer.port,
    helo: g.smtpHeloName ?? (host || 'localhost'),
    from: g.notificationEmailFrom ?? `${user}@${host}`,
    to: g.notificationEmail,
    timeoutMs: g.smtpConnectTimeout * 1000,
    routerId: g.routerId ?? host,
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}

/** `Mon, 01 Mar 2021 09:44:08 +0000`: strftime "%a, %d %b %Y %H:%M:%S %z" in local time (body_cmd). */
export function rfc822Date(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${day}, ${p(d.getDate())} ${mon} ${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone}`;
}

/** The DATA section keepalived sends (SMTP_HEADERS_CMD SMTP_BODY_CMD SMTP_SEND_CMD). */
export function messageData(s: SmtpSettings, subject: string, body: string, date: Date): string {
  return (
    `Date: ${rfc822Date(date)}\r\nFrom: ${s.from}\r\nSubject: ${subject.slice(0, MAX_SUBJECT)}\r\n` +
    `X-Mailer: Keepalived\r\nTo: ${s.to.join(', ')}\r\n\r\n${body.slice(0, MAX_BODY)}\r\n\r\n.\r\n`
  );
}

/** The SMTP_FSM stages that wait for a reply: the code each expects and its name in the log. */
const STAGES = {
  greeting: [220, '(E)SMTP'],
  HELO: [250, 'HELO'],
  MAIL: [250, 'MAIL'],
  RCPT: [250, 'RCPT'],
  DATA: [354, 'DATA'],
  BODY: [250, 'BODY'],
  QUIT: [221, 'QUIT'],
} as const;
type Stage = keyof typeof STAGES;

interface Alert {
  subject: string;
  body: string;
}

/** Sends alerts in the background; send() never waits and never throws. */
export class SmtpAlerter {
  private readonly queue: Alert[] = [];
  private active = 0;
  private idle: (() => void)[] = [];
  readonly counters = { sent: 0, failed: 0, dropped: 0 };
  private dropSaid = false;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly s: SmtpSettings,
    private readonly log: SmtpLog,
    private readonly detail = false,
  ) {}

  get settings(): SmtpSettings {
    return this.s;
  }

  send(subject: string, body: string): void {
    if (this.active >= MAX_ACTIVE && this.queue.length >= MAX_QUEUED) {
      this.counters.dropped++;
      if (!this.dropSaid) this.log('warn', `SMTP alert queue full (${MAX_QUEUED} waiting): alert "${subject}" dropped`);
      this.dropSaid = true;
      return;
    }
    this.queue.push({ subject, body });
    this.pump();
  }

  /** Resolves when no alert is waiting or in flight. */
  settled(): Promise<void> {
    if (!this.active && !this.queue.length) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Ends the dialogues in flight and forgets what waits. */
  close(): void {
    this.queue.length = 0;
    for (const s of this.sockets) s.destroy();
  }

  private pump(): void {
    while (this.active < MAX_ACTIVE && this.queue.length) {
      const a = this.queue.shift()!;
      this.active++;
      this.dialogue(a).then(
        (ok) => this.finished(ok),
        () => this.finished(false),
      );
    }
  }

  private finished(ok: boolean): void {
    this.active--;
    if (ok) this.counters.sent++;
    else this.counters.failed++;
    if (!this.queue.length) this.dropSaid = false;
    this.pump();
    if (!this.active && !this.queue.length) this.idle.splice(0).forEach((r) => r());
  }

  /** inet_sockaddrtopair: `[127.0.0.1]:25`. */
  private get where(): string {
    return `[${this.s.host}]:${this.s.port}`;
  }

  /** keepalived's SMTP_FSM for one alert; true when the server took the message. */
  private dialogue(a: Alert): Promise<boolean> {
    const s = this.s;
    return new Promise((resolve) => {
      const sock = connect({ host: s.host, port: s.port });
      this.sockets.add(sock);
      let stage: Stage = 'greeting';
      let connected = false;
      let accepted = false;
      let buf = '';
      let rcpt = 0;
      let done = false;
      const end = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.sockets.delete(sock);
        sock.destroy();
        resolve(accepted);
      };
      let timer = setTimeout(() => onTimeout(), s.timeoutMs);
      const rearm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => onTimeout(), s.timeoutMs);
      };
      const write = (line: string): void => {
        rearm();
        sock.write(line);
      };
      const quit = (): void => {
        stage = 'QUIT';
        write('QUIT\r\n');
      };
      const onTimeout = (): void => {
        if (!connected) {
          this.log('info', `Timeout opening connection to remote SMTP server ${this.where}.`);
          return end();
        }
        this.log('info', `Timeout reading data to remote SMTP server ${this.where}.`);
        if (stage === 'QUIT') return end();
        quit();
      };
      // One reply: on to the next command, or QUIT on a code the stage does not expect.
      const reply = (code: number): void => {
        const [expected, name] = STAGES[stage];
        if (code !== expected) {
          this.log('info', `Error processing ${name} cmd on SMTP server ${this.where}. SMTP status code = ${Number.isNaN(code) ? 0 : code}`);
          return stage === 'QUIT' ? end() : quit();
        }
        switch (stage) {
          case 'greeting':
            stage = 'HELO';
            return write(`HELO ${s.helo}\r\n`);
          case 'HELO':
            stage = 'MAIL';
            return write(`MAIL FROM:<${s.from}>\r\n`);
          case 'MAIL':
          case 'RCPT':
            if (rcpt < s.to.length) {
              stage = 'RCPT';
              return write(`RCPT TO:<${s.to[rcpt++]}>\r\n`);
            }
            stage = 'DATA';
            return write('DATA\r\n');
          case 'DATA':
            stage = 'BODY';
            return write(messageData(s, a.subject, a.body, new Date()));
          case 'BODY':
            accepted = true;
            if (this.detail) this.log('info', 'SMTP alert successfully sent.');
            return quit();
          case 'QUIT':
            return end();
        }
      };
      sock.setEncoding('latin1');
      sock.on('connect', () => {
        connected = true;
        if (this.detail) this.log('info', `Remote SMTP server ${this.where} connected.`);
        rearm();
      });
      sock.on('error', () => {
        if (!connected) this.log('info', `SMTP connection ERROR to ${this.where}.`);
        else if (!done) this.log('info', `Error reading data from remote SMTP server ${this.where}.`);
        end();
      });
      sock.on('end', () => {
        if (!done && stage !== 'QUIT') this.log('info', `Remote SMTP server ${this.where} has closed the connection.`);
        end();
      });
      sock.on('data', (chunk: string) => {
        buf += chunk;
        if (buf.length >= BUFFER_MAX) {
          this.log('info', `Received buffer from remote SMTP server ${this.where} overflow our get read buffer length.`);
          buf = '';
          return stage === 'QUIT' ? end() : quit();
        }
        // The last line of a reply (no '-' after the code) carries the code; earlier lines are skipped.
        for (let nl = buf.indexOf('\r\n'); nl >= 0; nl = buf.indexOf('\r\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 2);
          if (line[3] === '-') continue;
          reply(Number(line.slice(0, 3)));
          if (done) return;
        }
      });
    });
  }
}
