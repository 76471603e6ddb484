/**
 * Streams and flow control of one connection (RFC 9000 §2-§4): stream state, the limits both
 * ways (MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS and their *_BLOCKED counterparts), the frames
 * that carry them, and what to repair when a packet carrying them is lost. `QuicConnection`
 * feeds it frames and asks it for frames; it never touches packets or keys.
 */
import type { ByteWriter } from './byteWriter.ts';
import { encodeFrame, encodeStreamFrameHeader, streamFrameOverhead, type Frame } from './frame.ts';
import type { SentFrame } from './packetSpace.ts';
import { QuicError } from './quicError.ts';
import type { QuicEvent } from './quicEvent.ts';
import { isServerInitiated, isUnidirectional, QuicStream } from './quicStream.ts';
import { defaultTransportParameters, type TransportParameters } from './transportParameters.ts';

export class StreamManager {
  private readonly role: 'client' | 'server';
  private readonly localTp: TransportParameters;
  private peerTp: TransportParameters | null = null;
  /** The connection's event queue: stream events go straight to the application. */
  private readonly events: QuicEvent[];
  private readonly streams = new Map<number, QuicStream>();
  private readonly sendQueue: number[] = [];
  private readonly queued = new Set<number>();
  private nextStreamIndex = { bidi: 0, uni: 0 };
  private peerMaxStreams = { bidi: 0, uni: 0 };
  private localMaxStreams = { bidi: 0, uni: 0 };
  private remoteOpened = { bidi: 0, uni: 0 };
  private remoteClosed = { bidi: 0, uni: 0 };
  private readonly maxStreamsPending = { bidi: false, uni: false };
  private readonly streamsBlockedPending = { bidi: false, uni: false };
  private peerMaxData = 0;
  private sentData = 0;
  private localMaxData: number;
  private receivedData = 0;
  private consumedData = 0;
  private maxDataPending = false;
  private dataBlockedPending = false;
  private dataBlockedAt = -1;
  private readonly maxStreamDataPending = new Set<number>();
  private readonly streamDataBlockedPending = new Set<number>();
  private readonly resetStreamPending = new Set<number>();
  private readonly stopSendingPending = new Set<number>();
  /** Streams with a 'stream-readable' event the application has not acted on yet. */
  private readonly readablePending = new Set<number>();

  constructor(role: 'client' | 'server', localTp: TransportParameters, events: QuicEvent[]) {
    this.role = role;
    this.localTp = localTp;
    this.events = events;
    this.localMaxData = localTp.initialMaxData;
    this.localMaxStreams = { bidi: localTp.initialMaxStreamsBidi, uni: localTp.initialMaxStreamsUni };
  }

  /** The peer's limits from its transport parameters (RFC 9000 §18.2). */
  setPeerParameters(tp: TransportParameters): void {
    this.peerTp = tp;
    this.peerMaxData = tp.initialMaxData;
    this.peerMaxStreams = { bidi: tp.initialMaxStreamsBidi, uni: tp.initialMaxStreamsUni };
  }

  /**
   * Client, 0-RTT offered: the server's limits remembered with the ticket apply until its
   * handshake parameters arrive (RFC 9000 §7.4.1: "Remembered transport parameters apply to the
   * new connection until the handshake completes").
   */
  setRememberedParameters(tp: TransportParameters): void {
    this.setPeerParameters(tp);
  }

  /**
   * Client, after 0-RTT was answered, with the server's handshake parameters (already applied by
   * `setPeerParameters`). RFC 9000 §7.4.1: "Once the handshake completes, the client updates the
   * flow control limits on all sending streams using the updated values of
   * initial_max_stream_data_bidi_remote and initial_max_stream_data_uni." When 0-RTT was rejected,
   * the server processed none of it (RFC 9001 §4.6.2: "the client therefore MUST reset the state
   * of all streams"): every stream's data, still buffered because never acknowledged, is sent again
   * from offset 0 within the new limits, in 1-RTT. Its application state (what was written) stays:
   * the caller checked that the application protocol is the ticket's.
   *
   * A stream reset before the answer still owes its RESET_STREAM (it never goes in 0-RTT), and RFC
   * 9000 §4.5: "the final size is the amount of flow control credit that is consumed by a stream"
   * — so the final sizes of those streams are counted in the connection's sent data again.
   */
  onEarlyDataAnswered(tp: TransportParameters, rejected: boolean): void {
    if (rejected) {
      this.sentData = 0;
      this.dataBlockedAt = -1;
    }
    for (const s of this.streams.values()) {
      if (!s.localInitiated || !s.canSend) continue;
      const initial = isUnidirectional(s.id) ? tp.initialMaxStreamDataUni : tp.initialMaxStreamDataBidiRemote;
      if (rejected && s.resetSent) {
        this.recountReset(s, initial);
        continue;
      }
      if (rejected) {
        s.sendMax = initial;
        s.send.sentOffset = 0;
        s.send.retransmit.clear();
        s.finSent = false;
        s.blockedSentAt = -1;
      } else if (initial > s.sendMax) s.sendMax = initial;
      s.earlyEnd = 0;
      this.enqueueStream(s);
    }
    if (rejected) for (const kind of ['bidi', 'uni'] as const) this.blockIfOverLimit(kind);
  }

