// What keepalived 2.2.7 emails, and when (the texts are its own):
// - VRRP (vrrp/vrrp_notify.c vrrp_smtp_notifier, vrrp_sync_smtp_notifier): subject
//   "[router_id] VRRP Instance VI_1 - Entering MASTER state" (or "VRRP Group G - ..."), once per
//   state (last_email_state), FAULT not with no_email_faults. Enabled by the instance's or group's
//   smtp_alert, else global smtp_alert_vrrp, else smtp_alert, else off (vrrp.c).
// - checkers (check/check_*.c): "[router_id] Realserver [rs]:tcp:80 of virtual server
//   [vs]:tcp:80 - UP|DOWN" with the checker's own body; quorum (ipwrapper.c do_vs_notifies):
//   "[router_id] Virtualserver [vs]:tcp:80 - UP|DOWN". A real server's smtp_alert defaults to
//   smtp_alert_checker, else smtp_alert, else on; a virtual server's to the same, else off (check_data.c).
//   A checker that changes while its server stays as it was mails too (subject: the server's
//   state; body: that checker's), unless no_checker_emails. rs_init_notifies' notices mail nothing.
import type { GlobalDefs } from '../config/model/global.js';
import type { StateDetail } from '../lvs/balancer.js';
import type { NotifyState } from './notify.js';
import { trio } from './notify-fifo.js';
import { SmtpAlerter, smtpSettings, type SmtpLog } from './smtp-alert.js';

type Globals = Pick<GlobalDefs, 'smtpAlert' | 'smtpAlertVrrp' | 'smtpAlertChecker' | 'noEmailFaults'>;

export const vrrpAlerts = (own: boolean | undefined, g: Globals): boolean => own ?? g.smtpAlertVrrp ?? g.smtpAlert ?? false;
export const rsAlerts = (own: boolean | undefined, g: Globals): boolean => own ?? g.smtpAlertChecker ?? g.smtpAlert ?? true;
export const vsAlerts = (own: boolean | undefined, g: Globals): boolean => own ?? g.smtpAlertChecker ?? g.smtpAlert ?? false;

const INSTANCE_TEXT: Partial<Record<NotifyState, [string, string]>> = {
  MASTER: ['Entering MASTER state', '=> VRRP Instance is now owning VRRP VIPs <='],
  BACKUP: ['Entering BACKUP state', '=> VRRP Instance is no longer owning VRRP VIPs <='],
  FAULT: ['Entering FAULT state', '=> VRRP Instance is no longer owning VRRP VIPs <='],
  STOP: ['Stopping', '=> VRRP Instance stopping <='],
  DELETED: ['Deleted', '=> VRRP Deleted at reload <='],
};
const GROUP_TEXT: Partial<Record<NotifyState, [string, string]>> = {
  MASTER: ['Entering MASTER state', '=> All VRRP group instances are now in MASTER state <='],
  BACKUP: ['Entering BACKUP state', '=> All VRRP group instances are now in BACKUP state <='],
  FAULT: ['Entering FAULT state', '=> All VRRP group instances are now in FAULT state <='],
  STOP: ['Stopping', '=> All VRRP group instances are now stopping <='],
};

export interface Mail {
  subject: string;
  body: string;
}

/** Tracks what each instance and group last emailed (last_email_state) and words the next mail. */
export class VrrpMail {
  private readonly last = new Map<string, NotifyState>();

  /** The mail for `name` entering `state`, or none (not enabled, same state as last mailed, a FAULT with no_email_faults). */
  transition(kind: 'INSTANCE' | 'GROUP', name: string, state: NotifyState, enabled: boolean, g: Globals, routerId: string): Mail | undefined {
    if (!enabled || (g.noEmailFaults && state === 'FAULT')) return undefined;
    const key = `${kind} ${name}`;
    if (this.last.get(key) === state) return undefined;
    const text = (kind === 'INSTANCE' ? INSTANCE_TEXT : GROUP_TEXT)[state];
    if (!text) return undefined;
    this.last.set(key, state);
    return { subject: `[${routerId}] VRRP ${kind === 'INSTANCE' ? 'Instance' : 'Group'} ${name} - ${text[0]}`, body: text[1] };
  }
}

/** The body a checker sends when it takes its real server up or down (check_tcp.c, check_http.c, ...). */
export function checkerBody(type: string, up: boolean): string | undefined {
  const verb = up ? 'succeed' : 'failed';
  switch (type) {
    case 'TCP_CHECK':
      return `=> TCP CHECK ${verb} on service <=`;
    case 'UDP_CHECK':
      return `=> UDP CHECK ${verb} on service <=`;
    case 'PING_CHECK':
      return `=> ICMP CHECK ${verb} on service <=`;
    case 'DNS_CHECK':
      return `=> DNS_CHECK: ${verb} on service <=`;
    case 'HTTP_GET':
    case 'SSL_GET':
      return up ? '=> CHECK succeed on service <=' : '=> CHECK failed on service : HTTP request failed <=';
    case 'SMTP_CHECK':
      return `=> CHECK ${verb} on service <=`;
    case 'MISC_CHECK':
      return `=> MISC CHECK ${up ? 'succeeded' : 'failed'} on service <=`;
    default:
      // FILE_CHECK sends no mail (check_file.c); BFD_CHECK is not run here.
      return undefined;
  }
}

