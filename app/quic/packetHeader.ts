/**
 * RFC 9000 §17: long and short packet headers. Parsing reads only the parts that are not
 * header-protected; `unprotectPacket` / `protectPacket` apply RFC 9001 §5.4 and §5.3.
 */
import { ByteReader } from './byteReader.ts';
import { QuicError } from './quicError.ts';
import { AEAD_TAG_LENGTH, headerMask, openPayload, sealPayloadInto, type PacketKeys } from './packetProtection.ts';
import { decodePacketNumber } from './packetNumber.ts';
import { writeVarint } from './varint.ts';

export const QUIC_V1 = 0x00000001;
export const MAX_CID_LENGTH = 20;

export type LongPacketType = 'initial' | '0rtt' | 'handshake' | 'retry';
const LONG_TYPES: LongPacketType[] = ['initial', '0rtt', 'handshake', 'retry'];
const LONG_TYPE_BITS: Record<LongPacketType, number> = { initial: 0, '0rtt': 1, handshake: 2, retry: 3 };

export type PacketHeader =
  | {
      form: 'long';
      type: LongPacketType;
      version: number;
      dcid: Uint8Array;
      scid: Uint8Array;
      /** Initial only: the token (empty when none). Retry: the retry token. */
      token: Uint8Array;
      /** Offset of the (protected) packet number in the datagram. Retry: -1. */
      pnOffset: number;
      /** Offset just past this packet in the datagram (coalesced packets follow). */
      end: number;
      /** Offset of the packet's first byte in the datagram. */
      start: number;
    }
  | { form: 'version-negotiation'; dcid: Uint8Array; scid: Uint8Array; versions: number[]; start: number; end: number }
  | { form: 'short'; dcid: Uint8Array; pnOffset: number; start: number; end: number };

/**
 * Parses the header of the packet starting at `offset`. `shortDcidLength` is the length of the
 * connection IDs this endpoint issues (short headers do not carry it). Throws `QuicError` on a
 * malformed header: the caller drops the rest of the datagram.
 */
export function parseHeader(datagram: Uint8Array, offset: number, shortDcidLength: number): PacketHeader {
  const r = new ByteReader(datagram, offset);
  const first = r.u8();
  if ((first & 0x80) === 0) {
    // RFC 9000 §17.3.1: 1-RTT packet, Destination Connection ID of the length we chose.
    const dcid = r.bytesView(shortDcidLength);
    return { form: 'short', dcid, pnOffset: r.offset, start: offset, end: datagram.length };
  }
  const version = r.u32();
  const dcidLen = r.u8();
  // RFC 9000 §17.2: in QUIC version 1, this value MUST NOT exceed 20 bytes.
  if (version !== 0 && dcidLen > MAX_CID_LENGTH)
    throw new QuicError('PROTOCOL_VIOLATION', 'connection ID longer than 20 bytes');
  const dcid = r.bytesView(dcidLen);
  const scidLen = r.u8();
  if (version !== 0 && scidLen > MAX_CID_LENGTH)
    throw new QuicError('PROTOCOL_VIOLATION', 'connection ID longer than 20 bytes');
  const scid = r.bytesView(scidLen);
  if (version === 0) {
    // RFC 9000 §17.2.1 Version Negotiation.
    const versions: number[] = [];
    while (r.remaining >= 4) versions.push(r.u32());
    return { form: 'version-negotiation', dcid, scid, versions, start: offset, end: datagram.length };
  }
  const type = LONG_TYPES[(first >> 4) & 0x03]!;
  if (version !== QUIC_V1) {
    // Unknown version: only the invariant fields are meaningful (RFC 8999).
    return {
      form: 'long',
      type,
      version,
      dcid,
      scid,
      token: new Uint8Array(0),
      pnOffset: -1,
      start: offset,
      end: datagram.length,
    };
  }
  if (type === 'retry') {
    if (r.remaining < AEAD_TAG_LENGTH) throw new QuicError('PROTOCOL_VIOLATION', 'Retry packet too short');
    const token = r.bytesView(r.remaining - AEAD_TAG_LENGTH);
    return { form: 'long', type, version, dcid, scid, token, pnOffset: -1, start: offset, end: datagram.length };
  }
  let token: Uint8Array = new Uint8Array(0);
  if (type === 'initial') token = r.bytesView(r.varint());
  const length = r.varint();
  if (length > r.remaining) throw new QuicError('PROTOCOL_VIOLATION', 'packet length beyond datagram');
  return { form: 'long', type, version, dcid, scid, token, pnOffset: r.offset, start: offset, end: r.offset + length };
}

export interface OpenedPacket {
  pn: number;
  /** The unprotected first byte (reserved bits, key phase, packet number length). */
  firstByte: number;
  keyPhase: number;
  payload: Uint8Array;
}

/**
 * RFC 9001 §5.4.1-5.4.2: removes header protection, then (with `keysForPhase`) the AEAD. Returns
 * null when the packet cannot be authenticated (drop it). `keysForPhase` lets 1-RTT pick the keys
 * for the packet's key phase bit (RFC 9001 §6) once it is known.
 */