  /**
   * Whether the peer's stream limit covers a stream. Always, except after 0-RTT was rejected by a
   * server whose new limit is lower than the remembered one: RFC 9000 §4.6 "An endpoint that
   * receives a frame with a stream ID exceeding the limit it has sent MUST treat this as a
   * connection error of type STREAM_LIMIT_ERROR", so streams we opened beyond it send nothing
   * (data, RESET_STREAM, STOP_SENDING) until MAX_STREAMS raises the limit; they stay open for the
   * application, and their IDs stay ours (a later stream would open them implicitly, §3.2).
   */
  private withinPeerLimit(s: QuicStream): boolean {
    return !s.localInitiated || Math.floor(s.id / 4) < this.peerMaxStreams[this.streamKind(s.id)];
  }

  /** RFC 9000 §4.6: streams held beyond the peer's limit: tell it with STREAMS_BLOCKED. */
  private blockIfOverLimit(kind: 'bidi' | 'uni'): void {
    if (this.nextStreamIndex[kind] > this.peerMaxStreams[kind]) this.streamsBlockedPending[kind] = true;
  }

  /**
   * 0-RTT rejected, for a stream we reset before the answer: the server saw none of its bytes, so
   * any final size up to the one chosen is as true, and a smaller one is needed when the server's
   * new limits are lower than the remembered ones: the final size counts against them (§4.5) and
   * RFC 9000 §4.1: "A receiver MUST close the connection with an error of type FLOW_CONTROL_ERROR
   * if the sender violates the advertised connection or stream data limits". The RESET_STREAM is
   * (re)queued with it and the size is counted in the connection's sent data.
   */
  private recountReset(s: QuicStream, streamLimit: number): void {
    const reset = s.resetSent!;
    const finalSize = Math.max(0, Math.min(reset.finalSize, streamLimit, this.peerMaxData - this.sentData));
    s.resetSent = { code: reset.code, finalSize };
    s.send.sentOffset = Math.min(s.send.sentOffset, finalSize);
    s.send.retransmit.clear();
    s.earlyEnd = 0;
    this.sentData += finalSize;
    this.resetStreamPending.add(s.id);
  }

  /** Marks everything written on a stream so far as early data (see `QuicStream.earlyEnd`). */
  markEarly(id: number): void {
    const s = this.streams.get(id);
    if (s) s.earlyEnd = s.send.writeOffset;
  }

  /** Handles a stream or flow-control frame; returns false for frames that are not its business. */
  handleFrame(f: Frame, frameType: number): boolean {
    switch (f.type) {
      case 'stream':
        this.onStreamFrame(f.id, f.offset, f.data, f.fin, frameType);
        return true;
      case 'reset_stream':
        this.onResetStream(f.id, f.code, f.finalSize, frameType);
        return true;
      case 'stop_sending': {
        const s = this.streamForFrame(f.id, frameType, 'send');
        if (s && s.stopReceived === null) {
          s.stopReceived = f.code;
          this.events.push({ type: 'stream-stop-sending', id: f.id, code: f.code });
          // RFC 9000 §3.5: an endpoint that receives STOP_SENDING MUST send RESET_STREAM.
          this.resetStreamInternal(s, f.code);
        }
        return true;
      }
      case 'max_data':
        if (f.max > this.peerMaxData) {
          this.peerMaxData = f.max;
          this.wakeAll();
        }
        return true;
      case 'max_stream_data': {
        const s = this.streamForFrame(f.id, frameType, 'send');
        if (s && f.max > s.sendMax) {
          s.sendMax = f.max;
          this.enqueueStream(s);
          this.events.push({ type: 'stream-writable', id: s.id });
        }
        return true;
      }
      case 'max_streams': {
        const kind = f.bidi ? 'bidi' : 'uni';
        if (f.max > this.peerMaxStreams[kind]) {
          const held = this.nextStreamIndex[kind] > this.peerMaxStreams[kind];
          this.peerMaxStreams[kind] = f.max;
          if (held) {
            this.wakeAll();
            this.blockIfOverLimit(kind);
          }
          this.events.push({ type: 'streams-available', bidi: f.bidi });
        }
        return true;
      }
      case 'stream_data_blocked':
        this.streamForFrame(f.id, frameType, 'recv');
        return true;
      case 'data_blocked':
      case 'streams_blocked':
        return true;
      default:
        return false;
    }
  }

