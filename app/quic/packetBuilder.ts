/**
 * Packet assembly (RFC 9000 §12.2, §17; RFC 9001 §5): frame scratch buffers, the ACK and CRYPTO
 * frames of a space, exact header lengths, padding, sealing (AEAD and header protection) and
 * coalescing packets into one datagram.
 *
 * It owns no protocol state: the packet number space (its keys, next packet number, receive
 * record, CRYPTO send buffer), the connection IDs and the key phase are passed in. What it owns is
 * memory: the per-space frame scratch buffers (shared by every connection) and a short-header
 * scratch. Obligations of the caller (`QuicConnection`):
 * - take a frame buffer with `frames(space.id)`, fill it and seal it (`seal`) within one
 *   synchronous call: the scratch is reused by the next packet;
 * - record every sealed packet with loss recovery (`seal` advances `space.nextPn` and nothing else);
 * - send nothing but what `seal` returned, in the order sealed.
 */
import { ByteWriter } from './byteWriter.ts';
import { encodeFrame } from './frame.ts';
import { packetNumberLength } from './packetNumber.ts';
import { protectPacket, writeLongHeader } from './packetHeader.ts';
import { APPLICATION, INITIAL, MAX_ACK_RANGES, type PacketSpace, type SentFrame, type SpaceId } from './packetSpace.ts';
import { varintLength } from './varint.ts';
import type { PacketKeys } from './packetProtection.ts';

/**
 * Per-space frame scratch buffers, shared by every connection: a packet is assembled here and
 * sealed into fresh memory within one synchronous `pollTransmit`, so connections never overlap,
 * and a scratch grown to a 64 KiB datagram is paid for once, not per connection.
 */
const SCRATCH = [new ByteWriter(2048), new ByteWriter(2048), new ByteWriter(2048)] as const;

/** The connection IDs and token that go into headers. */
export interface PacketIds {
  /** The peer's connection ID in use (Destination Connection ID). */
  dcid: Uint8Array;
  /** Our Source Connection ID of long headers. */
  scid: Uint8Array;
  /** The Initial packets' token (a client's Retry token; null or empty: none). */
  token: Uint8Array | null;
}

export class PacketBuilder {
  /** Room for a short header: first byte, the longest connection ID, a 4-byte packet number. */
  private readonly shortHeaderScratch = new Uint8Array(1 + 20 + 4);

  /** The (reset) frame scratch buffer for a packet in space `id`. */
  frames(id: SpaceId): ByteWriter {
    return SCRATCH[id].reset();
  }

  /**
   * Exact header length of the next packet in `space` (including its packet number); `zeroRtt`:
   * a 0-RTT packet of the application space (long header, RFC 9000 §17.2.3).
   */
  headerLength(space: PacketSpace, ids: PacketIds, zeroRtt = false): number {
    const pnLen = packetNumberLength(space.nextPn, space.largestAcked);
    if (space.id === APPLICATION && !zeroRtt) return 1 + ids.dcid.length + pnLen;
    const base = 1 + 4 + 1 + ids.dcid.length + 1 + ids.scid.length + 2 + pnLen;
    const tokenLength = ids.token?.length ?? 0;
    if (space.id === INITIAL) return base + varintLength(tokenLength) + tokenLength;
    return base;
  }

  /**
   * The ACK frame `space` owes, or null. `ackDelayExponent` is ours (the delay field of 1-RTT
   * ACKs is scaled by it, RFC 9000 §19.3); `largest` is what the frame acknowledges up to.
   */
  ackFrame(space: PacketSpace, now: number, ackDelayExponent: number): { frame: Uint8Array; largest: number } | null {
    if (!(space.ackNeeded || space.unackedEliciting > 0) || space.received.isEmpty) return null;
    const ranges = space.received.descending().slice(0, MAX_ACK_RANGES);
    const delayUs = Math.max(0, Math.round((now - space.largestReceivedTime) * 1000));
    const delay = space.id === APPLICATION ? Math.floor(delayUs / 2 ** ackDelayExponent) : 0;
    const aw = new ByteWriter(64);
    encodeFrame(aw, { type: 'ack', delay, ranges: ranges.map(([lo, hi]) => [lo, hi - 1] as const), ecn: null });
    return { frame: aw.finish(), largest: ranges[0]![1] - 1 };
  }

