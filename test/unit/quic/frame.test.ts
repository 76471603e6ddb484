/** RFC 9000 §19 frames: round trips for every type and the decoding errors §12.4 and §19 require. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteReader } from '../../../app/quic/byteReader.ts';
import { ByteWriter } from '../../../app/quic/byteWriter.ts';
import { decodeFrame, decodeFrames, encodeFrame, type Frame } from '../../../app/quic/frame.ts';
import { QuicError } from '../../../app/quic/quicError.ts';

const b = (...v: number[]): Uint8Array => Uint8Array.from(v);

const SAMPLES: Frame[] = [
  { type: 'ping' },
  {
    type: 'ack',
    delay: 1234,
    ranges: [
      [90, 100],
      [50, 80],
      [0, 10],
    ],
    ecn: null,
  },
  { type: 'ack', delay: 0, ranges: [[7, 7]], ecn: { ect0: 1, ect1: 2, ce: 3 } },
  { type: 'reset_stream', id: 4, code: 99, finalSize: 123456 },
  { type: 'stop_sending', id: 8, code: 1 },
  { type: 'crypto', offset: 1000, data: b(1, 2, 3) },
  { type: 'new_token', token: b(9, 9) },
  { type: 'stream', id: 0, offset: 0, data: b(1), fin: false },
  { type: 'stream', id: 1234567, offset: 2 ** 40, data: b(1, 2), fin: true },
  { type: 'max_data', max: 2 ** 50 },
  { type: 'max_stream_data', id: 3, max: 65536 },
  { type: 'max_streams', bidi: true, max: 100 },
  { type: 'max_streams', bidi: false, max: 2 ** 60 },
  { type: 'data_blocked', limit: 5 },
  { type: 'stream_data_blocked', id: 2, limit: 6 },
  { type: 'streams_blocked', bidi: false, limit: 7 },
  {
    type: 'new_connection_id',
    seq: 3,
    retirePriorTo: 1,
    cid: b(1, 2, 3, 4, 5, 6, 7, 8),
    resetToken: new Uint8Array(16).fill(0xaa),
  },
  { type: 'retire_connection_id', seq: 2 },
  { type: 'path_challenge', data: b(1, 2, 3, 4, 5, 6, 7, 8) },
  { type: 'path_response', data: b(8, 7, 6, 5, 4, 3, 2, 1) },
  { type: 'connection_close', app: false, code: 0x0a, frameType: 0x08, reason: 'bad stream' },
  { type: 'connection_close', app: true, code: 42, frameType: 0, reason: 'bye ✓' },
  { type: 'handshake_done' },
  { type: 'padding', length: 5 },
];

function expectError(bytes: Uint8Array, code: string): void {
  assert.throws(
    () => decodeFrames(bytes),
    (err: unknown) => err instanceof QuicError && err.code === code,
  );
}

describe('frame encoding (RFC 9000 §19)', () => {
  it('round-trips every frame type', () => {
    for (const f of SAMPLES) {
      const w = new ByteWriter();
      encodeFrame(w, f);
      const r = new ByteReader(w.finish());
      const { frame } = decodeFrame(r);
      assert.equal(r.remaining, 0, f.type);
      assert.deepEqual(frame, f);
    }
  });

  it('decodes a packet with several frames', () => {
    const w = new ByteWriter();
    for (const f of SAMPLES) encodeFrame(w, f);
    assert.equal(decodeFrames(w.finish()).length, SAMPLES.length);
  });

  it('rejects malformed frames with the RFC error code', () => {
    expectError(b(), 'PROTOCOL_VIOLATION'); // §12.4: a packet with no frames
    expectError(b(0x1f), 'FRAME_ENCODING_ERROR'); // unknown type
    expectError(b(0x40, 0x30), 'FRAME_ENCODING_ERROR'); // unknown type, 2-byte varint
    expectError(b(0x02, 5, 0, 0, 6), 'FRAME_ENCODING_ERROR'); // ACK range below zero
    expectError(b(0x02, 5, 0, 1, 0, 10, 0), 'FRAME_ENCODING_ERROR'); // second range below zero
    expectError(b(0x02, 0x80, 0, 0, 1, 0, 0x80, 0xff, 0xff, 0xff, 0), 'FRAME_ENCODING_ERROR'); // absurd range count
    expectError(b(0x06, 0, 10, 1, 2), 'FRAME_ENCODING_ERROR'); // CRYPTO longer than the packet
    expectError(b(0x0a, 0, 0x80, 0, 0, 5), 'FRAME_ENCODING_ERROR'); // STREAM length beyond the packet
    expectError(b(0x07, 0), 'FRAME_ENCODING_ERROR'); // empty NEW_TOKEN
    expectError(b(0x12, 0xe0, 0, 0, 0, 0, 0, 0, 0), 'FRAME_ENCODING_ERROR'); // MAX_STREAMS > 2^60
    expectError(b(0x18, 1, 2, 8, ...new Array(24).fill(0)), 'FRAME_ENCODING_ERROR'); // Retire Prior To > seq
    expectError(b(0x18, 1, 0, 21, ...new Array(37).fill(0)), 'FRAME_ENCODING_ERROR'); // CID length 21
    expectError(b(0x1a, 1, 2, 3), 'FRAME_ENCODING_ERROR'); // truncated PATH_CHALLENGE
  });

  it('reports the offending frame type', () => {
    try {
      decodeFrames(b(0x06, 0, 10, 1, 2));
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof QuicError);
      assert.equal(err.frameType, 0x06);
    }
  });
});
