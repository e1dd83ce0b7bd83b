// dh: destination hashing. 256 buckets filled by walking the list in order, cycling, one bucket
// per destination (weights ignored); rebuilt on any destination change. The bucket of a
// connection is (addr_fold(dst) × 2654435761) & 255. A bucket whose destination has weight 0 or
// is overloaded gives "no destination"; there is no fallback.
import type { Dest, DestChange } from '../dest.js';
import { addrFold, multHash } from '../hash.js';
import { BaseScheduler, usable } from './base.js';
import type { ConnInfo } from './types.js';

export const DH_TAB_SIZE = 256;

export class DestinationHashing extends BaseScheduler {
  readonly name = 'dh' as const;
  private table: Array<Dest | undefined> = new Array<Dest | undefined>(DH_TAB_SIZE).fill(undefined);

  get buckets(): ReadonlyArray<Dest | undefined> {
    return this.table;
  }

  protected rebuild(): void {
    const n = this.dests.length;
    for (let b = 0; b < DH_TAB_SIZE; b++) this.table[b] = n ? this.dests[b % n] : undefined;
  }

  protected changed(_i: number, _c: DestChange): void {
    // The table does not depend on weights; usability is checked at lookup.
  }

  bucketOf(dst: string): number {
    return multHash(addrFold(dst), DH_TAB_SIZE - 1);
  }

  protected schedule(conn: ConnInfo): Dest | undefined {
    const d = this.table[this.bucketOf(conn.dst)];
    return d && usable(d) ? d : undefined;
  }
}
