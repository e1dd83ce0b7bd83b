// mh: Maglev hashing (Eisenbud et al., NSDI 2016), as IPVS builds it.
// Table size M = primes[index − 8] of {251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521,
// 131071}, default index 12 → 4093; more destinations than M is refused (EINVAL in IPVS).
// Each destination, in list order, gets offset = H1(addr_fold + port) mod M, skip =
// H2(addr_fold + port) mod (M − 1) + 1 and turns = (last_weight / g) >> rshift, or 1 when that
// is 0 and last_weight ≠ 0, where g is the gcd of the positive last_weights and rshift =
// max(0, fls(max_last_weight / g) − index/2). Population: rounds over the list; in each round a
// destination claims `turns` slots, each the next free slot of its permutation offset, offset +
// skip, ... (mod M); stop when all M slots are taken. H1/H2 are the 64-bit kernels' hsiphash
// with fixed keys, so this table is the kernel's slot for slot. Lookup: slot H1(addr_fold(src) +
// port) mod M; port = the client source port with the port flag (mh-port / flag-2). A slot whose
// destination has weight 0 or is overloaded gives no destination, unless the fallback flag
// (mh-fallback / flag-1): then slots H1(addr_fold + port + (ihash + k) mod M) mod M, k = 0..M−1,
// are tried in turn. Because the table uses last_weight, quiescing keeps it unchanged, and
// removing one of N destinations remaps about 1/N of the clients.
import type { Dest, DestChange } from '../dest.js';
import { addrFold, gcd, hsiphash, MH_KEY1, MH_KEY2 } from '../hash.js';
import { BaseScheduler, usable } from './base.js';
import type { ConnInfo, SchedulerOptions } from './types.js';
import { schedFlags } from './types.js';

export const MH_PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;

function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

export class MaglevHashing extends BaseScheduler {
  readonly name = 'mh' as const;
  readonly size: number;
  private readonly tabBits: number;
  private readonly port: boolean;
  private readonly fallback: boolean;
  /** Slot → destination position, -1 = empty. */
  private lookup: Int32Array;

  constructor(opts: SchedulerOptions = {}) {
    super();
    const index = opts.mhTableIndex ?? 12;
    if (!Number.isInteger(index) || index < 8 || index > 17) throw new RangeError(`mh table index must be 8..17, got ${index}`);
    this.size = MH_PRIMES[index - 8];
    this.tabBits = index >> 1;
    ({ port: this.port, fallback: this.fallback } = schedFlags(opts.flags));
    this.lookup = new Int32Array(this.size).fill(-1);
  }

  /** Slot → destination (for tests and dumps). */
  slot(i: number): Dest | undefined {
    const p = this.lookup[i];
    return p < 0 ? undefined : this.dests[p];
  }

  protected rebuild(): void {
    if (this.dests.length > this.size) {
      throw new RangeError(`mh: ${this.dests.length} destinations exceed the lookup table size ${this.size} (IPVS refuses the destination)`);
    }
    this.populate();
  }

  protected changed(_i: number, c: DestChange): void {
    if (c === 'edit') this.populate();
  }

  private populate(): void {
    const ds = this.dests;
    const M = this.size;
    const look = this.lookup;
    look.fill(-1);
    let g = 0;
    let maxw = 0;
    for (const d of ds) {
      const lw = d.lastWeight;
      if (lw > 0) g = g > 0 ? gcd(lw, g) : lw;
      if (lw > maxw) maxw = lw;
    }
    if (g < 1) return; // every last_weight is 0: empty table
    const rshift = Math.max(0, fls(Math.floor(maxw / g)) - this.tabBits);
    const n = ds.length;
    const perm = new Uint32Array(n);
    const skip = new Uint32Array(n);
    const turns = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const d = ds[i];
      const v = (d.port + d.addrFold) >>> 0;
      perm[i] = hsiphash(v, 4, MH_KEY1) % M;
      skip[i] = (hsiphash(v, 4, MH_KEY2) % (M - 1)) + 1;
      const lw = d.lastWeight;
      turns[i] = Math.floor(lw / g) >>> rshift || (lw !== 0 ? 1 : 0);
    }
    const taken = new Uint8Array(M);
    let filled = 0;
    for (;;) {
      for (let i = 0; i < n; i++) {
        for (let t = 0; t < turns[i]; t++) {
          let c = perm[i];
          while (taken[c]) {
            c += skip[i];
            if (c >= M) c -= M;
          }
          perm[i] = c;
          taken[c] = 1;
          look[c] = i;
          if (++filled === M) return;
        }
      }
    }
  }

  /** The slot a client hashes to. */
  slotOf(src: string, srcPort = 0): number {
    return hsiphash((srcPort + addrFold(src)) >>> 0, 4, MH_KEY1) % this.size;
  }

  protected schedule(conn: ConnInfo): Dest | undefined {
    const port = this.port ? (conn.srcPort ?? 0) : 0;
    const fold = addrFold(conn.src);
    const M = this.size;
    const ihash = hsiphash((port + fold) >>> 0, 4, MH_KEY1) % M;
    const p = this.lookup[ihash];
    if (p < 0) return undefined;
    const d = this.dests[p];
    if (usable(d)) return d;
    if (!this.fallback) return undefined;
    for (let k = 0; k < M; k++) {
      const roffset = (k + ihash) % M;
      const q = this.lookup[hsiphash((roffset + port + fold) >>> 0, 4, MH_KEY1) % M];
      if (q < 0) break;
      if (usable(this.dests[q])) return this.dests[q];
    }
    return undefined;
  }
}