  /** A packet carrying `fr` was acknowledged. */
  onAcked(fr: SentFrame): void {
    if (fr.t === 'stream') {
      const s = this.streams.get(fr.id);
      if (!s) return;
      s.send.onAck(fr.offset, fr.offset + fr.len);
      if (fr.fin) s.finAcked = true;
      if (s.send.buffered < s.sendMax) this.maybeWritable(s);
      this.maybeCollect(s);
    } else if (fr.t === 'reset_stream') {
      const s = this.streams.get(fr.id);
      if (s) {
        s.resetAcked = true;
        this.maybeCollect(s);
      }
    }
  }

  /** A packet carrying `fr` was lost: schedule its repair (RFC 9000 §13.3). */
  onLost(fr: SentFrame): void {
    switch (fr.t) {
      case 'stream': {
        const s = this.streams.get(fr.id);
        if (!s || s.resetSent) return;
        if (fr.len > 0) s.send.onLost(fr.offset, fr.offset + fr.len);
        if (fr.fin && !s.finAcked) s.finSent = false;
        this.enqueueStream(s);
        return;
      }
      case 'max_data':
        this.maxDataPending = true;
        return;
      case 'max_stream_data':
        if (this.streams.has(fr.id)) this.maxStreamDataPending.add(fr.id);
        return;
      case 'max_streams':
        this.maxStreamsPending[fr.bidi ? 'bidi' : 'uni'] = true;
        return;
      case 'data_blocked':
        this.dataBlockedPending = true;
        return;
      case 'reset_stream':
        if (this.streams.has(fr.id)) this.resetStreamPending.add(fr.id);
        return;
      case 'stop_sending':
        if (this.streams.has(fr.id)) this.stopSendingPending.add(fr.id);
        return;
      default:
        return;
    }
  }

  /** Every stream with data gets another chance to send (handshake done, limits raised). */
  wakeAll(): void {
    for (const s of this.streams.values()) {
      this.enqueueStream(s);
      if (s.canSend && !s.resetSent && !s.finWritten) this.maybeWritable(s);
    }
  }

