#!/usr/bin/env node
// Entry point: `keepalived-ts [keepalived options]` or `keepalived-ts <command> ...`.
// Static imports are what every run needs (the options); each subcommand and the daemon are
// import()ed where chosen, so that the bundle's split chunks of a run not taken are neither read
// nor compiled. -t and lint, which must start fast, come from their own bundle (one-shot.ts).
import { readFileSync } from 'node:fs';
import { DAEMON_OPTIONS, DEFAULT_CONFIG, optionEffects, optionHelp, optionName, parseArgs, type Parsed } from './args.js';
import { SIGNALS } from '../daemon/signals.js';
import { setCommandLineUmask } from '../daemon/umask.js';
import { parseUmaskNumber } from '../core/umask.js';
import { printable } from '../core/text.js';
import { reportInternalError, userError } from './errors.js';
import { loadOneShot } from './one-shot.js';

/** Read on demand (only --help and --version need it), from the package.json above this file,
 * which is one level up in the bundle (dist/keepalived-ts.mjs) and two from dist/cli/main.js. */
function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'keepalived-ts' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

const usage = (): string => `keepalived-ts ${version()}: a keepalived-compatible VRRP and load-balancer daemon

Usage:
  keepalived-ts -t [-f FILE] [-i ID] [-e]     config test, keepalived's exit codes (0, 4, 5, 6)
  keepalived-ts lint FILE... [options]        lint configs (see keepalived-ts lint --help)
  keepalived-ts lint --pair A.conf B.conf     check that two directors agree and can fail over
  keepalived-ts keywords [--compatibility]    the keyword reference, or what keepalived-ts implements (Markdown)
  keepalived-ts rules                         the diagnostic rule ids (Markdown)
  keepalived-ts ipvsadm -Ln [--pid=FILE]      the running daemon's virtual servers, as ipvsadm lists them
  keepalived-ts lab SCENARIO.yaml             run a director pair through faults (see keepalived-ts lab --help)
  keepalived-ts lab --explore A.conf B.conf   try every fault and pair of faults of the configs on sim
  keepalived-ts -f FILE [-n -l -D -P -C]      run the daemon, in the foreground with -n (-P VRRP only, -C checkers only)

keepalived options:
${optionHelp(DAEMON_OPTIONS)}

Errors print one line saying what and where. Exit status 70 is an internal error: a bug in
keepalived-ts, whose stack KEEPALIVED_TS_DEBUG=1 prints.
`;

export function main(argv: string[]): number | Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'lint') return loadOneShot().then(({ commands }) => commands.lintCommand(rest));
  if (cmd === 'keywords' || cmd === 'rules') {
    // No options but --compatibility: a stray word is more likely a mistake (`keywords vrrp`) than a wish for everything.
    const extra = rest.filter((a) => !(cmd === 'keywords' && a === '--compatibility'));
    if (extra.length) {
      const takes = cmd === 'keywords' ? 'only --compatibility' : 'none';
      process.stderr.write(userError(cmd, 'unexpected argument', `'${extra[0]}'`, `keepalived-ts ${cmd} takes ${takes}; it prints the whole reference`));
      return 2;
    }
  }
  if (cmd === 'keywords') return import('./keywords.js').then((m) => m.keywordsCommand(rest));
  if (cmd === 'lab') return import('./lab.js').then((m) => m.labCommand(rest));
  if (cmd === 'ipvsadm') return import('./ipvsadm.js').then((m) => m.ipvsadmCommand(rest));
  if (cmd === 'rules')
    return import('../config/rules.js').then((m) => {
      process.stdout.write(m.renderRuleReference());
      return 0;
    });
  const args = parseArgs(argv, DAEMON_OPTIONS);
  if (args.errors.length) {
    process.stderr.write(`keepalived-ts: ${printable(args.errors[0])} (see keepalived-ts --help)\n`);
    return 2;
  }
  if (args.options.has('help')) {
    process.stdout.write(usage());
    return 0;
  }
  if (args.options.has('signum')) {
    // keepalived --signum=NAME: the number on stdout, or exit 1 for a name it does not know.
    const name = args.options.get('signum') as string;
    if (!Object.hasOwn(SIGNALS, name)) {
      process.stderr.write(`Unknown sigfunc ${printable(name)}\n`);
      return 1;
    }
    const sig = SIGNALS[name];
    process.stdout.write(`${sig}\n`);
    return 0;
  }
  if (args.options.has('version')) {
    process.stdout.write(`keepalived-ts ${version()} (keepalived 2.2 configuration language)\n`);
    return 0;
  }
  if (args.positionals.length) {
    process.stderr.write(userError('', 'unexpected argument', `'${args.positionals[0]}'`, 'the config file goes after -f; see keepalived-ts --help'));
    return 2;
  }
  const refusedOption = optionEffects(args.options, DAEMON_OPTIONS).find((o) => o.effect.kind === 'refused');
  if (refusedOption) {
    process.stderr.write(`keepalived-ts: option ${optionName(refusedOption.spec)} is not supported: ${refusedOption.effect.why}\n`);
    return 2;
  }
  const umask = args.options.get('umask');
  if (umask !== undefined) {
    // keepalived prints "Invalid --umask option" and runs on with the umask it had; a typo in a
    // security setting should stop the start instead.
    const bits = typeof umask === 'string' ? parseUmaskNumber(umask) : undefined;
    if (bits === undefined) {
      process.stderr.write(userError('', 'invalid --umask', `'${printable(String(umask))}'`, 'write permission bits in numeric form, e.g. -u 0077'));
      return 2;
    }
    setCommandLineUmask(bits);
  }
  if (args.options.has('config-test')) return loadOneShot().then(({ commands }) => commands.configTest(args.options));
  return startDaemon(argv, args);
}

