/**
 * Issue 10 item 6 (RFC 9000 §21.7, "Stream fragmentation and reassembly attacks"): a peer that
 * sends the same out-of-order bytes again and again, on a stream or in CRYPTO frames, must not
 * make the receiver hold more than one copy of each byte, nor more than the window allows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteWriter } from '../../../app/quic/byteWriter.ts';
import { encodeFrame, type Frame } from '../../../app/quic/frame.ts';
import { protectPacket, writeLongHeader } from '../../../app/quic/packetHeader.ts';
import { initialKeys } from '../../../app/quic/packetProtection.ts';
import { transportErrorName } from '../../../app/quic/quicError.ts';
import { QuicConnection, type QuicEvent } from '../../../app/quic/quicConnection.ts';
import { MAX_STREAM_RECV_RANGES } from '../../../app/quic/quicStream.ts';
import { Pair, testCertificate } from '../../support/quicPair.ts';

const FLOOD = 20_000;
const FRAME_BYTES = 1000;

/** The private state the assertions read: what the receive buffers hold. */
interface ServerInternals {
  streams: { streams: Map<number, { recv: { buffered: number } }> };
  spaces: { cryptoRecv: { buffered: number } }[];
}

function encode(frames: Frame[], padTo: number): Uint8Array {
  const w = new ByteWriter();
  for (const f of frames) encodeFrame(w, f);
  const out = new Uint8Array(Math.max(padTo, w.offset));
  out.set(w.finish());
  return out;
}

function closedEvent(conn: QuicConnection): Extract<QuicEvent, { type: 'closed' }> | undefined {
  for (let e = conn.pollEvent(); e; e = conn.pollEvent()) if (e.type === 'closed') return e;
  return undefined;
}

describe('reassembly under a duplicate-data flood (RFC 9000 §21.7)', () => {
  it(`${FLOOD} duplicate STREAM frames at offset 1 leave one copy of their bytes buffered`, () => {
    const p = new Pair();
    p.handshake();
    const frame = encode(
      [{ type: 'stream', id: 0, offset: 1, data: new Uint8Array(FRAME_BYTES).fill(7), fin: false }],
      24,
    );
    const started = performance.now();
    for (let i = 0; i < FLOOD; i++) assert.ok(p.injectFromClient(frame));
    const perFrameUs = ((performance.now() - started) * 1000) / FLOOD;
    const server = p.server as unknown as ServerInternals;
    const buffered = server.streams.streams.get(0)?.recv.buffered;
    console.log(`stream flood: ${buffered} bytes buffered, ${perFrameUs.toFixed(1)} µs per packet`);
    // Byte 0 never arrived, so nothing is readable; each held byte is held once.
    assert.equal(buffered, FRAME_BYTES);
    assert.equal(closedEvent(p.server!), undefined, 'duplicates are legal: the connection stays open');
  });

  it(`${FLOOD} client Initials with CRYPTO at offset 1 leave one copy of their bytes at the server`, () => {
    const dcid = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const scid = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);
    const from = { address: '10.0.0.1', port: 50000 };
    const server = QuicConnection.accept({
      alpn: ['xmpp-client'],
      ...testCertificate(),
      originalDcid: dcid,
      clientScid: scid,
      localCid: Uint8Array.of(9, 9, 9, 9, 1, 2, 3, 4),
      remoteAddress: from,
      now: 1000,
      wallClock: Date.now,
    });
    const keys = initialKeys(dcid).client;
    const payload = encode([{ type: 'crypto', offset: 1, data: new Uint8Array(FRAME_BYTES).fill(1) }], 1200);
    const header = new Uint8Array(64);
    const started = performance.now();
    for (let pn = 0; pn < FLOOD; pn++) {
      const pnOffset = writeLongHeader(header, 'initial', dcid, scid, new Uint8Array(0), 4, 2);
      const pkt = protectPacket(keys, header, pnOffset, 4, pn, payload, true);
      server.handleDatagram(pkt, from, 1000);
    }
    const perFrameUs = ((performance.now() - started) * 1000) / FLOOD;
    const buffered = (server as unknown as ServerInternals).spaces[0]!.cryptoRecv.buffered;
    console.log(`Initial CRYPTO flood: ${buffered} bytes buffered, ${perFrameUs.toFixed(1)} µs per packet`);
    assert.equal(buffered, FRAME_BYTES);
    assert.equal(closedEvent(server), undefined);
  });

  it('STREAM data split into more pieces than any loss makes closes with PROTOCOL_VIOLATION', () => {
    const p = new Pair();
    p.handshake();
    let closed: Extract<QuicEvent, { type: 'closed' }> | undefined;
    let offset = 1;
    const packets = Math.ceil(MAX_STREAM_RECV_RANGES / 100) + 1;
    for (let i = 0; i < packets && !closed; i++) {
      const frames: Frame[] = [];
      for (let k = 0; k < 100; k++, offset += 2)
        frames.push({ type: 'stream', id: 0, offset, data: Uint8Array.of(1), fin: false });
      assert.ok(p.injectFromClient(encode(frames, 24)));
      closed = closedEvent(p.server!);
      const held = (p.server as unknown as ServerInternals).streams.streams.get(0)?.recv;
      if (held) assert.ok(held.buffered <= MAX_STREAM_RECV_RANGES);
    }
    assert.ok(closed, 'the server closes');
    assert.equal(transportErrorName(closed.code), 'PROTOCOL_VIOLATION', closed.reason);
  });

  it('CRYPTO data that would fragment the buffer past its bound closes with CRYPTO_BUFFER_EXCEEDED (§7.5)', () => {
    const p = new Pair();
    p.handshake();
    // 1-byte CRYPTO frames at every other offset of the 1-RTT epoch: many gaps, few bytes.
    const frames: Frame[] = [];
    for (let i = 0; i < 300; i++) frames.push({ type: 'crypto', offset: 1 + 2 * i, data: Uint8Array.of(0) });
    let closed: Extract<QuicEvent, { type: 'closed' }> | undefined;
    for (let i = 0; i < 100 && !closed; i++) {
      const batch = frames.map((f) => ({ ...f, offset: (f as { offset: number }).offset + i * 600 }) as Frame);
      assert.ok(p.injectFromClient(encode(batch, 24)));
      closed = closedEvent(p.server!);
    }
    assert.ok(closed, 'the server closes');
    assert.equal(transportErrorName(closed.code), 'CRYPTO_BUFFER_EXCEEDED', closed.reason);
  });
});
