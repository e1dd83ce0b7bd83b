// Checker email alerts from the built daemon (-C) to a real SMTP server (aiosmtpd): a TCP_CHECK'd
// real server going down and up again mails keepalived's subjects and bodies (check_tcp.c,
// ipwrapper.c do_vs_notifies); an smtp_server that is not there is logged and holds nothing up.
import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { daemonDir } from './harness.js';
import { parseData, smtpSinkMissing, startSmtpSink } from '../helpers/smtp-sink.js';
import { poll } from '../helpers/netns.js';

const missing = smtpSinkMissing();
if (missing) console.warn(`email checker tests skipped: ${missing}`);
const d = daemonDir('kt-email-');

const listen = async (port: number): Promise<Server> => {
  const s = createServer((c) => c.end());
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return s;
};
const conf = (smtp: string, vsPort: number, rsPort: number) => `global_defs {
  router_id LVS_MAIL
  notification_email {
    ops@example.org
  }
  notification_email_from lb@example.org
  smtp_server ${smtp}
  smtp_helo_name lb1.example.org
  smtp_connect_timeout 3
}
virtual_server 127.0.0.1 ${vsPort} {
  delay_loop 1
  lvs_sched rr
  lvs_method NAT
  protocol TCP
  smtp_alert
  real_server 127.0.0.1 ${rsPort} {
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
`;