  /** Writes pending flow-control and stream-control frames (MAX_*, *_BLOCKED, RESET_STREAM, STOP_SENDING). */
  writeControlFrames(w: ByteWriter, sent: SentFrame[], room: number): void {
    const fits = (n: number): boolean => w.offset + n <= room;
    if (this.maxDataPending && fits(9)) {
      encodeFrame(w, { type: 'max_data', max: this.localMaxData });
      sent.push({ t: 'max_data' });
      this.maxDataPending = false;
    }
    for (const kind of ['bidi', 'uni'] as const) {
      if (this.maxStreamsPending[kind] && fits(9)) {
        encodeFrame(w, { type: 'max_streams', bidi: kind === 'bidi', max: this.localMaxStreams[kind] });
        sent.push({ t: 'max_streams', bidi: kind === 'bidi' });
        this.maxStreamsPending[kind] = false;
      }
      if (this.streamsBlockedPending[kind] && fits(9)) {
        encodeFrame(w, { type: 'streams_blocked', bidi: kind === 'bidi', limit: this.peerMaxStreams[kind] });
        sent.push({ t: 'streams_blocked', bidi: kind === 'bidi' });
        this.streamsBlockedPending[kind] = false;
      }
    }
    for (const id of this.maxStreamDataPending) {
      if (!fits(17)) break;
      const s = this.streams.get(id);
      if (s && !this.withinPeerLimit(s)) continue;
      this.maxStreamDataPending.delete(id);
      if (!s || s.finalSize !== null) continue;
      encodeFrame(w, { type: 'max_stream_data', id, max: s.recvMax });
      sent.push({ t: 'max_stream_data', id });
    }
    for (const id of this.resetStreamPending) {
      if (!fits(25)) break;
      const s = this.streams.get(id);
      if (s && !this.withinPeerLimit(s)) continue;
      this.resetStreamPending.delete(id);
      if (!s?.resetSent) continue;
      encodeFrame(w, { type: 'reset_stream', id, code: s.resetSent.code, finalSize: s.resetSent.finalSize });
      sent.push({ t: 'reset_stream', id });
    }
    for (const id of this.stopSendingPending) {
      if (!fits(17)) break;
      const s = this.streams.get(id);
      if (s && !this.withinPeerLimit(s)) continue;
      this.stopSendingPending.delete(id);
      if (!s || s.stopSent === null) continue;
      encodeFrame(w, { type: 'stop_sending', id, code: s.stopSent });
      sent.push({ t: 'stop_sending', id });
    }
    if (this.dataBlockedPending && fits(9)) {
      encodeFrame(w, { type: 'data_blocked', limit: this.peerMaxData });
      sent.push({ t: 'data_blocked' });
      this.dataBlockedPending = false;
    }
    for (const id of this.streamDataBlockedPending) {
      if (!fits(17)) break;
      const s = this.streams.get(id);
      if (s && !this.withinPeerLimit(s)) continue;
      this.streamDataBlockedPending.delete(id);
      if (!s) continue;
      encodeFrame(w, { type: 'stream_data_blocked', id, limit: s.sendMax });
      sent.push({ t: 'stream_data_blocked', id });
    }
  }

  /** Number of open streams (tests, bench). */
  get count(): number {
    return this.streams.size;
  }

  private streamKind(id: number): 'bidi' | 'uni' {
    return isUnidirectional(id) ? 'uni' : 'bidi';
  }

  /**
   * Finds (or, for peer-initiated streams, opens) the stream a frame refers to, enforcing
   * RFC 9000 §19.4-§19.13 direction rules and §4.6 stream limits. Returns null for a stream that
   * existed and is already closed (late frames are ignored).
   */
  private streamForFrame(id: number, frameType: number, need: 'send' | 'recv'): QuicStream | null {
    const localIsServer = this.role === 'server';
    const localInitiated = isServerInitiated(id) === localIsServer;
    const uni = isUnidirectional(id);
    if (uni && need === 'recv' && localInitiated)
      throw new QuicError('STREAM_STATE_ERROR', `stream ${id} is send-only for us`, frameType);
    if (uni && need === 'send' && !localInitiated)
      throw new QuicError('STREAM_STATE_ERROR', `stream ${id} is receive-only for us`, frameType);
    const existing = this.streams.get(id);
    if (existing) return existing;
    const kind = this.streamKind(id);
    const index = Math.floor(id / 4);
    if (localInitiated) {
      // RFC 9000 §19.8 etc.: a frame for a locally initiated stream not yet created is STREAM_STATE_ERROR.
      if (index >= this.nextStreamIndex[kind])
        throw new QuicError('STREAM_STATE_ERROR', `stream ${id} not opened by us`, frameType);
      return null;
    }
    // RFC 9000 §4.6: a stream ID beyond the limit we advertised is STREAM_LIMIT_ERROR.
    if (index >= this.localMaxStreams[kind])
      throw new QuicError(
        'STREAM_LIMIT_ERROR',
        `peer opened stream ${id} beyond limit ${this.localMaxStreams[kind]}`,
        frameType,
      );
    if (index < this.remoteOpened[kind]) return null; // opened before and closed since
    // RFC 9000 §3.2: opening a stream implicitly opens all lower-numbered streams of the same type.
    let s: QuicStream | null = null;
    for (let i = this.remoteOpened[kind]; i <= index; i++) {
      const sid = i * 4 + (id & 0x03);
      s = this.createStream(sid);
      this.events.push({ type: 'stream-opened', id: sid, bidi: kind === 'bidi' });
    }
    this.remoteOpened[kind] = index + 1;
    return s;
  }

