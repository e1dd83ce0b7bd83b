// What the netns lab sees on the wire: every VRRP advert each node sends, captured by tcpdump on
// the node's own interface (so a partition, which moves bridge ports, hides nothing) and stamped
// by the kernel. Daemon logs say when a daemon decided something; the wire says when the others
// could know. The two matter most at a graceful stop: a daemon sends priority 0 and drops its VIP
// at once, but its process may take a second more to exit; timed at the exit, a stop overlaps
// the backup's takeover with a split brain that never happened.
//
// Pure functions of the captured lines and the lab's clock offset, so that they can be tested
// without a namespace.
import type { LabTransition } from '../model/result.js';
import type { Micros } from '../model/scenario.js';

/** One advert as tcpdump printed it: when (epoch ms, the kernel's stamp), from whom, what. */
export interface WireAdvert {
  epochMs: number;
  src: string;
  vrid: number;
  priority: number;
}

/**
 * tcpdump -n -tt: "1733512345.123456 IP 192.168.1.11 > 192.168.1.12: VRRPv2, Advertisement,
 * vrid 51, prio 150, authtype simple, intvl 1s, length 20" (IP6 for IPv6, VRRPv3 alike).
 */
export function parseAdvert(text: string): WireAdvert | undefined {
  const m = /^(\d+\.\d+) IP6? (\S+) > \S+: VRRPv\d, Advertisement, vrid (\d+), prio (\d+)/.exec(text.trim());
  return m ? { epochMs: Number(m[1]) * 1000, src: m[2], vrid: Number(m[3]), priority: Number(m[4]) } : undefined;
}

/** The tcpdump command line capturing what `ifname` sends: VRRP only, each packet at once. */
export function captureArgv(ifname: string): string[] {
  return ['tcpdump', '-i', ifname, '-Q', 'out', '-n', '-l', '-tt', '--immediate-mode', '-p', 'ip proto 112 or ip6 proto 112'];
}

/** An advert on the lab's clock: µs from the scenario's zero, and whose. */
export interface SentAdvert {
  at: Micros;
  node: string;
  segment: string;
  vrid: number;
  priority: number;
}

/** A graceful stop as the lab did it: when it signalled the node, when the process was gone. */
export interface StopWindow {
  node: string;
  signalled: Micros;
  exited: Micros;
}

/**
 * How far the wire's clock (tcpdump's epoch stamps, mapped through epochEdgeOffset) and the
 * lab's performance.now() may disagree. keepalived answers SIGTERM with its priority 0 within
 * 0.2 ms of the lab's signal; on a busy box the mapping alone can be off by more than that, and
 * the answer then reads as sent before its signal.
 */
export const WIRE_CLOCK_SLACK: Micros = 2_000;

/**
 * Stops timed from the wire: an instance of a stopped node that was MASTER sent priority 0 when
 * it gave up mastership; that moment, not the process's exit, is its STOPPED transition. An
 * instance that sent no priority 0 (it was BACKUP, or its daemon died first) keeps the exit time.
 * A priority 0 up to WIRE_CLOCK_SLACK before the signal is the signal's answer read through the
 * clocks' disagreement; the stop's `signalled` is then moved to it (in place), so that the
 * answer never precedes its signal. `vridOf` maps (node, instance) to the VRIDs the instance
 * advertises. Returns how many moved.
 */
export function stopsFromWire(
  transitions: LabTransition[],
  stops: StopWindow[],
  adverts: readonly SentAdvert[],
  vridOf: (node: string, instance: string) => number | undefined,
): number {
  let moved = 0;
  for (const t of transitions) {
    if (t.to !== 'STOPPED') continue;
    const stop = stops.find((s) => s.node === t.node && t.at >= s.signalled && t.at <= s.exited + 1000);
    const vrid = vridOf(t.node, t.instance);
    if (!stop || vrid === undefined) continue;
    const zero = adverts.find((a) => a.node === t.node && a.vrid === vrid && a.priority === 0 && a.at >= stop.signalled - WIRE_CLOCK_SLACK && a.at <= t.at);
    if (!zero) continue;
    t.reason = `${t.reason}: priority 0 sent at ${(zero.at / 1e6).toFixed(3)}s, the process exited at ${(t.at / 1e6).toFixed(3)}s`;
    t.logAt = t.at;
    t.at = zero.at;
    stop.signalled = Math.min(stop.signalled, zero.at);
    moved++;
  }
  return moved;
}

/** Clock edges epochEdgeOffset reads; the median of them is the offset. */
const EDGES = 5;

/**
 * Date.now() minus performance.now(), in ms, read at the moment Date.now() ticks over (so exact
 * to a few µs rather than to its 1 ms resolution): maps tcpdump's epoch stamps onto the lab's
 * clock. One reading is off by as long as the process was preempted between its two clock reads
 * (ms on a busy box), so it reads EDGES edges and takes their median (~5 ms of spinning).
 * `now` and `epoch` stand in for the clocks in tests.
 */
export function epochEdgeOffset(now: () => number, epoch: () => number): number {
  const offsets: number[] = [];
  let first = epoch();
  while (offsets.length < EDGES) {
    const give = now() + 3;
    for (;;) {
      const mono = now();
      const e = epoch();
      if (e !== first || mono > give) {
        offsets.push(e - mono);
        first = e;
        break;
      }
    }
  }
  offsets.sort((a, b) => a - b);
  return offsets[EDGES >> 1];
}
