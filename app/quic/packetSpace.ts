/**
 * One packet number space (RFC 9000 §12.3: Initial, Handshake, application data) with its keys,
 * its sent-packet record for loss detection (RFC 9002 Appendix A.1) and its receive record for ACKs.
 */
import type { PacketKeys } from './packetProtection.ts';
import { RangeSet } from './rangeSet.ts';
import { RecvBuffer } from './recvBuffer.ts';
import { SendBuffer } from './sendBuffer.ts';

export type SpaceId = 0 | 1 | 2;
export const INITIAL: SpaceId = 0;
export const HANDSHAKE: SpaceId = 1;
export const APPLICATION: SpaceId = 2;
export const SPACE_NAMES = ['initial', 'handshake', 'application'] as const;
/**
 * The most ACK ranges we send; the receive record keeps a few times as many (RFC 9000 §13.2.4:
 * ranges below an acknowledged ACK need not be repeated).
 */
export const MAX_ACK_RANGES = 32;
/**
 * The most separate ranges of out-of-order CRYPTO bytes an epoch holds (RFC 9000 §21.7: "limiting
 * the size of tracking data structures"). A handshake flight is a few packets, split into a few
 * dozen frames at most (ClientHellos are sometimes split and shuffled on purpose); more gaps than
 * this is CRYPTO_BUFFER_EXCEEDED (§7.5).
 */
export const MAX_CRYPTO_RECV_RANGES = 1024;

/** What a sent packet carried that must be repaired if it is lost (RFC 9000 §13.3). */
export type SentFrame =
  | { t: 'stream'; id: number; offset: number; len: number; fin: boolean }
  | { t: 'crypto'; offset: number; len: number }
  | { t: 'ack'; largest: number }
  | { t: 'max_data' }
  | { t: 'max_stream_data'; id: number }
  | { t: 'max_streams'; bidi: boolean }
  | { t: 'data_blocked' }
  | { t: 'stream_data_blocked'; id: number }
  | { t: 'streams_blocked'; bidi: boolean }
  | { t: 'new_connection_id'; seq: number }
  | { t: 'retire_connection_id'; seq: number }
  | { t: 'reset_stream'; id: number }
  | { t: 'stop_sending'; id: number }
  | { t: 'handshake_done' }
  | { t: 'ping' }
  | { t: 'path_challenge' };

export interface SentPacket {
  pn: number;
  timeSent: number;
  size: number;
  ackEliciting: boolean;
  inFlight: boolean;
  frames: SentFrame[];
  /** 1-RTT key phase the packet was sent with (key update bookkeeping). */
  keyPhase: number;
  /** A path MTU probe (RFC 9000 §14.4): its loss is no congestion signal. */
  mtuProbe: boolean;
}

export class PacketSpace {
  readonly id: SpaceId;
  nextPn = 0;
  largestAcked = -1;
  /** Unacknowledged sent packets, in packet-number order (Map keeps insertion order). */
  readonly sent = new Map<number, SentPacket>();
  ackElicitingInFlight = 0;
  timeOfLastAckEliciting = -Infinity;
  lossTime = Infinity;

  readonly received = new RangeSet();
  largestReceived = -1;
  largestReceivedTime = 0;
  /** Ack-eliciting packets received since the last ACK we sent. */
  unackedEliciting = 0;
  ackNeeded = false;
  ackDeadline = Infinity;

  readonly cryptoSend = new SendBuffer();
  readonly cryptoRecv = new RecvBuffer(MAX_CRYPTO_RECV_RANGES);

  readKeys: PacketKeys | null = null;
  writeKeys: PacketKeys | null = null;
  discarded = false;
  /** Probe packets owed after a PTO (RFC 9002 §6.2.4). */
  probes = 0;

  constructor(id: SpaceId) {
    this.id = id;
  }
}
