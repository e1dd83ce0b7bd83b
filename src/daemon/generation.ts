// One configuration at work: its VRRP engine, its trackers, and what each instance's state changes
// set off (addresses, GARPs and NAs, notify scripts, FIFO lines, mail, traps, the sync daemon). A
// reload builds the next generation from the one before.
import type pino from 'pino';
import type { Config, ResolvedVrrpInstance, VrrpInstance } from '../config/model/index.js';
import type { IpAddressDriver } from '../net/addresses.js';
import type { LinkMonitor } from '../net/link-monitor.js';
import type { NeighbourAdvertiser } from '../net/ndisc.js';
import { garpIntervals } from '../net/garp-pacer.js';
import type { NftFirewall } from '../net/nft-firewall.js';
import { VrrpEngine } from '../vrrp/engine.js';
import { adoptSameIdentity } from '../vrrp/reload.js';
import type { VrrpRunner } from '../vrrp/instance.js';
import { ADVERT_TIMEOUT, type VrrpState } from '../vrrp/machine.js';
import { startTrackers } from '../vrrp/trackers.js';
import { startProcessTrackers } from '../vrrp/track-process.js';
import type { ScriptRunner } from '../proc/script-runner.js';
import { identityFor, type UserDb } from '../proc/users.js';
import { procTable } from '../proc/process-table.js';
import type { BfdEndpoint } from '../bfd/endpoint.js';
import { clock } from './clock.js';
import { fifoLine, type Notifier, type NotifyState } from './notify.js';
import type { EmailAlerts } from './email-alerts.js';
import type { SnmpEvents } from './snmp.js';
import { initTrackFiles, linkUp, readTrackFile, scriptCheck, watchTrackFiles } from './trackers.js';
import type { Ports, PrimaryAddress } from './ports.js';

type Logger = pino.Logger;

/** Everything that depends on the configuration: engine and trackers. A reload builds a new
 * one and hands it the runners of the instances that keep their identity: they keep their state
 * and VIPs, and take their new settings in place. */
export class Generation {
  readonly engine: VrrpEngine;
  private stopTrackers: (() => void)[] = [];
  /** Runners of the previous generation this one took over. */
  readonly adopted = new Set<VrrpRunner>();

  constructor(
    readonly config: Config,
    private readonly log: Logger,
    private readonly runner: ScriptRunner,
    private readonly notifier: Notifier,
    private readonly driver: IpAddressDriver,
    private readonly ports: Ports,
    private readonly users: UserDb,
    private readonly bfd: BfdEndpoint | undefined,
    private readonly primary: PrimaryAddress,
    /** Where the notify FIFO lines go (notify_fifo, vrrp_notify_fifo). */
    private readonly fifo: (line: string) => void,
    /** Email alerts (smtp_alert): the daemon's one sender. */
    private readonly mail: EmailAlerts,
    private readonly links: LinkMonitor,
    /** Unsolicited neighbour adverts for IPv6 VIPs (keepalived sends them where it sends GARPs). */
    private readonly na: NeighbourAdvertiser,
    /** no_accept's drop rules (nftables), shared by every generation. */
    private readonly firewall: NftFirewall,
    /** lvs_sync_daemon's VRRP side: told of every instance's state change. */
    private readonly syncTransition: (name: string, from: VrrpState, to: VrrpState) => void,
    /** The SNMP traps (enable_traps). */
    private readonly snmp: SnmpEvents,
    /** -D: keepalived's detail lines. */
    private readonly detail: boolean,
    previous?: Generation,
  ) {
    this.engine = new VrrpEngine(config, {
      clock,
      port: (ifname, family) => ports.get(ifname, family),
      primaryAddress: primary,
      down: previous?.engine.trackedDown,
      startupDelayUntil: previous?.engine.startupDelayUntil,
      adopt: adoptSameIdentity(previous?.engine, this.adopted),
      hooks: {
        addAddresses: (i) => {
          void this.firewall.add(i);
          void this.driver.add(i);
        },
        removeAddresses: (i) => {
          void this.driver.remove(i);
          void this.firewall.remove(i);
        },
        announce: (i) => {
          this.driver.announce(i);
          // IPv4 only (most directors): no second NA burst to wait for, 1,000 timers fewer at start.
          if (!i.virtualIpaddress.some((v) => v.family === 6)) return;
          this.neighbourAdverts(i, i.garpMasterRepeat);
          if (i.garpMasterDelay > 0) setTimeout(() => this.neighbourAdverts(i, i.garpMasterRepeat), i.garpMasterDelay * 1000).unref();
        },
        garp: (i, repeat, why) => {
          if (why === 'extra-if') return this.extraIfAnnounce(i);
          this.driver.gratuitous(i, repeat);
          this.neighbourAdverts(i, repeat);
        },
        // keepalived's send_event_notify(): the script if there is one, and the FIFO line always.
        rxLowerPri: (i, prio) => {
          if (i.notifyMasterRxLowerPri) this.notifier.notifyMasterRxLowerPri(i.name, i.notifyMasterRxLowerPri);
          this.fifo(fifoLine('INSTANCE', i.name, 'MASTER_RX_LOWER_PRI', prio));
        },
        transition: (i, from, to, prio, reason) => this.transition(i, from, to, prio, reason),
        groupTransition: (g, _from, to) => {
          // As for instances, nothing at the stop (keepalived 2.2.7).
          if (to !== 'INIT') this.log.info({ group: g.name, state: to }, `(${g.name}) Sync group entering ${to} state`);
          const state = to === 'INIT' ? 'STOP' : to;
          this.notifier.notify('GROUP', g.name, state, 0, g);
          this.fifo(fifoLine('GROUP', g.name, state, 0));
          this.mail.vrrp('GROUP', g.name, state, g.smtpAlert);
          this.snmp.group(g.name, state);
        },
        log: (level, message, inst) => log[level](inst ? { vrrp: inst } : {}, message),
      },
    });
  }