export function unprotectPacket(
  datagram: Uint8Array,
  header: { start: number; end: number; pnOffset: number; form: string },
  hpKeys: PacketKeys,
  largestPn: number,
  keysForPhase: (keyPhase: number, pn: number) => PacketKeys | null,
): OpenedPacket | null {
  const { start, end, pnOffset } = header;
  // §5.4.2: the sample starts 4 bytes after the start of the Packet Number field.
  if (pnOffset + 4 + 16 > end) return null;
  const mask = headerMask(hpKeys, datagram.subarray(pnOffset + 4, pnOffset + 20));
  const isLong = header.form === 'long';
  const firstByte = datagram[start]! ^ (mask[0]! & (isLong ? 0x0f : 0x1f));
  const pnLen = (firstByte & 0x03) + 1;
  const hdr = datagram.slice(start, pnOffset + pnLen);
  hdr[0] = firstByte;
  let truncated = 0;
  for (let i = 0; i < pnLen; i++) {
    const b = datagram[pnOffset + i]! ^ mask[1 + i]!;
    hdr[pnOffset - start + i] = b;
    truncated = truncated * 256 + b;
  }
  const pn = decodePacketNumber(largestPn, truncated, pnLen * 8);
  const keyPhase = isLong ? 0 : (firstByte >> 2) & 1;
  const keys = keysForPhase(keyPhase, pn);
  if (!keys) return null;
  const payload = openPayload(keys, pn, hdr, datagram.subarray(pnOffset + pnLen, end));
  if (!payload) return null;
  return { pn, firstByte, keyPhase, payload };
}

/**
 * Builds the unprotected header of a long-header packet up to (not including) the packet number.
 * `payloadLength` counts the packet number, the frames and the AEAD tag.
 */
export function writeLongHeader(
  out: Uint8Array,
  type: LongPacketType,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array | null,
  pnLen: number,
  lengthFieldLen: number,
): number {
  let o = 0;
  // RFC 9000 §17.2: Header Form (1), Fixed Bit (1), Long Packet Type (2), Reserved (2), PN Length (2).
  out[o++] = 0xc0 | (LONG_TYPE_BITS[type] << 4) | (pnLen - 1);
  out[o++] = 0;
  out[o++] = 0;
  out[o++] = 0;
  out[o++] = 1;
  out[o++] = dcid.length;
  out.set(dcid, o);
  o += dcid.length;
  out[o++] = scid.length;
  out.set(scid, o);
  o += scid.length;
  if (type === 'initial') {
    const t = token ?? new Uint8Array(0);
    o = writeVarint(out, o, t.length);
    out.set(t, o);
    o += t.length;
  }
  return o + lengthFieldLen;
}

/**
 * Packets are carved out of shared slabs: every separately allocated buffer is one more
 * ArrayBuffer for each young-generation GC to sweep, and at tens of thousands of packets a second
 * those sweeps are what stalls the event loop. A slab lives as long as any packet in it.
 */
const SLAB_SIZE = 128 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;

function allocatePacket(n: number): Uint8Array {
  if (n > SLAB_SIZE / 4) return new Uint8Array(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const packet = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  return packet;
}

/**
 * Seals a packet whose plaintext header occupies `packet[0 .. pnOffset + pnLen)` and whose
 * frames follow; returns the protected packet (header protection applied). For long headers the
 * Length field (2-byte varint just before `pnOffset`) is filled in here.
 */
export function protectPacket(
  keys: PacketKeys,
  header: Uint8Array,
  pnOffset: number,
  pnLen: number,
  pn: number,
  frames: Uint8Array,
  isLong: boolean,
): Uint8Array {
  if (isLong) writeVarint(header, pnOffset - 2, pnLen + frames.length + AEAD_TAG_LENGTH, 2);
  let p = pn;
  for (let i = pnLen - 1; i >= 0; i--) {
    header[pnOffset + i] = p & 0xff;
    p = Math.floor(p / 256);
  }
  const hdr = header.subarray(0, pnOffset + pnLen);
  const packet = allocatePacket(hdr.length + frames.length + AEAD_TAG_LENGTH);
  packet.set(hdr, 0);
  sealPayloadInto(keys, pn, hdr, frames, packet, hdr.length);
  const mask = headerMask(keys, packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0]! ^= mask[0]! & (isLong ? 0x0f : 0x1f);
  for (let i = 0; i < pnLen; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
  return packet;
}

/** RFC 9000 §17.2.1: a Version Negotiation packet listing the versions we support. */
export function versionNegotiationPacket(
  dcid: Uint8Array,
  scid: Uint8Array,
  versions: number[],
  randomByte: number,
): Uint8Array {
  const out = new Uint8Array(7 + dcid.length + scid.length + 4 * versions.length);
  out[0] = 0x80 | (randomByte & 0x7f);
  let o = 5;
  out[o++] = dcid.length;
  out.set(dcid, o);
  o += dcid.length;
  out[o++] = scid.length;
  out.set(scid, o);
  o += scid.length;
  for (const v of versions) {
    out[o++] = (v >>> 24) & 0xff;
    out[o++] = (v >>> 16) & 0xff;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  return out;
}
