// keepalived's whole-config checks on the LVS side (check_data.c validate_check_config): references
// from checkers and virtual servers to other blocks, and the scripts the checker process runs.
import type { Span } from './diagnostics.js';
import type { BuildContext } from './schema.js';
import type { Config, ScriptRef } from './model/index.js';

export function resolveLvs(cfg: Config, ctx: BuildContext): void {
  const groups = new Set(cfg.virtualServerGroups.map((g) => g.name));
  const files = new Set(cfg.trackFiles.map((f) => f.name));
  const bfds = new Set(cfg.bfdInstances.map((b) => b.name));
  cfg.virtualServers = cfg.virtualServers.filter((vs) => {
    if (vs.kind !== 'group' || groups.has(vs.group!)) return true;
    ctx.error(vs.span, 'vs-group-missing', `Virtual server group ${vs.group} specified but not configured - ignoring virtual server`, `define virtual_server_group ${vs.group} { ... }`);
    return false;
  });
  for (const vs of cfg.virtualServers) {
    for (const rs of vs.realServers) {
      rs.checkers = rs.checkers.filter((c) => {
        if (c.type === 'FILE_CHECK' && c.trackFile !== undefined && !files.has(c.trackFile)) {
          ctx.error(c.spans.trackFile ?? c.span, 'track-missing', `FILE_CHECK track_file ${c.trackFile} not found - ignoring`, files.size ? `use one of: ${[...files].join(', ')}` : `define track_file ${c.trackFile} { file PATH }`);
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
export function lvsScriptsInUse(cfg: Config): { script: ScriptRef; at: Span; what: string }[] {
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
