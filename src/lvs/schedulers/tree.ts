// Indexes over the destination list (positions 0..n-1 in list order) that turn IPVS's per-pick
// O(n) scans into O(log n) updates and O(1)/O(log n) queries without changing which destination
// wins: every query returns the *leftmost* best position, which is what a strict-comparison scan
// from the head of the list returns.

function pow2(n: number): number {
  let s = 1;
  while (s < n) s <<= 1;
  return s;
}

/**
 * Tournament tree: each node keeps the winner of its range, the root the leftmost best eligible
 * position. `beats(r, l)` (r right of l) must be a strict "better than" of a total preorder, so
 * the leftmost minimum of the tree equals the first-wins result of a sequential scan.
 */
export class BestTree {
  private readonly size: number;
  private readonly win: Int32Array;

  constructor(
    readonly n: number,
    private readonly eligible: (i: number) => boolean,
    private readonly beats: (r: number, l: number) => boolean,
  ) {
    this.size = pow2(Math.max(1, n));
    this.win = new Int32Array(2 * this.size).fill(-1);
    for (let i = 0; i < n; i++) this.win[this.size + i] = eligible(i) ? i : -1;
    for (let k = this.size - 1; k >= 1; k--) this.win[k] = this.combine(this.win[2 * k], this.win[2 * k + 1]);
  }

  /** Position i's state changed: O(log n). */
  update(i: number): void {
    let k = this.size + i;
    this.win[k] = this.eligible(i) ? i : -1;
    for (k >>= 1; k >= 1; k >>= 1) {
      const w = this.combine(this.win[2 * k], this.win[2 * k + 1]);
      // Same winner and it is not i: its key is unchanged, so nothing above can change either.
      if (this.win[k] === w && w !== i) return;
      this.win[k] = w;
    }
  }

  /** Leftmost best eligible position, or -1. O(1). */
  best(): number {
    return this.win[1];
  }

  private combine(l: number, r: number): number {
    if (l < 0) return r;
    if (r < 0) return l;
    return this.beats(r, l) ? r : l;
  }
}

/** Max segment tree over numbers: the first position ≥ from whose value is ≥ a threshold. */
export class MaxTree {
  private readonly size: number;
  private readonly t: Float64Array;

  constructor(
    readonly n: number,
    value: (i: number) => number,
  ) {
    this.size = pow2(Math.max(1, n));
    this.t = new Float64Array(2 * this.size).fill(-Infinity);
    for (let i = 0; i < n; i++) this.t[this.size + i] = value(i);
    for (let k = this.size - 1; k >= 1; k--) this.t[k] = Math.max(this.t[2 * k], this.t[2 * k + 1]);
  }

  set(i: number, v: number): void {
    let k = this.size + i;
    if (this.t[k] === v) return;
    this.t[k] = v;
    for (k >>= 1; k >= 1; k >>= 1) {
      const m = Math.max(this.t[2 * k], this.t[2 * k + 1]);
      if (this.t[k] === m) break;
      this.t[k] = m;
    }
  }

  max(): number {
    return this.t[1];
  }

  /** First position p ≥ from with value ≥ thr, or -1. O(log n). */
  firstAtLeast(from: number, thr: number): number {
    if (from >= this.n || this.t[1] < thr) return -1;
    // Walk up from the leaf `from`, checking right siblings, then descend into the first hit.
    let k = this.size + Math.max(0, from);
    if (this.t[k] >= thr) return k - this.size;
    for (;;) {
      // Move to the next subtree to the right of k.
      while (k & 1) {
        k >>= 1;
        if (k === 0) return -1;
      }
      k++;
      if (this.t[k] >= thr) break;
    }
    while (k < this.size) k = this.t[2 * k] >= thr ? 2 * k : 2 * k + 1;
    const p = k - this.size;
    return p < this.n ? p : -1;
  }
}

/** Sum segment tree over non-negative numbers: weighted selection by prefix sums. */
export class SumTree {
  private readonly size: number;
  private readonly t: Float64Array;

  constructor(
    readonly n: number,
    value: (i: number) => number,
  ) {
    this.size = pow2(Math.max(1, n));
    this.t = new Float64Array(2 * this.size);
    for (let i = 0; i < n; i++) this.t[this.size + i] = value(i);
    for (let k = this.size - 1; k >= 1; k--) this.t[k] = this.t[2 * k] + this.t[2 * k + 1];
  }

  set(i: number, v: number): void {
    let k = this.size + i;
    const d = v - this.t[k];
    if (d === 0) return;
    for (; k >= 1; k >>= 1) this.t[k] += d;
  }

  total(): number {
    return this.t[1];
  }

  /** First position whose inclusive prefix sum is ≥ r (1 ≤ r ≤ total), or -1. O(log n). */
  lowerBound(r: number): number {
    if (r > this.t[1]) return -1;
    let k = 1;
    while (k < this.size) {
      if (this.t[2 * k] >= r) k = 2 * k;
      else {
        r -= this.t[2 * k];
        k = 2 * k + 1;
      }
    }
    return k - this.size;
  }
}
