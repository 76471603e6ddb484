/**
 * The one `ByteReader` / `ByteWriter` pair serves QUIC (varints, FRAME_ENCODING_ERROR) and TLS
 * (length-prefixed vectors, decode_error with the structure's name).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteReader } from '../../../app/quic/byteReader.ts';
import { ByteWriter } from '../../../app/quic/byteWriter.ts';
import { QuicError } from '../../../app/quic/quicError.ts';
import { Alert, TlsAlertError, tlsReader } from '../../../app/quic/tls/alerts.ts';

describe('ByteWriter and ByteReader', () => {
  it('round-trip integers, varints and vectors (bytes or written in place)', () => {
    const w = new ByteWriter(4)
      .u8(0xab)
      .u16(0x1234)
      .u24(0x56789a)
      .u32(0xdeadbeef)
      .varint(15293)
      .vector(1, Uint8Array.of(1, 2, 3))
      .vector(2, (inner) => inner.u16(7).vector(3, new Uint8Array(300).fill(5)));
    assert.equal(w.length, 1 + 2 + 3 + 4 + 2 + 4 + 2 + 2 + 3 + 300);
    const r = new ByteReader(w.finish());
    assert.equal(r.u8(), 0xab);
    assert.equal(r.u16(), 0x1234);
    assert.equal(r.u24(), 0x56789a);
    assert.equal(r.u32(), 0xdeadbeef);
    assert.equal(r.varint(), 15293);
    assert.deepEqual(r.vector(1), Uint8Array.of(1, 2, 3));
    const sub = r.sub(2, 'outer');
    assert.equal(sub.u16(), 7);
    assert.deepEqual(sub.vector(3, 300, 300), new Uint8Array(300).fill(5));
    sub.expectEnd();
    r.expectEnd();
  });

  it('refuses a vector body longer than its length prefix allows (programmer error)', () => {
    assert.throws(() => new ByteWriter().vector(1, new Uint8Array(256)), RangeError);
  });

  it('QUIC: running off the end is FRAME_ENCODING_ERROR (RFC 9000 §12.4)', () => {
    const r = new ByteReader(Uint8Array.of(0x40));
    assert.throws(
      () => r.varint(),
      (e: unknown) => e instanceof QuicError && e.code === 'FRAME_ENCODING_ERROR',
    );
  });

  it('TLS: truncation, bad vector lengths and trailing bytes are decode_error naming the structure', () => {
    const decodeError = (what: string) => (e: unknown) =>
      e instanceof TlsAlertError && e.alert === Alert.decode_error && e.reason.startsWith(what);
    assert.throws(
      () => tlsReader(Uint8Array.of(0, 5, 1), 'ClientHello').vector(2),
      decodeError('ClientHello: truncated'),
    );
    assert.throws(() => tlsReader(Uint8Array.of(0, 1, 1), 'ALPN').vector(2, 2), decodeError('ALPN: vector length 1'));
    assert.throws(
      () =>
        tlsReader(Uint8Array.of(0, 2, 1, 9), 'x')
          .sub(2, 'ALPN list')
          .u24(),
      decodeError('ALPN list: truncated'),
    );
    const r = tlsReader(Uint8Array.of(1, 2), 'cookie');
    r.u8();
    assert.throws(() => r.expectEnd(), decodeError('cookie: 1 trailing bytes'));
  });
});
