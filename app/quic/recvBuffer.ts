/**
 * The receiving half of a stream's (or a CRYPTO epoch's) data: out-of-order segments reassembled
 * into an in-order byte stream (RFC 9000 §2.2: data is delivered in order, duplicates ignored).
 */
export class RecvBuffer {
  private segments: { offset: number; data: Uint8Array }[] = [];
  /** Next offset the application will read. */
  readOffset = 0;
  /** Highest offset + 1 received. */
  highest = 0;
  /** Bytes held in `segments` (may count overlaps). */
  buffered = 0;

  /** Stores a segment; returns the increase of `highest` (for connection-level flow control). */
  insert(offset: number, data: Uint8Array): number {
    const end = offset + data.length;
    const grew = Math.max(0, end - this.highest);
    this.highest = Math.max(this.highest, end);
    if (end <= this.readOffset || data.length === 0) return grew;
    let d = data;
    let o = offset;
    if (o < this.readOffset) {
      d = d.subarray(this.readOffset - o);
      o = this.readOffset;
    }
    const segs = this.segments;
    // Fast path: in-order append.
    const last = segs[segs.length - 1];
    if (!last || last.offset <= o) segs.push({ offset: o, data: d });
    else {
      let i = segs.length - 1;
      while (i > 0 && segs[i - 1]!.offset > o) i--;
      segs.splice(i, 0, { offset: o, data: d });
    }
    this.buffered += d.length;
    return grew;
  }

  /** Whether bytes at `readOffset` are available. */
  get readable(): boolean {
    const s = this.segments[0];
    return s !== undefined && s.offset <= this.readOffset;
  }

  /**
   * Returns the next in-order bytes at `readOffset` (at most `max`), or null when none are
   * available. One received segment at a time, as a view: call until null. Gluing segments
   * together would copy every received byte once more.
   */
  read(max = Infinity): Uint8Array | null {
    const segs = this.segments;
    while (segs.length > 0) {
      const s = segs[0]!;
      if (s.offset > this.readOffset) return null;
      const skip = this.readOffset - s.offset;
      if (skip >= s.data.length) {
        segs.shift();
        this.buffered -= s.data.length;
        continue;
      }
      const n = Math.min(s.data.length - skip, max);
      this.readOffset += n;
      if (skip + n >= s.data.length) {
        segs.shift();
        this.buffered -= s.data.length;
      }
      return skip === 0 && n === s.data.length ? s.data : s.data.subarray(skip, skip + n);
    }
    return null;
  }

  /** Consumes every in-order byte available (discarding it). */
  skipReadable(): void {
    while (this.read() !== null) continue;
  }

  clear(): void {
    this.segments = [];
    this.buffered = 0;
  }
}