  private createStream(id: number): QuicStream {
    const peer = this.peerTp ?? defaultTransportParameters();
    const localInitiated = isServerInitiated(id) === (this.role === 'server');
    const uni = isUnidirectional(id);
    // RFC 9000 §18.2: bidi_local applies to streams we open, bidi_remote to those the peer opens.
    const sendMax = uni
      ? peer.initialMaxStreamDataUni
      : localInitiated
        ? peer.initialMaxStreamDataBidiRemote
        : peer.initialMaxStreamDataBidiLocal;
    const recvWindow = uni
      ? this.localTp.initialMaxStreamDataUni
      : localInitiated
        ? this.localTp.initialMaxStreamDataBidiLocal
        : this.localTp.initialMaxStreamDataBidiRemote;
    const s = new QuicStream(id, this.role === 'server', sendMax, recvWindow);
    this.streams.set(id, s);
    return s;
  }

  private onStreamFrame(id: number, offset: number, data: Uint8Array, fin: boolean, frameType: number): void {
    const s = this.streamForFrame(id, frameType, 'recv');
    if (!s || s.resetReceived) return;
    const end = offset + data.length;
    // RFC 9000 §4.5: final size rules; violations are FINAL_SIZE_ERROR.
    if (s.finalSize !== null && (end > s.finalSize || (fin && end !== s.finalSize)))
      throw new QuicError('FINAL_SIZE_ERROR', `stream ${id} data beyond its final size`, frameType);
    if (fin && end < s.recv.highest)
      throw new QuicError('FINAL_SIZE_ERROR', `stream ${id} final size below data received`, frameType);
    // RFC 9000 §4.1: data beyond the advertised limit is FLOW_CONTROL_ERROR.
    if (end > s.recvMax)
      throw new QuicError('FLOW_CONTROL_ERROR', `stream ${id} exceeded its flow control limit`, frameType);
    const highestBefore = s.recv.highest;
    // RFC 9000 §21.7: a peer that splits the window into more holes than any loss pattern makes.
    if (!s.recv.insert(offset, data))
      throw new QuicError(
        'PROTOCOL_VIOLATION',
        `stream ${id} data in more than ${s.recv.maxRanges} separate pieces`,
        frameType,
      );
    if (fin) s.finalSize = end;
    const grew = s.recv.highest - highestBefore;
    this.receivedData += grew;
    if (this.receivedData > this.localMaxData)
      throw new QuicError('FLOW_CONTROL_ERROR', 'connection flow control limit exceeded', frameType);
    if (s.stopSent !== null) {
      // We asked the peer to stop; discard and credit the bytes immediately.
      s.recv.skipReadable();
      this.creditConsumed(s, grew);
      return;
    }
    // One pending 'stream-readable' per stream: the application reads everything available.
    if ((s.recv.readable || (fin && s.recv.readOffset === end)) && !this.readablePending.has(id)) {
      this.readablePending.add(id);
      this.events.push({ type: 'stream-readable', id });
    }
  }

  private onResetStream(id: number, code: number, finalSize: number, frameType: number): void {
    const s = this.streamForFrame(id, frameType, 'recv');
    if (!s || s.resetReceived) return;
    if ((s.finalSize !== null && s.finalSize !== finalSize) || finalSize < s.recv.highest)
      throw new QuicError('FINAL_SIZE_ERROR', `stream ${id} reset with a different final size`, frameType);
    if (finalSize > s.recvMax)
      throw new QuicError('FLOW_CONTROL_ERROR', `stream ${id} final size beyond its limit`, frameType);
    const grew = finalSize - s.recv.highest;
    this.receivedData += grew;
    if (this.receivedData > this.localMaxData)
      throw new QuicError('FLOW_CONTROL_ERROR', 'connection flow control limit exceeded', frameType);
    s.resetReceived = { code, finalSize };
    s.finalSize = finalSize;
    // RFC 9000 §4.5: the final size counts against connection flow control even if never read.
    const unread = finalSize - s.recv.readOffset;
    s.recv.clear();
    s.recvDone = true;
    this.consumedData += unread;
    this.maybeSendMaxData();
    this.events.push({ type: 'stream-reset', id, code });
    this.maybeCollect(s);
  }

  private creditConsumed(s: QuicStream, n: number): void {
    if (n <= 0) return;
    this.consumedData += n;
    this.maybeSendMaxData();
    // RFC 9000 §4.2: raise the stream limit as the application reads (window/2 hysteresis).
    if (!s.finalSize && s.recvMax - s.recv.readOffset < s.recvWindow / 2) {
      s.recvMax = s.recv.readOffset + s.recvWindow;
      this.maxStreamDataPending.add(s.id);
    }
  }

