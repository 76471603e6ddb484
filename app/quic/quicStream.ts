/**
 * One QUIC stream's state (RFC 9000 §2-§4): the send half, the receive half and their flow-control
 * limits. Pure bookkeeping; `QuicConnection` enforces the rules and turns them into frames.
 */
import { RecvBuffer } from './recvBuffer.ts';
import { SendBuffer } from './sendBuffer.ts';

/** RFC 9000 §2.1: bit 0x01 set means server-initiated, bit 0x02 set means unidirectional. */
export function isServerInitiated(id: number): boolean {
  return (id & 0x01) !== 0;
}

export function isUnidirectional(id: number): boolean {
  return (id & 0x02) !== 0;
}

/**
 * The most separate ranges of out-of-order bytes a stream holds (RFC 9000 §21.7: "limiting the
 * size of tracking data structures"). An honest sender leaves a hole per lost packet still
 * unrepaired on that stream; a thousand of them at once is far past any loss a congestion
 * controller lets happen. A peer that goes beyond is fragmenting on purpose and the connection is
 * closed. The bound is also what keeps a fragment's cost small (a splice of at most 2,048 numbers).
 */
export const MAX_STREAM_RECV_RANGES = 1024;

export class QuicStream {
  readonly id: number;
  /** This endpoint may send on it. */
  readonly canSend: boolean;
  /** This endpoint may receive on it. */
  readonly canRecv: boolean;
  readonly localInitiated: boolean;

  // Send half.
  readonly send = new SendBuffer();
  /** Peer's limit on the offset we may send (MAX_STREAM_DATA). */
  sendMax: number;
  finWritten = false;
  finSent = false;
  finAcked = false;
  /** RESET_STREAM we sent: error code and final size. */
  resetSent: { code: number; finalSize: number } | null = null;
  resetAcked = false;
  /** Offset at which we last sent STREAM_DATA_BLOCKED (to send it once per limit). */
  blockedSentAt = -1;
  /**
   * Bytes [0, earlyEnd) were written as early data (`QuicConnection.openEarlyStream`): only they
   * may go in 0-RTT packets; whatever is written after waits for 1-RTT.
   */
  earlyEnd = 0;

  // Receive half.
  readonly recv = new RecvBuffer(MAX_STREAM_RECV_RANGES);
  /** Our limit on the peer's offset (MAX_STREAM_DATA we advertise). */
  recvMax: number;
  readonly recvWindow: number;
  finalSize: number | null = null;
  /** RESET_STREAM received from the peer. */
  resetReceived: { code: number; finalSize: number } | null = null;
  /** STOP_SENDING we sent (the code). */
  stopSent: number | null = null;
  /** STOP_SENDING received from the peer (the code). */
  stopReceived: number | null = null;
  /** The application has read the fin (or the reset was reported). */
  recvDone = false;

  constructor(id: number, localIsServer: boolean, sendMax: number, recvWindow: number) {
    this.id = id;
    this.localInitiated = isServerInitiated(id) === localIsServer;
    const uni = isUnidirectional(id);
    this.canSend = !uni || this.localInitiated;
    this.canRecv = !uni || !this.localInitiated;
    this.sendMax = sendMax;
    this.recvMax = recvWindow;
    this.recvWindow = recvWindow;
    if (!this.canRecv) this.recvDone = true;
  }

  /** Whether the stream has something to put in a STREAM frame (new data, lost data or a bare fin). */
  get wantsToSend(): boolean {
    if (!this.canSend || this.resetSent) return false;
    return this.send.hasRetransmit || this.send.unsent > 0 || (this.finWritten && !this.finSent);
  }

  /** Both halves are finished: the stream can be forgotten. */
  get isClosed(): boolean {
    const sendDone = !this.canSend || this.resetAcked || (this.finAcked && this.send.allAcked);
    return sendDone && this.recvDone;
  }
}
