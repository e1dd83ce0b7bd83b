// After building: keepalived's whole-config adjustments and cross-reference checks, per subsystem.
import { blockEndOf } from './builder.js';
import type { BuildContext } from './schema.js';
import type { Config, WrittenConfig } from './model/index.js';
import { resolveHost, type HostProbe } from './resolve-host.js';
import { checkScriptUser, dropScriptsWithoutUser, resolveScripts, type ScriptParts, type ScriptProbe } from './resolve-scripts.js';
import { lvsScriptsInUse, resolveLvs, resolveLvsTimeouts, resolveVirtualServers } from './resolve-lvs.js';
import { resolveTrackFiles, resolveVrrp, resolveVrrpInstances, resolveVrrpScripts, vrrpScriptsInUse } from './resolve-vrrp.js';

/** The checks over the whole config, then the config as it runs (every inherited value filled in). */
export function resolveConfig(written: WrittenConfig, ctx: BuildContext, host?: HostProbe, scripts?: ScriptProbe, parts?: ScriptParts): Config {
  const g = written.globalDefs;
  if (g.spans.notificationEmail && g.notificationEmail.length === 0) {
    // keepalived reports it at the block's '}'.
    const at = g.spans.notificationEmail;
    ctx.diags.error(at, 'notification-email-empty', 'Warning - empty notification_email block', {
      hint: 'list one address per line, or remove the block',
      endLine: blockEndOf(at)?.line,
    });
  }
  // keepalived drops a vrrp_script whose default user cannot be set while reading, before any
  // track_script is looked up.
  const probe = scripts ?? host;
  if (probe) checkScriptUser(written, ctx, probe);
  const dropped = probe ? dropScriptsWithoutUser(written, ctx, probe, parts) : new Set<string>();
  resolveVrrp(written, ctx, dropped);
  resolveLvs(written, ctx);
  // With the host probed, a missing interface ends keepalived's checks before the script ones.
  if (!host || resolveHost(written, ctx, host)) {
    if (probe) resolveScripts(written, ctx, probe, parts, dropped.size > 0);
    else checkScriptSecurity(written, ctx);
  }
  // Last: the script checks drop scripts that cannot run, and what runs must not have them.
  // Built on first read, then kept as a plain property: -t and lint report from the checks above
  // and never read it, and nothing changes the written config once it is returned.
  let resolved: Config['resolved'] | undefined;
  return Object.defineProperty(written, 'resolved', {
    enumerable: true,
    configurable: true,
    get(this: WrittenConfig): Config['resolved'] {
      resolved ??= {
        vrrpInstances: resolveVrrpInstances(written),
        vrrpScripts: resolveVrrpScripts(written),
        trackFiles: resolveTrackFiles(written),
        virtualServers: resolveVirtualServers(written),
        lvsTimeouts: resolveLvsTimeouts(written),
      };
      Object.defineProperty(written, 'resolved', { value: resolved, enumerable: true, configurable: true, writable: true });
      return resolved;
    },
    set(v: Config['resolved']) {
      Object.defineProperty(written, 'resolved', { value: v, enumerable: true, configurable: true, writable: true });
    },
  }) as Config;
}

/**
 * Without a look at the machine: keepalived -t exits 6 when scripts would run without
 * enable_script_security, which is when any of them exists; here every script is taken to.
 */
function checkScriptSecurity(cfg: WrittenConfig, ctx: BuildContext): void {
  if (cfg.globalDefs.enableScriptSecurity) return;
  // keepalived 2.2.7 does not count "</dev/tcp/..." commands as scripts (observed); lint's
  // script-needs-shell says why they never work.
  const used = [...vrrpScriptsInUse(cfg), ...lvsScriptsInUse(cfg)].filter((u) => !u.script.command.startsWith('</'));
  if (used.length === 0) return;
  ctx.diags.error(used[0].at, 'script-security', 'SECURITY VIOLATION - scripts are being executed but script_security not enabled.', {
    hint: `add enable_script_security (and script_user) to global_defs; first script: ${used[0].what}`,
    exit: 6,
  });
}
