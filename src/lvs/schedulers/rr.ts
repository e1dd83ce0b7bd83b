// rr: round robin. IPVS keeps a pointer to the last destination picked (initially the list head)
// and walks forward, wrapping, to the first destination with weight > 0 that is not overloaded;
// after a full lap it gives up and leaves the pointer where it was. When the pointed-to
// destination is deleted, the pointer moves to its predecessor.
// Here the walk looks at the next four destinations, then asks a max tree of "usable" flags:
// O(log n) per pick instead of O(n) when many destinations in a row are quiesced or overloaded.
import type { Dest, DestChange } from '../dest.js';
import { BaseScheduler, usable } from './base.js';
import { MaxTree } from './tree.js';

export class RoundRobin extends BaseScheduler {
  readonly name = 'rr' as const;
  private last: Dest | undefined;
  private tree = new MaxTree(0, () => 0);

  protected rebuild(prev: readonly Dest[]): void {
    if (this.last && !this.pos.has(this.last)) {
      // Predecessor in the old list that survived, else the head.
      let p: Dest | undefined;
      for (let i = prev.indexOf(this.last) - 1; i >= 0; i--) {
        if (this.pos.has(prev[i])) {
          p = prev[i];
          break;
        }
      }
      this.last = p;
    }
    this.tree = new MaxTree(this.dests.length, (i) => (usable(this.dests[i]) ? 1 : 0));
  }

  protected changed(i: number, _c: DestChange): void {
    this.tree.set(i, usable(this.dests[i]) ? 1 : 0);
  }

  protected schedule(): Dest | undefined {
    const start = this.last ? this.pos.get(this.last)! : -1;
    // The next destination is usually usable: look at a few before asking the tree.
    const ds = this.dests;
    for (let j = start + 1; j < ds.length && j <= start + 4; j++) {
      if (usable(ds[j])) return (this.last = ds[j]);
    }
    let i = this.tree.firstAtLeast(start + 1, 1);
    // Second lap from the head, up to and including the last pick itself.
    if (i < 0 && start >= 0) i = this.tree.firstAtLeast(0, 1);
    if (i < 0) return undefined;
    this.last = this.dests[i];
    return this.last;
  }
}
