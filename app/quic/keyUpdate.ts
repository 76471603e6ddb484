/**
 * The 1-RTT key phase (RFC 9001 §6): which phase bit we send, the previous generation of read
 * keys (kept for three PTOs to open reordered packets), the next generation (derived on demand
 * when a packet with the other phase bit arrives), where the current phase starts, how many
 * packets the current write keys protected (RFC 9001 §6.6), and whether a new update is allowed.
 *
 * The keys in use are not owned here: they are the Application space's `readKeys`/`writeKeys`,
 * passed in and replaced by `update`. Obligations of the caller (`QuicConnection`):
 * - open 1-RTT packets with `keysForPhase`, then call `isPeerUpdate` for each authenticated one
 *   and `update(app, pn, false, ...)` when it returns true;
 * - call `onPacketAcked` for every acknowledged 1-RTT packet and `onPacketSent` for every sealed
 *   one (when it returns true, initiate an update; `limitReached` says when not doing so is fatal);
 * - include `discardDeadline` in its timeout and call `onTimeout(now)` when it fires.
 */
import { nextPhaseKeys, type PacketKeys } from './packetProtection.ts';
import type { PacketSpace } from './packetSpace.ts';

/** RFC 9001 §6.6: the confidentiality limit for AEAD_AES_128_GCM and AEAD_AES_256_GCM is 2^23 packets. */
const AES_GCM_CONFIDENTIALITY_LIMIT = 2 ** 23;
/** We update well before the limit, leaving time for the update to be acknowledged. */
const AES_GCM_KEY_UPDATE_AT = 2 ** 23 - 2 ** 20;

export class KeyUpdate {
  private keyPhase = 0;
  private prevReadKeys: PacketKeys | null = null;
  private prevReadKeysDeadline = Infinity;
  private nextReadKeys: PacketKeys | null = null;
  /** Lowest packet number received in the current key phase (Infinity until one arrives after our own update). */
  private keyPhaseStartPn = 0;
  /** Packets protected with the current write keys (RFC 9001 §6.6 confidentiality limit). */
  private packetsInPhase = 0;
  private keyUpdatePermitted = false;

  /** The Key Phase bit of packets we send now (0 or 1). */
  get phase(): number {
    return this.keyPhase;
  }

  /** RFC 9001 §6.1: whether a packet of the current phase has been acknowledged. */
  get permitted(): boolean {
    return this.keyUpdatePermitted;
  }

  /** When the previous read keys are dropped (Infinity when there are none). */
  get discardDeadline(): number {
    return this.prevReadKeys ? this.prevReadKeysDeadline : Infinity;
  }

  /** RFC 9001 §6.6: the current write keys reached the confidentiality limit. */
  get limitReached(): boolean {
    return this.packetsInPhase >= AES_GCM_CONFIDENTIALITY_LIMIT;
  }

  /** The read keys for a 1-RTT packet with Key Phase bit `phase` and (decoded) number `pn`. */
  keysForPhase(app: PacketSpace, phase: number, pn: number, handshakeConfirmed: boolean): PacketKeys | null {
    if (phase === this.keyPhase) {
      // A packet older than the current phase but with its bit may belong to the phase before the previous.
      return app.readKeys;
    }
    // RFC 9001 §6.3: a different key phase is the previous phase for older packets, else a key update.
    if (this.prevReadKeys && pn < this.keyPhaseStartPn) return this.prevReadKeys;
    if (!handshakeConfirmed || !app.readKeys) return null;
    this.nextReadKeys ??= nextPhaseKeys(app.readKeys);
    return this.nextReadKeys;
  }

  /** An authenticated 1-RTT packet: returns true when the peer initiated a key update with it. */
  isPeerUpdate(phase: number, pn: number): boolean {
    if (phase === this.keyPhase) {
      if (pn < this.keyPhaseStartPn) this.keyPhaseStartPn = pn;
      return false;
    }
    if (this.prevReadKeys && pn < this.keyPhaseStartPn) return false;
    // RFC 9001 §6.2: the peer initiated a key update; update our keys and respond in kind.
    return true;
  }

  /**
   * Moves `app` to the next generation of keys and flips the phase; the old read keys are kept
   * until `discardAt`. Returns false (and changes nothing) when `app` has no 1-RTT keys yet.
   */
  update(app: PacketSpace, pn: number, local: boolean, discardAt: number): boolean {
    if (!app.readKeys || !app.writeKeys) return false;
    this.prevReadKeys = app.readKeys;
    this.prevReadKeysDeadline = discardAt;
    app.readKeys = this.nextReadKeys ?? nextPhaseKeys(app.readKeys);
    this.nextReadKeys = null;
    app.writeKeys = nextPhaseKeys(app.writeKeys);
    this.keyPhase ^= 1;
    // RFC 9001 §6.3: after our own update, packets with the old phase bit keep using the old keys
    // until the peer's first packet in the new phase tells where the new phase starts.
    this.keyPhaseStartPn = local ? Infinity : pn;
    this.packetsInPhase = 0;
    this.keyUpdatePermitted = false;
    return true;
  }

  /** A 1-RTT packet sent in phase `keyPhase` was acknowledged. */
  onPacketAcked(keyPhase: number): void {
    // RFC 9001 §6.1: a new key update is allowed once a packet of the current phase is acknowledged.
    if (keyPhase === this.keyPhase) this.keyUpdatePermitted = true;
  }

  /**
   * A 1-RTT packet was sealed with the current write keys. Returns true when a key update is due:
   * RFC 9001 §6.6: endpoints MUST initiate a key update before the confidentiality limit
   * (2^23 packets for AES-GCM); if that is not possible in time, close with AEAD_LIMIT_REACHED.
   */
  onPacketSent(aead: string): boolean {
    return ++this.packetsInPhase >= AES_GCM_KEY_UPDATE_AT && aead !== 'chacha20-poly1305';
  }

  /** Drops the previous read keys once their three PTOs are over. */
  onTimeout(now: number): void {
    if (this.prevReadKeys && now >= this.prevReadKeysDeadline) {
      this.prevReadKeys = null;
      this.prevReadKeysDeadline = Infinity;
    }
  }
}
