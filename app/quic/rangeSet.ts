/** A set of non-overlapping half-open integer ranges [lo, hi), kept sorted ascending. */
export class RangeSet {
  /** Flattened [lo0, hi0, lo1, hi1, ...]. */
  private r: number[] = [];

  get size(): number {
    return this.r.length / 2;
  }

  get isEmpty(): boolean {
    return this.r.length === 0;
  }

  min(): number | undefined {
    return this.r[0];
  }

  /** The exclusive upper end of the highest range. */
  max(): number | undefined {
    return this.r[this.r.length - 1];
  }

  has(v: number): boolean {
    const r = this.r;
    for (let i = r.length - 2; i >= 0; i -= 2) {
      if (v >= r[i + 1]!) return false;
      if (v >= r[i]!) return true;
    }
    return false;
  }

  /** Adds [lo, hi). Returns true when any value was new. O(log n) to find the place, O(n) to splice. */
  insert(lo: number, hi: number): boolean {
    if (hi <= lo) return false;
    const r = this.r;
    // Fast path: append at or after the end (in-order arrival).
    const n = r.length;
    if (n === 0 || lo > r[n - 1]!) {
      r.push(lo, hi);
      return true;
    }
    if (lo >= r[n - 2]! && hi <= r[n - 1]!) return false;
    if (lo >= r[n - 2]! && lo <= r[n - 1]!) {
      r[n - 1] = Math.max(r[n - 1]!, hi);
      return true;
    }
    // General case: the ranges overlapping or touching [lo, hi) are r[i .. j).
    const i = this.firstEndingAtOrAfter(lo);
    let j = i;
    let newLo = lo;
    let newHi = hi;
    while (j < r.length && r[j]! <= hi) {
      if (r[j]! <= lo && r[j + 1]! >= hi) return false;
      newLo = Math.min(newLo, r[j]!);
      newHi = Math.max(newHi, r[j + 1]!);
      j += 2;
    }
    r.splice(i, j - i, newLo, newHi);
    return true;
  }

  /** How many ranges the set would hold after `insert(lo, hi)`, without inserting. O(log n + k). */
  sizeAfterInsert(lo: number, hi: number): number {
    if (hi <= lo) return this.size;
    const r = this.r;
    const i = this.firstEndingAtOrAfter(lo);
    let j = i;
    while (j < r.length && r[j]! <= hi) j += 2;
    return this.size - (j - i) / 2 + 1;
  }

  /**
   * Calls `each(a, b)` for every piece [a, b) of [lo, hi) that is not in the set, lowest first.
   * O(log n + k) for k ranges inside [lo, hi).
   */
  forEachGap(lo: number, hi: number, each: (a: number, b: number) => void): void {
    const r = this.r;
    let at = lo;
    for (let i = this.firstEndingAtOrAfter(lo); i < r.length && r[i]! < hi && at < hi; i += 2) {
      if (r[i]! > at) each(at, r[i]!);
      at = Math.max(at, r[i + 1]!);
    }
    if (at < hi) each(at, hi);
  }

  /** The index (even) of the first range whose exclusive end is >= v; r.length when none. */
  private firstEndingAtOrAfter(v: number): number {
    let a = 0;
    let b = this.r.length / 2;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.r[2 * m + 1]! < v) a = m + 1;
      else b = m;
    }
    return 2 * a;
  }

  /** Removes every value below `v`. */
  removeBelow(v: number): void {
    const r = this.r;
    // The first range ending after v (ends are strictly ascending, so the search is exact).
    const i = this.firstEndingAtOrAfter(v + 1);
    if (i > 0) r.splice(0, i);
    if (r.length > 0 && r[0]! < v) r[0] = v;
  }

  /** Removes [lo, hi). */
  remove(lo: number, hi: number): void {
    const r = this.r;
    // Nothing to do (the common case: acknowledging data that was never declared lost).
    if (hi <= lo || r.length === 0 || hi <= r[0]! || lo >= r[r.length - 1]!) return;
    const out: number[] = [];
    for (let i = 0; i < r.length; i += 2) {
      const a = r[i]!;
      const b = r[i + 1]!;
      if (b <= lo || a >= hi) {
        out.push(a, b);
        continue;
      }
      if (a < lo) out.push(a, lo);
      if (b > hi) out.push(hi, b);
    }
    this.r = out;
  }

  /** Keeps only the highest `n` ranges. */
  truncateLow(n: number): void {
    if (this.r.length > n * 2) this.r.splice(0, this.r.length - n * 2);
  }

  /** Ranges as [lo, hi) pairs, highest first. */
  descending(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = this.r.length - 2; i >= 0; i -= 2) out.push([this.r[i]!, this.r[i + 1]!]);
    return out;
  }

  /** The exclusive upper end of the lowest range. */
  firstEnd(): number | undefined {
    return this.r[1];
  }

  /** The lowest range, if any. */
  first(): [number, number] | undefined {
    return this.r.length ? [this.r[0]!, this.r[1]!] : undefined;
  }

  clear(): void {
    this.r = [];
  }
}