/** The daemon's checks before the fork, then the fork or the daemon itself: all of it loaded here. */
async function startDaemon(argv: string[], args: Parsed): Promise<number> {
  const [{ kernelHasIpvs }, { LOG_DAEMON, parseLogFacility }, { parseMetricsListen }] = await Promise.all([
    import('../lvs/ipvs-kernel.js'),
    import('../daemon/syslog.js'),
    import('../daemon/metrics-server.js'),
  ]);
  // --data-plane: decided before the fork, so a wrong one is a line on the terminal.
  const planeArg = args.options.get('data-plane');
  const dataPlane = planeArg === undefined ? 'auto' : String(planeArg);
  if (dataPlane !== 'auto' && dataPlane !== 'kernel' && dataPlane !== 'forwarder') {
    process.stderr.write(userError('', 'invalid --data-plane', `'${printable(dataPlane)}'`, 'write auto, kernel or forwarder'));
    return 2;
  }
  if (dataPlane === 'kernel' && !kernelHasIpvs()) {
    process.stderr.write(
      `keepalived-ts: --data-plane=kernel: this kernel has no IPVS (/proc/net/ip_vs is absent; try modprobe ip_vs), or use --data-plane=forwarder\n`,
    );
    return 1;
  }
  // keepalived forks unless -n; the copy prints what follows, through us until it is up.
  if (!args.options.has('dont-fork')) return import('./daemonize.js').then((m) => m.daemonize(argv, process.argv[1] ?? ''));
  // Accepted for keepalived's sake; one line each says what is not done (keepalived's
  // /etc/default/keepalived files keep working).
  for (const { spec, effect } of optionEffects(args.options, DAEMON_OPTIONS))
    if (effect.kind === 'not-implemented') process.stderr.write(`keepalived-ts: option ${optionName(spec)} is not implemented: ${effect.why}; continuing\n`);
  const str = (k: string): string | undefined => (typeof args.options.get(k) === 'string' ? (args.options.get(k) as string) : undefined);
  // keepalived: an -S it does not know is one line, and the default facility (daemon) stays.
  const facilityArg = str('log-facility');
  const facility = facilityArg === undefined ? LOG_DAEMON : parseLogFacility(facilityArg);
  if (facility === undefined) process.stderr.write(`Invalid log facility '${printable(facilityArg!)}'\n`);
  const promArg = str('prometheus');
  const prometheus = promArg === undefined ? undefined : parseMetricsListen(promArg);
  if (prometheus && 'error' in prometheus) {
    process.stderr.write(`keepalived-ts: ${printable(prometheus.error)}\n`);
    return 2;
  }
  // keepalived's pid files when we may write them; we are one process, so both hold our pid.
  const root = process.getuid?.() === 0;
  // Loaded only for the daemon: the config test must not pay for pino and the raw-socket addon.
  return import('../daemon/daemon.js').then(({ runDaemon }) => {
    // From here what nobody caught is the daemon's: it logs the cause, then stops as SIGTERM
    // does (priority 0, VIPs and pid files removed) within its own bound. The CLI's last resort,
    // which exits 100 ms later, would cut that stop short.
    daemonOwnsCrashes();
    return runDaemon({
      file: str('use-file') ?? DEFAULT_CONFIG,
      configId: str('config-id'),
      pidFile: str('pid') ?? (root ? '/run/keepalived.pid' : undefined),
      vrrpPidFile: str('vrrp_pid') ?? (root ? '/run/keepalived_vrrp.pid' : undefined),
      // No default for -c: daemons that share /run and pass only -p and -r (the lab's) would refuse
      // each other over /run/keepalived_checkers.pid.
      checkersPidFile: str('checkers_pid'),
      bfdPidFile: str('bfd_pid'),
      noBfd: args.options.has('no_bfd'),
      logDetail: args.options.has('log-detail'),
      // keepalived logs to syslog unless -G, and to the console with -l (which a forked daemon's /dev/null takes).
      logConsole: args.options.has('log-console'),
      syslogFacility: args.options.has('no-syslog') ? undefined : (facility ?? LOG_DAEMON),
      vrrpOnly: args.options.has('vrrp'),
      checkOnly: args.options.has('check'),
      prometheus,
      dataPlane,
      snmp: args.options.has('snmp'),
      snmpSocket: str('snmp-agent-socket'),
      version: version(),
    });
  });
}

// The last resort: whatever escapes a command is a bug, reported in one line (errors.ts).
const internal = (e: unknown): void => {
  process.exitCode = reportInternalError(e, process.env, (s) => process.stderr.write(s));
  setTimeout(() => process.exit(), 100).unref();
};
process.on('uncaughtException', internal);
process.on('unhandledRejection', internal);
let daemon = false;
function daemonOwnsCrashes(): void {
  daemon = true;
  process.off('uncaughtException', internal);
  process.off('unhandledRejection', internal);
}
// `keepalived-ts keywords | head`: a reader that has had enough is no error.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    // The daemon goes on without its reader, as keepalived (which ignores SIGPIPE) does; its
    // crash policy takes any other error.
    if (e.code === 'EPIPE') {
      if (!daemon) process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    } else if (daemon) throw e;
    else internal(e);
  });

let started: number | Promise<number>;
try {
  started = main(process.argv.slice(2));
} catch (e) {
  started = Promise.reject(e);
}
void Promise.resolve(started).then((code) => {
  process.exitCode = code;
  // Sockets and timers of a stopped daemon must not keep us alive.
  if (code !== undefined) setTimeout(() => process.exit(code), 100).unref();
}, internal);
