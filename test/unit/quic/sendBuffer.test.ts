/**
 * `SendBuffer`: small writes packed into blocks, reads and copies across chunk boundaries, the
 * read cursor going back for retransmissions, and release of acknowledged chunks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SendBuffer } from '../../../app/quic/sendBuffer.ts';

/** Byte `i` of the stream is `i & 0xff`, so any slice can be checked against its offsets. */
function pattern(lo: number, hi: number): Uint8Array {
  const out = new Uint8Array(hi - lo);
  for (let i = lo; i < hi; i++) out[i - lo] = i & 0xff;
  return out;
}

function writeInPieces(b: SendBuffer, sizes: number[]): void {
  let o = 0;
  for (const n of sizes) {
    b.write(pattern(o, o + n));
    o += n;
  }
}

function copied(b: SendBuffer, lo: number, hi: number): Uint8Array {
  const out = new Uint8Array(hi - lo);
  b.copyTo(lo, hi, out);
  return out;
}

describe('SendBuffer', () => {
  it('copies what it is given: the caller may reuse its buffer', () => {
    const b = new SendBuffer();
    const scratch = pattern(0, 200);
    b.write(scratch);
    scratch.fill(0xee);
    const big = pattern(200, 5200);
    b.write(big);
    big.fill(0xee);
    assert.deepEqual(b.read(0, 5200), pattern(0, 5200));
  });

  it('reads and copies any range across small (packed) and large writes', () => {
    const b = new SendBuffer();
    const sizes = [200, 1, 2047, 2048, 300, 300, 16384, 7, 200, 200, 200];
    writeInPieces(b, sizes);
    const total = sizes.reduce((a, n) => a + n, 0);
    assert.equal(b.writeOffset, total);
    for (const [lo, hi] of [
      [0, 1],
      [0, 200],
      [150, 260],
      [199, 2300],
      [2200, 4600],
      [4000, 21000],
      [21000, total],
      [0, total],
    ] as const) {
      assert.deepEqual(b.read(lo, hi), pattern(lo, hi), `read ${lo}..${hi}`);
      assert.deepEqual(copied(b, lo, hi), pattern(lo, hi), `copyTo ${lo}..${hi}`);
    }
  });

  it('serves sequential reads and a retransmission of an earlier range', () => {
    const b = new SendBuffer();
    writeInPieces(b, new Array(500).fill(200));
    for (let o = 0; o < 100_000; o += 1400)
      assert.deepEqual(copied(b, o, Math.min(o + 1400, 100_000)), pattern(o, Math.min(o + 1400, 100_000)));
    // A lost packet from long ago: the cursor is past it.
    assert.deepEqual(copied(b, 2800, 4200), pattern(2800, 4200));
    assert.deepEqual(copied(b, 98_000, 99_000), pattern(98_000, 99_000));
  });

  it('releases acknowledged chunks and keeps serving what is left, including after more writes', () => {
    const b = new SendBuffer();
    writeInPieces(b, new Array(400).fill(200));
    b.sentOffset = 80_000;
    for (let o = 0; o < 60_000; o += 1000) b.onAck(o, o + 1000);
    assert.ok(b.buffered <= 80_000 - 60_000 + 16 * 1024, `${b.buffered} bytes still held`);
    assert.deepEqual(copied(b, 60_000, 80_000), pattern(60_000, 80_000));
    b.write(pattern(80_000, 80_100));
    b.onAck(60_000, 80_000);
    assert.deepEqual(b.read(80_000, 80_100), pattern(80_000, 80_100));
    b.onAck(80_000, 80_100);
    assert.equal(b.buffered, 0);
    assert.ok(b.allAcked);
    // The fully acknowledged block is not written into again.
    b.write(pattern(80_100, 80_150));
    assert.deepEqual(b.read(80_100, 80_150), pattern(80_100, 80_150));
  });

  it('throws (a programmer error) when asked for bytes it does not hold', () => {
    const b = new SendBuffer();
    b.write(pattern(0, 100));
    assert.throws(() => copied(b, 50, 150), RangeError);
  });
});
