// lvs_sync_daemon as the daemon runs it (kernel IPVS only), across reloads. With a VRRP instance
// the VRRP side follows it: backup from its start, master while it is MASTER, stopped before the
// VRRP stop (vrrp_daemon.c). Without one the checker side runs both daemons, syncid 0 unless set
// (check_daemon.c). The daemons themselves (their ipvsadm commands) are src/lvs/sync-daemon.ts's.
import type { Config } from '../config/model/index.js';
import { SyncDaemon, syncKey, type IpvsadmRun } from '../lvs/sync-daemon.js';
import type { VrrpState } from '../vrrp/machine.js';

type Log = (level: 'info' | 'warn', message: string) => void;

export interface LvsSyncEnv {
  /** The sync daemon can run: kernel IPVS is the data plane. */
  ipvs: boolean;
  /** Why it cannot, for the one warning at start when the configuration asks for it. */
  noIpvsReason: string;
  /** -C: no VRRP instances run; -P: no checker side. */
  vrrpRuns: boolean;
  checkerRuns: boolean;
  /** The VRRP side's log, the checker side's log, and the daemon's. */
  vrrpLog: Log;
  lvsLog: Log;
  log: Log;
  /** For tests: what runs ipvsadm (default: the real one). */
  ipvsadm?: IpvsadmRun;
}

type Side = { daemon: SyncDaemon; key: string };

/** The daemon's two lvs_sync_daemon sides: the one that follows a VRRP instance and the checker's. */
export class LvsSync {
  private vrrp: (Side & { instance: string }) | undefined;
  private checker: Side | undefined;
  private vrrpStopped = false;

  constructor(
    first: Config,
    private readonly env: LvsSyncEnv,
  ) {
    const cfg = first.globalDefs.lvsSyncDaemon;
    if (cfg && !env.ipvs)
      env.log(
        'warn',
        `lvs_sync_daemon ${cfg.interface}: ${env.noIpvsReason}: no connection sync; the embedded forwarder's connections do not survive a failover`,
      );
    this.vrrp = this.vrrpSideFor(first);
    this.checker = this.checkerSideFor(first);
  }

  /** An instance's state change: the VRRP side follows the instance it names. */
  transition(name: string, from: VrrpState, to: VrrpState): void {
    const v = this.vrrp;
    if (!v || this.vrrpStopped || name !== v.instance) return;
    // vrrp_scheduler.c vrrp_init_state: the backup daemon at start; vrrp.c: master on MASTER, backup on leaving it.
    if (from === 'INIT' || from === 'MASTER') void v.daemon.backup();
    if (to === 'MASTER') void v.daemon.master();
  }

  /** The checker side's daemons, once the load balancer has started. */
  async startChecker(): Promise<void> {
    await this.checker?.daemon.both();
  }

  /**
   * A reload's lvs_sync_daemon, as keepalived 2.2.7 does it (seen in the VM,
   * test/lvs/ipvs-syncd-reload.test.ts): a daemon whose interface, syncid or options changed
   * (ipvswrapper.c ipvs_syncd_changed) is stopped and the new one started in the state of the
   * instance it follows (both, without one); an unchanged one keeps running, switched to its
   * instance's state. One the new configuration drops keeps running as it is, following no
   * instance (vrrp_ipvs_needed() is false from then on); keepalived then leaves it running after
   * it exits, ours stops it at the stop. `stateOf` reads the new configuration's instances.
   */
  async reload(c: Config, stateOf: (instance: string) => VrrpState | undefined): Promise<void> {
    const v = this.vrrpSideFor(c);
    if (this.vrrp && v && this.vrrp.key !== v.key) await this.vrrp.daemon.stop();
    if (v) this.vrrp = this.vrrp?.key === v.key ? { ...this.vrrp, instance: v.instance } : v;
    else if (this.vrrp) this.vrrp = { ...this.vrrp, instance: '' };
    const state = v && stateOf(v.instance);
    if (this.vrrp && state) await (state === 'MASTER' ? this.vrrp.daemon.master() : this.vrrp.daemon.backup());
    const l = this.checkerSideFor(c);
    if (!l || this.checker?.key === l.key) return;
    await this.checker?.daemon.stop();
    this.checker = l;
    await this.checker.daemon.both();
  }

  /** At the stop, before the instances leave MASTER (vrrp_daemon.c); state changes are ignored from now on. */
  async stopVrrp(): Promise<void> {
    this.vrrpStopped = true;
    await this.vrrp?.daemon.stop();
  }

  /** At the stop, after the load balancer. */
  async stopChecker(): Promise<void> {
    await this.checker?.daemon.stop();
  }

  /** The VRRP side's daemon for a configuration, with the instance it follows. */
  private vrrpSideFor(c: Config): (Side & { instance: string }) | undefined {
    const cfg = c.globalDefs.lvsSyncDaemon;
    if (cfg?.instance === undefined) return undefined;
    const inst = this.env.vrrpRuns ? c.resolved.vrrpInstances.find((i) => i.name === cfg.instance) : undefined;
    if (!inst && this.env.vrrpRuns) this.env.vrrpLog('warn', `Unable to find vrrp instance ${cfg.instance} for lvs_syncd - clearing lvs_syncd config`);
    if (!this.env.ipvs || !inst) return undefined;
    const syncid = cfg.id ?? inst.virtualRouterId;
    return { daemon: new SyncDaemon(cfg, syncid, this.env.ipvsadm, this.env.vrrpLog), instance: inst.name, key: syncKey(cfg, syncid) };
  }

  /** The checker side's, without an instance. */
  private checkerSideFor(c: Config): Side | undefined {
    const cfg = c.globalDefs.lvsSyncDaemon;
    if (!this.env.ipvs || !cfg || cfg.instance !== undefined || !this.env.checkerRuns) return undefined;
    return { daemon: new SyncDaemon(cfg, cfg.id ?? 0, this.env.ipvsadm, this.env.lvsLog), key: syncKey(cfg, cfg.id ?? 0) };
  }
}
