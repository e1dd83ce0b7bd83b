// Property: whatever partitions, losses, kills and priority changes happen, once the network is
// whole and quiet again the routers converge on exactly one MASTER: the live router with the
// highest effective priority (ties to the highest address), and every other live router is BACKUP.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { SimSegment } from '../../src/net/sim-network.js';
import { VrrpRunner, type RunnerConfig } from '../../src/vrrp/instance.js';
import { runnerConfigFor } from './runner-config.js';

const S = 1_000_000;

function cfg(i: number, priority: number, version: 2 | 3): RunnerConfig {
  return runnerConfigFor(`R${i}`, `10.0.0.${i + 1}`, priority, { vrid: 7, version, advertIntUs: version === 3 ? 200_000 : S, addresses: ['10.0.0.100'] });
}

const fault = fc.oneof(
  fc.record({ kind: fc.constant('split' as const), mask: fc.nat() }),
  fc.record({ kind: fc.constant('loss' as const), node: fc.nat(), p: fc.double({ min: 0, max: 0.9, noNaN: true }) }),
  fc.record({ kind: fc.constant('kill' as const), node: fc.nat() }),
  fc.record({ kind: fc.constant('stop' as const), node: fc.nat() }),
  fc.record({ kind: fc.constant('restart' as const), node: fc.nat() }),
  fc.record({ kind: fc.constant('priority' as const), node: fc.nat(), value: fc.integer({ min: 1, max: 254 }) }),
);

describe('VRRP convergence (property)', () => {
  it('after any fault sequence, healing gives exactly one MASTER: the best live router', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 254 }), { minLength: 2, maxLength: 4 }),
        fc.constantFrom(2 as const, 3 as const),
        fc.array(fc.tuple(fault, fc.integer({ min: 0, max: 5 * S })), { maxLength: 12 }),
        fc.integer({ min: 1, max: 1000 }),
        (prios, version, faults, seed) => {
          const clock = new VirtualClock();
          let x = seed;
          const seg = new SimSegment(clock, 100, () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
          const n = prios.length;
          const ports = prios.map((_, i) => seg.attach(`R${i}`, `10.0.0.${i + 1}`));
          // Each incarnation of a router talks through its own gate, so a killed one (kill -9)
          // neither sends nor hears anything again, whatever its leftover timers do.
          const gates = prios.map(() => ({ open: true }));
          const incarnate = (i: number, priority: number): VrrpRunner => {
            const gate = { open: true };
            gates[i] = gate;
            const r = new VrrpRunner(cfg(i, priority, version), clock, { send: (pl, o) => gate.open && ports[i].send(pl, o) });
            ports[i].onPacket((pk) => gate.open && r.receive(pk));
            return r;
          };
          const runners = prios.map((p, i) => incarnate(i, p));
          const alive = prios.map(() => true);
          runners.forEach((r) => r.start());
          for (const [f, dt] of faults) {
            clock.advance(dt);
            const i = 'node' in f ? f.node % n : 0;
            if (f.kind === 'split')
              seg.split([ports.filter((_, k) => (f.mask >> k) & 1).map((p) => p.name), ports.filter((_, k) => !((f.mask >> k) & 1)).map((p) => p.name)]);
            else if (f.kind === 'loss') seg.setFaults(`R${i}`, { loss: f.p });
            else if (f.kind === 'kill') {
              gates[i].open = false;
              alive[i] = false;
            } else if (f.kind === 'stop' && alive[i]) {
              runners[i].stop();
              alive[i] = false;
            } else if (f.kind === 'restart' && !alive[i]) {
              gates[i].open = false;
              runners[i] = incarnate(i, runners[i].cfg.priority);
              runners[i].start();
              alive[i] = true;
            } else if (f.kind === 'priority' && alive[i]) runners[i].setPriority(f.value);
          }
          // Heal everything and let it settle.
          seg.heal();
          ports.forEach((p) => seg.setFaults(p.name, {}));
          clock.advance(30 * S);
          const live = runners.map((r, i) => ({ r, i })).filter(({ i }) => alive[i]);
          if (live.length === 0) return;
          const best = live.reduce((a, b) =>
            b.r.state.effectivePriority > a.r.state.effectivePriority || (b.r.state.effectivePriority === a.r.state.effectivePriority && b.i > a.i) ? b : a,
          );
          for (const { r, i } of live) expect([i, r.state.state]).toEqual([i, i === best.i ? 'MASTER' : 'BACKUP']);
        },
      ),
      { numRuns: 300, seed: 5798 },
    );
  });
});
