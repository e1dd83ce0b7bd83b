// Opt-in checks against the machine the config is tested on (`lint --host`): keepalived -t makes
// these too, which is why its verdict depends on where it runs.
import { accessSync, constants, existsSync } from 'node:fs';
import type { Diagnostic, Span } from '../config/diagnostics.js';
import type { Config } from '../config/model/index.js';
import { lvsScriptsInUse } from '../config/resolve-lvs.js';
import { vrrpScriptsInUse } from '../config/resolve-vrrp.js';

function diag(at: Span, rule: string, message: string, hint?: string): Diagnostic {
  return { file: at.file, line: at.line, col: at.col, severity: 'error', rule, message, hint, exit: 5 };
}

export function hostChecks(cfg: Config, sysClassNet = '/sys/class/net'): Diagnostic[] {
  const out: Diagnostic[] = [];
  const hasIf = (name: string): boolean => existsSync(`${sysClassNet}/${name}`);
  for (const inst of cfg.vrrpInstances) {
    if (inst.interface && !hasIf(inst.interface)) {
      out.push(diag(inst.spans.interface ?? inst.span, 'host-interface', `WARNING - interface ${inst.interface} for vrrp_instance ${inst.name} doesn't exist`, 'check the interface name with `ip link`'));
    }
    for (const t of inst.trackInterface) {
      if (!hasIf(t.name)) out.push(diag(t.span, 'host-interface', `track_interface ${t.name} of ${inst.name} doesn't exist`));
    }
  }
  for (const { script, at, what } of [...vrrpScriptsInUse(cfg), ...lvsScriptsInUse(cfg)]) {
    const prog = script.argv[0];
    if (!prog || !prog.startsWith('/')) continue;
    try {
      accessSync(prog, constants.X_OK);
    } catch {
      out.push(diag(at, 'host-script', `${what}: ${prog} is not an executable file here; keepalived disables the script`, 'install the script or fix its path'));
    }
  }
  return out;
}
