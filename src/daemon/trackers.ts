// The tracked objects' real world, for the trackers in src/vrrp/trackers.ts: vrrp_scripts run
// through the script runner (a hung one is killed at its timeout and counts as failed), link
// state read from sysfs, track_file contents read as keepalived reads them (on inotify events
// for their directories, as keepalived watches them), and init_file.
import { existsSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Config, ResolvedTrackFile, ResolvedVrrpScript } from '../config/model/index.js';
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

/**
 * inotify on each track_file's directory, as keepalived watches them: a write, a rename into
 * place or a removal of the file calls `changed`. A directory that cannot be watched (missing,
 * no inotify) leaves its files to the poll (`all` false).
 */
export function watchTrackFiles(
  files: readonly ResolvedTrackFile[],
  changed: (f: ResolvedTrackFile) => void,
  log: (level: 'warn', message: string) => void,
): { stop(): void; all: boolean } {
  const byDir = new Map<string, Map<string, ResolvedTrackFile[]>>();
  for (const f of files) {
    const names = byDir.get(dirname(f.file)) ?? new Map<string, ResolvedTrackFile[]>();
    byDir.set(dirname(f.file), names);
    names.set(basename(f.file), [...(names.get(basename(f.file)) ?? []), f]);
  }
  const watchers: FSWatcher[] = [];
  let all = true;
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        // No name (some kernels, overflow): any of this directory's files may have changed.
        const hit = name ? names.get(name.toString()) : [...names.values()].flat();
        for (const f of hit ?? []) changed(f);
      });
      w.on('error', (e) => log('warn', `track_file: watching ${dir} failed (${e.message}); its files are read every 5 s from now on`));
      watchers.push(w);
    } catch (e) {
      all = false;
      log('warn', `track_file: cannot watch ${dir} (${(e as Error).message}); reading its files every 0.5 s`);
    }
  }
  return { stop: () => watchers.forEach((w) => w.close()), all };
}
