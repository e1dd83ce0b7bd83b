// sh: source hashing. A table of 2^bits buckets (default 256) filled by walking the list in
// order, cycling, each destination taking max(weight, 1) consecutive buckets; rebuilt on any
// destination add, delete or edit. The bucket of a client is
// (offset + hash_32(port + addr_fold(src), bits)) & mask with offset 0, port = the client's
// source port with the port flag (sh-port / flag-2), else 0. A bucket whose destination has weight 0
// or is overloaded gives "no destination" unless the fallback flag (sh-fallback / flag-1) is set:
// then offsets (ihash + k) mod size, k = 0.., are tried until a usable bucket (as the kernel
// computes it, the k-th probe lands on bucket (2·ihash + k) mod size).
// Because the table is refilled from the list, deleting a destination shifts every bucket after
// its first one: sh is not minimally disruptive on deletion; quiescing (weight 0) a weight-1
// destination keeps the table and moves only its own clients.
import type { Dest, DestChange } from '../dest.js';
import { addrFold, hash32 } from '../hash.js';
import { BaseScheduler, usable } from './base.js';
import type { ConnInfo, SchedulerOptions } from './types.js';
import { schedFlags } from './types.js';

export class SourceHashing extends BaseScheduler {
  readonly name = 'sh' as const;
  readonly bits: number;
  readonly size: number;
  private readonly port: boolean;
  private readonly fallback: boolean;
  private table: Array<Dest | undefined>;

  constructor(opts: SchedulerOptions = {}) {
    super();
    this.bits = opts.shTableBits ?? 8;
    if (!Number.isInteger(this.bits) || this.bits < 4 || this.bits > 20) throw new RangeError(`sh table bits must be 4..20, got ${this.bits}`);
    this.size = 1 << this.bits;
    ({ port: this.port, fallback: this.fallback } = schedFlags(opts.flags));
    this.table = new Array<Dest | undefined>(this.size).fill(undefined);
  }

  /** The bucket table (for tests and dumps). */
  get buckets(): ReadonlyArray<Dest | undefined> {
    return this.table;
  }

  protected rebuild(): void {
    this.fill();
  }

  protected changed(_i: number, c: DestChange): void {
    if (c === 'edit') this.fill();
  }

  private fill(): void {
    const ds = this.dests;
    const t = this.table;
    if (ds.length === 0) {
      t.fill(undefined);
      return;
    }
    let p = 0;
    let count = 0;
    for (let b = 0; b < this.size; b++) {
      const d = ds[p];
      t[b] = d;
      if (++count >= d.weight) {
        p = p + 1 === ds.length ? 0 : p + 1;
        count = 0;
      }
    }
  }

  /** The bucket a client hashes to (offset 0). */
  bucketOf(src: string, srcPort = 0): number {
    return hash32((srcPort + addrFold(src)) >>> 0, this.bits) & (this.size - 1);
  }

  protected schedule(conn: ConnInfo): Dest | undefined {
    const ihash = this.bucketOf(conn.src, this.port ? (conn.srcPort ?? 0) : 0);
    const d = this.table[ihash];
    if (!d) return undefined;
    if (usable(d)) return d;
    if (!this.fallback) return undefined;
    const mask = this.size - 1;
    for (let k = 0; k < this.size; k++) {
      const roffset = (k + ihash) & mask;
      const e = this.table[(roffset + ihash) & mask];
      if (!e) break;
      if (usable(e)) return e;
    }
    return undefined;
  }
}
