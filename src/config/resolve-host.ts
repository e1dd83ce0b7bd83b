// Checks against the machine the config is tested on (opt-in: `lint --host`, and the keepalived
// corpus test). keepalived -t makes these too, which is why its verdict depends on where it runs:
// a missing interface is an error, and a script that is not an executable file is dropped
// before the script-security check counts it.
import { accessSync, constants, existsSync } from 'node:fs';
import type { BuildContext } from './schema.js';
import type { Config, ScriptRef } from './model/index.js';
import { NOTIFY_KEYS } from './resolve-vrrp.js';

export interface HostProbe {
  interfaceExists(name: string): boolean;
  executable(path: string): boolean;
}

export const realHost: HostProbe = {
  interfaceExists: (name) => existsSync(`/sys/class/net/${name}`),
  executable: (path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/** keepalived resolves a bare command name through PATH, as execvp would. */
function runnable(s: ScriptRef | undefined, host: HostProbe): boolean {
  const prog = s?.argv[0];
  // keepalived 2.2.7 neither checks nor counts "</dev/tcp/..." style commands (observed).
  if (!prog || s.command.startsWith('</')) return true;
  if (prog.includes('/')) return host.executable(prog);
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((dir) => dir && host.executable(`${dir}/${prog}`));
}

/**
 * Returns false when an instance's own interface is missing: keepalived 2.2.7 stops validating
 * there ("Non-existent interface specified in configuration"), so no script checks follow.
 */
export function resolveHost(cfg: Config, ctx: BuildContext, host: HostProbe = realHost): boolean {
  for (const a of cfg.staticIpaddress) {
    if (a.dev && !host.interfaceExists(a.dev)) ctx.error(a.span, 'host-interface', `WARNING - interface ${a.dev} for ip address ${a.address} doesn't exist`);
  }
  for (const r of cfg.staticRoutes) {
    if (r.dev && !host.interfaceExists(r.dev)) ctx.error(r.span, 'host-interface', `WARNING - interface ${r.dev} for VROUTE nexthop doesn't exist`);
  }
  for (const inst of cfg.vrrpInstances) {
    if (inst.interface && !host.interfaceExists(inst.interface)) {
      ctx.error(inst.spans.interface ?? inst.span, 'host-interface', `WARNING - interface ${inst.interface} for vrrp_instance ${inst.name} doesn't exist`, 'check the name with `ip link`');
    }
    for (const t of inst.trackInterface) {
      if (!host.interfaceExists(t.name)) ctx.error(t.span, 'host-interface', `(${inst.name}) tracked interface ${t.name} doesn't exist`);
    }
    for (const v of inst.virtualIpaddress) {
      if (v.dev && !host.interfaceExists(v.dev)) ctx.error(v.span, 'host-interface', `WARNING - interface ${v.dev} for ip address ${v.address} doesn't exist`);
    }
    for (const r of inst.virtualRoutes) {
      if (r.dev && !host.interfaceExists(r.dev)) ctx.error(r.span, 'host-interface', `WARNING - interface ${r.dev} for VROUTE nexthop doesn't exist`);
    }
  }
  if (cfg.vrrpInstances.some((i) => i.interface && !host.interfaceExists(i.interface))) return false;
  cfg.vrrpScripts = cfg.vrrpScripts.filter((s) => {
    if (runnable(s.script, host)) return true;
    ctx.error(s.spans.script ?? s.span, 'host-script', `Disabling track script ${s.name} since not found/accessible`, `install ${s.script!.argv[0]} or fix the path`);
    return false;
  });
  // keepalived drops tracked references to the removed scripts without a word.
  const scripts = new Set(cfg.vrrpScripts.map((s) => s.name));
  for (const o of [...cfg.vrrpInstances, ...cfg.syncGroups]) o.trackScript = o.trackScript.filter((t) => scripts.has(t.name));
  // Notify and checker scripts that cannot run are dropped silently, as keepalived does.
  for (const o of [...cfg.vrrpInstances, ...cfg.syncGroups]) {
    for (const k of NOTIFY_KEYS) {
      const v = (o as unknown as Record<string, ScriptRef | true | undefined>)[k];
      if (v && v !== true && !runnable(v, host)) (o as unknown as Record<string, unknown>)[k] = undefined;
    }
  }
  for (const vs of cfg.virtualServers) {
    if (!runnable(vs.quorumUp, host)) vs.quorumUp = undefined;
    if (!runnable(vs.quorumDown, host)) vs.quorumDown = undefined;
    for (const rs of vs.realServers) {
      if (!runnable(rs.notifyUp, host)) rs.notifyUp = undefined;
      if (!runnable(rs.notifyDown, host)) rs.notifyDown = undefined;
      rs.checkers = rs.checkers.filter((c) => c.type !== 'MISC_CHECK' || runnable(c.miscPath, host));
    }
  }
  return true;
}
