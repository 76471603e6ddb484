/**
 * A growable output buffer: QUIC frames, headers and transport parameters, and TLS handshake
 * structures (RFC 8446bis §3: fixed-width integers and length-prefixed vectors).
 */
import { varintLength, writeVarint } from './varint.ts';

export class ByteWriter {
  private buf: Uint8Array;
  offset = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.offset + n));
    next.set(this.buf.subarray(0, this.offset));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.offset++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf[this.offset++] = (v >> 8) & 0xff;
    this.buf[this.offset++] = v & 0xff;
    return this;
  }

  u24(v: number): this {
    this.ensure(3);
    this.buf[this.offset++] = (v >>> 16) & 0xff;
    this.buf[this.offset++] = (v >>> 8) & 0xff;
    this.buf[this.offset++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf[this.offset++] = (v >>> 24) & 0xff;
    this.buf[this.offset++] = (v >>> 16) & 0xff;
    this.buf[this.offset++] = (v >>> 8) & 0xff;
    this.buf[this.offset++] = v & 0xff;
    return this;
  }

  varint(v: number, len = varintLength(v)): this {
    this.ensure(len);
    this.offset = writeVarint(this.buf, this.offset, v, len);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.offset);
    this.offset += b.length;
    return this;
  }

  /**
   * RFC 8446bis §3.4: a vector with a `lengthBytes`-byte length prefix, from bytes or written in
   * place by `body`. Throws (a programmer error) when the body does not fit the prefix.
   */
  vector(lengthBytes: 1 | 2 | 3, body: Uint8Array | ((w: ByteWriter) => void)): this {
    this.ensure(lengthBytes);
    const at = this.offset;
    this.offset += lengthBytes;
    if (typeof body === 'function') body(this);
    else this.bytes(body);
    const n = this.offset - at - lengthBytes;
    if (n >= 2 ** (8 * lengthBytes))
      throw new RangeError(`vector of ${n} bytes does not fit a ${lengthBytes}-byte length`);
    for (let i = lengthBytes - 1, v = n; i >= 0; i--, v >>>= 8) this.buf[at + i] = v & 0xff;
    return this;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.offset;
  }

  /** Reserves the next `n` bytes and returns them for the caller to fill (no intermediate copy). */
  reserve(n: number): Uint8Array {
    this.ensure(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** Starts over, keeping the allocation (scratch buffers for packet assembly). */
  reset(): this {
    this.offset = 0;
    return this;
  }

  /** The bytes written so far (a view; copy if the writer is reused). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.offset);
  }
}
