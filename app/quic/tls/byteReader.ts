/**
 * Bounds-checked reading of TLS presentation-language vectors (RFC 8446bis §3). Every overrun
 * is the peer's fault: it raises decode_error (§6.2: "A message could not be decoded because
 * some field was out of the specified range or the length of the message was incorrect").
 */
import { Alert, fail } from './alerts.ts';

export class ByteReader {
  private readonly bytes: Uint8Array;
  private pos = 0;
  private readonly what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.what = what;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(n: number): void {
    if (n > this.remaining) fail(Alert.decode_error, `${this.what}: truncated (needed ${n} bytes, ${this.remaining} left)`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++] as number;
  }

  u16(): number {
    this.need(2);
    const v = ((this.bytes[this.pos] as number) << 8) | (this.bytes[this.pos + 1] as number);
    this.pos += 2;
    return v;
  }

  u24(): number {
    this.need(3);
    const b = this.bytes;
    const v = ((b[this.pos] as number) << 16) | ((b[this.pos + 1] as number) << 8) | (b[this.pos + 2] as number);
    this.pos += 3;
    return v;
  }

  u32(): number {
    return this.u16() * 0x10000 + this.u16();
  }

  raw(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A vector with a `lengthBytes`-byte length prefix, checked against [min, max]. */
  vector(lengthBytes: 1 | 2 | 3, min = 0, max = Infinity): Uint8Array {
    const n = lengthBytes === 1 ? this.u8() : lengthBytes === 2 ? this.u16() : this.u24();
    if (n < min || n > max) fail(Alert.decode_error, `${this.what}: vector length ${n} outside ${min}..${max}`);
    return this.raw(n);
  }

  /** A sub-reader over a length-prefixed vector. */
  sub(lengthBytes: 1 | 2 | 3, what: string, min = 0, max = Infinity): ByteReader {
    return new ByteReader(this.vector(lengthBytes, min, max), what);
  }

  /** The structure must be fully consumed: trailing bytes are a decode error. */
  end(): void {
    if (this.remaining !== 0) fail(Alert.decode_error, `${this.what}: ${this.remaining} trailing bytes`);
  }
}
