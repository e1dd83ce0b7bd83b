// Once a second per VIP: does it answer ping from its segment's probe, and which nodes have it
// configured. Rounds start on the scenario's whole seconds (t0 + k s) and each sample is stamped
// with its round's start; the commands and the clock come in through SamplerIo, so a test can
// drive it with a fake clock and recorded command output.
import type { LabRun } from '../model/result.js';
import type { Micros } from '../model/scenario.js';

export type VipSample = NonNullable<LabRun['vips']>[number];

export interface Vip {
  segment: string;
  address: string;
}

export interface SamplerIo {
  /** performance.now(), ms. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Each node's `ip -4 -o addr show` output. */
  addresses(): Promise<{ node: string; text: string }[]>;
  /** Whether the VIP answers one ping from its segment's probe now. */
  ping(vip: Vip): Promise<boolean>;
}

export interface SamplerRun {
  /** performance.now() of the scenario's zero. */
  t0: number;
  /** False once the run stops recording: the round in progress is dropped. */
  recording(): boolean;
  /** µs from the scenario's zero. */
  at(mono: number): Micros;
  record(sample: VipSample): void;
}

/** The IPv4 addresses in `ip -o addr show` output. */
export function inetAddresses(text: string): string[] {
  return [...text.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
}

/** Sample until the run stops recording. */
export async function sampleVips(vips: Vip[], io: SamplerIo, run: SamplerRun): Promise<void> {
  if (!vips.length) return;
  for (let tick = 0; run.recording(); tick++) {
    const mono = io.now();
    const held = new Map<string, string[]>();
    for (const { node, text } of await io.addresses()) for (const a of inetAddresses(text)) held.set(a, [...(held.get(a) ?? []), node]);
    const pings = await Promise.all(vips.map((v) => io.ping(v)));
    if (!run.recording()) break;
    vips.forEach((v, i) =>
      run.record({ at: run.at(mono), address: v.address, segment: v.segment, reachable: pings[i], holders: [...(held.get(v.address) ?? [])].sort() }),
    );
    const next = run.t0 + (tick + 1) * 1000 - io.now();
    if (next > 0) await io.sleep(next);
  }
}
