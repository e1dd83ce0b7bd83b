// From a checker in the model to the probe that runs it: connect_ip/connect_port default to the
// real server's address and port; HTTP_GET runs its urls in order and fails on the first failure
// (keepalived: every url must pass in one sweep).
import type { ScriptRunner } from '../daemon/script-runner.js';
import type { CheckJob } from './pool.js';
import { httpProbe, miscProbe, tcpProbe, type ProbeResult } from './probes.js';

/** uid/gid for a MISC_CHECK (its own `user`, else script_user); undefined: run as ourselves. */
export type MiscIdentity = (user?: { user: string; group?: string }) => { uid?: number; gid?: number } | { error: string };

export function makeProbe(runner: ScriptRunner, identity: MiscIdentity = () => ({})): (job: CheckJob) => Promise<ProbeResult> {
  return async ({ vs, rs, checker, connectTimeout }) => {
    if (checker.type === 'MISC_CHECK') {
      if (!checker.miscPath) return { ok: false, reason: 'no misc_path' };
      const timeout = checker.miscTimeout ?? checker.delayLoop ?? rs.delayLoop ?? vs.delayLoop ?? 60;
      const id = identity(checker.user);
      // A script whose user cannot be resolved does not run as us instead: it fails.
      if ('error' in id) return { ok: false, reason: id.error };
      return miscProbe(runner, checker.miscPath.argv, timeout, checker.miscDynamic, id);
    }
    if (checker.type !== 'TCP_CHECK' && checker.type !== 'HTTP_GET' && checker.type !== 'SSL_GET') return { ok: false, reason: `${checker.type} is not implemented` };
    const target = { host: checker.connectIp ?? rs.address, port: checker.connectPort ?? rs.port ?? vs.port ?? 0, bindto: checker.bindto, connectTimeout };
    if (checker.type === 'TCP_CHECK') return tcpProbe(target);
    let last: ProbeResult = { ok: false, reason: 'no url' };
    for (const url of checker.urls) {
      const virtualhost = url.virtualhost ?? checker.virtualhost ?? rs.virtualhost ?? vs.virtualhost;
      last = await httpProbe(target, url, { tls: checker.type === 'SSL_GET', protocol: checker.httpProtocol, virtualhost });
      if (!last.ok) return last;
    }
    return last;
  };
}