describe.skipIf(missing)('checker email alerts', () => {
  it('mails a real server going down and up, and the quorum, in keepalived words', async () => {
    const sink = await startSmtpSink(d.dir, 'checker');
    const [vsPort, rsPort] = [18571, 18572];
    let rs = await listen(rsPort);
    writeFileSync(d.conf, conf(`127.0.0.1 ${sink.port}`, vsPort, rsPort));
    const k = d.daemon('email-checker');
    const subjects = (): string[] => sink.mail().map((m) => parseData(m.data).headers.Subject);
    const vs = `[127.0.0.1]:tcp:${vsPort}`;
    const real = `[127.0.0.1]:tcp:${rsPort}`;
    try {
      // In service from the start (no alpha): nothing to mail until it changes.
      await k.waitFor(/1 real server\(s\) in service/);
      await new Promise((r) => rs.close(r));
      await poll(() => subjects().includes(`[LVS_MAIL] Realserver ${real} of virtual server ${vs} - DOWN`), {
        what: 'the real server DOWN mail',
        timeoutMs: 20_000,
        diagnose: () => `${JSON.stringify(sink.mail(), null, 1)}\n${k.output().slice(-3000)}`,
      });
      rs = await listen(rsPort);
      await poll(() => subjects().includes(`[LVS_MAIL] Realserver ${real} of virtual server ${vs} - UP`), {
        what: 'the real server UP mail',
        timeoutMs: 20_000,
        diagnose: () => `${JSON.stringify(sink.mail(), null, 1)}\n${k.output().slice(-3000)}`,
      });
      const byHead = Object.fromEntries(sink.mail().map((m) => [parseData(m.data).headers.Subject, { ...m, ...parseData(m.data) }]));
      const down = byHead[`[LVS_MAIL] Realserver ${real} of virtual server ${vs} - DOWN`];
      expect(down).toMatchObject({ helo: 'lb1.example.org', esmtp: false, from: 'lb@example.org', to: ['ops@example.org'] });
      expect(down.headers).toMatchObject({ From: 'lb@example.org', To: 'ops@example.org', 'X-Mailer': 'Keepalived' });
      expect(down.body).toBe('=> TCP CHECK failed on service <=\r\n');
      expect(subjects().filter((x) => x.includes('Realserver'))).toHaveLength(2);
      expect(byHead[`[LVS_MAIL] Realserver ${real} of virtual server ${vs} - UP`].body).toBe('=> TCP CHECK succeed on service <=\r\n');
      expect(byHead[`[LVS_MAIL] Virtualserver ${vs} - DOWN`].body).toBe('=> Lost quorum 1+0=1 <= 0 <=\r\n');
      expect(byHead[`[LVS_MAIL] Virtualserver ${vs} - UP`].body).toBe('=> Gained quorum 1+0=1 <= 1 <=\r\n');
      expect(await k.stop()).toBe(0);
    } finally {
      k.signal('SIGKILL');
      sink.stop();
      rs.close();
    }
  }, 90_000);

  it("mails each checker's own change as keepalived does (the server's state in the subject), and with no_checker_emails only the server's", async () => {
    const [vsPort, rsPort, extraPort] = [18575, 18576, 18577];
    const vs = `[127.0.0.1]:tcp:${vsPort}`;
    const down = `[LVS_MAIL] Realserver [127.0.0.1]:tcp:${rsPort} of virtual server ${vs} - DOWN`;
    for (const quiet of [false, true]) {
      const sink = await startSmtpSink(d.dir, `checkers-${quiet}`);
      const [a, b] = [await listen(rsPort), await listen(extraPort)];
      // Two checkers on one real server: the second on another port.
      const text = conf(`127.0.0.1 ${sink.port}`, vsPort, rsPort)
        .replace('  smtp_connect_timeout 3\n', `  smtp_connect_timeout 3\n${quiet ? '  no_checker_emails\n' : ''}`)
        .replace(
          '    TCP_CHECK {\n      connect_timeout 1\n    }\n',
          `    TCP_CHECK {\n      connect_timeout 1\n    }\n    TCP_CHECK {\n      connect_port ${extraPort}\n      connect_timeout 1\n    }\n`,
        );
      writeFileSync(d.conf, text);
      const k = d.daemon(`email-checkers-${quiet}`);
      const bodies = (subject: string): string[] =>
        sink
          .mail()
          .map((m) => parseData(m.data))
          .filter((m) => m.headers.Subject === subject)
          .map((m) => m.body.trim());
      const diagnose = (): string => `${JSON.stringify(sink.mail(), null, 1)}\n${k.output().slice(-3000)}`;
      try {
        await k.waitFor(/1 real server\(s\) in service/);
        // The first checker fails: the server goes DOWN (mailed either way).
        await new Promise((r) => b.close(r));
        await poll(() => bodies(down).length === 1, { what: 'the server DOWN mail', timeoutMs: 20_000, diagnose });
        // The second fails too: the server stays DOWN; keepalived mails the checker's failure unless no_checker_emails.
        await new Promise((r) => a.close(r));
        await poll(() => /TCP_CHECK failed: .* on \[127\.0\.0\.1\]:18576; the server stays out of service/.test(k.output()), {
          what: 'the second checker failing',
          timeoutMs: 20_000,
          diagnose,
        });
        if (!quiet) await poll(() => bodies(down).length === 2, { what: "the second checker's mail", timeoutMs: 20_000, diagnose });
        // Mail leaves at once: give a mail that should not be there the time to arrive.
        else await new Promise((r) => setTimeout(r, 2000));
        expect(bodies(down)).toEqual(
          quiet ? ['=> TCP CHECK failed on service <='] : ['=> TCP CHECK failed on service <=', '=> TCP CHECK failed on service <='],
        );
        expect(await k.stop()).toBe(0);
      } finally {
        k.signal('SIGKILL');
        sink.stop();
        a.close();
        b.close();
      }
    }
  }, 120_000);

  it('logs an smtp_server that refuses, and goes on checking', async () => {
    // A port nothing listens on.
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const dead = (s.address() as { port: number }).port;
    await new Promise((r) => s.close(r));
    const [vsPort, rsPort] = [18573, 18574];
    const rs = await listen(rsPort);
    writeFileSync(d.conf, conf(`127.0.0.1 ${dead}`, vsPort, rsPort));
    const k = d.daemon('email-dead');
    try {
      await k.waitFor(/1 real server\(s\) in service/);
      await new Promise((r) => rs.close(r));
      // The server's DOWN and the quorum's DOWN mails both fail, each logged; the checker carries on.
      await poll(() => k.output().split(`SMTP connection ERROR to [127.0.0.1]:${dead}.`).length >= 3, {
        what: 'the connection errors',
        timeoutMs: 20_000,
        diagnose: () => k.output().slice(-3000),
      });
      expect(k.output()).toMatch(/Removing service \[127\.0\.0\.1\]:18574/);
      const rs2 = await listen(rsPort);
      await poll(() => /Adding service \[127\.0\.0\.1\]:18574/.test(k.output()), {
        what: 'the server back',
        timeoutMs: 20_000,
        diagnose: () => k.output().slice(-3000),
      });
      rs2.close();
      expect(await k.stop()).toBe(0);
    } finally {
      k.signal('SIGKILL');
      rs.close();
    }
  }, 90_000);
});
