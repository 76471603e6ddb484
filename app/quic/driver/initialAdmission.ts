/**
 * Whether a client Initial for an unknown connection may create one (RFC 9000 §8.1, §21.1.1).
 * Each half-open connection costs tens of kilobytes and key derivation: a flood of Initials, with
 * spoofed sources or none that decrypt, must not buy that. So, in this order, all stateless:
 * above a threshold of half-open connections the endpoint only sends Retry (§8.1.2: "a server
 * can also use a Retry packet to defer the state and processing costs of connection
 * establishment"), a hard cap refuses even validated clients, and an Initial is opened with its
 * Initial keys before any state exists: one that does not decrypt is dropped (RFC 9001 §5.2).
 */
import { protectPacket, unprotectPacket, writeLongHeader } from '../packetHeader.ts';
import { derivePacketKeys, initialKeys, initialSecrets, TLS_AES_128_GCM_SHA256 } from '../packetProtection.ts';
import { ByteWriter } from '../byteWriter.ts';
import { encodeFrame } from '../frame.ts';
import { TransportErrorCode } from '../quicError.ts';

/** Above this many half-open connections, new clients must prove their address first (Retry). */
export const DEFAULT_RETRY_ABOVE = 64;
/** Half-open connections beyond which even a client with a valid Retry token is refused. */
export const DEFAULT_MAX_HALF_OPEN = 256;
/**
 * Half-open connections one source address may hold: a validated address cannot take the whole
 * reserve above the Retry threshold, and one that has this many must validate first.
 */
export const DEFAULT_MAX_HALF_OPEN_PER_ADDRESS = 16;

export interface AdmissionLimits {
  /** Every new client must come back with a Retry token (ListenOptions.requireRetry). */
  requireRetry: boolean;
  retryAbove: number;
  maxHalfOpen: number;
  maxHalfOpenPerAddress: number;
}

/** What the Initial's token says: none, one of our Retry tokens for this address, or anything else. */
export type TokenState = 'none' | 'valid' | 'invalid';

export type Admission = 'accept' | 'retry' | 'refuse';

/**
 * Decides for an Initial that names no known connection, given the half-open connections now.
 * A valid token is a validated address: it may use the room between `retryAbove` and
 * `maxHalfOpen` that spoofed sources cannot reach, up to `maxHalfOpenPerAddress` of it. An invalid token is refused whenever a Retry
 * would be sent: RFC 9000 §17.2.5.2 lets a client accept one Retry only, so another is useless.
 */
export function admitInitial(
  limits: AdmissionLimits,
  halfOpen: number,
  token: TokenState,
  /** Half-open connections from this Initial's source address. */
  fromAddress: number,
): Admission {
  const retryAbove = Math.min(limits.retryAbove, limits.maxHalfOpen);
  if (token === 'valid') {
    return halfOpen < limits.maxHalfOpen && fromAddress < limits.maxHalfOpenPerAddress ? 'accept' : 'refuse';
  }
  // An unvalidated source may be spoofed: counting it against its address could lock the real
  // owner out, so above its share it is only asked to validate (a Retry costs no state).
  const mustValidate = limits.requireRetry || halfOpen >= retryAbove || fromAddress >= limits.maxHalfOpenPerAddress;
  if (!mustValidate) return 'accept';
  return token === 'none' ? 'retry' : 'refuse';
}

/**
 * Whether the client Initial at the start of `datagram` opens with the Initial keys of its
 * Destination Connection ID (RFC 9001 §5.2): header protection removed, AEAD tag checked.
 * The connection does the same again; this check only keeps garbage from creating one.
 */
export function initialOpens(
  datagram: Uint8Array,
  header: { dcid: Uint8Array; start: number; end: number; pnOffset: number; form: string },
): boolean {
  const keys = derivePacketKeys(TLS_AES_128_GCM_SHA256, initialSecrets(header.dcid).client);
  return unprotectPacket(datagram, header, keys, -1, () => keys) !== null;
}

/**
 * RFC 9000 §5.2.2: "If a server refuses to accept a new connection, it SHOULD send an Initial
 * packet containing a CONNECTION_CLOSE frame with error code CONNECTION_REFUSED." Built without
 * any connection state: protected with the Initial keys of the client's Destination Connection ID
 * (RFC 9001 §5.2), addressed to the client's Source Connection ID, from `serverCid` (any fresh
 * ID), packet number 0, no token (§17.2.2: a server's Initial carries none). Smaller than the
 * client's 1200-byte Initial, so it amplifies nothing (§8.1).
 */
export function connectionRefusedPacket(
  clientInitial: { dcid: Uint8Array; scid: Uint8Array },
  serverCid: Uint8Array,
  reason: string,
): Uint8Array {
  const frames = new ByteWriter(64 + reason.length * 3);
  // §19.19: type 0x1c, a transport error; Frame Type 0 (the error is not about a frame).
  encodeFrame(frames, {
    type: 'connection_close',
    app: false,
    code: TransportErrorCode.CONNECTION_REFUSED,
    frameType: 0,
    reason,
  });
  // The header-protection sample (RFC 9001 §5.4.2) starts 4 bytes after the packet number's
  // start: the frame alone (type, code, frame type, reason length: 4 bytes or more) reaches it.
  const pnLen = 1;
  // Long header with both connection IDs at their 20-byte maximum, token length, Length: < 64.
  const header = new Uint8Array(64);
  const pnOffset = writeLongHeader(header, 'initial', clientInitial.scid, serverCid, null, pnLen, 2);
  const keys = initialKeys(clientInitial.dcid).server;
  // A copy: protectPacket carves packets out of a shared slab.
  return protectPacket(keys, header, pnOffset, pnLen, 0, frames.finish(), true).slice();
}
