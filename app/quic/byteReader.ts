/**
 * A cursor over received bytes. Every read is bounds-checked: running off the end throws a
 * `QuicError` with `FRAME_ENCODING_ERROR` (RFC 9000 §12.4: a frame that is truncated is badly
 * encoded), which the connection turns into a close or a dropped packet.
 */
import { QuicError } from './quicError.ts';

export class ByteReader {
  readonly bytes: Uint8Array;
  offset: number;
  readonly end: number;

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    this.bytes = bytes;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): void {
    if (n < 0 || this.offset + n > this.end) throw new QuicError('FRAME_ENCODING_ERROR', `truncated: need ${n} bytes, have ${this.remaining}`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.bytes;
    const v = (b[this.offset]! << 8) | b[this.offset + 1]!;
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.bytes;
    const o = this.offset;
    this.offset += 4;
    return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
  }

  /**
   * RFC 9000 §16 variable-length integer. Values above 2^53 lose precision; every place that
   * accepts such values (limits, offsets) treats them as "effectively unlimited" or rejects them.
   */
  varint(): number {
    this.need(1);
    const b = this.bytes;
    const first = b[this.offset]!;
    const len = 1 << (first >> 6);
    this.need(len);
    let v = first & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + b[this.offset + i]!;
    this.offset += len;
    return v;
  }

  /** A view (not a copy) of the next `n` bytes. */
  bytesView(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** A copy of the next `n` bytes, for values kept beyond the datagram's lifetime. */
  copy(n: number): Uint8Array {
    return this.bytesView(n).slice();
  }
}
