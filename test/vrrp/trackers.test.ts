// startTrackers' track_file schedule: read at start, then on the environment's change events
// with a slow backup poll when every file is watched, or on the 0.5 s poll when not.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';
import type { ResolvedTrackFile } from '../../src/config/model/index.js';
import { VirtualClock } from '../../src/core/clock.js';
import type { VrrpEngine } from '../../src/vrrp/engine.js';
import { startTrackers, type TrackerEnv } from '../../src/vrrp/trackers.js';

const CONF = `track_file tf {\n file /var/run/kt-tf\n weight 10\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n priority 100\n track_file {\n  tf\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n`;

function run(watchAll: boolean | undefined) {
  const { config } = loadConfigText(CONF);
  const clock = new VirtualClock();
  const values: [number, number][] = [];
  const engine = { setTracked: () => undefined, setTrackedValue: (_n: string, v: number) => values.push([clock.now(), v]) } as unknown as VrrpEngine;
  let value = 0;
  let reads = 0;
  let notify: ((f: ResolvedTrackFile) => void) | undefined;
  let stopped = false;
  const env: TrackerEnv = {
    clock,
    log: () => undefined,
    runScript: () => ({ ok: true }),
    linkUp: () => true,
    readFile: () => (reads++, value),
    watchFiles:
      watchAll === undefined
        ? undefined
        : (files, changed) => {
            expect(files.map((f) => f.name)).toEqual(['tf']);
            notify = (f) => changed(f);
            return { stop: () => (stopped = true), all: watchAll };
          },
  };
  const stop = startTrackers(config, engine, env);
  return {
    clock,
    values,
    reads: () => reads,
    set: (v: number) => (value = v),
    event: () => notify!(config.resolved.trackFiles[0]),
    stop,
    stopped: () => stopped,
  };
}

describe('track_file trackers', () => {
  it('reads on each change event at once, and backs the events up every 5 s', () => {
    const t = run(true);
    expect(t.values).toEqual([[0, 0]]);
    t.clock.advance(4_900_000);
    expect(t.reads()).toBe(1);
    t.set(7);
    t.event();
    expect(t.values.at(-1)).toEqual([4_900_000, 7]);
    t.clock.advance(100_000);
    expect(t.reads()).toBe(3);
    t.stop();
    expect(t.stopped()).toBe(true);
    t.event();
    expect(t.reads()).toBe(3);
  });

  it('polls every 0.5 s when a file cannot be watched, or without a watcher', () => {
    for (const w of [false, undefined]) {
      const t = run(w);
      t.clock.advance(2_000_000);
      expect(t.reads(), String(w)).toBe(5);
      t.stop();
    }
  });
});

describe('link trackers', () => {
  const LINKS = `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n priority 100\n track_interface {\n  trk0\n }\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n`;

  function links(withEvents: boolean) {
    const { config } = loadConfigText(LINKS);
    const clock = new VirtualClock();
    const tracked: [number, string, boolean][] = [];
    const engine = {
      setTracked: (_k: string, n: string, up: boolean) => tracked.push([clock.now(), n, up]),
      setTrackedValue: () => undefined,
    } as unknown as VrrpEngine;
    const up = new Map([
      ['eth0', true],
      ['trk0', true],
    ]);
    const reads: string[] = [];
    let changed: ((n?: string) => void) | undefined;
    let live = false;
    const env: TrackerEnv = {
      clock,
      log: () => undefined,
      runScript: () => ({ ok: true }),
      linkUp: (n) => (reads.push(n), up.get(n) ?? false),
      readFile: () => 0,
      watchLinks: withEvents
        ? (cb) => {
            changed = cb;
            return { stop: () => (changed = undefined), live: () => live };
          }
        : undefined,
    };
    const stop = startTrackers(config, engine, env);
    return { clock, tracked, up, reads, stop, event: (n?: string) => changed?.(n), setLive: (v: boolean) => (live = v), watching: () => !!changed };
  }

  it('re-reads the interface an event names at once, and only that one; backs the events up every 5 s', () => {
    const t = links(true);
    t.setLive(true);
    t.event();
    t.reads.length = 0;
    t.clock.advance(1_000_000);
    t.up.set('trk0', false);
    t.event('trk0');
    t.event('other0');
    expect(t.reads).toEqual(['trk0']);
    expect(t.tracked.at(-1)).toEqual([1_000_000, 'trk0', false]);
    // The backup poll: 5 s after the last (re)arming, not every 0.2 s.
    t.clock.advance(3_900_000);
    expect(t.reads).toEqual(['trk0']);
    t.clock.advance(100_000);
    expect(t.reads.length).toBe(3);
    t.stop();
    expect(t.watching()).toBe(false);
  });

  it('polls every 0.2 s while the events are down, and slowly again once they are back', () => {
    const t = links(true);
    t.clock.advance(1_000_000);
    expect(t.reads.length).toBe(2 * 6);
    t.setLive(true);
    t.event();
    t.reads.length = 0;
    t.clock.advance(4_000_000);
    expect(t.reads).toEqual([]);
    // The monitor died: everything re-read at once, then the fast poll.
    t.setLive(false);
    t.up.set('eth0', false);
    t.event();
    expect(t.tracked.at(-1)).toEqual([5_000_000, 'eth0', false]);
    t.reads.length = 0;
    t.clock.advance(400_000);
    expect(t.reads.length).toBe(4);
    t.stop();
  });

  it('polls every 0.2 s without link events', () => {
    const t = links(false);
    t.clock.advance(1_000_000);
    expect(t.reads.length).toBe(12);
    t.stop();
  });
});
