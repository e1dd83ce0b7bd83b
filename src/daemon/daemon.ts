// `keepalived-ts -f FILE`: the VRRP daemon. Wires the engine to the real world: a monotonic
// clock, one raw socket per interface, iproute2 and arping for addresses, the script runner for
// checks and notify scripts, pino for logs, and keepalived's signals and pid files.
import { readFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type pino from 'pino';
import { clock } from './clock.js';
import { Generation } from './generation.js';
import { portKey, Ports, type PrimaryAddress } from './ports.js';
import { loadConfig, type LoadResult } from '../config/index.js';
import { realHost } from '../config/resolve-host.js';
import { formatDiagnostic, refusal, type Diagnostic } from '../config/diagnostics.js';
import { trackedNames } from '../config/resolve-vrrp.js';
import {
  DEFAULT_NFT_TABLE,
  nftTableKeyword,
  type Config,
  type GlobalDefs,
  type ResolvedVmac,
  type ResolvedVrrpInstance,
  type VrrpInstance,
} from '../config/model/index.js';
import { garpIntervals } from '../net/garp-pacer.js';
import { IpAddressDriver, NO_STATIC, staticEntries, type StaticEntries } from '../net/addresses.js';
import { LinkMonitor } from '../net/link-monitor.js';
import { VmacWatch } from './vmac-watch.js';
import { NeighbourAdvertiser } from '../net/ndisc.js';
import { NftFirewall, type NftRuleOptions } from '../net/nft-firewall.js';
import { disableLocalIgmp } from '../net/igmp-reports.js';
import { VmacLinks } from '../net/vmac.js';
import { Notifier } from './notify.js';
import { FifoChannel } from './fifo-channel.js';
import { EmailAlerts } from './email-alerts.js';
import { runStartStopScript } from './start-stop-scripts.js';
import { ScriptRunner } from '../proc/script-runner.js';
import { identityFor, readUserDb } from '../proc/users.js';
import { scriptProbe } from '../proc/script-security.js';
import { Balancer } from '../lvs/balancer.js';
import type { ForwarderIo } from '../lvs/forwarder.js';
import { processFds } from '../lvs/fd-budget.js';
import { BfdEndpoint } from '../bfd/endpoint.js';
import { kernelHasIpvs } from '../lvs/ipvs-kernel.js';
import { LvsSync } from './lvs-sync.js';
import { makeProbe } from '../check/dispatch.js';
import { sslContext } from '../check/tls-context.js';
import type { SecureContext } from 'node:tls';
import { CheckerPool } from '../check/pool.js';
import { startControl } from './control.js';
import { clearStats, writeDataDump, writeJsonDump, writeStatsDump, type StatsExtras } from './dumps.js';
import { replaceFile } from './files.js';
import { logDiagnostics } from './config-log.js';
import { batchedLines, daemonLogDestination, daemonLogOptions } from './log-options.js';
import { applyConfigUmask } from './umask.js';
import { SyslogSink, syslogPath } from './syslog.js';
import { claimRuntime } from './ownership.js';
import { onSignalNumber, SIGNALS } from './signals.js';
import { Lifecycle } from './lifecycle.js';
import { systemdNotifier } from './systemd.js';
import { readyFd } from './ready-fd.js';
import { startGate } from './start-gate.js';
import { printable } from '../core/text.js';
import { memo } from '../core/records.js';
import type { ReloadStats } from './metrics.js';
import { closeMetricsServer, startMetricsServer, type MetricsListen } from './metrics-server.js';
import { snmpSubsystem } from './snmp.js';

export interface DaemonOptions {
  file: string;
  configId?: string;
  pidFile?: string;
  vrrpPidFile?: string;
  checkersPidFile?: string;
  /** -b: written only while BFD sessions may run (not with -B). */
  bfdPidFile?: string;
  /** -B: the BFD sessions are not started; what tracks them counts them as down. */
  noBfd?: boolean;
  /** Where SIGUSR1/SIGUSR2 dumps go (keepalived: /tmp; here $TMPDIR, else /tmp). */
  dumpDir?: string;
  logDetail?: boolean;
  /** -l: pino's JSON lines on stdout. */
  logConsole?: boolean;
  /** The syslog facility (-S); undefined: no syslog (-G). */
  syslogFacility?: number;
  /** -P: VRRP only; -C: checkers and load balancer only; neither: both. */
  vrrpOnly?: boolean;
  checkOnly?: boolean;
  /** --data-plane: kernel IPVS or the embedded forwarder; auto (the default) picks kernel IPVS
   * where the kernel has it. The CLI has refused `kernel` without it. */
  dataPlane?: 'auto' | 'kernel' | 'forwarder';
  /** --prometheus: where the metrics endpoint listens; off without it. */
  prometheus?: MetricsListen;
  /** keepalived-ts's version, for the metrics' build info. */
  version?: string;
  /** -x: the SNMP subsystem on (enable_snmp_vrrp and enable_snmp_checker, as keepalived's -x). */
  snmp?: boolean;
  /** -A: the master agent's AgentX socket (over snmp_socket). */
  snmpSocket?: string;
}

type Logger = pino.Logger;

function primaryAddress(ifname: string, family: 4 | 6): string {
  const addrs = networkInterfaces()[ifname] ?? [];
  const a = addrs.find((x) => (family === 4 ? x.family === 'IPv4' : x.family === 'IPv6' && x.address.startsWith('fe80')));
  if (!a) throw new Error(`interface ${ifname} has no IPv${family} address to send adverts from`);
  return a.address;
}

/**
 * Everything of a configuration that can fail on this machine, checked before it replaces the
 * running one (or starts): each instance's interface exists and has an address to send adverts
 * from, and its raw socket opens. Returns the advert source addresses, or one line saying what is
 * wrong, where, and what to write instead.
 */
function preflight(cfg: Config, ports: Ports, log: Logger): { primary: PrimaryAddress; release(): void } | { error: string } {
  const where = (inst: VrrpInstance): string => {
    const at = inst.spans.interface ?? cfg.globalDefs.spans.defaultInterface ?? inst.span;
    return `${at.file}:${at.line}:${at.col}`;
  };
  const addresses = new Map<string, string>();
  const ifnames = new Set<string>();
  const ahKeys = new Set<string>();
  // Each name looked up once (sysfs): 1,000 instances on four interfaces asked 3,000 times.
  const interfaceExists = memo(realHost.interfaceExists);
  for (const inst of cfg.resolved.vrrpInstances) {
    const ifname = inst.interface;
    const family = inst.family;
    const exists = interfaceExists(ifname);
    if (!exists && cfg.globalDefs.dynamicInterfaces) {
      // keepalived: the instance stays FAULT until the interface exists (its link counts as down).
      log.warn(`Configuration specifies interface ${ifname} which doesn't currently exist - will use if created`);
      continue;
    }
    if (!exists) {
      const what = inst.written.interface ? `interface ${ifname}` : `default_interface ${ifname}`;
      return {
        error: `${where(inst)}: error: ${what} for vrrp_instance ${inst.name} doesn't exist (write the name of an interface \`ip link\` lists) [host-interface]`,
      };
    }
    // The socket is the VMAC's when adverts go through one; the source address is the interface's.
    // A VMAC not made yet: its port waits, and opens when the VMAC is made (VmacWatch).
    const key = portKey(inst.sendInterface, family);
    if (interfaceExists(inst.sendInterface)) ifnames.add(key);
    if (inst.authentication?.authType === 'AH' && inst.version === 2 && family === 4) ahKeys.add(key);
    const addressKey = portKey(ifname, family);
    if (addresses.has(addressKey)) continue;
    try {
      addresses.set(addressKey, primaryAddress(ifname, family));
    } catch (e) {
      // unicast_src_ip gives the source itself.
      if (!inst.unicastSrcIp) return { error: `${where(inst)}: error: vrrp_instance ${inst.name}: ${(e as Error).message} (add one, or set unicast_src_ip)` };
    }
  }
  const prepared = ports.prepare(ifnames, ahKeys);
  if ('error' in prepared) return prepared;
  return {
    release: () => ports.release(prepared.opened),
    primary: (ifname, family) => {
      const known = addresses.get(`${ifname}/${family}`);
      if (known) return known;
      try {
        return primaryAddress(ifname, family);
      } catch {
        return family === 4 ? '0.0.0.0' : '::';
      }
    },
  };
}

/** An interface's index (sysfs), undefined when it is missing. */
function ifindexOf(ifname: string): number | undefined {
  try {
    const n = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Every VMAC/ipvlan of the configuration with its instance: its own, then its addresses' (use_vmac_addr). */
function vmacsOf(cfg: Config): [ResolvedVrrpInstance, ResolvedVmac][] {
  return cfg.resolved.vrrpInstances.flatMap((i) => [...(i.vmac ? [i.vmac] : []), ...i.addressVmacs].map((v): [ResolvedVrrpInstance, ResolvedVmac] => [i, v]));
}

/**
 * use_vmac / use_ipvlan: makes the configuration's interfaces that are not there yet, before
 * sockets open on them. One that cannot be made (ip fails, its base is missing) waits in `vmacs`
 * for its base interface's next event. A foreign interface of the name: removes what it made and
 * returns keepalived's line. Else the names it made (for a reload refused later).
 */
async function addVmacs(cfg: Config, vmacs: VmacLinks, log: Logger): Promise<{ error: string } | { added: string[] }> {
  const added: string[] = [];
  for (const [inst, v] of vmacsOf(cfg)) {
    if (!realHost.interfaceExists(v.base)) {
      log.warn(`(${inst.name}) ${v.ifname} not created: interface ${v.base} doesn't exist`);
      vmacs.wait(inst.name, v);
      continue;
    }
    const had = vmacs.has(v.ifname);
    const error = await vmacs.add(inst.name, v);
    // keepalived 2.2.7 runs on with the instance FAULT (its interface is missing) and makes the
    // VMAC when its base interface is added; a foreign interface of the name is our refusal (README).
    if (error && vmacs.conflicts(error, v)) {
      for (const name of added) await vmacs.remove(name);
      return { error };
    }
    if (error) log.warn(error);
    else if (!had) added.push(v.ifname);
  }
  return { added };
}

/** After a reload: ours that the new configuration no longer has go (keepalived: when the instance goes). */
async function dropVmacs(cfg: Config, vmacs: VmacLinks, ports: Ports, driver: IpAddressDriver, firewall: NftFirewall): Promise<void> {
  const keep = new Set(vmacsOf(cfg).map(([, v]) => v.ifname));
  vmacs.keepWaiting(keep);
  for (const name of vmacs.names()) {
    if (keep.has(name)) continue;
    ports.forget(name);
    driver.releaseInterface(name);
    void firewall.removeVmac(name);
    await vmacs.remove(name);
  }
}

/**
 * At the first start, each instance's VIPs, routes and rules are removed where they are (keepalived:
 * vipset "to force address removal" when the interface already existed, then
 * vrrp_restore_interface in vrrp_init_state): what a killed predecessor left on the interface must
 * not stay up beside the new MASTER while this one is BACKUP. Addresses on interfaces that do not
 * exist (yet: a VMAC, dynamic_interfaces) are left out; absent ones are not errors.
 */
function removeLeftovers(instances: readonly ResolvedVrrpInstance[], driver: IpAddressDriver): void {
  const exists = memo(realHost.interfaceExists);
  const here = (v: { dev: string }): boolean => exists(v.dev);
  // One change: written with whatever else this turn brings, after the engine has started (it
  // stays ahead of every add of the instances, so it never undoes one).
  void driver.removeEach(
    instances
      .filter((inst) => exists(inst.interface))
      .map((inst) => ({ ...inst, virtualIpaddress: inst.virtualIpaddress.filter(here), virtualIpaddressExcluded: inst.virtualIpaddressExcluded.filter(here) })),
  );
}

/** The BFD sessions, when a bfd_instance is tracked by a VRRP instance, a sync group or a BFD_CHECK. */
async function startBfd(cfg: Config, log: Logger, enabled: boolean): Promise<BfdEndpoint | undefined> {
  const used = trackedNames(cfg, 'trackBfd');
  for (const vs of cfg.virtualServers) for (const rs of vs.realServers) for (const c of rs.checkers) if (c.type === 'BFD_CHECK' && c.name) used.add(c.name);
  const instances = cfg.bfdInstances.filter((b) => used.has(b.name));
  if (!instances.length) return undefined;
  const ep = new BfdEndpoint(instances, { clock, random: Math.random, log: (l, m) => log[l]({ bfd: true }, m) });
  if (!enabled) {
    // -B: as a session that could not start, so what tracks it fails safe.
    log.warn(`BFD not run (-B): ${instances.length} tracked session(s) count as down`);
    return ep;
  }
  try {
    await ep.start();
  } catch (e) {
    // Kept, never started: its sessions stay Down, so what tracks them fails safe (FAULT, real
    // servers out) rather than being ignored.
    log.error(`cannot start the BFD sessions: ${(e as Error).message}; the sessions count as down`);
  }
  return ep;
}

/** What of the bfd_instances a restart would change. */
/** The nftables options a reload may change (the table name it may not). */
const nftRules = (g: GlobalDefs): NftRuleOptions => ({ priority: g.nftablesPriority ?? -1, counters: g.nftablesCounters, ifindex: g.nftablesIfindex ?? false });
const bfdKey = (cfg: Config): string => JSON.stringify(cfg.bfdInstances.map(({ span: _s, spans: _t, ...b }) => b));

/** How long a stop after a crash may take before the process ends anyway. */
const CRASH_STOP_LIMIT_MS = 5000;
/** keepalived 2.2.7's exit status when an instance's interface does not exist (observed). */
const EXIT_NO_INTERFACE = 2;
/** keepalived's KEEPALIVED_EXIT_NO_CONFIG: no main config file it can read. */
const EXIT_NO_CONFIG = 6;
/** keepalived's KEEPALIVED_EXIT_CONFIG: a child that cannot run its config ends the daemon. */
const EXIT_CONFIG = 2;
const MAIN_FILE_UNREAD = new Set(['file-missing', 'file-skipped', 'file-unreadable']);

/**
 * V8 doubles its young generation (up to 2 x 16 MB) whenever scavenges see many survivors, as
 * while a large configuration is built, and never gives it back: 1,000 instances held 29 MB of
 * idle new space (133 MB RSS in the scale bench). Growth factor 1 keeps the new space at its
 * initial size (the flag is read at each growth, so setting it now takes effect; the
 * semi-space maximum is not): 118 MB, for ~0.5% more CPU of one core in steady state (a
 * scavenge every ~0.5 s instead of every few seconds).
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

export function runDaemon(opts: DaemonOptions): Promise<number> {
  keepYoungGenerationSmall();
  const syslog =
    opts.syslogFacility === undefined
      ? undefined
      : new SyslogSink({ path: syslogPath(process.env), facility: opts.syslogFacility, pid: process.pid, warn: (line) => process.stderr.write(`${line}\n`) });
  // Required here, not imported: the bundle hoists an external import to its top, and the config
  // test would load pino (a dozen modules) for nothing.
  const pinoMod = createRequire(import.meta.url)('pino') as typeof pino;
  const log = pinoMod(
    daemonLogOptions(opts.logDetail),
    daemonLogDestination({
      console: opts.logConsole ? pinoMod.destination({ fd: 1, sync: true }) : undefined,
      syslog,
      fallback: batchedLines((text) => process.stderr.write(text)),
    }),
  );
  return new Promise<number>((resolve) => {
    let ended = false;
    const end = (code: number): void => {
      if (ended) return;
      ended = true;
      process.exitCode = code;
      resolve(code);
    };
    // The running parts, as far as start got; stop() stops what exists.
    let owned: Exclude<Awaited<ReturnType<typeof claimRuntime>>, number> | undefined;
    let running: Running | undefined;
    const systemd = systemdNotifier(process.env, (level, msg) => log[level](msg));
    // Forked (no -n): the starter waits for this word, as systemd waits for READY=1.
    const tellStarter = readyFd(process.env);
    const life = new Lifecycle({
      reload: () => running?.reload() ?? Promise.resolve(),
      stop: async (why) => {
        log.info(`${why}: stopping`);
        // A crash during the start: what the start still brings up is stopped too (the crash
        // bound ends us if the start never finishes).
        const r = running ?? (await started.catch(() => undefined));
        if (r && typeof r !== 'number') await r.stop();
        owned?.release();
        log.info('Stopped');
      },
      exit: (code) => {
        systemd.close();
        syslog?.close();
        end(code);
      },
      log: (level, message) => log[level](message),
      phase: (to, from) => {
        systemd.phase(to, from);
        if (to === 'running') tellStarter();
      },
    });
    // One policy for what nobody caught: log the cause, then do what SIGTERM does, with a failure
    // status; a stop that hangs or throws does not keep us from ending.
    const crash = (what: string, err: unknown): void => {
      const e = err instanceof Error ? err : new Error(String(err));
      log.fatal({ err: e }, `${what}: ${e.stack ?? e.message}`);
      if (life.state.phase === 'stopped') return;
      process.exitCode = 1;
      setTimeout(() => {
        log.fatal(`stop after the ${what.toLowerCase()} did not finish within ${CRASH_STOP_LIMIT_MS} ms: exiting anyway`);
        owned?.release();
        process.exit(1);
      }, CRASH_STOP_LIMIT_MS);
      life.dispatch({ type: 'crash', why: what, code: 1 });
    };
    process.on('uncaughtException', (err) => crash('Uncaught exception', err));
    process.on('unhandledRejection', (reason) => crash('Unhandled rejection', reason));
    process.on('SIGTERM', () => life.dispatch({ type: 'stop', why: 'Received SIGTERM', code: 0 }));
    process.on('SIGINT', () => life.dispatch({ type: 'stop', why: 'Received SIGINT', code: 0 }));
    process.on('SIGHUP', () => life.dispatch({ type: 'reload' }));

    const started = startDaemon(opts, log, {
      owned: (o) => (owned = o),
      aborted: () => life.state.phase !== 'starting',
    });
    started.then(
      (r) => {
        if (typeof r === 'number') return life.dispatch({ type: 'done', failed: r });
        // Stopping already (a crash during the start): that stop takes care of it.
        if (life.state.phase !== 'starting') return;
        running = r;
        life.dispatch({ type: 'done' });
        testCrashSeam(log);
      },
      (e: unknown) => crash('Start failed', e),
    );
  });
}

/**
 * Test seam, for the fail-safe tests only: KEEPALIVED_TS_TEST_CRASH=<ms> throws an uncaught
 * exception that many milliseconds after start; <ms>:hang-stop also makes the stop that follows
 * hang once VRRP has stopped (priority 0 sent, VIPs removed), to show the crash bound ends the
 * process anyway. Not for production use.
 */
function testSeam(): { crashMs?: number; hangStop: boolean } {
  const raw = process.env.KEEPALIVED_TS_TEST_CRASH;
  const m = raw ? /^(\d+)(:hang-stop)?$/.exec(raw) : null;
  return m ? { crashMs: Number(m[1]), hangStop: !!m[2] } : { hangStop: false };
}

function testCrashSeam(log: Logger): void {
  const raw = process.env.KEEPALIVED_TS_TEST_CRASH;
  const { crashMs, hangStop } = testSeam();
  if (raw && crashMs === undefined) log.warn(`KEEPALIVED_TS_TEST_CRASH=${printable(raw)} ignored: write <ms> or <ms>:hang-stop (test seam)`);
  if (crashMs === undefined) return;
  log.warn(`KEEPALIVED_TS_TEST_CRASH: an uncaught exception in ${crashMs} ms${hangStop ? ', then a stop that hangs' : ''} (test seam)`);
  setTimeout(() => {
    throw new Error('injected crash (KEEPALIVED_TS_TEST_CRASH)');
  }, crashMs);
}

/** KEEPALIVED_TS_FORWARDER_IO: unset or empty (the default path), `handles` or `streams`. */
export function forwarderIo(value: string | undefined): ForwarderIo | undefined | { error: string } {
  if (!value) return undefined;
  if (value === 'handles' || value === 'streams') return value;
  return { error: `KEEPALIVED_TS_FORWARDER_IO: unknown value '${printable(value)}' (write handles or streams, or unset it); not starting` };
}

/** The SSL block's context when an SSL_GET checker runs (keepalived's ssl_required), else undefined. */
function sslFor(cfg: Config): { context: SecureContext | undefined } | { error: string[] } | undefined {
  const sslGet = cfg.resolved.virtualServers.some((vs) => vs.realServers.some((rs) => rs.checks.some((c) => c.checker.type === 'SSL_GET')));
  if (!sslGet) return undefined;
  const ctx = sslContext(cfg.ssl);
  return ctx && 'error' in ctx ? ctx : { context: ctx };
}

/** The reload check's findings, one per line, as keepalived writes its --config-test log. */
function writeCheckLog(path: string, diags: readonly Diagnostic[], log: Logger): void {
  try {
    replaceFile(path, diags.map((d) => formatDiagnostic(d) + '\n').join(''), 0o644);
  } catch (e) {
    log.error(`reload_check_config: cannot write ${path}: ${(e as Error).message}`);
  }
}

interface Running {
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts everything; returns the exit status instead when the daemon cannot or must not run. */
async function startDaemon(
  opts: DaemonOptions,
  log: Logger,
  seam: { owned(o: Exclude<Awaited<ReturnType<typeof claimRuntime>>, number>): void; aborted(): boolean },
): Promise<Running | number> {
  // Scripts are checked as keepalived checks them at start and at each reload: the ones it would
  // disable (missing, not executable, unsafe with enable_script_security) are gone from the config.
  const load = (): LoadResult =>
    loadConfig(opts.file, { configId: opts.configId, scripts: scriptProbe(), scriptParts: { vrrp: !opts.checkOnly, checker: !opts.vrrpOnly } });
  // The escape hatch from the forwarder's libuv-handle path (Node internals) to net.Socket: a
  // value we do not know is refused, not taken for the default.
  const io = forwarderIo(process.env.KEEPALIVED_TS_FORWARDER_IO);
  if (typeof io === 'object') {
    process.stderr.write(`keepalived-ts: ${io.error}\n`);
    log.fatal(io.error);
    return 1;
  }
  const first = load();
  logDiagnostics(first.diagnostics, log);
  applyConfigUmask(first.config.globalDefs.umask, log);
  // keepalived's check_conf_file(): no main config to read (missing, a directory, an executable,
  // unreadable) is exit 6 at start, where -t only reports it.
  const unread = first.diagnostics.find((d) => d.line === 0 && d.file === opts.file && MAIN_FILE_UNREAD.has(d.rule));
  if (unread) {
    process.stderr.write(`${printable(formatDiagnostic(unread))}\n`);
    log.fatal('no configuration file to read; not starting');
    return EXIT_NO_CONFIG;
  }
  if (refusal(first.diagnostics, false)) {
    log.fatal('configuration cannot be run; not starting');
    return 4;
  }
  // keepalived's VRRP process exits when it cannot complete an instance (vrrp_complete_init), and
  // its parent terminates with it: nothing is brought up.
  const incomplete = opts.checkOnly ? undefined : first.diagnostics.find((d) => d.stopsVrrp);
  if (incomplete) {
    process.stderr.write(`${printable(formatDiagnostic(incomplete))}\n`);
    log.fatal('Keepalived_vrrp exited with permanent error CONFIG. Terminating');
    return EXIT_CONFIG;
  }
  // SSL_GET's context (keepalived's init_ssl_ctx): a certificate, key or CA file that does not
  // load ends keepalived's checker process with a fatal error, and with it the daemon.
  let tls = opts.vrrpOnly ? undefined : sslFor(first.config);
  if (tls && 'error' in tls) {
    for (const line of tls.error) log.fatal(line);
    process.stderr.write(`keepalived-ts: ${printable(tls.error[0])}; not starting\n`);
    return 1;
  }
  // One daemon per pid file; the pid files of the parts that run (-P: no checkers, -C: no VRRP).
  const pidFiles = [
    opts.pidFile,
    opts.checkOnly ? undefined : opts.vrrpPidFile,
    opts.vrrpOnly ? undefined : opts.checkersPidFile,
    opts.noBfd ? undefined : opts.bfdPidFile,
  ];
  const owned = await claimRuntime(
    pidFiles.filter((f): f is string => !!f),
    opts.pidFile,
    log,
  );
  if (typeof owned === 'number') return owned;
  seam.owned(owned);

  // What keepalived's VRRP process would log goes out under its ident (Keepalived_vrrp).
  const vrrpLog = log.child({ subsystem: 'vrrp' });
  const ports = new Ports(vrrpLog);
  // With -C the VRRP side is not configured at all: no raw sockets, no root needed.
  const vrrpPart = (c: Config): Config => (opts.checkOnly ? { ...c, vrrpInstances: [], syncGroups: [], resolved: { ...c.resolved, vrrpInstances: [] } } : c);
  const garpIntervalsOf = (c: Config) => garpIntervals(c.globalDefs.vrrpGarpInterval, c.garpGroups);
  const driver = new IpAddressDriver({ log: (l, m) => vrrpLog[l](m), detail: opts.logDetail, clock, garpIntervalUs: garpIntervalsOf(first.config) });
  // use_vmac / use_ipvlan: their interfaces exist before the sockets open on them; their ip
  // commands go through the address driver's ip -batch.
  const vmacs = new VmacLinks({ log: (l, m) => vrrpLog[l](m), exec: (argv) => driver.run(argv) });
  const made = await addVmacs(vrrpPart(first.config), vmacs, vrrpLog);
  if ('error' in made) {
    process.stderr.write(`${printable(made.error)}\n`);
    log.fatal(`${made.error}; not starting`);
    owned.release();
    return EXIT_NO_INTERFACE;
  }
  // keepalived 2.2.7 does not start when an instance's interface is missing ("Non-existent
  // interface specified in configuration", exit 2): one line says which and where.
  const ready = preflight(vrrpPart(first.config), ports, vrrpLog);
  if ('error' in ready) {
    process.stderr.write(`${printable(ready.error)}\n`);
    log.fatal('Non-existent interface specified in configuration; not starting');
    await ports.close();
    await vmacs.close();
    owned.release();
    return EXIT_NO_INTERFACE;
  }

  const users = readUserDb();
  // Who a notify, MISC_CHECK, notify_up/down, FIFO or startup/shutdown script runs as: its own
  // user, else script_user, under the running configuration's global_defs.
  let live = first.config;
  const identity = identityFor(users, () => live.globalDefs);
  const startStop = { identity, log: (l: 'info' | 'warn', m: string) => log[l](m), detail: opts.logDetail };
  // keepalived runs startup_script before it starts its VRRP and checker processes, and waits.
  const startup = first.config.globalDefs.startupScript;
  if (startup) await runStartStopScript('startup', startup, first.config.globalDefs.startupScriptTimeout, startStop);

  const runner = new ScriptRunner();
  // Notify scripts get their own runner: hung ones (keepalived puts no timeout on them) must not
  // take the slots of the vrrp_script checks.
  const notifyRunner = new ScriptRunner();
  const notifier = new Notifier(notifyRunner, {
    identity,
    onResult: (rec) => {
      const r = rec.result;
      if (r && (r.error || r.code !== 0))
        log.warn({ script: rec.argv }, `${rec.keyword} script ${rec.argv[0]} failed: ${r.error ?? (r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`)}`);
    },
  });
  const na = new NeighbourAdvertiser({ log: (l, m) => vrrpLog[l](m) });
  // keepalived names the table from the first configuration: a reload may not change it.
  const firewall = new NftFirewall({
    table: first.config.globalDefs.nftables?.[0] ?? DEFAULT_NFT_TABLE,
    ...nftRules(first.config.globalDefs),
    log: (l, m) => vrrpLog[l](m),
  });
  /** A VMAC of ours is there: its IGMP/MLD reports go out on its base (keepalived firewall_add_vmac). */
  const vmacFirewall = (ifname: string): void => {
    const mine = vmacs.get(ifname);
    const inst = mine && vrrpPart(live).resolved.vrrpInstances.find((i) => i.name === mine.instance);
    if (!mine || !inst) return;
    // The eVIPs' other family counts for the instance's own VMAC only (keepalived's addr_vrrp has no flags).
    const other = inst.vmac?.ifname === ifname && inst.virtualIpaddressExcluded.some((v) => v.family !== inst.family);
    void firewall.addVmac(mine.vmac, NftFirewall.vmacFamilies(mine.vmac, other, live.globalDefs.disableLocalIgmp), ifindexOf);
  };
  for (const name of vmacs.names()) vmacFirewall(name);
  // keepalived: set once as VRRP first starts, put back at its end; a reload may not change it.
  const restoreIgmp =
    first.config.globalDefs.disableLocalIgmp && vrrpPart(first.config).vrrpInstances.length ? disableLocalIgmp((m) => vrrpLog.info(m)) : () => {};
  // BFD sessions (bfd_instance) for track_bfd and BFD_CHECK: keepalived's BFD process, here one
  // endpoint for both, with the sessions the running parts track (-P: no checkers, -C: no VRRP).
  const bfd = await startBfd(opts.vrrpOnly ? { ...vrrpPart(first.config), virtualServers: [] } : vrrpPart(first.config), log, !opts.noBfd);
  // The notify FIFOs, open before VRRP and the checkers start.
  const fifos = new FifoChannel(first.config, {
    parts: (c) => ({ vrrp: !opts.checkOnly && c.vrrpInstances.length > 0, lvs: !opts.vrrpOnly && c.virtualServers.length > 0 }),
    users,
    live: () => live.globalDefs,
    identity,
    log: (l, m) => log[l](m),
  });
  const links = new LinkMonitor((l, m) => log[l](m));
  const mail = new EmailAlerts(first.config.globalDefs, (l, m) => log[l](m), opts.logDetail);
  // lvs_sync_daemon (kernel IPVS only): the VRRP side follows its instance's state changes.
  const ipvs = opts.dataPlane !== 'forwarder' && kernelHasIpvs();
  const sync = new LvsSync(first.config, {
    ipvs,
    noIpvsReason: opts.dataPlane === 'forwarder' ? 'the data plane is the embedded forwarder (--data-plane=forwarder)' : 'no kernel IPVS (/proc/net/ip_vs)',
    vrrpRuns: !opts.checkOnly,
    checkerRuns: !opts.vrrpOnly,
    vrrpLog: (l, m) => vrrpLog[l](m),
    lvsLog: (l, m) => log[l]({ lvs: true }, m),
    log: (l, m) => log[l](m),
  });
  // SNMP (enable_snmp_vrrp, enable_snmp_checker, -x): connected to the master agent before the
  // instances start, as keepalived's VRRP process, so the trap of their first state is sent; a
  // request reads the instances and the load balancer as they stand then.
  let balancer: Balancer | undefined;
  const snmp = snmpSubsystem({
    globalDefs: first.config.globalDefs,
    live: () => live.globalDefs,
    engine: () => gen.engine,
    services: () => balancer?.services ?? [],
    option: opts.snmp,
    socket: opts.snmpSocket,
    vrrpRuns: !opts.checkOnly,
    checkerRuns: !opts.vrrpOnly,
    version: opts.version ?? 'unknown',
    log: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
    detail: opts.logDetail,
  });
  const snmpEvents = snmp.events;
  // One generation per configuration, sharing the daemon's sockets, drivers and channels; a
  // reload's takes over the runners of the one before.
  const generation = (c: Config, primary: PrimaryAddress, previous?: Generation): Generation =>
    new Generation(
      vrrpPart(c),
      vrrpLog,
      runner,
      notifier,
      driver,
      ports,
      users,
      bfd,
      primary,
      (l) => fifos.vrrp(l),
      mail,
      links,
      na,
      firewall,
      (name, from, to) => sync.transition(name, from, to),
      snmpEvents,
      !!opts.logDetail,
      previous,
    );
  let gen = generation(first.config, ready.primary);

  const runLvs = !opts.vrrpOnly && first.config.virtualServers.length > 0;
  log.info(
    `Starting keepalived-ts, ${gen.config.vrrpInstances.length} VRRP instance(s), ${runLvs ? first.config.virtualServers.length : 0} virtual server(s) from ${opts.file}`,
  );
  // static_ipaddress/routes/rules: the VRRP process sets them before its instances run (start_vrrp).
  const statics = (c: Config): StaticEntries => (opts.checkOnly ? NO_STATIC : staticEntries(c));
  let staticSet = statics(first.config);
  const gate = await startGate(process.env);
  if (gate) log.info(`Start gate ${gate} opened`);
  void driver.setStatic(staticSet);
  if (!opts.checkOnly) removeLeftovers(gen.config.resolved.vrrpInstances, driver);
  await snmp.start();
  gen.start();
  const vmacWatch = new VmacWatch({
    links,
    vmacs,
    exists: (n) => realHost.interfaceExists(n),
    forget: (n) => {
      driver.releaseInterface(n);
      na.forget(n);
      return driver.restartBatch();
    },
    restored: (ifname, name) => {
      vmacFirewall(ifname);
      ports.reopen(ifname);
      gen.portOpened(ifname);
      // Its link events came before its sockets opened: the trackers read it again.
      links.touch(ifname);
      // An instance that stayed MASTER (its own interface is another one) puts its addresses back.
      const inst = gen.config.resolved.vrrpInstances.find((i) => i.name === name);
      const state = gen.engine.instances.find((i) => i.inst.name === name)?.runner.state.state;
      if (!inst || state !== 'MASTER') return;
      void driver.add(inst);
      driver.gratuitousEach(
        inst.name,
        inst.virtualIpaddress.filter((v) => v.dev === ifname),
      );
    },
    log: (l, m) => vrrpLog[l](m),
  });
  vmacWatch.update();
  // The checkers and the data plane: kernel IPVS where the kernel has it (as keepalived), the
  // embedded forwarder everywhere else.
  const checkRunner = new ScriptRunner();
  // notify_up/down, quorum_up/down running now: shutdown (omega) waits for them as for notifies.
  const lvsScripts = new Set<Promise<unknown>>();
  const dataPlane = ipvs ? 'kernel' : 'forwarder';
  const lvsLog = (l: 'info' | 'warn', m: string): void => log[l]({ lvs: true }, m);
  // The checker service: one for the daemon, one bound on probes in flight; it reports to the
  // load balancer through the balancer's health contract.
  let checks: CheckerPool | undefined;
  const newBalancer = (cfg: Config): Balancer => {
    checks ??= new CheckerPool(
      undefined,
      {
        clock,
        probe: makeProbe(checkRunner, identity, () => (tls && 'error' in tls ? undefined : tls?.context)),
        random: Math.random,
        bfd: bfd?.viewFor('checker'),
        maxInFlight: processFds(lvsLog).checkReserve,
      },
      { log: lvsLog },
    );
    lvsLog(
      'info',
      dataPlane === 'kernel'
        ? 'Using kernel IPVS (ipvsadm) as the data plane'
        : opts.dataPlane === 'forwarder'
          ? 'Using the embedded forwarder (--data-plane=forwarder)'
          : 'No kernel IPVS (/proc/net/ip_vs): using the embedded forwarder',
    );
    return new Balancer(cfg, {
      clock,
      dataPlane,
      health: checks,
      fds: processFds(),
      forwarderIo: io,
      log: lvsLog,
      // The notify FIFO lines, mail and traps of a real or virtual server going up or down.
      stateChange: (vs, rs, up, detail) => {
        fifos.service(vs, rs, up);
        mail.lvs(vs, rs, up, detail);
        snmp.events.lvs(vs, rs, up);
      },
      checkerChange: (vs, rs, up, alive, reason) => mail.checker(vs, rs, up, alive, reason),
      // notify_up/down and quorum_up/down: configured arguments only, as their own user.
      runScript: (script) => {
        const id = identity(script);
        if ('error' in id) return void log.error(id.error);
        const run = notifyRunner.run(script.argv, { timeoutMs: 0, ...id });
        lvsScripts.add(run);
        void run.finally(() => lvsScripts.delete(run));
      },
    });
  };
  const startBalancer = async (b: Balancer): Promise<void> => {
    try {
      await b.start();
    } catch (e) {
      log.error(`cannot start the load balancer: ${(e as Error).message}`);
    }
  };
  balancer = runLvs ? newBalancer(first.config) : undefined;
  if (balancer && !seam.aborted()) await startBalancer(balancer);
  if (!seam.aborted()) await sync.startChecker();
  const control = startControl({ ipvs: () => balancer?.listing() ?? [] }, owned.control);
  // The Prometheus endpoint (--prometheus): every value is read at the scrape from what runs then,
  // so a reload changes what it shows, never the listener.
  const reloads: ReloadStats = { success: 0, refused: 0, lastSuccessAt: Date.now() / 1000 };
  const metrics = opts.prometheus
    ? await startMetricsServer(
        // Loaded only here: prom-client's start-up (its default collectors) is most of a
        // second of a busy director's start, for a daemon that may never be scraped.
        (await import('./metrics.js')).metricsRegistry({
          engine: () => (opts.checkOnly ? undefined : gen.engine),
          scripts: () => {
            const down = new Set(gen.engine.trackedDown);
            return [...trackedNames(gen.config, 'trackScript')].sort().map((name) => ({ name, up: !down.has(`script:${name}`) }));
          },
          services: () => balancer?.listing() ?? [],
          checked: () => checks?.status ?? [],
          reloads,
          version: opts.version ?? 'unknown',
        }),
        opts.prometheus,
      ).then(
        (srv) => {
          log.info(
            `Prometheus metrics at http://${opts.prometheus!.host.includes(':') ? `[${opts.prometheus!.host}]` : opts.prometheus!.host}:${opts.prometheus!.port}/metrics`,
          );
          return srv;
        },
        (e: Error) => {
          // VRRP and the load balancer matter more than their metrics: they run on, without.
          log.error(`cannot serve Prometheus metrics on ${opts.prometheus!.host} port ${opts.prometheus!.port}: ${e.message}; running without them`);
          return undefined;
        },
      )
    : undefined;
  control.on('error', (e) => log.warn(`control socket ${owned.control}: ${e.message}`));
  control.on('listening', () => log.info(`Control socket ${owned.control}`));

  const dumpDir = opts.dumpDir ?? tmpdir();
  process.on('SIGUSR1', () => writeDataDump(`${dumpDir}/keepalived.data`, gen.engine, gen.config.globalDefs.routerId, log));
  const extras = (): StatsExtras => ({ sockets: ports.stats(), services: balancer?.counters() ?? [] });
  process.on('SIGUSR2', () => writeStatsDump(`${dumpDir}/keepalived.stats`, gen.engine, log, extras()));
  // keepalived's real-time signals, which would otherwise end us without priority 0 (signals.ts).
  const realtime = {
    [SIGNALS.JSON]: () => writeJsonDump(`${dumpDir}/keepalived.json`, gen.engine, log, clock.now()),
    [SIGNALS.STATS_CLEAR]: () => {
      log.info('Printing and clearing VRRP stats on signal');
      writeStatsDump(`${dumpDir}/keepalived.stats`, gen.engine, log, extras());
      clearStats(gen.engine);
    },
  };
  for (const [sig, handler] of Object.entries(realtime)) {
    const watched = onSignalNumber(Number(sig), handler);
    if (typeof watched === 'string') log.warn(`signal ${sig} will stop the daemon without cleanup: ${watched}`);
  }

  // The reload counts the metrics show.
  const reloaded = (ok: boolean): void => {
    const now = Date.now() / 1000;
    if (ok) reloads.success++;
    else reloads.refused++;
    Object.assign(reloads, { lastAt: now, lastOk: ok }, ok ? { lastSuccessAt: now } : {});
  };

  const shutdownScript = async (): Promise<void> => {
    const g = live.globalDefs;
    if (g.shutdownScript) await runStartStopScript('shutdown', g.shutdownScript, g.shutdownScriptTimeout, startStop);
  };

  return {
    async stop(): Promise<void> {
      // Each part is stopped even when one before it fails: priority 0 and the VIPs come first.
      const steps: [string, () => unknown][] = [
        // From now on a VMAC that goes is not made again.
        ['VMAC watch', () => vmacWatch.close()],
        // keepalived 2.2.7 exits before its Stopping / Shutting down mails leave (seen against a
        // real SMTP server, test/vrrp/email.test.ts): none are sent, and what is in flight is cut.
        ['email alerts', () => mail.close()],
        // vrrp_daemon.c: the sync daemon stops before the instances leave MASTER.
        ['IPVS sync daemon (VRRP)', () => sync.stopVrrp()],
        ['VRRP', () => gen.stop()],
        // After the VIPs are gone: keepalived deletes its table at the end (nft_end).
        ['firewall', () => firewall.close()],
        ['igmp_link_local_mcast_reports', () => restoreIgmp()],
        ['static addresses, routes and rules', () => driver.clearStatic(staticSet)],
        ['gratuitous ARP', () => driver.closeGarp()],
        ['link monitor', () => links.close()],
        ...(testSeam().hangStop
          ? [['test seam', () => new Promise<never>(() => log.warn('KEEPALIVED_TS_TEST_CRASH: the stop hangs here (test seam)'))] as [string, () => unknown]]
          : []),
        ['load balancer', () => balancer?.stop()],
        ['IPVS sync daemon (checker)', () => sync.stopChecker()],
        // Silent from now on: the BFD neighbours detect it, as when keepalived's BFD process ends.
        ['BFD', () => bfd?.stop()],
        ['control socket', () => control.close()],
        ['metrics endpoint', () => metrics && closeMetricsServer(metrics)],
        ['SNMP subagent', () => snmp.close()],
        ['checkers', () => checkRunner.shutdown()],
        ['sockets', () => ports.close()],
        ['neighbour adverts', () => na.close()],
        // Once the priority-0 adverts have left and nothing holds them (keepalived: vrrp_shutdown's netlink_link_del_vmac).
        ['VMAC interfaces', () => vmacs.close()],
        ['notify FIFOs', () => fifos.close()],
        ['FIFO scripts', () => fifos.shutdown()],
        // STOP notifies have keepalived's 1 s limit; then nothing of ours may outlive us.
        ['notify scripts', () => Promise.race([Promise.all([notifier.settled(), ...lvsScripts]), new Promise((r) => setTimeout(r, 1500))])],
        ['scripts', () => runner.shutdown()],
        ['notify runner', () => notifyRunner.shutdown()],
        // keepalived: once everything has stopped, the shutdown_script, then the exit.
        ['shutdown script', () => shutdownScript()],
      ];
      for (const [what, run] of steps) {
        try {
          await run();
        } catch (e) {
          log.error(`stopping the ${what}: ${(e as Error).message}`);
        }
      }
    },

    /** SIGHUP: the new configuration replaces the running one only when all of it can run here. */
    async reload(): Promise<void> {
      const next = load();
      const refused = refusal(next.diagnostics, true);
      // keepalived-ts always checks a new config before it replaces the running one; with
      // reload_check_config LOG_FILE (the running config's), the findings also go to that file.
      const checkLog = gen.config.globalDefs.reloadCheckConfig;
      if (typeof checkLog === 'string') writeCheckLog(checkLog, next.diagnostics, log);
      if (refused) {
        // A broken config never replaces a working one: keep running what we have.
        for (const d of next.diagnostics) if (d.severity === 'error') log.error({ rule: d.rule }, formatDiagnostic(d));
        log.error(`Reload of ${opts.file} failed with ${refused}; keeping the running configuration`);
        return reloaded(false);
      }
      // Prepare: whatever of the new configuration can fail on this host (interfaces, the VRRP
      // sockets, the new virtual servers' listeners) is opened now, and nothing running is touched.
      // Either all of it can run, or the reload is refused as a whole with one line.
      const refuse = (why: string): void => {
        log.error(`Reload of ${opts.file} refused; keeping the running configuration: ${why}`);
        reloaded(false);
      };
      // keepalived's reload_config(): its table name is fixed until a restart.
      if (nftTableKeyword(next.config.globalDefs) !== nftTableKeyword(live.globalDefs))
        return refuse('Cannot change nftables table name at a reload - please restart keepalived');
      if (next.config.globalDefs.disableLocalIgmp !== live.globalDefs.disableLocalIgmp)
        return refuse('Cannot change disable_local_igmp at a reload - please restart keepalived');
      const nextTls = opts.vrrpOnly ? undefined : sslFor(next.config);
      if (nextTls && 'error' in nextTls) return refuse(nextTls.error.join('; '));
      const madeNow = await addVmacs(vrrpPart(next.config), vmacs, vrrpLog);
      const waitingNow = new Set(vmacsOf(vrrpPart(live)).map(([, v]) => v.ifname));
      if ('error' in madeNow) {
        vmacs.keepWaiting(waitingNow);
        return refuse(madeNow.error);
      }
      const dropNew = async (): Promise<void> => {
        vmacs.keepWaiting(waitingNow);
        for (const name of madeNow.added) await vmacs.remove(name);
      };
      const prepared = preflight(vrrpPart(next.config), ports, vrrpLog);
      if ('error' in prepared) {
        await dropNew();
        return refuse(prepared.error);
      }
      // The first virtual_server blocks arrive with this reload: the load balancer starts empty
      // and takes them as any reload does.
      const fresh = !balancer && !opts.vrrpOnly && next.config.virtualServers.length > 0;
      const lb = fresh ? newBalancer({ ...next.config, virtualServers: [], resolved: { ...next.config.resolved, virtualServers: [] } }) : balancer;
      if (fresh && lb) await startBalancer(lb);
      const lbReload = lb ? await lb.prepareReload(next.config) : undefined;
      if (lbReload && 'error' in lbReload) {
        prepared.release();
        await dropNew();
        if (fresh) await lb?.stop();
        return refuse(lbReload.error);
      }
      // Commit.
      log.info('Reloading');
      logDiagnostics(next.diagnostics, log);
      applyConfigUmask(next.config.globalDefs.umask, log);
      balancer = lb;
      if (lbReload) await lbReload.commit().catch((e: Error) => log.error(`reload of the load balancer: ${e.message}`));
      const old = gen;
      if (bfdKey(next.config) !== bfdKey(first.config)) log.warn('bfd_instance changes take effect at the next restart: the running BFD sessions are kept');
      live = next.config;
      tls = nextTls;
      fifos.reload(next.config);
      mail.configure(next.config.globalDefs);
      driver.setGarpIntervals(garpIntervalsOf(next.config));
      firewall.configure(nftRules(next.config.globalDefs));
      gen = generation(next.config, prepared.primary, old);

      await old.stop(gen);
      await dropVmacs(vrrpPart(next.config), vmacs, ports, driver, firewall);
      for (const name of madeNow.added) vmacFirewall(name);
      const nextStatic = statics(next.config);
      void driver.setStatic(nextStatic, staticSet);
      staticSet = nextStatic;
      gen.start();
      vmacWatch.update();
      await sync.reload(next.config, (name) => gen.engine.instances.find((i) => i.inst.name === name)?.runner.state.state);
      reloaded(true);
      log.info(`Reload finished: ${gen.adopted.size} instance(s) kept as they were, ${gen.engine.instances.length - gen.adopted.size} (re)started`);
    },
  };
}
