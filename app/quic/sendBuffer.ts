/**
 * The sending half of a stream's data (RFC 9000 §3.1): bytes written by the application, kept
 * until acknowledged, with the ranges that still need (re)transmission.
 */
import { RangeSet } from './rangeSet.ts';

export class SendBuffer {
  private chunks: Uint8Array[] = [];
  /** Stream offset of `chunks[0][0]`. */
  private base = 0;
  /** Total bytes written by the application. */
  writeOffset = 0;
  /** Next never-sent offset. */
  sentOffset = 0;
  /** Ranges below `sentOffset` declared lost and waiting to be sent again. */
  readonly retransmit = new RangeSet();
  readonly acked = new RangeSet();

  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.writeOffset += data.length;
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

  /** Copies [lo, hi) out of the buffer. */
  read(lo: number, hi: number): Uint8Array {
    let pos = this.base;
    let i = 0;
    while (i < this.chunks.length && pos + this.chunks[i]!.length <= lo) {
      pos += this.chunks[i]!.length;
      i++;
    }
    const first = this.chunks[i];
    if (first && pos + first.length >= hi) return first.subarray(lo - pos, hi - pos);
    const out = new Uint8Array(hi - lo);
    let filled = 0;
    while (filled < out.length && i < this.chunks.length) {
      const c = this.chunks[i]!;
      const from = Math.max(0, lo + filled - pos);
      const n = Math.min(c.length - from, out.length - filled);
      out.set(c.subarray(from, from + n), filled);
      filled += n;
      pos += c.length;
      i++;
    }
    return out;
  }

  onAck(lo: number, hi: number): void {
    this.acked.insert(lo, hi);
    this.retransmit.remove(lo, hi);
    // Free chunks wholly below the contiguous acknowledged prefix.
    const first = this.acked.first();
    if (!first || first[0] > this.base) return;
    const ackedTo = first[1];
    while (this.chunks.length > 0 && this.base + this.chunks[0]!.length <= ackedTo) {
      this.base += this.chunks.shift()!.length;
    }
  }

  onLost(lo: number, hi: number): void {
    this.retransmit.insert(lo, hi);
    // Parts already acknowledged by a later packet need not go again.
    for (const [a, b] of this.acked.descending()) if (b > lo && a < hi) this.retransmit.remove(a, b);
  }

  /** All bytes written have been acknowledged. */
  get allAcked(): boolean {
    const first = this.acked.first();
    return this.writeOffset === 0 || (first !== undefined && first[0] === 0 && first[1] >= this.writeOffset);
  }
}
