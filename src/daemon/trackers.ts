// The tracked objects' edge: vrrp_script checks run on their interval through the script runner
// (a hung one is killed at its timeout and counts as failed), and interface link state read from
// sysfs. Both report to the VRRP engine only when a state really changes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Config } from '../config/model/index.js';
import type { VrrpEngine } from '../vrrp/engine.js';
import { RiseFall } from '../vrrp/rise-fall.js';
import type { ScriptRunner } from './script-runner.js';

export interface TrackerLog {
  (level: 'info' | 'warn', message: string): void;
}

/** Runs every tracked vrrp_script on its interval; returns a function that stops them. */
export function startScriptTrackers(cfg: Config, engine: VrrpEngine, runner: ScriptRunner, log: TrackerLog, uid?: number, gid?: number): () => void {
  const tracked = new Set([...cfg.vrrpInstances.flatMap((i) => i.trackScript), ...cfg.syncGroups.flatMap((g) => g.trackScript)].map((t) => t.name));
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  for (const s of cfg.vrrpScripts) {
    if (!tracked.has(s.name) || !s.script) continue;
    const rf = new RiseFall(s.rise, s.fall, s.initFail);
    const intervalMs = s.interval * 1000;
    const timeoutMs = (s.timeout ?? s.interval) * 1000;
    const tick = async (): Promise<void> => {
      if (stopped) return;
      const r = await runner.run(s.script!.argv, { timeoutMs, uid, gid });
      if (stopped) return;
      const ok = r.code === 0 && !r.timedOut;
      if (!ok) {
        const why = r.timedOut ? 'timed out' : r.error ? r.error : r.signal ? `killed by ${r.signal}` : `exited with status ${r.code}`;
        log('warn', `VRRP_Script(${s.name}) failed (${why})`);
      }
      if (rf.result(ok)) {
        log('info', `VRRP_Script(${s.name}) ${rf.up ? 'succeeded' : 'failed'}`);
        engine.setTracked('script', s.name, rf.up);
      }
      timers.push(setTimeout(() => void tick(), intervalMs));
    };
    if (s.initFail) engine.setTracked('script', s.name, false);
    timers.push(setTimeout(() => void tick(), 0));
  }
  return () => {
    stopped = true;
    timers.forEach(clearTimeout);
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

/** Polls the instances' interfaces and track_interface entries; returns a stop function. */
export function startInterfaceTrackers(cfg: Config, engine: VrrpEngine, log: TrackerLog, periodMs = 200): () => void {
  const names = new Set<string>();
  for (const i of cfg.vrrpInstances) {
    names.add(i.interface ?? cfg.globalDefs.defaultInterface);
    for (const t of i.trackInterface) names.add(t.name);
  }
  for (const g of cfg.syncGroups) for (const t of g.trackInterface) names.add(t.name);
  const last = new Map<string, boolean>();
  const poll = (): void => {
    for (const n of names) {
      const up = linkUp(n);
      if (last.get(n) === up) continue;
      if (last.has(n)) log(up ? 'info' : 'warn', `Netlink reports ${n} ${up ? 'up' : 'down'}`);
      last.set(n, up);
      engine.setTracked('interface', n, up);
    }
  };
  poll();
  const t = setInterval(poll, periodMs);
  return () => clearInterval(t);
}

/** The number in a track_file (keepalived reads an integer; anything else counts as 0). */
export function readTrackFile(path: string): number {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isFinite(n) ? n : 0;
  } catch {
    return 0;
  }
}

/** Watches every tracked track_file (init_file creates it); returns a stop function. */
export function startFileTrackers(cfg: Config, engine: VrrpEngine, log: TrackerLog, periodMs = 500): () => void {
  const tracked = new Set([...cfg.vrrpInstances.flatMap((i) => i.trackFile), ...cfg.syncGroups.flatMap((g) => g.trackFile)].map((t) => t.name));
  const files = cfg.trackFiles.filter((f) => tracked.has(f.name) && f.file);
  for (const f of files) {
    if (f.initFile && (f.initFile.overwrite || !existsSync(f.file!))) {
      try {
        writeFileSync(f.file!, `${f.initFile.value ?? 0}\n`);
      } catch (e) {
        log('warn', `track_file ${f.name}: cannot create ${f.file}: ${(e as Error).message}`);
      }
    }
  }
  const poll = (): void => {
    for (const f of files) engine.setTrackedValue(f.name, readTrackFile(f.file!));
  };
  poll();
  const t = setInterval(poll, periodMs);
  return () => clearInterval(t);
}
