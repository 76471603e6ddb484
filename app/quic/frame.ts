/**
 * RFC 9000 §19: every QUIC v1 frame, decoded from and encoded into packet payloads. Decoding is
 * strict: a truncated or malformed frame throws `QuicError` FRAME_ENCODING_ERROR (§12.4) with the
 * frame type, which the connection turns into CONNECTION_CLOSE.
 */
import { ByteReader } from './byteReader.ts';
import type { ByteWriter } from './byteWriter.ts';
import { QuicError } from './quicError.ts';
import { varintLength } from './varint.ts';

/** An inclusive packet number range [smallest, largest]. */
export type PnRange = readonly [number, number];

export type Frame =
  | { type: 'padding'; length: number }
  | { type: 'ping' }
  /** `ranges` are descending and inclusive; `ranges[0][1]` is the largest acknowledged. */
  | { type: 'ack'; delay: number; ranges: PnRange[]; ecn: { ect0: number; ect1: number; ce: number } | null }
  | { type: 'reset_stream'; id: number; code: number; finalSize: number }
  | { type: 'stop_sending'; id: number; code: number }
  | { type: 'crypto'; offset: number; data: Uint8Array }
  | { type: 'new_token'; token: Uint8Array }
  | { type: 'stream'; id: number; offset: number; data: Uint8Array; fin: boolean }
  | { type: 'max_data'; max: number }
  | { type: 'max_stream_data'; id: number; max: number }
  | { type: 'max_streams'; bidi: boolean; max: number }
  | { type: 'data_blocked'; limit: number }
  | { type: 'stream_data_blocked'; id: number; limit: number }
  | { type: 'streams_blocked'; bidi: boolean; limit: number }
  | { type: 'new_connection_id'; seq: number; retirePriorTo: number; cid: Uint8Array; resetToken: Uint8Array }
  | { type: 'retire_connection_id'; seq: number }
  | { type: 'path_challenge'; data: Uint8Array }
  | { type: 'path_response'; data: Uint8Array }
  | { type: 'connection_close'; app: boolean; code: number; frameType: number; reason: string }
  | { type: 'handshake_done' };

export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  CRYPTO: 0x06,
  NEW_TOKEN: 0x07,
  STREAM: 0x08,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  MAX_STREAMS_BIDI: 0x12,
  MAX_STREAMS_UNI: 0x13,
  DATA_BLOCKED: 0x14,
  STREAM_DATA_BLOCKED: 0x15,
  STREAMS_BLOCKED_BIDI: 0x16,
  STREAMS_BLOCKED_UNI: 0x17,
  NEW_CONNECTION_ID: 0x18,
  RETIRE_CONNECTION_ID: 0x19,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  CONNECTION_CLOSE: 0x1c,
  CONNECTION_CLOSE_APP: 0x1d,
  HANDSHAKE_DONE: 0x1e,
} as const;

/** RFC 9000 §2.1: stream IDs are 62-bit; we cap at 2^60 so counts stay exact in a double. */
const MAX_STREAM_COUNT = 2 ** 60;

/** Decodes one frame; `r` is left just past it. Returns the frame and its wire type. */
export function decodeFrame(r: ByteReader): { frame: Frame; frameType: number } {
  const frameType = r.varint();
  try {
    return { frame: decodeBody(r, frameType), frameType };
  } catch (err) {
    if (err instanceof QuicError && err.frameType === 0) throw new QuicError(err.code, err.message, frameType);
    throw err;
  }
}