  private maybeSendMaxData(): void {
    const window = this.localTp.initialMaxData;
    if (this.localMaxData - this.consumedData < window / 2) {
      this.localMaxData = this.consumedData + window;
      this.maxDataPending = true;
    }
  }

  private enqueueStream(s: QuicStream): void {
    if (!this.queued.has(s.id) && s.wantsToSend) {
      this.queued.add(s.id);
      this.sendQueue.push(s.id);
    }
  }

  private wakeBlockedStreams(): void {
    for (const s of this.streams.values()) {
      this.enqueueStream(s);
      if (s.canSend && !s.resetSent && !s.finWritten) this.maybeWritable(s);
    }
  }

  private maybeWritable(s: QuicStream): void {
    if (s.canSend && !s.resetSent && !s.finWritten) this.events.push({ type: 'stream-writable', id: s.id });
  }

  private maybeCollect(s: QuicStream): void {
    if (!s.isClosed) return;
    this.streams.delete(s.id);
    this.maxStreamDataPending.delete(s.id);
    // After the stream's final events in the queue: the application frees its handle then.
    this.events.push({ type: 'stream-collected', id: s.id });
    if (!s.localInitiated) {
      const kind = this.streamKind(s.id);
      this.remoteClosed[kind]++;
      // RFC 9000 §4.6: MAX_STREAMS raises the limit as peer-initiated streams close.
      const initial = kind === 'bidi' ? this.localTp.initialMaxStreamsBidi : this.localTp.initialMaxStreamsUni;
      if (
        this.localMaxStreams[kind] - this.remoteOpened[kind] < initial / 2 ||
        this.remoteClosed[kind] + initial - this.localMaxStreams[kind] >= Math.max(1, initial / 2)
      ) {
        this.localMaxStreams[kind] = this.remoteClosed[kind] + initial;
        this.maxStreamsPending[kind] = true;
      }
    }
  }

  /**
   * Opens a stream. Returns its ID, or null when the peer's MAX_STREAMS limit is reached
   * (a `streams-available` event tells when to retry). Only after the handshake completes.
   */
  openStream(bidi: boolean): number | null {
    const kind = bidi ? 'bidi' : 'uni';
    if (this.nextStreamIndex[kind] >= this.peerMaxStreams[kind]) {
      this.streamsBlockedPending[kind] = true;
      return null;
    }
    const id = this.nextStreamIndex[kind] * 4 + (this.role === 'server' ? 1 : 0) + (bidi ? 0 : 2);
    this.nextStreamIndex[kind]++;
    this.createStream(id);
    return id;
  }

  /**
   * Queues a copy of `data` on a stream. Returns the
   * number of bytes the stream buffers beyond what the peer allows right now; callers writing
   * large amounts should wait for `stream-writable` while that is above their high-water mark.
   */
  streamWrite(id: number, data: Uint8Array, fin = false): number {
    const s = this.streams.get(id);
    if (!s || !s.canSend) throw new Error(`stream ${id} is not writable`);
    if (s.finWritten) throw new Error(`stream ${id} already finished`);
    if (s.resetSent) return 0;
    s.send.write(data);
    if (fin) s.finWritten = true;
    this.enqueueStream(s);
    return Math.max(0, s.send.writeOffset - s.sendMax);
  }

  /** Bytes written but not yet acknowledged on a stream (for back-pressure). */
  streamBuffered(id: number): number {
    return this.streams.get(id)?.send.buffered ?? 0;
  }

  /**
   * Reads the next bytes available in order on a stream (one received segment: call until
   * null), or null when none are. After null, check
   * `streamFinished(id)`. Reading gives flow-control credit back to the peer.
   */
  streamRead(id: number, max = Infinity): Uint8Array | null {
    this.readablePending.delete(id);
    const s = this.streams.get(id);
    if (!s || !s.canRecv || s.resetReceived) return null;
    const before = s.recv.readOffset;
    const data = s.recv.read(max);
    if (data) this.creditConsumed(s, s.recv.readOffset - before);
    if (s.finalSize !== null && s.recv.readOffset === s.finalSize && !s.recvDone) {
      s.recvDone = true;
      this.maybeCollect(s);
    }
    return data;
  }

  /** Whether the peer finished the stream and everything has been read (or the stream is gone). */
  streamFinished(id: number): boolean {
    const s = this.streams.get(id);
    if (!s) return this.wasOpened(id);
    return s.finalSize !== null && s.recv.readOffset === s.finalSize;
  }

