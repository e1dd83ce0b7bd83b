// keepalived's whole-config checks on the LVS side (check_data.c validate_check_config): references
// from checkers and virtual servers to other blocks, and the scripts the checker process runs.
// Then the one place where what a virtual server, real server or checker inherits is resolved:
// resolveVirtualServers() fills in every value the runtime reads.
import { ipFamily } from '../core/address.js';
import { kept, withoutKeys } from '../core/records.js';
import type { Span } from './diagnostics.js';
import type { BuildContext } from './schema.js';
import type {
  Checker,
  CheckerTimers,
  CheckerTiming,
  LvsMethod,
  LvsTimeouts,
  RealServer,
  ResolvedCheck,
  ResolvedRealServer,
  ResolvedVirtualServer,
  ScriptRef,
  SmtpCheck,
  VirtualServer,
  WrittenConfig,
} from './model/index.js';

export function resolveLvs(cfg: WrittenConfig, ctx: BuildContext): void {
  const groups = new Set(cfg.virtualServerGroups.map((g) => g.name));
  const files = new Set(cfg.trackFiles.map((f) => f.name));
  const bfds = new Set(cfg.bfdInstances.map((b) => b.name));
  cfg.virtualServers = cfg.virtualServers.filter((vs) => {
    if (vs.kind !== 'group' || groups.has(vs.group)) return true;
    ctx.error(
      vs.span,
      'vs-group-missing',
      `Virtual server group ${vs.group} specified but not configured - ignoring virtual server`,
      `define virtual_server_group ${vs.group} { ... }`,
    );
    return false;
  });
  for (const vs of cfg.virtualServers) {
    for (const rs of vs.realServers) {
      rs.checkers = kept(rs.checkers, (c) => {
        if (c.type === 'FILE_CHECK' && c.trackFile !== undefined && !files.has(c.trackFile)) {
          ctx.error(
            c.spans.trackFile ?? c.span,
            'track-missing',
            `FILE_CHECK track_file ${c.trackFile} not found - ignoring`,
            files.size ? `use one of: ${[...files].join(', ')}` : `define track_file ${c.trackFile} { file PATH }`,
          );
          return false;
        }
        if (c.type === 'BFD_CHECK' && c.name !== undefined && !bfds.has(c.name)) {
          ctx.error(c.spans.name ?? c.span, 'track-missing', `BFD_CHECK - BFD ${c.name} not configured - ignoring`, `define bfd_instance ${c.name} { ... }`);
          return false;
        }
        return true;
      });
    }
  }
}

/** Every script the checker side would run, with where it was configured. */
export function lvsScriptsInUse(cfg: WrittenConfig): { script: ScriptRef; at: Span; what: string }[] {
  const out: { script: ScriptRef; at: Span; what: string }[] = [];
  for (const vs of cfg.virtualServers) {
    if (vs.quorumUp) out.push({ script: vs.quorumUp, at: vs.spans.quorumUp ?? vs.span, what: 'quorum_up' });
    if (vs.quorumDown) out.push({ script: vs.quorumDown, at: vs.spans.quorumDown ?? vs.span, what: 'quorum_down' });
    for (const rs of vs.realServers) {
      if (rs.notifyUp) out.push({ script: rs.notifyUp, at: rs.spans.notifyUp ?? rs.span, what: `real_server ${rs.address} notify_up` });
      if (rs.notifyDown) out.push({ script: rs.notifyDown, at: rs.spans.notifyDown ?? rs.span, what: `real_server ${rs.address} notify_down` });
      for (const c of rs.checkers) {
        if (c.type === 'MISC_CHECK' && c.miscPath) out.push({ script: c.miscPath, at: c.spans.miscPath ?? c.span, what: `MISC_CHECK of ${rs.address}` });
      }
    }
  }
  return out;
}

// ---- inheritance -------------------------------------------------------------------------------

/** keepalived's built-in defaults (check_data.c alloc_vs, check_api.c queue_checker). */
export const TIMING_DEFAULTS = { connectTimeout: 5, delayLoop: 60, retry: 1, delayBeforeRetry: 1 } as const;

/** IPVS's default timeouts (ipvsadm --set; the kernel's ip_vs_proto_tcp.c and _udp.c), in seconds. */
export const LVS_TIMEOUT_DEFAULTS: LvsTimeouts = { tcp: 900, tcpfin: 120, udp: 300 };