function decodeBody(r: ByteReader, t: number): Frame {
  if (t >= 0x08 && t <= 0x0f) {
    const id = r.varint();
    const offset = t & 0x04 ? r.varint() : 0;
    const len = t & 0x02 ? r.varint() : r.remaining;
    // RFC 9000 §19.8: the largest offset delivered on a stream MUST NOT exceed 2^62-1.
    if (offset + len > 2 ** 62 - 1) throw new QuicError('FRAME_ENCODING_ERROR', 'stream offset beyond 2^62-1', t);
    return { type: 'stream', id, offset, data: r.bytesView(len), fin: (t & 0x01) !== 0 };
  }
  switch (t) {
    case FrameType.PADDING: {
      let length = 1;
      while (r.remaining > 0 && r.bytes[r.offset] === 0) {
        r.offset++;
        length++;
      }
      return { type: 'padding', length };
    }
    case FrameType.PING:
      return { type: 'ping' };
    case FrameType.ACK:
    case FrameType.ACK_ECN: {
      const largest = r.varint();
      const delay = r.varint();
      const count = r.varint();
      const firstRange = r.varint();
      // RFC 9000 §19.3.1: smallest = largest - ack_range; a negative result is FRAME_ENCODING_ERROR.
      let smallest = largest - firstRange;
      if (smallest < 0) throw new QuicError('FRAME_ENCODING_ERROR', 'ACK range below zero', t);
      const ranges: [number, number][] = [[smallest, largest]];
      // Each further range takes at least two bytes: a count beyond that is a lie.
      if (count > r.remaining / 2) throw new QuicError('FRAME_ENCODING_ERROR', 'ACK range count exceeds frame', t);
      for (let i = 0; i < count; i++) {
        const gap = r.varint();
        const len = r.varint();
        const hi = smallest - gap - 2;
        const lo = hi - len;
        if (lo < 0) throw new QuicError('FRAME_ENCODING_ERROR', 'ACK range below zero', t);
        ranges.push([lo, hi]);
        smallest = lo;
      }
      const ecn = t === FrameType.ACK_ECN ? { ect0: r.varint(), ect1: r.varint(), ce: r.varint() } : null;
      return { type: 'ack', delay, ranges, ecn };
    }
    case FrameType.RESET_STREAM:
      return { type: 'reset_stream', id: r.varint(), code: r.varint(), finalSize: r.varint() };
    case FrameType.STOP_SENDING:
      return { type: 'stop_sending', id: r.varint(), code: r.varint() };
    case FrameType.CRYPTO: {
      const offset = r.varint();
      const len = r.varint();
      if (offset + len > 2 ** 62 - 1) throw new QuicError('FRAME_ENCODING_ERROR', 'crypto offset beyond 2^62-1', t);
      return { type: 'crypto', offset, data: r.bytesView(len) };
    }
    case FrameType.NEW_TOKEN: {
      const len = r.varint();
      // RFC 9000 §19.7: an empty token MUST be treated as FRAME_ENCODING_ERROR.
      if (len === 0) throw new QuicError('FRAME_ENCODING_ERROR', 'empty NEW_TOKEN', t);
      return { type: 'new_token', token: r.copy(len) };
    }
    case FrameType.MAX_DATA:
      return { type: 'max_data', max: r.varint() };
    case FrameType.MAX_STREAM_DATA:
      return { type: 'max_stream_data', id: r.varint(), max: r.varint() };
    case FrameType.MAX_STREAMS_BIDI:
    case FrameType.MAX_STREAMS_UNI: {
      const max = r.varint();
      // RFC 9000 §19.11: a value above 2^60 MUST be treated as FRAME_ENCODING_ERROR.
      if (max > MAX_STREAM_COUNT) throw new QuicError('FRAME_ENCODING_ERROR', 'MAX_STREAMS above 2^60', t);
      return { type: 'max_streams', bidi: t === FrameType.MAX_STREAMS_BIDI, max };
    }
    case FrameType.DATA_BLOCKED:
      return { type: 'data_blocked', limit: r.varint() };
    case FrameType.STREAM_DATA_BLOCKED:
      return { type: 'stream_data_blocked', id: r.varint(), limit: r.varint() };
    case FrameType.STREAMS_BLOCKED_BIDI:
    case FrameType.STREAMS_BLOCKED_UNI: {
      const limit = r.varint();
      if (limit > MAX_STREAM_COUNT) throw new QuicError('FRAME_ENCODING_ERROR', 'STREAMS_BLOCKED above 2^60', t);
      return { type: 'streams_blocked', bidi: t === FrameType.STREAMS_BLOCKED_BIDI, limit };
    }
    case FrameType.NEW_CONNECTION_ID: {
      const seq = r.varint();
      const retirePriorTo = r.varint();
      const len = r.u8();
      // RFC 9000 §19.15: a length outside 1..20 MUST be treated as FRAME_ENCODING_ERROR.
      if (len < 1 || len > 20) throw new QuicError('FRAME_ENCODING_ERROR', 'NEW_CONNECTION_ID length outside 1..20', t);
      // §19.15: Retire Prior To greater than Sequence Number is FRAME_ENCODING_ERROR.
      if (retirePriorTo > seq) throw new QuicError('FRAME_ENCODING_ERROR', 'Retire Prior To above Sequence Number', t);
      return { type: 'new_connection_id', seq, retirePriorTo, cid: r.copy(len), resetToken: r.copy(16) };
    }
    case FrameType.RETIRE_CONNECTION_ID:
      return { type: 'retire_connection_id', seq: r.varint() };
    case FrameType.PATH_CHALLENGE:
      return { type: 'path_challenge', data: r.copy(8) };
    case FrameType.PATH_RESPONSE:
      return { type: 'path_response', data: r.copy(8) };
    case FrameType.CONNECTION_CLOSE:
    case FrameType.CONNECTION_CLOSE_APP: {
      const app = t === FrameType.CONNECTION_CLOSE_APP;
      const code = r.varint();
      const frameType = app ? 0 : r.varint();
      const reason = Buffer.from(r.bytesView(r.varint())).toString('utf8');
      return { type: 'connection_close', app, code, frameType, reason };
    }
    case FrameType.HANDSHAKE_DONE:
      return { type: 'handshake_done' };
    default:
      // RFC 9000 §12.4: an unknown frame type MUST be treated as FRAME_ENCODING_ERROR.
      throw new QuicError('FRAME_ENCODING_ERROR', `unknown frame type 0x${t.toString(16)}`, t);
  }
}

