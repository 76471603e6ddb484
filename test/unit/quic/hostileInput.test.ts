/**
 * A peer that breaks the rules: correctly protected packets carrying frames that RFC 9000 says
 * must close the connection with a specific error code.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteWriter } from '../../../app/quic/byteWriter.ts';
import { encodeFrame, type Frame } from '../../../app/quic/frame.ts';
import { protectPacket, writeLongHeader } from '../../../app/quic/packetHeader.ts';
import type { PacketKeys } from '../../../app/quic/packetProtection.ts';
import { transportErrorName } from '../../../app/quic/quicError.ts';
import type { QuicConnection, QuicEvent } from '../../../app/quic/quicConnection.ts';
import { Pair } from '../../support/quicPair.ts';

/** The private state a test needs to forge packets as the client. */
interface ClientInternals {
  spaces: { nextPn: number; writeKeys: PacketKeys | null }[];
  cids: { remote: Uint8Array; initialLocal: Uint8Array };
}

function encode(frames: (Frame | Uint8Array)[]): Uint8Array {
  const w = new ByteWriter();
  for (const f of frames) {
    if (f instanceof Uint8Array) w.bytes(f);
    else encodeFrame(w, f);
  }
  // Padding so the header-protection sample exists (RFC 9001 §5.4.2).
  for (let i = w.offset; i < 24; i++) w.u8(0);
  return w.finish().slice();
}

/** Sends a 1-RTT packet as the client, with the client's real keys and next packet number. */
function injectShort(p: Pair, frames: (Frame | Uint8Array)[]): void {
  assert.ok(p.injectFromClient(encode(frames)));
}

function serverClose(p: Pair): Extract<QuicEvent, { type: 'closed' }> | undefined {
  const conn = p.server as QuicConnection;
  for (let e = conn.pollEvent(); e; e = conn.pollEvent()) p.serverEvents.push(e);
  return p.serverEvents.find((e): e is Extract<QuicEvent, { type: 'closed' }> => e.type === 'closed');
}

function expectClose(frames: (Frame | Uint8Array)[], code: string, setup?: (p: Pair) => void): void {
  const p = new Pair();
  p.handshake();
  p.advance(50);
  setup?.(p);
  injectShort(p, frames);
  const closed = serverClose(p);
  assert.ok(closed, `server should close for ${code}`);
  assert.equal(transportErrorName(closed.code), code, closed.reason);
  assert.equal(closed.local, true);
  // The close reaches the client as a transport error with the same code.
  p.driveUntil(() => p.clientEvents.some((e) => e.type === 'closed'));
  const atClient = p.clientEvents.find((e): e is Extract<QuicEvent, { type: 'closed' }> => e.type === 'closed')!;
  assert.equal(transportErrorName(atClient.code), code);
}

const data = (n: number): Uint8Array => new Uint8Array(n).fill(1);

describe('hostile frames close the connection with the RFC 9000 code', () => {
  it('STREAM_LIMIT_ERROR: a stream beyond MAX_STREAMS (§4.6)', () => {
    expectClose([{ type: 'stream', id: 4 * 100, offset: 0, data: data(1), fin: false }], 'STREAM_LIMIT_ERROR');
  });

  it('FLOW_CONTROL_ERROR: data beyond MAX_STREAM_DATA (§4.1)', () => {
    expectClose([{ type: 'stream', id: 0, offset: 64 * 1024 * 1024, data: data(1), fin: false }], 'FLOW_CONTROL_ERROR');
  });

  it('FRAME_ENCODING_ERROR: an unknown frame type (§12.4)', () => {
    expectClose([Uint8Array.of(0x1f)], 'FRAME_ENCODING_ERROR');
  });

  it('FRAME_ENCODING_ERROR: an ACK range below zero (§19.3.1)', () => {
    expectClose([Uint8Array.of(0x02, 3, 0, 0, 9)], 'FRAME_ENCODING_ERROR');
  });

  it('PROTOCOL_VIOLATION: HANDSHAKE_DONE from a client (§19.20)', () => {
    expectClose([{ type: 'handshake_done' }], 'PROTOCOL_VIOLATION');
  });

  it('PROTOCOL_VIOLATION: an ACK of a packet never sent (§13.1)', () => {
    expectClose([{ type: 'ack', delay: 0, ranges: [[0, 1_000_000]], ecn: null }], 'PROTOCOL_VIOLATION');
  });

  it('STREAM_STATE_ERROR: data on our own unopened unidirectional stream (§19.8)', () => {
    expectClose([{ type: 'stream', id: 3, offset: 0, data: data(1), fin: false }], 'STREAM_STATE_ERROR');
  });

  it('CRYPTO_BUFFER_EXCEEDED: CRYPTO data far beyond the read offset (§7.5)', () => {
    expectClose([{ type: 'crypto', offset: 10_000_000, data: data(10) }], 'CRYPTO_BUFFER_EXCEEDED');
  });

  it('FINAL_SIZE_ERROR: a reset that changes the final size (§4.5)', () => {
    expectClose(
      [
        { type: 'stream', id: 0, offset: 0, data: data(10), fin: true },
        { type: 'reset_stream', id: 0, code: 1, finalSize: 20 },
      ],
      'FINAL_SIZE_ERROR',
    );
  });

  it('PROTOCOL_VIOLATION: retiring a connection ID never issued (§19.16)', () => {
    expectClose([{ type: 'retire_connection_id', seq: 1000 }], 'PROTOCOL_VIOLATION');
  });

  it('CONNECTION_ID_LIMIT_ERROR: more IDs than active_connection_id_limit (§5.1.1)', () => {
    const frames: Frame[] = [];
    // The client already issued sequence numbers 1-3; new ones start above.
    for (let seq = 10; seq <= 18; seq++) {
      frames.push({
        type: 'new_connection_id',
        seq,
        retirePriorTo: 0,
        cid: Uint8Array.of(seq, 1, 2, 3, 4, 5, 6, 7),
        resetToken: new Uint8Array(16).fill(seq),
      });
    }
    expectClose(frames, 'CONNECTION_ID_LIMIT_ERROR');
  });

  it('PROTOCOL_VIOLATION: a STREAM frame in an Initial packet (§12.4)', () => {
    const p = new Pair();
    // Deliver the real first Initial so the server exists, then a forged Initial carrying STREAM.
    p.step();
    const c = p.client as unknown as ClientInternals;
    const initial = c.spaces[0]!;
    if (!initial.writeKeys) return assert.fail('client Initial keys already discarded');
    const header = new Uint8Array(64);
    const pnOffset = writeLongHeader(header, 'initial', c.cids.remote, c.cids.initialLocal, new Uint8Array(0), 4, 2);
    const frames = new Uint8Array(1200);
    frames.set(encode([{ type: 'stream', id: 0, offset: 0, data: data(5), fin: false }]));
    const pkt = protectPacket(initial.writeKeys, header, pnOffset, 4, initial.nextPn++, frames, true);
    p.server!.handleDatagram(pkt, p.clientAddr, p.now);
    const closed = serverClose(p);
    assert.ok(closed);
    assert.equal(transportErrorName(closed.code), 'PROTOCOL_VIOLATION');
  });
});