/** global_defs lvs_timeouts over the defaults; 0 leaves the default, as ipvsadm --set does. */
export function resolveLvsTimeouts(cfg: WrittenConfig): LvsTimeouts {
  const set = cfg.globalDefs.lvsTimeouts ?? {};
  const pick = (k: keyof LvsTimeouts): number => set[k] || LVS_TIMEOUT_DEFAULTS[k];
  return { tcp: pick('tcp'), tcpfin: pick('tcpfin'), udp: pick('udp') };
}

/** keepalived's forwarding method when none is written (it reports it). */
const NAT: LvsMethod = { method: 'NAT' };

export interface EffectiveTiming extends CheckerTiming {
  /** Undefined for MISC_CHECK, which makes no connection. */
  connectTimeout?: number;
}

type TimedChecker = Pick<Checker, 'type'> & Partial<CheckerTimers>;

/**
 * The timers a checker runs with, as keepalived's validate_check_config() resolves them: each
 * unset value comes from the real server, then the virtual server, then the checker type's
 * default (retry: MISC_CHECK 0, DNS_CHECK 3, others 1; delay_before_retry: HTTP_GET/SSL_GET 3,
 * DNS_CHECK the delay_loop, others 1; warmup: the delay_loop). FILE_CHECK and BFD_CHECK are
 * event driven and have no timers: undefined.
 */
export function effectiveTiming(vs: Partial<CheckerTimers>, rs: Partial<CheckerTimers>, checker: TimedChecker): EffectiveTiming | undefined {
  if (checker.type === 'FILE_CHECK' || checker.type === 'BFD_CHECK') return undefined;
  const c = checker as Partial<CheckerTimers>;
  const delayLoop = c.delayLoop ?? rs.delayLoop ?? vs.delayLoop ?? TIMING_DEFAULTS.delayLoop;
  const typeRetry = checker.type === 'MISC_CHECK' ? 0 : checker.type === 'DNS_CHECK' ? 3 : TIMING_DEFAULTS.retry;
  const typeDelay = checker.type === 'HTTP_GET' || checker.type === 'SSL_GET' ? 3 : checker.type === 'DNS_CHECK' ? delayLoop : TIMING_DEFAULTS.delayBeforeRetry;
  return {
    connectTimeout: checker.type === 'MISC_CHECK' ? undefined : (c.connectTimeout ?? rs.connectTimeout ?? vs.connectTimeout ?? TIMING_DEFAULTS.connectTimeout),
    delayLoop,
    retry: c.retry ?? rs.retry ?? vs.retry ?? typeRetry,
    delayBeforeRetry: c.delayBeforeRetry ?? rs.delayBeforeRetry ?? vs.delayBeforeRetry ?? typeDelay,
    warmup: c.warmup ?? rs.warmup ?? vs.warmup ?? delayLoop,
  };
}

/** The deprecated `host {}` blocks are one more checker each; the SMTP_CHECK itself is one only
 * when it sets connection options or has no host (else it becomes the first host), as keepalived. */
export function smtpCheckers(c: SmtpCheck): SmtpCheck[] {
  const own =
    c.connectIp !== undefined ||
    c.connectPort !== undefined ||
    c.bindto !== undefined ||
    c.bindPort !== undefined ||
    c.bindIf !== undefined ||
    c.fwmark !== undefined ||
    c.connectTimeout !== undefined;
  const hosts = c.hosts.map((h): SmtpCheck => ({
    ...c,
    connectIp: h.connectIp,
    connectPort: h.connectPort,
    bindto: h.bindto,
    bindPort: h.bindPort,
    bindIf: h.bindIf,
    fwmark: h.fwmark,
    connectTimeout: h.connectTimeout,
    hosts: [],
  }));
  return own || hosts.length === 0 ? [c, ...hosts] : hosts;
}

/** The virtual servers as they run: every inherited or defaulted value filled in, once. */
/** What the resolved records carry as their checks' timing instead. */
const VS_TIMING = new Set(['delayLoop', 'retry', 'delayBeforeRetry', 'warmup'] as const);
const RS_TIMING = new Set(['delayLoop', 'retry', 'delayBeforeRetry', 'warmup', 'connectTimeout'] as const);

