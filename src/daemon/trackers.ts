// The tracked objects' real world, for the trackers in src/vrrp/trackers.ts: vrrp_scripts run
// through the script runner (a hung one is killed at its timeout and counts as failed), link
// state read from sysfs, track_file contents read as keepalived reads them, and init_file.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Config, ResolvedVrrpScript } from '../config/model/index.js';
import { parseTrackValue } from '../config/values.js';
import type { ScriptOutcome } from '../vrrp/trackers.js';
import type { ScriptRunner } from '../proc/script-runner.js';
import type { RunAs } from '../proc/users.js';

/**
 * One vrrp_script run as its own `user`, else script_user (`identity`); its exit status decides.
 * A user that cannot be resolved fails the check rather than running the script as us.
 */
export function scriptCheck(
  runner: ScriptRunner,
  identity: (user?: { user: string; group?: string }) => RunAs,
): (s: ResolvedVrrpScript) => Promise<ScriptOutcome> {
  return async (s) => {
    const id = identity(s.user);
    if ('error' in id) return { ok: false, why: id.error };
    const r = await runner.run(s.script.argv, { timeoutMs: s.timeout * 1000, ...id });
    if (r.code === 0 && !r.timedOut) return { ok: true };
    return { ok: false, why: r.timedOut ? 'timed out' : r.error ? r.error : r.signal ? `killed by ${r.signal}` : `exited with status ${r.code}` };
  };
}

/** Link state from sysfs: operstate up (or unknown, as on veth peers in some kernels) with carrier. */
export function linkUp(ifname: string, sys = '/sys/class/net'): boolean {
  try {
    const oper = readFileSync(`${sys}/${ifname}/operstate`, 'utf8').trim();
    const carrier = readFileSync(`${sys}/${ifname}/carrier`, 'utf8').trim();
    return (oper === 'up' || oper === 'unknown') && carrier === '1';
  } catch {
    return false;
  }
}

/** The number in a track_file, read as strtol(…, 0) would (no file or no number: 0). */
export function readTrackFile(f: { file: string }): number {
  try {
    return parseTrackValue(readFileSync(f.file, 'latin1').slice(0, 127)) ?? 0;
  } catch {
    return 0;
  }
}

/** init_file: create (or with `overwrite`, rewrite) each track_file with its initial value. */
export function initTrackFiles(cfg: Config, log: (level: 'warn', message: string) => void): void {
  for (const f of cfg.resolved.trackFiles) {
    if (!f.initFile || (!f.initFile.overwrite && existsSync(f.file))) continue;
    try {
      writeFileSync(f.file, `${f.initFile.value}\n`);
    } catch (e) {
      log('warn', `track_file ${f.name}: cannot create ${f.file}: ${(e as Error).message}`);
    }
  }
}
