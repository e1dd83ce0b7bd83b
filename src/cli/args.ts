// keepalived's own command line (keepalived(8)), so deploy scripts and unit files written for
// keepalived work unchanged: short flags may be bundled (-nlD), `--opt=value` and `--opt value`.

/** The config keepalived reads without -f. */
export const DEFAULT_CONFIG = '/etc/keepalived/keepalived.conf';

/** How the daemon honours an option keepalived accepts, when it does not simply work. */
export interface OptionEffect {
  /** 'no-op': keepalived-ts already behaves as the option asks; 'not-implemented': accepted, a
   * warning at start says what is not done; 'refused': the daemon does not start. */
  kind: 'no-op' | 'not-implemented' | 'refused';
  why: string;
}

export interface OptionSpec {
  long: string;
  short?: string;
  /** 'none': a switch; 'required': takes a value; 'optional': only as --long=VALUE. */
  value: 'none' | 'required' | 'optional';
  help: string;
  /** Omitted: the option works as in keepalived. */
  effect?: OptionEffect;
  /** keepalived-ts's own option, not keepalived's. */
  extension?: true;
}

const noop = (why: string): OptionEffect => ({ kind: 'no-op', why });
const notImplemented = (why: string): OptionEffect => ({ kind: 'not-implemented', why });
const refused = (why: string): OptionEffect => ({ kind: 'refused', why });

/** Every option keepalived 2.2.7 (Debian's build) accepts, in its --help order, so an
 * /etc/default/keepalived written for it never meets "unknown option"; and our own (`extension`). */
export const DAEMON_OPTIONS: OptionSpec[] = [
  { long: 'use-file', short: 'f', value: 'required', help: 'Use the specified configuration file (default /etc/keepalived/keepalived.conf)' },
  { long: 'vrrp', short: 'P', value: 'none', help: 'Only run the VRRP subsystem' },
  { long: 'check', short: 'C', value: 'none', help: 'Only run the health-checker subsystem' },
  { long: 'no_bfd', short: 'B', value: 'none', help: "Don't run the BFD sessions (what tracks them counts them as down)" },
  {
    long: 'all',
    value: 'none',
    help: 'Force all child processes to run, even if they have no configuration',
    effect: noop('keepalived-ts is one process; its VRRP, checker and BFD parts run what the config holds'),
  },
  // keepalived: syslog (facility daemon, one ident per process) unless -G; -l also the console.
  { long: 'log-console', short: 'l', value: 'none', help: 'Also log to the console: JSON lines (pino) on standard output' },
  { long: 'log-detail', short: 'D', value: 'none', help: 'Detailed log messages (debug level)' },
  {
    long: 'log-facility',
    short: 'S',
    value: 'required',
    help: 'Set the syslog facility: 0-7 or local0-local7 (LOG_LOCAL0-7), user, or daemon (the default)',
  },
  {
    long: 'log-file',
    short: 'g',
    value: 'optional',
    help: 'Log to a file',
    effect: refused("Debian's keepalived 2.2.7 refuses it too (-g requires configure option --enable-log-file); use -l and redirect standard output instead"),
  },
  { long: 'no-syslog', short: 'G', value: 'none', help: "Don't log via syslog" },
  { long: 'umask', short: 'u', value: 'required', help: 'umask for file creation (in numeric form)' },
  {
    long: 'release-vips',
    short: 'X',
    value: 'none',
    help: 'Drop VIPs on a transition caused by a signal',
    effect: notImplemented('VIPs are handled as without -X'),
  },
  {
    long: 'dont-release-vrrp',
    short: 'V',
    value: 'none',
    help: "Don't remove VRRP VIPs and routes on daemon stop",
    effect: notImplemented('VIPs and routes are still removed at stop'),
  },
  {
    long: 'dont-release-ipvs',
    short: 'I',
    value: 'none',
    help: "Don't remove the IPVS topology on daemon stop",
    effect: notImplemented('virtual servers are still removed at stop'),
  },
  { long: 'dont-respawn', short: 'R', value: 'none', help: "Don't respawn child processes", effect: noop('keepalived-ts has no child processes to respawn') },
  { long: 'dont-fork', short: 'n', value: 'none', help: "Don't fork the daemon process: stay in the foreground (systemd's Type=notify unit uses it)" },
  { long: 'dump-conf', short: 'd', value: 'none', help: 'Dump the configuration data', effect: notImplemented('SIGUSR1 writes the running state instead') },
  { long: 'pid', short: 'p', value: 'required', help: 'Pid file of the parent process' },
  { long: 'vrrp_pid', short: 'r', value: 'required', help: 'Pid file of the VRRP process' },
  {
    long: 'genhash',
    short: 'T',
    value: 'none',
    help: 'genhash utility mode',
    effect: refused("keepalived-ts has no genhash mode; use keepalived's genhash to compute HTTP_GET digests"),
  },
  { long: 'checkers_pid', short: 'c', value: 'required', help: 'Pid file of the checker process' },
  {
    long: 'address-monitoring',
    short: 'a',
    value: 'none',
    help: 'Report all address additions and deletions notified via netlink',
    effect: notImplemented('address changes are not logged'),
  },
  { long: 'bfd_pid', short: 'b', value: 'required', help: 'Pid file of the BFD process' },
  { long: 'snmp', short: 'x', value: 'none', help: 'Enable the SNMP subsystem' },
  { long: 'snmp-agent-socket', short: 'A', value: 'required', help: 'Use the specified socket for master agent' },
  {
    long: 'namespace',
    short: 's',
    value: 'required',
    help: 'Run in network namespace NAME',
    effect: refused('run keepalived-ts under `ip netns exec NAME` instead'),
  },
  {
    long: 'core-dump',
    short: 'm',
    value: 'none',
    help: 'Produce a core dump if terminated abnormally',
    effect: notImplemented('Node.js writes no core dump on a crash'),
  },
  {
    long: 'core-dump-pattern',
    short: 'M',
    value: 'optional',
    help: 'Also set /proc/sys/kernel/core_pattern',
    effect: notImplemented('Node.js writes no core dump on a crash, and core_pattern is left alone'),
  },
  { long: 'all-config', short: 'e', value: 'none', help: 'Error if any configuration file is missing' },
  { long: 'config-id', short: 'i', value: 'required', help: "Skip lines beginning '@ID' that don't match ID, and '@^ID' that do (default: short host name)" },
  { long: 'signum', value: 'required', help: 'Print the signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON' },
  { long: 'config-test', short: 't', value: 'optional', help: 'Check the configuration for obvious errors, output to stderr or to =LOG_FILE' },
  {
    long: 'target-version',
    value: 'required',
    help: 'With -t: judge the configuration as this keepalived version does (default 2.2.7); newer keywords are unknown to it',
    extension: true,
  },
  {
    long: 'prometheus',
    value: 'required',
    help: 'Serve Prometheus metrics at http://[ADDRESS:]PORT/metrics (address default 127.0.0.1; off without it)',
    extension: true,
  },
  {
    long: 'data-plane',
    value: 'required',
    help: 'auto (default: kernel IPVS where /proc/net/ip_vs exists, else the embedded forwarder), kernel or forwarder',
    extension: true,
  },
  {
    long: 'config-fd',
    value: 'required',
    help: "keepalived's own, between its processes",
    effect: refused('keepalived passes it to its own child processes; keepalived-ts has none'),
  },
  { long: 'version', short: 'v', value: 'none', help: 'Display the version number' },
  { long: 'help', short: 'h', value: 'none', help: 'Display this help message' },
];

