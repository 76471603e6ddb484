/**
 * A cursor over received bytes, for QUIC (varints, frames, headers, transport parameters) and for
 * the TLS presentation language (RFC 8446bis §3: fixed-width integers, length-prefixed vectors).
 *
 * Every read is bounds-checked. Running off the end is the peer's fault and raises what the
 * protocol says: by default a `QuicError` with FRAME_ENCODING_ERROR (RFC 9000 §12.4: a frame that
 * is truncated is badly encoded); the TLS handshake passes a handler raising decode_error
 * (RFC 8446bis §6.2: "A message could not be decoded because some field was out of the specified
 * range or the length of the message was incorrect").
 */
import { QuicError } from './quicError.ts';

/** Raises the protocol's decode error; `message` says what was wrong. */
export type DecodeFailure = (message: string) => never;

const frameEncodingError: DecodeFailure = (message) => {
  throw new QuicError('FRAME_ENCODING_ERROR', message);
};

export class ByteReader {
  readonly bytes: Uint8Array;
  offset: number;
  /** Offset just past the last readable byte. */
  readonly limit: number;
  private readonly onFailure: DecodeFailure;
  /** Names the structure being read in error messages ("ClientHello", "ALPN list"). */
  private readonly label: string;

  constructor(
    bytes: Uint8Array,
    offset = 0,
    limit = bytes.length,
    fail: DecodeFailure = frameEncodingError,
    label = '',
  ) {
    this.bytes = bytes;
    this.offset = offset;
    this.limit = limit;
    this.onFailure = fail;
    this.label = label;
  }

  private fail(message: string): never {
    return this.onFailure(this.label ? `${this.label}: ${message}` : message);
  }

  get remaining(): number {
    return this.limit - this.offset;
  }

  private need(n: number): void {
    if (n < 0 || this.offset + n > this.limit) this.fail(`truncated (needed ${n} bytes, ${this.remaining} left)`);
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

  u24(): number {
    this.need(3);
    const b = this.bytes;
    const o = this.offset;
    this.offset += 3;
    return (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
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

  /** RFC 8446bis §3.4: a vector with a `lengthBytes`-byte length prefix, checked against [min, max]. A view. */
  vector(lengthBytes: 1 | 2 | 3, min = 0, max = Infinity): Uint8Array {
    const n = lengthBytes === 1 ? this.u8() : lengthBytes === 2 ? this.u16() : this.u24();
    if (n < min || n > max) this.fail(`vector length ${n} outside ${min}..${max}`);
    return this.bytesView(n);
  }

  /** A reader over the next length-prefixed vector, failing the same way as this one. */
  sub(lengthBytes: 1 | 2 | 3, label: string, min = 0, max = Infinity): ByteReader {
    const v = this.vector(lengthBytes, min, max);
    return new ByteReader(v, 0, v.length, this.onFailure, label);
  }

  /** The structure must be fully consumed: trailing bytes are a decode error. */
  expectEnd(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} trailing bytes`);
  }
}