/** Decodes every frame of a packet payload. RFC 9000 §12.4: a packet with no frames is PROTOCOL_VIOLATION. */
export function decodeFrames(payload: Uint8Array): { frame: Frame; frameType: number }[] {
  if (payload.length === 0) throw new QuicError('PROTOCOL_VIOLATION', 'packet without frames');
  const r = new ByteReader(payload);
  const out: { frame: Frame; frameType: number }[] = [];
  while (r.remaining > 0) out.push(decodeFrame(r));
  return out;
}

/** RFC 9000 §13.2: every frame except ACK, PADDING and CONNECTION_CLOSE elicits an acknowledgment. */
export function isAckEliciting(f: Frame): boolean {
  return f.type !== 'ack' && f.type !== 'padding' && f.type !== 'connection_close';
}

/** RFC 9000 §9.1: PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and PADDING are probing frames. */
export function isProbing(f: Frame): boolean {
  return (
    f.type === 'path_challenge' || f.type === 'path_response' || f.type === 'new_connection_id' || f.type === 'padding'
  );
}

/** RFC 9000 §12.4 Table 3: frames permitted in Initial and Handshake packets. */
export function allowedInHandshakeEpochs(f: Frame, frameType: number): boolean {
  return (
    f.type === 'padding' ||
    f.type === 'ping' ||
    f.type === 'ack' ||
    f.type === 'crypto' ||
    frameType === FrameType.CONNECTION_CLOSE
  );
}

/** Size of a STREAM frame header (type, id, offset, length) for `len` bytes of data at `offset`. */
export function streamFrameOverhead(id: number, offset: number, len: number): number {
  return 1 + varintLength(id) + (offset > 0 ? varintLength(offset) : 0) + varintLength(len);
}

/**
 * The STREAM frame up to its data (RFC 9000 §19.8); the caller writes the `len` data bytes next.
 * Always carries OFF when non-zero and LEN: the frame may be followed by others.
 */
