// Checks against the machine the config is tested on (`-t`, `lint --host`, the daemon's scripts,
// and the keepalived corpus test). keepalived -t makes these too, which is why its verdict depends
// on where it runs: a missing interface is an error, and scripts are checked as files
// (resolve-scripts.ts).
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import type { BuildContext } from './schema.js';
import type { WrittenConfig } from './model/index.js';
import { SC_EXECUTABLE, SC_ISSCRIPT, SC_NOTFOUND, SC_SYSTEM, type ScriptProbe } from './resolve-scripts.js';
import { memo } from '../core/records.js';

export interface HostProbe extends ScriptProbe {
  interfaceExists: (name: string) => boolean;
  /** Can we write net.ipv4.igmp_link_local_mcast_reports (disable_local_igmp)? Unset: taken to. */
  igmpReportsWritable?: () => boolean;
}

/** What disable_local_igmp sets while VRRP runs (net/igmp-reports.ts writes it). */
const IGMP_LINK_LOCAL_REPORTS = '/proc/sys/net/ipv4/igmp_link_local_mcast_reports';

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};
const canExecute = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * This machine, as far as the config layer can see it: a script is found or not, executable or
 * not. Users and script security are proc/script-security.ts's probe, which -t, lint --host and
 * the daemon use.
 */
export const realHost: HostProbe = {
  interfaceExists: (name) => existsSync(`/sys/class/net/${name}`),
  igmpReportsWritable: () => {
    try {
      accessSync(IGMP_LINK_LOCAL_REPORTS, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
  script: (ref) => {
    const prog = ref.argv[0];
    if (/^<\s*\//.test(ref.command)) return { flags: SC_SYSTEM, messages: [] };
    const path = prog.includes('/')
      ? prog
      : (process.env.PATH ?? '/bin:/usr/bin')
          .split(':')
          .map((d) => `${d || '.'}/${prog}`)
          .find((p) => isFile(p) && canExecute(p));
    if (!path || !isFile(path)) return { flags: SC_NOTFOUND, messages: [] };
    return { flags: SC_ISSCRIPT | (canExecute(path) ? SC_EXECUTABLE : 0), path, messages: [] };
  },
  // Users are the script probe's to look up (proc/script-security.ts); this one knows none.
  scriptUserError: () => undefined,
};

/**
 * Returns false when an instance's own interface is missing: keepalived 2.2.7 stops validating
 * there ("Non-existent interface specified in configuration"), so no script checks follow.
 */
export function resolveHost(cfg: WrittenConfig, ctx: BuildContext, host: HostProbe = realHost): boolean {
  // keepalived's disable_local_igmp handler (global_parser.c) checks this as it reads the line,
  // and leaves the option off.
  const g = cfg.globalDefs;
  if (g.disableLocalIgmp && host.igmpReportsWritable?.() === false) {
    ctx.error(
      g.spans.disableLocalIgmp ?? g.span,
      'host-kernel',
      `kernel does not support ${IGMP_LINK_LOCAL_REPORTS}`,
      'keepalived needs to write it (as root, with the ipv4 sysctls); remove disable_local_igmp',
    );
    g.disableLocalIgmp = false;
  }
  // One look per interface name: a large config names the same few thousands of times.
  const exists = memo(host.interfaceExists);
  for (const a of cfg.staticIpaddress) {
    if (a.dev && !exists(a.dev)) ctx.error(a.span, 'host-interface', `WARNING - interface ${a.dev} for ip address ${a.address} doesn't exist`);
  }
  for (const r of cfg.staticRoutes) {
    if (r.dev && !exists(r.dev)) ctx.error(r.span, 'host-interface', `WARNING - interface ${r.dev} for VROUTE nexthop doesn't exist`);
  }
  for (const inst of cfg.vrrpInstances) {
    if (inst.interface && !exists(inst.interface)) {
      ctx.error(
        inst.spans.interface ?? inst.span,
        'host-interface',
        `WARNING - interface ${inst.interface} for vrrp_instance ${inst.name} doesn't exist`,
        'check the name with `ip link`',
      );
    }
    for (const t of inst.trackInterface) {
      if (!exists(t.name)) ctx.error(t.span, 'host-interface', `(${inst.name}) tracked interface ${t.name} doesn't exist`);
    }
    for (const v of inst.virtualIpaddress) {
      if (v.dev && !exists(v.dev)) ctx.error(v.span, 'host-interface', `WARNING - interface ${v.dev} for ip address ${v.address} doesn't exist`);
    }
    for (const r of inst.virtualRoutes) {
      if (r.dev && !exists(r.dev)) ctx.error(r.span, 'host-interface', `WARNING - interface ${r.dev} for VROUTE nexthop doesn't exist`);
    }
  }
  return !cfg.vrrpInstances.some((i) => i.interface && !exists(i.interface));
}
