// IPVS's connection sync daemon (global_defs lvs_sync_daemon), driven as keepalived 2.2.7 drives
// it. With a VRRP instance, the VRRP side follows that instance: the backup daemon from its
// start, the master daemon instead while it is MASTER (vrrp.c ipvs_syncd_master/backup, through
// ipvswrapper.c), and the one running is stopped at shutdown (vrrp_daemon.c). Without an
// instance, the checker side runs both from its start to its stop (check_daemon.c). Kernel IPVS
// only: the commands go through ipvsadm --start-daemon/--stop-daemon.
import { spawn } from 'node:child_process';
import type { LvsSyncDaemon } from '../config/model/index.js';

export type SyncState = 'master' | 'backup';

/** `ipvsadm --start-daemon STATE ...`: the interface, syncid and the options that are set. */
export function startDaemonArgs(cfg: LvsSyncDaemon, state: SyncState, syncid: number): string[] {
  const a = ['--start-daemon', state, '--mcast-interface', cfg.interface, '--syncid', String(syncid)];
  if (cfg.maxlen) a.push('--sync-maxlen', String(cfg.maxlen));
  if (cfg.port) a.push('--mcast-port', String(cfg.port));
  if (cfg.ttl) a.push('--mcast-ttl', String(cfg.ttl));
  if (cfg.group) a.push('--mcast-group', cfg.group);
  return a;
}

export const stopDaemonArgs = (state: SyncState): string[] => ['--stop-daemon', state];

/** Runs ipvsadm with these arguments; resolves to an error message or undefined. */
export type IpvsadmRun = (args: string[]) => Promise<string | undefined>;

/**
 * One sync daemon configuration's commands, in order (one ipvsadm at a time), remembering which
 * daemons it started so the stop stops those.
 */
export class SyncDaemon {
  private queue: Promise<void> = Promise.resolve();
  private readonly running = new Set<SyncState>();

  constructor(
    private readonly cfg: LvsSyncDaemon,
    /** keepalived: id, else the instance's virtual_router_id, else 0. */
    private readonly syncid: number,
    private readonly run: IpvsadmRun = runIpvsadm,
    private readonly log?: (level: 'info' | 'warn', message: string) => void,
  ) {}

  /** The instance became MASTER: stop the backup daemon, start the master one (ipvs_syncd_master). */
  master(): Promise<void> {
    return this.then(['stop', 'backup'], ['start', 'master']);
  }

  /** The instance started, or left MASTER: stop the master daemon, start the backup one (ipvs_syncd_backup). */
  backup(): Promise<void> {
    return this.then(['stop', 'master'], ['start', 'backup']);
  }

  /** Both at once (no VRRP instance: the checker side's). */
  both(): Promise<void> {
    return this.then(['start', 'master'], ['start', 'backup']);
  }

  /** Stops what this started (shutdown), including starts still queued: which ones run is read
   * when the stop's turn comes, not when it is asked for. */
  stop(): Promise<void> {
    return this.then(['stop', 'master'], ['stop', 'backup']);
  }

  private then(...steps: ['start' | 'stop', SyncState][]): Promise<void> {
    this.queue = this.queue.then(async () => {
      for (const [op, state] of steps) {
        // keepalived stops a daemon it may not have started and ignores the kernel's ESRCH: we
        // only stop what we started, which leaves the kernel in the same state.
        if (op === 'stop' && !this.running.has(state)) continue;
        if (op === 'start' && this.running.has(state)) continue;
        const err = await this.run(op === 'start' ? startDaemonArgs(this.cfg, state, this.syncid) : stopDaemonArgs(state));
        if (err) this.log?.('warn', `IPVS sync daemon ${op} ${state} on ${this.cfg.interface}: ${err}`);
        else if (op === 'start') this.running.add(state);
        else this.running.delete(state);
      }
    });
    return this.queue;
  }
}

function runIpvsadm(args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    const p = spawn('ipvsadm', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('error', (e) => resolve(e.message));
    p.on('close', (code) => resolve(code === 0 ? undefined : err.trim() || `exit ${code}`));
  });
}

/** What makes two configurations' daemons differ (ipvswrapper.c ipvs_syncd_changed): all but the instance. */
export const syncKey = (cfg: LvsSyncDaemon, syncid: number): string => JSON.stringify([cfg.interface, syncid, cfg.maxlen, cfg.port, cfg.ttl, cfg.group]);
