// keepalived's own command line (keepalived(8)), so deploy scripts and unit files written for
// keepalived work unchanged: short flags may be bundled (-nlD), `--opt=value` and `--opt value`.

export interface OptionSpec {
  long: string;
  short?: string;
  /** 'none': a switch; 'required': takes a value; 'optional': only as --long=VALUE. */
  value: 'none' | 'required' | 'optional';
  help: string;
}

export const DAEMON_OPTIONS: OptionSpec[] = [
  { long: 'use-file', short: 'f', value: 'required', help: 'Use the specified configuration file (default /etc/keepalived/keepalived.conf)' },
  { long: 'config-test', short: 't', value: 'optional', help: 'Check the configuration for obvious errors, output to stderr or to =LOG_FILE' },
  { long: 'config-id', short: 'i', value: 'required', help: "Skip lines beginning '@ID' that don't match ID, and '@^ID' that do (default: short host name)" },
  { long: 'all-config', short: 'e', value: 'none', help: 'Error if any configuration file is missing' },
  {
    long: 'target-version',
    value: 'required',
    help: 'With -t: judge the configuration as this keepalived version does (default 2.2.7); newer keywords are unknown to it',
  },
  { long: 'vrrp', short: 'P', value: 'none', help: 'Only run the VRRP subsystem' },
  { long: 'check', short: 'C', value: 'none', help: 'Only run the health-checker subsystem' },
  { long: 'dont-fork', short: 'n', value: 'none', help: "Don't fork the daemon process" },
  { long: 'log-console', short: 'l', value: 'none', help: 'Log messages to the console' },
  { long: 'log-detail', short: 'D', value: 'none', help: 'Detailed log messages' },
  { long: 'pid', short: 'p', value: 'required', help: 'Pid file of the parent process' },
  { long: 'vrrp_pid', short: 'r', value: 'required', help: 'Pid file of the VRRP process' },
  { long: 'checkers_pid', short: 'c', value: 'required', help: 'Pid file of the checker process' },
  { long: 'signum', value: 'required', help: 'Print the signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON' },
  { long: 'version', short: 'v', value: 'none', help: 'Display the version number' },
  { long: 'help', short: 'h', value: 'none', help: 'Display this help message' },
];

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
        // keepalived: `-t` alone; `-t=FILE` would be a path starting '=', so only --config-test=FILE.
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
      return `  ${flag.padEnd(30)} ${s.help}`;
    })
    .join('\n');
}
