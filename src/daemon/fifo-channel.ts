// The daemon's notify FIFOs across reloads: the open FIFOs of the running configuration
// (notify-fifo.ts opens and writes them) and the runner of their scripts, which run without a
// timeout as their own user. Open before VRRP and the checkers start (vrrp.c vrrp_complete_init,
// check_daemon.c start_check).
import type { Config, GlobalDefs, RealServer, ScriptRef, VirtualServer } from '../config/model/index.js';
import { ScriptRunner } from '../proc/script-runner.js';
import { defaultScriptUser, resolveScriptUser, type RunAs, type UserDb } from '../proc/users.js';
import { NotifyFifos, rsLine, trio, vsLine, type FifosEnv } from './notify-fifo.js';

/** How long a FIFO script may outlive its FIFO after a reload before it is killed. */
const FIFO_SCRIPT_GRACE_MS = 5000;

export interface FifoChannelEnv {
  /** Which parts' FIFOs a configuration opens (-P: no checkers, -C: no VRRP). */
  parts(c: Config): { vrrp: boolean; lvs: boolean };
  users: UserDb;
  /** The running configuration's global_defs (the default script user). */
  live(): GlobalDefs;
  /** Who a FIFO script runs as. */
  identity(script: ScriptRef): RunAs;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** One owner for the notify FIFOs: lines in, reloads, and the stop. */
export class FifoChannel {
  private readonly runner = new ScriptRunner();
  private readonly fifoEnv: FifosEnv;
  private fifos: NotifyFifos;

  constructor(
    first: Config,
    private readonly env: FifoChannelEnv,
  ) {
    this.fifoEnv = {
      log: env.log,
      owner: (user, group) => {
        const id = user ? resolveScriptUser(env.users, user, group) : defaultScriptUser(env.users, env.live());
        return id.ok ? { uid: id.uid, gid: id.gid } : { error: id.error };
      },
      runScript: (script, argv, signal) => {
        const id = env.identity(script);
        if ('error' in id) return Promise.resolve(env.log('error', id.error));
        return this.runner.run(argv, { timeoutMs: 0, signal, ...id });
      },
    };
    this.fifos = NotifyFifos.start(first.globalDefs, env.parts(first), this.fifoEnv);
  }

  /** An instance or sync group line (notify.ts fifoLine). */
  vrrp(line: string): void {
    this.fifos.vrrp(line);
  }

  /** A real or virtual server's state: keepalived's `RS [rs]:tcp:80 [vs]:tcp:80 UP`, `VS [vs]:tcp:80 DOWN`. */
  service(vs: VirtualServer, rs: RealServer | undefined, up: boolean): void {
    const v = trio(vs.address ?? '', vs.protocol, vs.port);
    this.fifos.lvs(rs ? rsLine(trio(rs.address, vs.protocol, rs.port), v, up) : vsLine(v, up));
  }

  /** keepalived closes the FIFOs at a reload and opens those of the new configuration, running
   * their scripts again; the old scripts read end of file, and have a while to end. */
  reload(c: Config): void {
    this.fifos.close(FIFO_SCRIPT_GRACE_MS);
    this.fifos = NotifyFifos.start(c.globalDefs, this.env.parts(c), this.fifoEnv);
  }

  /** fifo_close at the stop: unlinked and closed once nothing writes to them. */
  close(): void {
    this.fifos.close();
  }

  /** Their scripts end with us. */
  shutdown(): Promise<void> {
    return this.runner.shutdown();
  }
}
