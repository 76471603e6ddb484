/**
 * Address validation with Retry (RFC 9000 §8.1.2) and the other packets a server sends without
 * connection state: Retry (§17.2.5), Version Negotiation (§17.2.1, in packetHeader.ts) and
 * Stateless Reset (§10.3).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SocketAddress } from './socketAddress.ts';
import { retryIntegrityTag } from './packetProtection.ts';

/** RFC 9000 §8.1.3: a token is only good for a short time; 10 s is ample for one round trip. */
const RETRY_TOKEN_LIFETIME_MS = 10_000;

/** Mints and checks Retry tokens: HMAC-authenticated (time, original DCID), bound to the client address. */
export class RetryToken {
  private readonly key: Uint8Array;

  constructor(key: Uint8Array = randomBytes(32)) {
    this.key = key;
  }

  private mac(addr: SocketAddress, time: number, odcid: Uint8Array, retryScid: Uint8Array): Uint8Array {
    return createHmac('sha256', this.key)
      .update(`${addr.address}|${addr.port}|${time}|`)
      .update(odcid)
      .update(retryScid)
      .digest()
      .subarray(0, 16);
  }

  /** Token = time (8) | odcid length (1) | odcid | retry SCID length (1) | retry SCID | mac (16). */
  mint(addr: SocketAddress, odcid: Uint8Array, retryScid: Uint8Array, wallNow: number): Uint8Array {
    const out = new Uint8Array(8 + 1 + odcid.length + 1 + retryScid.length + 16);
    const view = new DataView(out.buffer);
    view.setFloat64(0, wallNow);
    out[8] = odcid.length;
    out.set(odcid, 9);
    out[9 + odcid.length] = retryScid.length;
    out.set(retryScid, 10 + odcid.length);
    out.set(this.mac(addr, wallNow, odcid, retryScid), 10 + odcid.length + retryScid.length);
    return out;
  }

  /** Returns the original DCID and our Retry SCID when the token is authentic, fresh and from `addr`, else null. */
  validate(
    addr: SocketAddress,
    token: Uint8Array,
    wallNow: number,
  ): { odcid: Uint8Array; retryScid: Uint8Array } | null {
    if (token.length < 8 + 1 + 1 + 16) return null;
    const view = new DataView(token.buffer, token.byteOffset, token.byteLength);
    const time = view.getFloat64(0);
    const odLen = token[8]!;
    if (odLen > 20 || 10 + odLen > token.length) return null;
    const odcid = token.subarray(9, 9 + odLen);
    const rsLen = token[9 + odLen]!;
    if (rsLen > 20 || token.length !== 10 + odLen + rsLen + 16) return null;
    const retryScid = token.subarray(10 + odLen, 10 + odLen + rsLen);
    const mac = token.subarray(10 + odLen + rsLen);
    if (!timingSafeEqual(mac, this.mac(addr, time, odcid, retryScid))) return null;
    if (!(wallNow - time >= 0 && wallNow - time <= RETRY_TOKEN_LIFETIME_MS)) return null;
    return { odcid: odcid.slice(), retryScid: retryScid.slice() };
  }
}

/** RFC 9000 §17.2.5: a Retry packet with its RFC 9001 §5.8 integrity tag. */
export function buildRetryPacket(
  clientScid: Uint8Array,
  retryScid: Uint8Array,
  token: Uint8Array,
  originalDcid: Uint8Array,
): Uint8Array {
  const body = new Uint8Array(1 + 4 + 1 + clientScid.length + 1 + retryScid.length + token.length);
  let o = 0;
  body[o++] = 0xf0 | (randomBytes(1)[0]! & 0x0f);
  body[o++] = 0;
  body[o++] = 0;
  body[o++] = 0;
  body[o++] = 1;
  body[o++] = clientScid.length;
  body.set(clientScid, o);
  o += clientScid.length;
  body[o++] = retryScid.length;
  body.set(retryScid, o);
  o += retryScid.length;
  body.set(token, o);
  const tag = retryIntegrityTag(originalDcid, body);
  const out = new Uint8Array(body.length + 16);
  out.set(body, 0);
  out.set(tag, body.length);
  return out;
}

/**
 * RFC 9000 §10.3: a Stateless Reset looks like a short-header packet: fixed bit set, random
 * bytes, the token last. It is made smaller than the packet that triggered it (§10.3.3) so two
 * endpoints cannot loop; returns null when that packet was too small to answer.
 */
export function buildStatelessReset(token: Uint8Array, triggerLength: number): Uint8Array | null {
  const length = Math.min(triggerLength - 1, 43);
  // §10.3: at least 21 bytes (5 unpredictable bytes + 16-byte token) ... we use >= 22 for cover.
  if (length < 22) return null;
  const out = new Uint8Array(randomBytes(length));
  out[0] = 0x40 | (out[0]! & 0x3f);
  out.set(token, length - 16);
  return out;
}
