// A binary min-heap: the clocks' pending timers (timer-heap.ts; issue 14: re-scanning every
// pending timer on each firing made a 32k-timer lab run take 50 s).

export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** Keeps only the items `keep` accepts (in O(n): the heap is rebuilt from them). */
  retain(keep: (v: T) => boolean): void {
    const h = this.items;
    let n = 0;
    for (const v of h) if (keep(v)) h[n++] = v;
    h.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.down(i);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(v: T): void {
    const h = this.items;
    h.push(v);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      const t = h[p];
      h[p] = h[i];
      h[i] = t;
      i = p;
    }
  }

  pop(): T | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length && last !== undefined) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  private down(from: number): void {
    const h = this.items;
    for (let i = from; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) break;
      const t = h[m];
      h[m] = h[i];
      h[i] = t;
      i = m;
    }
  }
}