  /** CRYPTO frames of `space` within `room`: lost ranges first, then new data. Returns whether any was written. */
  cryptoFrames(space: PacketSpace, w: ByteWriter, sent: SentFrame[], room: number): boolean {
    const cs = space.cryptoSend;
    const fits = (n: number): boolean => w.offset + n <= room;
    let wrote = false;
    while (fits(16)) {
      const lost = cs.retransmit.first();
      let lo: number;
      let hi: number;
      if (lost) {
        lo = lost[0];
        hi = lost[1];
      } else if (cs.unsent > 0) {
        lo = cs.sentOffset;
        hi = cs.writeOffset;
      } else break;
      const overhead = 1 + varintLength(lo) + 2;
      hi = Math.min(hi, lo + room - w.offset - overhead);
      if (hi <= lo) break;
      encodeFrame(w, { type: 'crypto', offset: lo, data: cs.read(lo, hi) });
      if (lost) cs.retransmit.remove(lo, hi);
      else cs.sentOffset = hi;
      sent.push({ t: 'crypto', offset: lo, len: hi - lo });
      wrote = true;
    }
    return wrote;
  }

  /**
   * Seals `frames` as the next packet of `space` with its write keys, padded with `pad` bytes of
   * PADDING (more if header protection needs a longer sample). Returns the packet, its number and
   * whether it was padded (padding makes a packet count as in flight, RFC 9002 §2). With
   * `zeroRttKeys`, an application-space packet is a 0-RTT packet sealed with them (RFC 9000
   * §17.2.3: "0-RTT packets share the same packet number space as 1-RTT packets").
   */
  seal(
    space: PacketSpace,
    frames: Uint8Array,
    pad: number,
    ids: PacketIds,
    keyPhase: number,
    zeroRttKeys: PacketKeys | null = null,
  ): { packet: Uint8Array; pn: number; padded: boolean } {
    const keys = zeroRttKeys ?? space.writeKeys!;
    const pn = space.nextPn++;
    const pnLen = packetNumberLength(pn, space.largestAcked);
    // RFC 9001 §5.4.2: the sample needs at least 4 bytes of packet number plus payload before it.
    const minPayload = Math.max(0, 4 - pnLen - frames.length);
    const padding = Math.max(pad, minPayload);
    let payload = frames;
    if (padding > 0) {
      payload = new Uint8Array(frames.length + padding);
      payload.set(frames, 0);
    }
    let packet: Uint8Array;
    if (space.id === APPLICATION && zeroRttKeys === null) {
      // protectPacket copies the header into the packet: one scratch buffer serves every packet.
      const header = this.shortHeaderScratch;
      // RFC 9000 §17.3.1: Header Form 0, Fixed Bit 1, Spin 0, Reserved 0, Key Phase, PN Length.
      header[0] = 0x40 | (keyPhase << 2) | (pnLen - 1);
      header.set(ids.dcid, 1);
      packet = protectPacket(keys, header, 1 + ids.dcid.length, pnLen, pn, payload, false);
    } else {
      const type = zeroRttKeys !== null ? '0rtt' : space.id === INITIAL ? 'initial' : 'handshake';
      const header = new Uint8Array(this.headerLength(space, ids, zeroRttKeys !== null));
      const pnOffset = writeLongHeader(header, type, ids.dcid, ids.scid, ids.token, pnLen, 2);
      packet = protectPacket(keys, header, pnOffset, pnLen, pn, payload, true);
    }
    return { packet, pn, padded: padding > 0 };
  }

  /** RFC 9000 §12.2: coalesces packets into one datagram (the one packet itself when alone). */
  coalesce(parts: Uint8Array[]): Uint8Array {
    if (parts.length === 1) return parts[0]!;
    let total = 0;
    for (const p of parts) total += p.length;
    const data = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
    }
    return data;
  }
}
