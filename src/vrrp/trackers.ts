// When tracked objects are looked at, and what a change does: every tracked vrrp_script runs on
// its interval through keepalived's rise/fall counting, interfaces and track_files follow the
// environment's change events where it has them (polled otherwise, and slowly as a backup),
// and only real changes reach the engine. How one script runs, a link is read or a file is read
// is injected: the daemon runs processes and reads sysfs, the lab's simulator reads its world.
// Both therefore see a failing check at the same moments.
import type { BfdSessions } from '../bfd/sessions.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Config, ResolvedTrackFile, ResolvedVrrpScript } from '../config/model/index.js';
import { trackedNames } from '../config/resolve-vrrp.js';
import type { VrrpEngine } from './engine.js';
import { RiseFall } from './rise-fall.js';

export interface ScriptOutcome {
  ok: boolean;
  /** Why a failed run failed ("exited with status 1", "timed out"). */
  why?: string;
}

export interface TrackerEnv {
  clock: Clock;
  log(level: 'info' | 'warn', message: string): void;
  /** One run of a vrrp_script; a synchronous answer is applied at once (the simulator's). */
  runScript(s: ResolvedVrrpScript): ScriptOutcome | Promise<ScriptOutcome>;
  linkUp(ifname: string): boolean;
  /** The number in a track_file now. */
  readFile(f: ResolvedTrackFile): number;
  /** The BFD sessions track_bfd follows; without them track_bfd is reported and ignored. */
  bfd?: BfdSessions;
  /** Microseconds between link polls without link events. */
  linkPollUs?: number;
  /**
   * Link and address events (keepalived: netlink): `changed` names an interface to re-read, or
   * none for all of them; also called when `live()` changes. While live, the poll only backs the
   * events up, at `linkBackupPollUs`.
   */
  watchLinks?(changed: (ifname?: string) => void): { stop(): void; live(): boolean };
  /** Microseconds between the backup reads of the links while events flow. */
  linkBackupPollUs?: number;
  /** Microseconds between track_file reads. */
  filePollUs?: number;
  /**
   * Change events for the files (keepalived: inotify). Returns a stop function, and whether every
   * file is watched; the poll then only backs the events up, at `fileBackupPollUs`.
   */
  watchFiles?(files: readonly ResolvedTrackFile[], changed: (f: ResolvedTrackFile) => void): { stop(): void; all: boolean };
  /** Microseconds between the backup reads of watched track_files. */
  fileBackupPollUs?: number;
}

