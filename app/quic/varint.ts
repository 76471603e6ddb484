/** RFC 9000 §16 variable-length integer encoding: sizes and writing into a buffer. */
import { QuicError } from './quicError.ts';

export const VARINT_MAX = 2 ** 62 - 1;

/** RFC 9000 §16: the encoded length (1, 2, 4 or 8 bytes) of `v`. */
export function varintLength(v: number): number {
  if (v < 0x40) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x40000000) return 4;
  if (v <= VARINT_MAX) return 8;
  throw new QuicError('INTERNAL_ERROR', `value ${v} does not fit a varint`);
}

/** Writes `v` at `offset` using exactly `len` bytes (a longer than minimal encoding is allowed). Returns the new offset. */
export function writeVarint(buf: Uint8Array, offset: number, v: number, len = varintLength(v)): number {
  switch (len) {
    case 1:
      buf[offset] = v;
      return offset + 1;
    case 2:
      buf[offset] = 0x40 | (v >> 8);
      buf[offset + 1] = v & 0xff;
      return offset + 2;
    case 4:
      buf[offset] = 0x80 | ((v >>> 24) & 0x3f);
      buf[offset + 1] = (v >>> 16) & 0xff;
      buf[offset + 2] = (v >>> 8) & 0xff;
      buf[offset + 3] = v & 0xff;
      return offset + 4;
    default: {
      const hi = Math.floor(v / 2 ** 32);
      const lo = v >>> 0;
      buf[offset] = 0xc0 | ((hi >>> 24) & 0x3f);
      buf[offset + 1] = (hi >>> 16) & 0xff;
      buf[offset + 2] = (hi >>> 8) & 0xff;
      buf[offset + 3] = hi & 0xff;
      buf[offset + 4] = (lo >>> 24) & 0xff;
      buf[offset + 5] = (lo >>> 16) & 0xff;
      buf[offset + 6] = (lo >>> 8) & 0xff;
      buf[offset + 7] = lo & 0xff;
      return offset + 8;
    }
  }
}