/** The options given that keepalived-ts does not honour as keepalived does. */
export function optionEffects(options: ReadonlyMap<string, unknown>, specs: readonly OptionSpec[]): { spec: OptionSpec; effect: OptionEffect }[] {
  return specs.filter((s) => s.effect && options.has(s.long)).map((s) => ({ spec: s, effect: s.effect! }));
}

export const optionName = (s: OptionSpec): string => (s.short ? `-${s.short} (--${s.long})` : `--${s.long}`);

export interface Parsed {
  options: Map<string, string | true>;
  positionals: string[];
  errors: string[];
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): Parsed {
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const options = new Map<string, string | true>();
  const positionals: string[] = [];
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const spec = byLong.get(name);
      if (!spec) {
        errors.push(`unknown option '--${name}'`);
        continue;
      }
      if (spec.value === 'none') {
        if (eq >= 0) errors.push(`option '--${name}' takes no value`);
        options.set(spec.long, true);
      } else if (eq >= 0) options.set(spec.long, a.slice(eq + 1));
      else if (spec.value === 'required') {
        if (i + 1 >= argv.length) errors.push(`option '--${name}' needs a value`);
        else options.set(spec.long, argv[++i]);
      } else options.set(spec.long, true);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const spec = byShort.get(a[k]);
        if (!spec) {
          errors.push(`unknown option '-${a[k]}'`);
          continue;
        }
        if (spec.value === 'required') {
          const rest = a.slice(k + 1);
          if (rest) options.set(spec.long, rest);
          else if (i + 1 < argv.length) options.set(spec.long, argv[++i]);
          else errors.push(`option '-${a[k]}' needs a value`);
          break;
        }
        // getopt's optional argument: only attached (`-t/tmp/test.log`), as keepalived reads it.
        if (spec.value === 'optional' && k + 1 < a.length) {
          options.set(spec.long, a.slice(k + 1));
          break;
        }
        options.set(spec.long, true);
      }
      continue;
    }
    positionals.push(a);
  }
  return { options, positionals, errors };
}

export function optionHelp(specs: readonly OptionSpec[]): string {
  return specs
    .map((s) => {
      const flag = `${s.short ? `-${s.short}, ` : '    '}--${s.long}${s.value === 'required' ? '=VALUE' : s.value === 'optional' ? '[=FILE]' : ''}`;
      const note = s.effect ? ` [${s.effect.kind}: ${s.effect.why}]` : '';
      return `  ${flag.padEnd(30)} ${s.help}${note}`;
    })
    .join('\n');
}