export function resolveVirtualServers(cfg: WrittenConfig): ResolvedVirtualServer[] {
  return cfg.virtualServers.map((vs) => {
    const port = vs.port ?? 0;
    const lvsMethod = vs.lvsMethod ?? NAT;
    const sorry = vs.sorryServer;
    const common = {
      port,
      lvsSched: vs.lvsSched ?? 'wlc',
      lvsMethod,
      protocol: vs.protocol ?? 'TCP',
      connectTimeout: vs.connectTimeout ?? TIMING_DEFAULTS.connectTimeout,
      realServers: vs.realServers.map((rs) => resolveRealServer(cfg, vs, rs)),
      sorryServer: sorry && { address: sorry.address, family: sorry.family, port: sorry.port ?? port, lvsMethod: vs.sorryServerLvsMethod ?? lvsMethod },
    };
    // Only the fields above differ from the written ones; the kind and its header fields are kept.
    return Object.assign(withoutKeys(vs, VS_TIMING), common, { written: vs }) as ResolvedVirtualServer;
  });
}

function resolveRealServer(cfg: WrittenConfig, vs: VirtualServer, rs: RealServer): ResolvedRealServer {
  const port = rs.port ?? vs.port ?? 0;
  const alpha = rs.alpha ?? vs.alpha;
  const checks = rs.checkers
    .flatMap((c): Checker[] => (c.type === 'SMTP_CHECK' ? smtpCheckers(c) : [c]))
    .map((checker): ResolvedCheck => {
      const t = effectiveTiming(vs, rs, checker);
      const timing = t && { delayLoop: t.delayLoop, retry: t.retry, delayBeforeRetry: t.delayBeforeRetry, warmup: t.warmup };
      const net = checker.type !== 'MISC_CHECK' && checker.type !== 'FILE_CHECK' && checker.type !== 'BFD_CHECK' ? checker : undefined;
      const track = checker.type === 'FILE_CHECK' ? cfg.trackFiles.find((f) => f.name === checker.trackFile) : undefined;
      // Without its own weight a FILE_CHECK takes the track_file's weight and reverse.
      const file =
        checker.type === 'FILE_CHECK' && track?.file !== undefined
          ? {
              path: track.file,
              ...(checker.weight === undefined
                ? { weight: track.weight, reverse: track.weightReverse }
                : { weight: checker.weight, reverse: checker.weightReverse }),
            }
          : undefined;
      const hostHeader = checker.type === 'HTTP_GET' || checker.type === 'SSL_GET' ? (checker.virtualhost ?? rs.virtualhost ?? vs.virtualhost) : undefined;
      return {
        checker,
        ...(timing ? { timing } : {}),
        connectTimeout: t?.connectTimeout ?? TIMING_DEFAULTS.connectTimeout,
        alpha: checker.type === 'FILE_CHECK' ? false : checker.type === 'BFD_CHECK' ? (checker.alpha ?? false) : (checker.alpha ?? alpha),
        host: net?.connectIp ?? rs.address,
        port: net?.connectPort ?? port,
        urlVirtualhosts: checker.type === 'HTTP_GET' || checker.type === 'SSL_GET' ? checker.urls.map((u) => u.virtualhost ?? hostHeader) : [],
        // ssl_connect(): SNI only with enable_sni; an address is no host name (RFC 6066), so none is sent.
        urlSni:
          checker.type === 'SSL_GET' && checker.enableSni
            ? checker.urls.map((u) => {
                const name = u.virtualhost ?? checker.virtualhost ?? vs.virtualhost;
                return name && !ipFamily(name) ? name : undefined;
              })
            : [],
        miscTimeout: checker.type === 'MISC_CHECK' ? (checker.miscTimeout ?? t?.delayLoop ?? TIMING_DEFAULTS.delayLoop) : 0,
        ...(file ? { file } : {}),
      };
    });
  return Object.assign(withoutKeys(rs, RS_TIMING), {
    port,
    weight: rs.weight ?? vs.weight,
    lvsMethod: rs.lvsMethod ?? vs.lvsMethod ?? NAT,
    inhibitOnFailure: rs.inhibitOnFailure ?? vs.inhibitOnFailure,
    alpha,
    uthreshold: rs.uthreshold ?? 0,
    lthreshold: rs.lthreshold ?? 0,
    checks,
    written: rs,
  });
}