export const rsSubject = (routerId: string, rs: string, vs: string, up: boolean): string =>
  `[${routerId}] Realserver ${rs} of virtual server ${vs} - ${up ? 'UP' : 'DOWN'}`;

/** ipwrapper.c do_vs_notifies: threshold is quorum+hysteresis when gained, quorum−hysteresis when lost, both printed with '+'. */
export function quorumMail(routerId: string, vs: string, up: boolean, q: { quorum: number; hysteresis: number; weightSum: number }): Mail {
  const threshold = up ? q.quorum + q.hysteresis : q.quorum - q.hysteresis;
  return {
    subject: `[${routerId}] Virtualserver ${vs} - ${up ? 'UP' : 'DOWN'}`,
    body: `=> ${up ? 'Gained quorum' : 'Lost quorum'} ${q.quorum}+${q.hysteresis}=${threshold} <= ${q.weightSum} <=`,
  };
}

interface Served {
  address?: string;
  protocol?: string;
  port?: number;
  fwmark?: number;
  group?: string;
}

/** FMT_VS: `[10.0.0.1]:tcp:80`, `FWM 1`, or the group's name in brackets (check_api.c format_vs). */
export function vsName(vs: Served): string {
  if (vs.fwmark !== undefined && vs.address === undefined) return `FWM ${vs.fwmark}`;
  if (vs.group !== undefined && vs.address === undefined) return `[${vs.group}]:${vs.port ?? 0}`;
  return trio(vs.address ?? '', vs.protocol, vs.port);
}

/** The daemon's one mail sender: global_defs decide whether and where, each object whether it mails. */
export class EmailAlerts {
  private sender?: SmtpAlerter;
  private g!: GlobalDefs;
  private readonly vrrpMail = new VrrpMail();
  private stopped = false;

  constructor(
    g: GlobalDefs,
    private readonly log: SmtpLog,
    private readonly detail = false,
  ) {
    this.configure(g);
  }

  /** At start and at each reload: a new sender when the SMTP settings changed (mail in flight finishes). */
  configure(g: GlobalDefs): void {
    this.g = g;
    if (this.stopped) return;
    const next = smtpSettings(g);
    if (JSON.stringify(next) === JSON.stringify(this.sender?.settings)) return;
    this.sender = next ? new SmtpAlerter(next, this.log, this.detail) : undefined;
  }

  get counters(): SmtpAlerter['counters'] | undefined {
    return this.sender?.counters;
  }

  vrrp(kind: 'INSTANCE' | 'GROUP', name: string, state: NotifyState, own: boolean | undefined): void {
    if (!this.sender) return;
    const m = this.vrrpMail.transition(kind, name, state, vrrpAlerts(own, this.g), this.g, this.sender.settings.routerId);
    if (m) this.sender.send(m.subject, m.body);
  }

  /** A real server up or down (with the checker verdict that did it), or a virtual server's quorum. */
  lvs(
    vs: Served & { smtpAlert?: boolean; quorum: number; hysteresis: number },
    rs: (Served & { smtpAlert?: boolean }) | undefined,
    up: boolean,
    d: StateDetail = {},
  ): void {
    const s = this.sender;
    // rs_init_notifies' start-up notices send no mail (do_rs_notifies: the checkers send those).
    if (!s || d.initial) return;
    const router = s.settings.routerId;
    if (rs) {
      if (!rsAlerts(rs.smtpAlert, this.g)) return;
      const body = d.stopping ? '=> Shutting down <=' : checkerBody(d.reason?.split(' ')[0] ?? '', up);
      if (body) s.send(rsSubject(router, trio(rs.address ?? '', vs.protocol, rs.port), vsName(vs), up), body);
      return;
    }
    if (!vsAlerts(vs.smtpAlert, this.g)) return;
    if (d.stopping) return s.send(`[${router}] Virtualserver ${vsName(vs)} - DOWN`, '=> Shutting down <=');
    const m = quorumMail(router, vsName(vs), up, { quorum: vs.quorum, hysteresis: vs.hysteresis, weightSum: d.weightSum ?? 0 });
    s.send(m.subject, m.body);
  }

  /** One checker's own change that left its real server as it was (`alive`): keepalived's
   * checkers mail these too unless no_checker_emails; the subject says the server's state. */
  checker(vs: Served, rs: Served & { smtpAlert?: boolean }, up: boolean, alive: boolean, reason: string): void {
    const s = this.sender;
    if (!s || this.g.noCheckerEmails || !rsAlerts(rs.smtpAlert, this.g)) return;
    const body = checkerBody(reason.split(' ')[0], up);
    if (body) s.send(rsSubject(s.settings.routerId, trio(rs.address ?? '', vs.protocol, rs.port), vsName(vs), alive), body);
  }

  /** At stop: no more mail, and the dialogues in flight are cut. */
  close(): void {
    this.sender?.close();
    this.sender = undefined;
    this.stopped = true;
  }
}
