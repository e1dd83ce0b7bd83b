// From a checker as it runs (what it inherits already resolved by the config) to the probe that
// runs it: HTTP_GET runs its urls in order and fails on the first failure (keepalived: every url
// must pass in one sweep). FILE_CHECK and BFD_CHECK are the pool's own.
import type { SecureContext } from 'node:tls';
import type { ScriptRunner } from '../proc/script-runner.js';
import type { CheckJob } from './pool.js';
import { dnsProbe } from './probe-dns.js';
import { Pinger } from './probe-ping.js';
import { smtpProbe } from './probe-smtp.js';
import { udpProbe } from './probe-udp.js';
import { httpProbe, miscProbe, tcpProbe, type ProbeResult, type Target } from './probes.js';

/** uid/gid for a MISC_CHECK (its own `user`, else script_user); undefined: run as ourselves. */
export type MiscIdentity = (user?: { user: string; group?: string }) => { uid?: number; gid?: number } | { error: string };

/** The probe for every checker; dispose() fails the PING_CHECKs in flight at once (at shutdown). */
export function makeProbe(
  runner: ScriptRunner,
  identity: MiscIdentity = () => ({}),
  /** SSL_GET's context from the running config's SSL block (undefined: Node's default). */
  tlsContext: () => SecureContext | undefined = () => undefined,
): ((job: CheckJob) => Promise<ProbeResult>) & { dispose(): void } {
  const pinger = new Pinger();
  const probe = async ({ checker, connectTimeout, host, port, urlVirtualhosts, urlSni, miscTimeout }: CheckJob): Promise<ProbeResult> => {
    if (checker.type === 'MISC_CHECK') {
      if (!checker.miscPath) return { ok: false, reason: 'no misc_path' };
      const id = identity(checker.user);
      // A script whose user cannot be resolved does not run as us instead: it fails.
      if ('error' in id) return { ok: false, reason: id.error };
      return miscProbe(runner, checker.miscPath.argv, miscTimeout, checker.miscDynamic, id);
    }
    if (checker.type === 'FILE_CHECK') return { ok: false, reason: 'FILE_CHECK is read by the checker pool, not probed' };
    if (checker.type === 'BFD_CHECK') return { ok: false, reason: 'BFD_CHECK follows its session in the checker pool, not probed' };
    const { bindto, bindPort, fwmark, bindIf } = checker;
    const target: Target = { host, port, bindto, bindPort, fwmark, bindIf, connectTimeout };
    switch (checker.type) {
      case 'TCP_CHECK':
        return tcpProbe(target);
      case 'SMTP_CHECK':
        return smtpProbe(target, checker.heloName);
      case 'DNS_CHECK':
        return dnsProbe(target, checker.name, checker.queryType);
      case 'UDP_CHECK':
        return udpProbe(target, checker);
      case 'PING_CHECK':
        return pinger.ping(target.host, connectTimeout);
    }
    let last: ProbeResult = { ok: false, reason: 'no url' };
    const tls = checker.type === 'SSL_GET';
    const secureContext = tls ? tlsContext() : undefined;
    for (const [i, url] of checker.urls.entries()) {
      const virtualhost = urlVirtualhosts[i];
      const servername = tls ? urlSni[i] : undefined;
      last = await httpProbe(target, url, { tls, protocol: checker.httpProtocol, virtualhost, servername, secureContext });
      if (!last.ok) return last;
    }
    return last;
  };
  return Object.assign(probe, { dispose: () => pinger.dispose() });
}