/** Starts every tracker the configuration uses; returns a function that stops them all. */
export function startTrackers(cfg: Config, engine: VrrpEngine, env: TrackerEnv): () => void {
  const timers = new Set<TimerHandle>();
  let stopped = false;
  const every = (firstAt: number, periodUs: number, fn: () => void | Promise<void>): void => {
    const at = (t: number): void => {
      const h = env.clock.setTimer(t, () => {
        timers.delete(h);
        if (stopped) return;
        const r = fn();
        const next = (): void => {
          if (!stopped) at(env.clock.now() + periodUs);
        };
        if (r instanceof Promise) void r.then(next);
        else next();
      });
      timers.add(h);
    };
    at(firstAt);
  };
  const now = env.clock.now();

  // Interfaces: the instances' own, every track_interface, and those of their addresses, routes
  // and rules (resolve-vrrp.ts withAddressInterfaces).
  const links = new Set<string>();
  for (const i of cfg.resolved.vrrpInstances) {
    links.add(i.sendInterface);
    for (const t of i.trackInterface) links.add(t.name);
    for (const t of i.tracks) if (t.kind === 'interface') links.add(t.name);
  }
  for (const g of cfg.syncGroups) for (const t of g.trackInterface) links.add(t.name);
  const lastLink = new Map<string, boolean>();
  const readLink = (n: string): void => {
    const up = env.linkUp(n);
    if (lastLink.get(n) === up) return;
    if (lastLink.has(n)) env.log(up ? 'info' : 'warn', `Netlink reports ${n} ${up ? 'up' : 'down'}`);
    lastLink.set(n, up);
    engine.setTracked('interface', n, up);
  };
  const pollLinks = (): void => links.forEach(readLink);
  pollLinks();
  const linkWatch = links.size && env.watchLinks ? env.watchLinks((n) => !stopped && changedLink(n)) : undefined;
  const linkPeriod = (): number => (linkWatch?.live() ? (env.linkBackupPollUs ?? 5_000_000) : (env.linkPollUs ?? 200_000));
  let linkTimer: TimerHandle | undefined;
  const armLinkPoll = (): void => {
    if (linkTimer) env.clock.clearTimer(linkTimer);
    linkTimer = env.clock.setTimer(env.clock.now() + linkPeriod(), () => {
      linkTimer = undefined;
      if (stopped) return;
      pollLinks();
      armLinkPoll();
    });
  };
  // One interface: read it. All of them (the events stopped or started): read them, and poll at
  // the rate that now applies.
  function changedLink(n: string | undefined): void {
    if (n !== undefined) {
      if (links.has(n)) readLink(n);
      return;
    }
    pollLinks();
    armLinkPoll();
  }
  if (links.size) armLinkPoll();

  // track_files that an instance or a sync group tracks.
  const trackedFiles = trackedNames(cfg, 'trackFile');
  const files = cfg.resolved.trackFiles.filter((f) => trackedFiles.has(f.name));
  const pollFiles = (): void => {
    for (const f of files) engine.setTrackedValue(f.name, env.readFile(f));
  };
  pollFiles();
  const watch = files.length && env.watchFiles ? env.watchFiles(files, (f) => !stopped && engine.setTrackedValue(f.name, env.readFile(f))) : undefined;
  const filePoll = watch?.all ? (env.fileBackupPollUs ?? 5_000_000) : (env.filePollUs ?? 500_000);
  if (files.length) every(now + filePoll, filePoll, pollFiles);

  // vrrp_scripts: the first run at once, then one per interval after the previous one ended.
  const trackedScripts = trackedNames(cfg, 'trackScript');
  for (const s of cfg.resolved.vrrpScripts) {
    if (!trackedScripts.has(s.name)) continue;
    const rf = new RiseFall(s.rise, s.fall, s.initFail);
    if (s.initFail) engine.setTracked('script', s.name, false);
    const apply = (r: ScriptOutcome): void => {
      if (stopped) return;
      if (!r.ok) env.log('warn', `VRRP_Script(${s.name}) failed (${r.why ?? 'failed'})`);
      if (rf.result(r.ok)) {
        env.log('info', `VRRP_Script(${s.name}) ${rf.up ? 'succeeded' : 'failed'}`);
        engine.setTracked('script', s.name, rf.up);
      }
    };
    every(now, s.interval * 1_000_000, () => {
      const r = env.runScript(s);
      if (r instanceof Promise) return r.then(apply);
      apply(r);
    });
  }

  // track_bfd: the session's changes, as they happen.
  const trackedBfd = trackedNames(cfg, 'trackBfd');
  let unwatch: (() => void) | undefined;
  if (trackedBfd.size && !env.bfd) env.log('warn', `track_bfd ${[...trackedBfd].join(', ')}: no BFD sessions are running, so it is ignored`);
  else if (trackedBfd.size && env.bfd) {
    for (const name of trackedBfd) engine.setTracked('bfd', name, env.bfd.isUp(name) === true);
    unwatch = env.bfd.watch((name, up) => {
      if (!stopped && trackedBfd.has(name)) engine.setTracked('bfd', name, up);
    });
  }

  return () => {
    stopped = true;
    unwatch?.();
    watch?.stop();
    linkWatch?.stop();
    if (linkTimer) env.clock.clearTimer(linkTimer);
    for (const h of timers) env.clock.clearTimer(h);
    timers.clear();
  };
}
