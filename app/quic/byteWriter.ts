/** A growable output buffer for frames, headers and transport parameters. */
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
