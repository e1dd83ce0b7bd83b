// VRRP email alerts, keepalived-ts beside the real keepalived 2.2.7 in network namespaces, each
// with its own real SMTP server (aiosmtpd) on its 127.0.0.1: the same configuration (a sync group
// of two instances, each host alone on its VRIDs) mails the same messages, BACKUP then MASTER for
// each instance and the group, and nothing at the exit (keepalived ends before its Stopping mails
// leave): same HELO, envelope, headers (Date aside) and bodies (vrrp_notify.c, core/smtp.c).
import { describe, expect, it } from 'vitest';
import { startBoth, syncPair } from '../helpers/sync-pair.js';
import { createLab, keepalivedCapability, netnsCapability, poll } from '../helpers/netns.js';
import { parseData, smtpSinkMissing, startSmtpSink, type Received } from '../helpers/smtp-sink.js';

const net = netnsCapability();
const ka = keepalivedCapability();
const sinkMissing = smtpSinkMissing();
const skip = !net.ok || !ka.ok || sinkMissing !== undefined;
if (skip) console.warn(`VRRP email tests skipped: ${net.reason ?? ka.reason ?? sinkMissing}`);

const conf = (port: number, vrid: number) => `global_defs {
  router_id DIRECTOR
  notification_email {
    ops@example.org
    noc@example.org
  }
  notification_email_from keepalived@example.org
  smtp_server 127.0.0.1 ${port}
  smtp_helo_name director.example.org
  smtp_connect_timeout 5
  smtp_alert
}
${syncPair(vrid, 87)}`;

/** What must match keepalived: everything but the Date header, as a sorted list (mails go out concurrently). */
const shape = (mail: Received[]) =>
  mail
    .map((m) => {
      const { headers, body } = parseData(m.data);
      const { Date: date, ...rest } = headers;
      expect(date).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/);
      return JSON.stringify({ helo: m.helo, esmtp: m.esmtp, from: m.from, to: m.to, headers: Object.keys(headers), ...rest, body });
    })
    .sort();

describe.skipIf(skip)('VRRP email alerts against keepalived 2.2.7', () => {
  it('mails the same messages as keepalived, and none at the stop', async () => {
    const lab = await createLab({ hosts: 2, subnet: 87 });
    const [ours, theirs] = lab.hosts;
    const theirSink = await startSmtpSink(lab.dir, 'their-smtp', (argv) => lab.spawn(theirs, argv, { name: 'their-smtp' }));
    const ourSink = await startSmtpSink(lab.dir, 'our-smtp', (argv) => lab.spawn(ours, argv, { name: 'our-smtp' }));
    try {
      const { k, o } = startBoth(lab, 'mail', conf(theirSink.port, 10), conf(ourSink.port, 20));
      const subjects = (mail: Received[]) => mail.map((m) => parseData(m.data).headers.Subject);
      const master = (mail: Received[]) => subjects(mail).includes('[DIRECTOR] VRRP Group G1 - Entering MASTER state');
      await poll(() => master(theirSink.mail()) && master(ourSink.mail()), {
        what: 'both groups MASTER by mail',
        timeoutMs: 30_000,
        diagnose: () => `theirs:\n${subjects(theirSink.mail()).join('\n')}\nours:\n${subjects(ourSink.mail()).join('\n')}`,
      });
      await k.kill('SIGTERM', 5000);
      await o.kill('SIGTERM', 5000);
      expect(o.exitCode).toBe(0);
      // keepalived exits before its Stopping mails leave: six mails each, none at the stop.
      expect(theirSink.mail()).toHaveLength(6);
      const theirs_ = shape(theirSink.mail());
      expect(theirs_.join('\n')).toContain('"Subject":"[DIRECTOR] VRRP Instance VI_1 - Entering MASTER state"');
      expect(theirs_.join('\n')).toContain('"body":"=> VRRP Instance is now owning VRRP VIPs <=\\r\\n"');
      expect(shape(ourSink.mail())).toEqual(theirs_);
    } finally {
      theirSink.stop();
      ourSink.stop();
      await lab.teardown();
    }
  }, 120_000);
});