  /** Whether a stream with this ID existed (it is gone now if it is not in the map). */
  private wasOpened(id: number): boolean {
    const kind = this.streamKind(id);
    const index = Math.floor(id / 4);
    const local = isServerInitiated(id) === (this.role === 'server');
    return index < (local ? this.nextStreamIndex[kind] : this.remoteOpened[kind]);
  }

  /** RFC 9000 §3.1: abruptly ends our sending half (RESET_STREAM). */
  streamReset(id: number, code: number): void {
    const s = this.streams.get(id);
    if (!s || !s.canSend) return;
    this.resetStreamInternal(s, code);
  }

  private resetStreamInternal(s: QuicStream, code: number): void {
    if (s.resetSent || (s.finAcked && s.send.allAcked)) return;
    s.resetSent = { code, finalSize: s.send.sentOffset };
    s.send.retransmit.clear();
    this.resetStreamPending.add(s.id);
  }

  /** RFC 9000 §3.5: asks the peer to stop sending (STOP_SENDING); further data is discarded. */
  stopSending(id: number, code: number): void {
    const s = this.streams.get(id);
    if (!s || !s.canRecv || s.stopSent !== null || s.recvDone) return;
    s.stopSent = code;
    const before = s.recv.readOffset;
    s.recv.skipReadable();
    this.creditConsumed(s, s.recv.readOffset - before);
    this.stopSendingPending.add(id);
  }

  /**
   * Fills the rest of a 1-RTT packet with STREAM frames, round-robin over streams with data. With
   * `earlyOnly` (a 0-RTT packet), only bytes written as early data, never a FIN.
   */
  writeStreamFrames(w: ByteWriter, sent: SentFrame[], room: number, earlyOnly = false): boolean {
    let any = false;
    let rounds = this.sendQueue.length;
    while (rounds-- > 0 && room - w.offset > 24) {
      const id = this.sendQueue.shift()!;
      this.queued.delete(id);
      const s = this.streams.get(id);
      if (!s || !s.wantsToSend || !this.withinPeerLimit(s)) continue;
      const buf = s.send;
      if (earlyOnly && !buf.hasRetransmit && buf.sentOffset >= s.earlyEnd) {
        // Nothing of it may go in 0-RTT: it stays queued for 1-RTT.
        this.enqueueStream(s);
        continue;
      }
      const lost = buf.retransmit.first();
      let lo: number;
      let hi: number;
      let isNew = false;
      if (lost) {
        lo = lost[0];
        hi = lost[1];
      } else {
        lo = buf.sentOffset;
        // RFC 9000 §4.1: new data is limited by the stream and connection limits.
        const connRoom = this.peerMaxData - this.sentData;
        hi = Math.min(earlyOnly ? s.earlyEnd : buf.writeOffset, s.sendMax, lo + Math.max(0, connRoom));
        isNew = true;
        if (hi <= lo && !(s.finWritten && !s.finSent && lo === buf.writeOffset)) {
          // Blocked by flow control (RFC 9000 §4.1: SHOULD send a *_BLOCKED frame).
          if (buf.writeOffset > s.sendMax && s.blockedSentAt !== s.sendMax) {
            s.blockedSentAt = s.sendMax;
            this.streamDataBlockedPending.add(id);
          }
          if (connRoom <= 0 && this.dataBlockedAt !== this.peerMaxData) {
            this.dataBlockedAt = this.peerMaxData;
            this.dataBlockedPending = true;
          }
          continue;
        }
      }
      const overhead = streamFrameOverhead(id, lo, Math.max(hi - lo, 1));
      const maxLen = room - w.offset - overhead;
      if (maxLen < 0) {
        this.enqueueStream(s);
        break;
      }
      hi = Math.min(hi, lo + maxLen);
      const fin = !earlyOnly && s.finWritten && hi === buf.writeOffset;
      if (hi <= lo && !fin) {
        this.enqueueStream(s);
        break;
      }
      encodeStreamFrameHeader(w, id, lo, hi - lo, fin);
      buf.copyTo(lo, hi, w.reserve(hi - lo));
      sent.push({ t: 'stream', id, offset: lo, len: hi - lo, fin });
      if (isNew) {
        this.sentData += hi - lo;
        buf.sentOffset = hi;
      } else buf.retransmit.remove(lo, hi);
      if (fin) s.finSent = true;
      any = true;
      this.enqueueStream(s);
    }
    return any;
  }
}
