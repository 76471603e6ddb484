/**
 * The control frames of a 1-RTT packet (RFC 9000 §13.3: "Data sent in CRYPTO frames ... and
 * control frames are retransmitted" until acknowledged), in the order they go in: HANDSHAKE_DONE,
 * then the path's PATH_CHALLENGE/PATH_RESPONSE, the streams' MAX_*, *_BLOCKED, RESET_STREAM and
 * STOP_SENDING, and the connection IDs' NEW_CONNECTION_ID/RETIRE_CONNECTION_ID.
 *
 * HANDSHAKE_DONE and the PING the connection asks for belong to no other piece, so they are queued
 * here; every other control frame is queued by its owner (`PathState`, `StreamManager`,
 * `ConnectionIds`), which `write` asks in turn. Obligations of the caller (`QuicConnection`):
 * - queue HANDSHAKE_DONE (server, RFC 9001 §4.1.2) and PING with `queueHandshakeDone`/`queuePing`,
 *   and report each lost frame to `onLost`;
 * - call `write` for each 1-RTT packet with room for frames; when `pingDue` and the packet carries
 *   nothing ack-eliciting, add a PING; call `onAckElicitingPacket` for each ack-eliciting 1-RTT
 *   packet (it answers the PING request).
 */
import type { ByteWriter } from './byteWriter.ts';
import type { ConnectionIds } from './connectionIds.ts';
import { encodeFrame } from './frame.ts';
import type { SentFrame } from './packetSpace.ts';
import type { PathState } from './pathState.ts';
import type { StreamManager } from './streamManager.ts';

/** The pieces that queue control frames of their own. */
export interface ControlFrameSources {
  path: PathState;
  streams: StreamManager;
  cids: ConnectionIds;
}

export class ControlFrames {
  private readonly role: 'client' | 'server';
  private readonly sources: ControlFrameSources;
  private handshakeDonePending = false;
  private pingPending = false;

  constructor(role: 'client' | 'server', sources: ControlFrameSources) {
    this.role = role;
    this.sources = sources;
  }

  /** Whether the next ack-eliciting 1-RTT packet is owed (a PING when nothing else elicits an ACK). */
  get pingDue(): boolean {
    return this.pingPending;
  }

  /** RFC 9001 §4.1.2: the server sends HANDSHAKE_DONE once its handshake completes. */
  queueHandshakeDone(): void {
    this.handshakeDonePending = true;
  }

  /** Asks for an ack-eliciting packet (keep-alive, a new key phase to be acknowledged). */
  queuePing(): void {
    this.pingPending = true;
  }

  /** A frame was declared lost: HANDSHAKE_DONE goes again (RFC 9000 §13.3). */
  onLost(frame: SentFrame): void {
    if (frame.t === 'handshake_done') this.handshakeDonePending = true;
  }

  /** An ack-eliciting 1-RTT packet is being sent: no PING is owed any more. */
  onAckElicitingPacket(): void {
    this.pingPending = false;
  }

  /** Writes the control frames that fit within `room`. Returns whether it wrote any. */
  write(w: ByteWriter, sent: SentFrame[], room: number, now: number): boolean {
    const start = w.offset;
    const fits = (n: number): boolean => w.offset + n <= room;
    if (this.handshakeDonePending && this.role === 'server' && fits(1)) {
      encodeFrame(w, { type: 'handshake_done' });
      sent.push({ t: 'handshake_done' });
      this.handshakeDonePending = false;
    }
    this.sources.path.writeFrames(w, sent, room, now);
    this.sources.streams.writeControlFrames(w, sent, room);
    this.sources.cids.writeFrames(w, sent, room);
    return w.offset > start;
  }
}
