/**
 * `RecvBuffer`: reassembly with duplicates, overlaps and out-of-order segments; each byte held
 * once; the bound on separate ranges (RFC 9000 §21.7); views that stay valid; pages freed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RangeSet } from '../../../app/quic/rangeSet.ts';
import { MAX_STREAM_RECV_RANGES } from '../../../app/quic/quicStream.ts';
import { RECV_PAGE_SIZE, RecvBuffer } from '../../../app/quic/recvBuffer.ts';

/** Byte `i` of the stream is `i & 0xff`, so any slice can be checked against its offsets. */
function pattern(lo: number, hi: number): Uint8Array {
  const out = new Uint8Array(hi - lo);
  for (let i = lo; i < hi; i++) out[i - lo] = i & 0xff;
  return out;
}

function readAll(b: RecvBuffer): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let c = b.read(); c; c = b.read()) parts.push(c.slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('RecvBuffer', () => {
  it('reassembles out-of-order segments and reads them in order', () => {
    const b = new RecvBuffer(16);
    assert.ok(b.insert(10, pattern(10, 20)));
    assert.equal(b.readable, false);
    assert.equal(b.read(), null);
    assert.ok(b.insert(0, pattern(0, 10)));
    assert.equal(b.readable, true);
    assert.deepEqual(readAll(b), pattern(0, 20));
    assert.equal(b.readOffset, 20);
    assert.equal(b.buffered, 0);
  });

  it('holds a duplicated segment once', () => {
    const b = new RecvBuffer(16);
    for (let i = 0; i < 1000; i++) assert.ok(b.insert(1, pattern(1, 1001)));
    assert.equal(b.buffered, 1000);
    assert.equal(b.ranges, 1);
    assert.equal(b.highest, 1001);
    assert.ok(b.allocated <= 1001 + RECV_PAGE_SIZE, `${b.allocated} bytes allocated`);
  });

  it('trims overlapping segments to the bytes not yet held', () => {
    const b = new RecvBuffer(16);
    b.insert(100, pattern(100, 200));
    b.insert(300, pattern(300, 400));
    assert.equal(b.buffered, 200);
    // Covers both ranges and the gap between them, and spills over either end.
    b.insert(50, pattern(50, 450));
    assert.equal(b.buffered, 400);
    assert.equal(b.ranges, 1);
    b.insert(0, pattern(0, 60));
    assert.equal(b.buffered, 450);
    assert.deepEqual(readAll(b), pattern(0, 450));
  });

  it('keeps the first copy of a byte when a later segment disagrees (RFC 9000 §2.2: it must not change)', () => {
    const b = new RecvBuffer(16);
    b.insert(0, Uint8Array.of(1, 2, 3));
    b.insert(1, Uint8Array.of(9, 9, 4, 5));
    assert.deepEqual(readAll(b), Uint8Array.of(1, 2, 3, 4, 5));
  });

  it('ignores bytes below the read offset', () => {
    const b = new RecvBuffer(16);
    b.insert(0, pattern(0, 10));
    readAll(b);
    assert.ok(b.insert(0, pattern(0, 10)));
    assert.equal(b.buffered, 0);
    assert.equal(b.readable, false);
    b.insert(5, pattern(5, 15));
    assert.equal(b.buffered, 5);
    assert.deepEqual(readAll(b), pattern(10, 15));
  });

  it('reads at most `max` bytes and never across a page end', () => {
    const b = new RecvBuffer(16);
    const n = RECV_PAGE_SIZE + 100;
    b.insert(0, pattern(0, n));
    assert.equal(b.read(7)?.length, 7);
    assert.equal(b.read()?.length, RECV_PAGE_SIZE - 7);
    assert.deepEqual(b.read(), pattern(RECV_PAGE_SIZE, n));
    assert.equal(b.read(), null);
  });

  it('hands out views that later segments do not overwrite', () => {
    const b = new RecvBuffer(16);
    b.insert(0, pattern(0, 10));
    const first = b.read();
    assert.ok(first);
    // The next bytes land in the same page (and make it grow).
    b.insert(10, pattern(10, 5000));
    assert.deepEqual(first, pattern(0, 10));
    assert.deepEqual(readAll(b), pattern(10, 5000));
  });

  it('frees pages as the reader passes them', () => {
    const b = new RecvBuffer(16);
    const total = 5 * RECV_PAGE_SIZE;
    for (let o = 0; o < total; o += 1200) b.insert(o, pattern(o, Math.min(o + 1200, total)));
    assert.ok(b.allocated >= total);
    readAll(b);
    assert.equal(b.allocated, 0);
  });

  it('a small segment does not allocate a whole page', () => {
    const b = new RecvBuffer(16);
    b.insert(1, pattern(1, 101));
    assert.ok(b.allocated < RECV_PAGE_SIZE / 8, `${b.allocated} bytes allocated`);
  });

  it('refuses, storing nothing, a segment that would leave more than maxRanges ranges', () => {
    const b = new RecvBuffer(3);
    assert.ok(b.insert(10, pattern(10, 11)));
    assert.ok(b.insert(20, pattern(20, 21)));
    assert.ok(b.insert(30, pattern(30, 31)));
    assert.equal(b.insert(40, pattern(40, 41)), false);
    assert.equal(b.buffered, 3);
    assert.equal(b.highest, 31);
    // Filling a gap (fewer ranges) and extending one (as many) are still accepted.
    assert.ok(b.insert(11, pattern(11, 20)));
    assert.equal(b.ranges, 2);
    assert.ok(b.insert(31, pattern(31, 35)));
    assert.ok(b.insert(0, pattern(0, 10)));
    assert.deepEqual(readAll(b), pattern(0, 21));
  });

  it('random segments, duplicated and overlapping, reassemble to the original bytes', () => {
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const total = 3 * RECV_PAGE_SIZE + 17;
    const b = new RecvBuffer(10_000);
    const got: Uint8Array[] = [];
    for (let i = 0; i < 5000; i++) {
      const lo = rnd(total);
      const hi = Math.min(total, lo + 1 + rnd(1500));
      assert.ok(b.insert(lo, pattern(lo, hi)));
      assert.ok(b.buffered <= b.highest - b.readOffset);
      if (rnd(4) === 0) for (let c = b.read(); c; c = b.read()) got.push(c.slice());
    }
    b.insert(0, pattern(0, total));
    for (let c = b.read(); c; c = b.read()) got.push(c.slice());
    assert.equal(b.readOffset, total);
    assert.equal(b.buffered, 0);
    assert.deepEqual(Buffer.concat(got), Buffer.from(pattern(0, total)));
  });

  it('work per fragment does not grow with the number of fragments (RFC 9000 §21.7)', () => {
    // Worst case for the range structure: 1-byte fragments with holes between them, highest
    // first, so each lands at the front. Ten times as many must not cost more per fragment.
    const perFragment = (n: number): number => {
      let best = Infinity;
      for (let rep = 0; rep < 5; rep++) {
        const b = new RecvBuffer(MAX_STREAM_RECV_RANGES);
        const one = Uint8Array.of(1);
        const t0 = performance.now();
        for (let i = n; i > 0; i--) b.insert(2 * i, one);
        best = Math.min(best, (performance.now() - t0) / n);
        assert.ok(b.ranges <= MAX_STREAM_RECV_RANGES);
      }
      return best;
    };
    const few = perFragment(4_000);
    const many = perFragment(40_000);
    assert.ok(
      many < 4 * few,
      `${(many * 1000).toFixed(2)} µs per fragment of 40,000, ${(few * 1000).toFixed(2)} of 4,000`,
    );
  });
});

describe('RangeSet gaps and sizes', () => {
  it('lists the pieces of a span not in the set', () => {
    const s = new RangeSet();
    s.insert(10, 20);
    s.insert(30, 40);
    const gaps: [number, number][] = [];
    s.forEachGap(0, 50, (a, b) => gaps.push([a, b]));
    assert.deepEqual(gaps, [
      [0, 10],
      [20, 30],
      [40, 50],
    ]);
    const inside: [number, number][] = [];
    s.forEachGap(12, 18, (a, b) => inside.push([a, b]));
    assert.deepEqual(inside, []);
  });

  it('predicts the size after an insert', () => {
    const s = new RangeSet();
    s.insert(10, 20);
    s.insert(30, 40);
    assert.equal(s.sizeAfterInsert(0, 5), 3);
    assert.equal(s.sizeAfterInsert(20, 30), 1, 'touching ranges merge');
    assert.equal(s.sizeAfterInsert(15, 35), 1);
    assert.equal(s.sizeAfterInsert(50, 60), 3);
    assert.equal(s.sizeAfterInsert(12, 14), 2);
  });

  it('removeBelow drops whole ranges and trims the one it cuts', () => {
    const s = new RangeSet();
    s.insert(0, 5);
    s.insert(10, 20);
    s.insert(30, 40);
    s.removeBelow(20);
    assert.deepEqual(s.first(), [30, 40]);
    s.removeBelow(35);
    assert.deepEqual(s.first(), [35, 40]);
  });
});