  /** `repeat` NAs per IPv6 VIP once the queued `ip addr add` ran, its interface's gna_interval (else vrrp_gna_interval) apart (keepalived: garp_master_repeat, again after garp_master_delay). */
  private neighbourAdverts(inst: ResolvedVrrpInstance, repeat: number): void {
    const byDev = new Map<string, string[]>();
    for (const v of inst.virtualIpaddress) if (v.family === 6) byDev.set(v.dev, [...(byDev.get(v.dev) ?? []), v.address]);
    if (!byDev.size) return;
    const intervalUs = garpIntervals(this.config.globalDefs.vrrpGnaInterval, this.config.garpGroups, 'gnaInterval');
    // From the interface each VIP is on: a VMAC's NAs carry its MAC.
    for (const [dev, vips] of byDev) void this.driver.settled().then(() => this.na.burst(dev, vips, repeat, intervalUs(dev) / 1000));
  }

  /** garp_extra_if: one gratuitous ARP or unsolicited NA per listed address, each on its own interface. */
  private extraIfAnnounce(inst: ResolvedVrrpInstance): void {
    const addresses = inst.extraIfGarp?.addresses ?? [];
    this.driver.gratuitousEach(inst.name, addresses);
    for (const v of addresses) if (v.family === 6) void this.driver.settled().then(() => this.na.burst(v.dev, [v.address], 1, 0));
  }

  start(): void {
    const log = (level: 'info' | 'warn', msg: string): void => this.log[level](msg);
    initTrackFiles(this.config, log);
    // vrrp_scripts run as their own `user`, else script_user, under this generation's global_defs.
    const identity = identityFor(this.users, () => this.config.globalDefs);
    this.stopTrackers = [
      startTrackers(this.config, this.engine, {
        clock,
        log,
        runScript: scriptCheck(this.runner, identity),
        // An interface that was missing (dynamic_interfaces) counts as down until its socket
        // opens; its instances then send from its address.
        linkUp: (ifname) => {
          const waited = this.ports.waiting(ifname);
          if (!this.ports.ready(ifname)) return false;
          if (waited) this.portOpened(ifname);
          return linkUp(ifname);
        },
        // The daemon's one `ip monitor`: an event re-reads its interface (a link going down is
        // FAULT at once, one appearing opens its socket); polled while the monitor is down.
        watchLinks: (changed) => this.links.subscribe(changed),
        readFile: readTrackFile,
        watchFiles: (files, changed) => watchTrackFiles(files, changed, log),
        bfd: this.bfd?.viewFor('vrrp'),
      }),
      // /proc every second: keepalived hears the kernel's process events at once (README).
      startProcessTrackers(this.config, this.engine, { clock, log, table: procTable(), pollUs: 1_000_000 }),
    ];
    this.engine.start();
  }

  /** The sockets of an interface that was missing are open: its instances send from their own
   * interface's address (a VMAC's instance from its base's). */
  portOpened(ifname: string): void {
    for (const { inst, ifname: send } of this.engine.instances)
      if (send === ifname) this.engine.setPrimaryAddress(send, inst.family, this.primary(inst.interface, inst.family));
  }

  /** Priority 0 from masters and addresses removed, except for the runners `next` adopted. */
  async stop(next?: Generation): Promise<void> {
    this.stopTrackers.forEach((s) => s());
    // keepalived -D (vrrp_restore_interface): each master says it sent its priority-0 advert.
    if (this.detail)
      for (const { inst, runner } of this.engine.instances)
        if (runner.state.state === 'MASTER' && !next?.adopted.has(runner)) this.log.info({ vrrp: inst.name }, `(${inst.name}) sent 0 priority`);
    this.engine.stop(next?.adopted);
    await this.driver.settled();
  }

  private transition(inst: VrrpInstance, from: VrrpState, to: VrrpState, prio: number, reason: string): void {
    // keepalived's wording: with -D the advert timeout before MASTER (vrrp_scheduler.c), and
    // "(init)" on the first state (vrrp_init_state).
    if (this.detail && reason === ADVERT_TIMEOUT) this.log.info({ vrrp: inst.name }, `(${inst.name}) ${ADVERT_TIMEOUT}`);
    const init = from === 'INIT' && (to === 'BACKUP' || to === 'FAULT') ? ' (init)' : '';
    // Back to INIT is an instance stopping (the daemon's stop, a reload that drops it): at its stop
    // keepalived 2.2.7 logs no state line, only, with -D, "sent 0 priority" and "removing VIPs."
    // (stop() above); its notifies, FIFO line, mail and trap say STOP.
    if (to !== 'INIT') this.log.info({ vrrp: inst.name, state: to, priority: prio, reason }, `(${inst.name}) Entering ${to} STATE${init}`);
    // keepalived switches the sync daemon before the notifies (vrrp.c vrrp_state_become_master).
    this.syncTransition(inst.name, from, to);
    // keepalived: the state's own script, then `notify` with INSTANCE NAME STATE PRIORITY.
    const state: NotifyState = to === 'INIT' ? 'STOP' : to;
    this.notifier.notify('INSTANCE', inst.name, state, prio, inst);
    // vrrp_notify.c send_instance_notifies: the FIFO line after the scripts.
    this.fifo(fifoLine('INSTANCE', inst.name, state, prio));
    // vrrp_notify.c: the email last (vrrp_smtp_notifier).
    this.mail.vrrp('INSTANCE', inst.name, state, inst.smtpAlert);
    // vrrp_notify.c: the trap after the FIFO line.
    this.snmp.instance(inst, state);
  }
}
