/**
 * The sending half of a stream's data (RFC 9000 §3.1): bytes written by the application, kept
 * until acknowledged, with the ranges that still need (re)transmission.
 *
 * Writes are copied (callers may reuse their buffers). Small writes are packed into blocks, so
 * a packet's worth of 200-byte writes is one contiguous view, not seven copies; large writes
 * stay one chunk each. Reads are almost always at or after the previous read: a cursor keeps
 * them O(1) however many chunks are buffered.
 */
import { RangeSet } from './rangeSet.ts';

/** Writes shorter than this are packed into blocks. */
const PACK_BELOW = 2048;
const MIN_BLOCK = 256;
const MAX_BLOCK = 16 * 1024;

export class SendBuffer {
  /** Live chunks are `chunks[head..]`; the ones before were acknowledged and released. */
  private chunks: Uint8Array[] = [];
  private head = 0;
  /** Stream offset of `chunks[head][0]`. */
  private base = 0;
  /**
   * The block small writes are packed into; the last chunk is a view of its filled part, made
   * again only when something reads (`settle`), not on every write.
   */
  private block: Uint8Array | null = null;
  private blockFill = 0;
  private blockViewStale = false;
  /** Index and stream offset of the chunk the last read started in. */
  private cursorIndex = 0;
  private cursorOffset = 0;
  /** Total bytes written by the application. */
  writeOffset = 0;
  /** Next never-sent offset. */
  sentOffset = 0;
  /** Ranges below `sentOffset` declared lost and waiting to be sent again. */
  readonly retransmit = new RangeSet();
  readonly acked = new RangeSet();

  write(data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    if (n < PACK_BELOW) {
      let block = this.block;
      if (!block || this.blockFill + n > block.length) {
        this.settle();
        // Blocks grow with what is buffered, so a stream that sends a few bytes stays small.
        const size = Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, n, this.writeOffset - this.base));
        block = this.block = new Uint8Array(size);
        this.blockFill = 0;
        this.chunks.push(block.subarray(0, 0));
      }
      if (n > 64) block.set(data, this.blockFill);
      else for (let i = 0, o = this.blockFill; i < n; i++) block[o + i] = data[i]!;
      this.blockFill += n;
      this.blockViewStale = true;
    } else {
      this.settle();
      this.block = null;
      this.chunks.push(data.slice());
    }
    this.writeOffset += n;
  }

  /** Brings the view of the block being filled up to date. */
  private settle(): void {
    if (!this.blockViewStale) return;
    this.blockViewStale = false;
    this.chunks[this.chunks.length - 1] = this.block!.subarray(0, this.blockFill);
  }

  /** Bytes held (written and not yet acknowledged contiguously). */
  get buffered(): number {
    return this.writeOffset - this.base;
  }

  get unsent(): number {
    return this.writeOffset - this.sentOffset;
  }

  get hasRetransmit(): boolean {
    return !this.retransmit.isEmpty;
  }

  /** [lo, hi) of the buffer: a view when it lies in one chunk, else a copy. */
  read(lo: number, hi: number): Uint8Array {
    this.settle();
    this.seek(lo);
    const first = this.chunks[this.cursorIndex];
    const pos = this.cursorOffset;
    if (first && pos + first.length >= hi) return first.subarray(lo - pos, hi - pos);
    const out = new Uint8Array(hi - lo);
    this.copyTo(lo, hi, out);
    return out;
  }

  /** Copies [lo, hi) into `dest` (whose length is hi - lo). */
  copyTo(lo: number, hi: number, dest: Uint8Array): void {
    this.settle();
    this.seek(lo);
    const chunks = this.chunks;
    let i = this.cursorIndex;
    let pos = this.cursorOffset;
    let filled = 0;
    const want = hi - lo;
    while (filled < want && i < chunks.length) {
      const c = chunks[i]!;
      const from = lo + filled - pos;
      const n = Math.min(c.length - from, want - filled);
      dest.set(n === c.length ? c : c.subarray(from, from + n), filled);
      filled += n;
      pos += c.length;
      i++;
    }
    if (filled !== want) throw new RangeError(`send buffer holds no bytes ${lo + filled}..${hi}`);
  }

  /**
   * Points the cursor at the chunk holding offset `lo`. Reads move forward (sending in order,
   * retransmitting a little behind), so starting from the cursor keeps this O(1) in the common case.
   */
  private seek(lo: number): void {
    const chunks = this.chunks;
    let i = this.head;
    let pos = this.base;
    if (this.cursorIndex > i && this.cursorIndex < chunks.length && this.cursorOffset <= lo) {
      i = this.cursorIndex;
      pos = this.cursorOffset;
    }
    while (i < chunks.length && pos + chunks[i]!.length <= lo) {
      pos += chunks[i]!.length;
      i++;
    }
    this.cursorIndex = i;
    this.cursorOffset = pos;
  }

  onAck(lo: number, hi: number): void {
    this.settle();
    this.acked.insert(lo, hi);
    this.retransmit.remove(lo, hi);
    // Free chunks wholly below the contiguous acknowledged prefix.
    const first = this.acked.min();
    if (first === undefined || first > this.base) return;
    const ackedTo = this.acked.firstEnd()!;
    const chunks = this.chunks;
    while (this.head < chunks.length && this.base + chunks[this.head]!.length <= ackedTo) {
      // The block being filled may be released only once nothing more goes into it.
      if (this.head === chunks.length - 1) this.block = null;
      this.base += chunks[this.head]!.length;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > chunks.length) {
      this.chunks = chunks.slice(this.head);
      this.cursorIndex -= this.head;
      this.head = 0;
    }
  }

  onLost(lo: number, hi: number): void {
    this.retransmit.insert(lo, hi);
    // Parts already acknowledged by a later packet need not go again.
    for (const [a, b] of this.acked.descending()) if (b > lo && a < hi) this.retransmit.remove(a, b);
  }

  /** All bytes written have been acknowledged. */
  get allAcked(): boolean {
    return this.writeOffset === 0 || (this.acked.min() === 0 && this.acked.firstEnd()! >= this.writeOffset);
  }
}
