/** Building TLS presentation-language structures (RFC 8446bis §3): integers and length-prefixed vectors. */
export class ByteWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  bytes(b: Uint8Array): this {
    this.chunks.push(b);
    this.size += b.length;
    return this;
  }

  u8(v: number): this {
    return this.bytes(Uint8Array.of(v & 0xff));
  }

  u16(v: number): this {
    return this.bytes(Uint8Array.of((v >> 8) & 0xff, v & 0xff));
  }

  u24(v: number): this {
    return this.bytes(Uint8Array.of((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff));
  }

  u32(v: number): this {
    return this.u16(Math.floor(v / 0x10000) & 0xffff).u16(v & 0xffff);
  }

  /** A vector with a length prefix of `lengthBytes` bytes; throws (programmer error) if it cannot fit. */
  vector(lengthBytes: 1 | 2 | 3, body: Uint8Array | ((w: ByteWriter) => void)): this {
    let b: Uint8Array;
    if (typeof body === 'function') {
      const inner = new ByteWriter();
      body(inner);
      b = inner.finish();
    } else {
      b = body;
    }
    if (b.length >= 2 ** (8 * lengthBytes)) throw new RangeError(`vector of ${b.length} bytes does not fit a ${lengthBytes}-byte length`);
    if (lengthBytes === 1) this.u8(b.length);
    else if (lengthBytes === 2) this.u16(b.length);
    else this.u24(b.length);
    return this.bytes(b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}