export function encodeStreamFrameHeader(w: ByteWriter, id: number, offset: number, len: number, fin: boolean): void {
  w.u8(FrameType.STREAM | (offset > 0 ? 0x04 : 0) | 0x02 | (fin ? 0x01 : 0)).varint(id);
  if (offset > 0) w.varint(offset);
  w.varint(len);
}

/** Encodes one frame. */
export function encodeFrame(w: ByteWriter, f: Frame): void {
  switch (f.type) {
    case 'padding':
      for (let i = 0; i < f.length; i++) w.u8(0);
      return;
    case 'ping':
      w.u8(FrameType.PING);
      return;
    case 'ack': {
      const first = f.ranges[0]!;
      w.u8(f.ecn ? FrameType.ACK_ECN : FrameType.ACK)
        .varint(first[1])
        .varint(f.delay)
        .varint(f.ranges.length - 1)
        .varint(first[1] - first[0]);
      let smallest = first[0];
      for (let i = 1; i < f.ranges.length; i++) {
        const [lo, hi] = f.ranges[i]!;
        w.varint(smallest - hi - 2).varint(hi - lo);
        smallest = lo;
      }
      if (f.ecn) w.varint(f.ecn.ect0).varint(f.ecn.ect1).varint(f.ecn.ce);
      return;
    }
    case 'reset_stream':
      w.u8(FrameType.RESET_STREAM).varint(f.id).varint(f.code).varint(f.finalSize);
      return;
    case 'stop_sending':
      w.u8(FrameType.STOP_SENDING).varint(f.id).varint(f.code);
      return;
    case 'crypto':
      w.u8(FrameType.CRYPTO).varint(f.offset).varint(f.data.length).bytes(f.data);
      return;
    case 'new_token':
      w.u8(FrameType.NEW_TOKEN).varint(f.token.length).bytes(f.token);
      return;
    case 'stream':
      encodeStreamFrameHeader(w, f.id, f.offset, f.data.length, f.fin);
      w.bytes(f.data);
      return;
    case 'max_data':
      w.u8(FrameType.MAX_DATA).varint(f.max);
      return;
    case 'max_stream_data':
      w.u8(FrameType.MAX_STREAM_DATA).varint(f.id).varint(f.max);
      return;
    case 'max_streams':
      w.u8(f.bidi ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI).varint(f.max);
      return;
    case 'data_blocked':
      w.u8(FrameType.DATA_BLOCKED).varint(f.limit);
      return;
    case 'stream_data_blocked':
      w.u8(FrameType.STREAM_DATA_BLOCKED).varint(f.id).varint(f.limit);
      return;
    case 'streams_blocked':
      w.u8(f.bidi ? FrameType.STREAMS_BLOCKED_BIDI : FrameType.STREAMS_BLOCKED_UNI).varint(f.limit);
      return;
    case 'new_connection_id':
      w.u8(FrameType.NEW_CONNECTION_ID)
        .varint(f.seq)
        .varint(f.retirePriorTo)
        .u8(f.cid.length)
        .bytes(f.cid)
        .bytes(f.resetToken);
      return;
    case 'retire_connection_id':
      w.u8(FrameType.RETIRE_CONNECTION_ID).varint(f.seq);
      return;
    case 'path_challenge':
      w.u8(FrameType.PATH_CHALLENGE).bytes(f.data);
      return;
    case 'path_response':
      w.u8(FrameType.PATH_RESPONSE).bytes(f.data);
      return;
    case 'connection_close': {
      const reason = Buffer.from(f.reason, 'utf8');
      w.u8(f.app ? FrameType.CONNECTION_CLOSE_APP : FrameType.CONNECTION_CLOSE).varint(f.code);
      if (!f.app) w.varint(f.frameType);
      w.varint(reason.length).bytes(reason);
      return;
    }
    case 'handshake_done':
      w.u8(FrameType.HANDSHAKE_DONE);
      return;
  }
}
