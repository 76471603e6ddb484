/**
 * The TLS 1.3 key schedule (RFC 8446bis §7.1) on node:crypto, plus the transcript hash (§4.4.1).
 * Exported for the QUIC layer, which derives its Initial secrets (RFC 9001 §5.2) and next-generation
 * 1-RTT secrets (RFC 9001 §6) with the same HKDF-Expand-Label.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type HashName = 'sha256' | 'sha384';

export function hashLength(hash: HashName): number {
  return hash === 'sha256' ? 32 : 48;
}

export function hashOf(hash: HashName, ...parts: Uint8Array[]): Uint8Array {
  const h = createHash(hash);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(hash, key).update(data).digest());
}

/** RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM); an empty salt means HashLen zeros. */
export function hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  const s = salt.length === 0 ? new Uint8Array(hashLength(hash)) : salt;
  return hmac(hash, s, ikm);
}

/** RFC 5869 §2.3 HKDF-Expand. */
export function hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const hl = hashLength(hash);
  if (length > 255 * hl) throw new RangeError(`HKDF-Expand length ${length} too large`);
  const out = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  let off = 0;
  for (let i = 1; off < length; i++) {
    const m = new Uint8Array(t.length + info.length + 1);
    m.set(t, 0);
    m.set(info, t.length);
    m[m.length - 1] = i;
    t = hmac(hash, prk, m);
    out.set(t.subarray(0, Math.min(t.length, length - off)), off);
    off += t.length;
  }
  return out;
}

/** The HkdfLabel structure (§7.1): uint16 length, opaque label<7..255> = "tls13 " + Label, opaque context<0..255>. */
export function hkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  const l = new TextEncoder().encode(`tls13 ${label}`);
  if (l.length > 255 || context.length > 255) throw new RangeError('HkdfLabel field too long');
  const out = new Uint8Array(2 + 1 + l.length + 1 + context.length);
  out[0] = length >> 8;
  out[1] = length & 0xff;
  out[2] = l.length;
  out.set(l, 3);
  out[3 + l.length] = context.length;
  out.set(context, 4 + l.length);
  return out;
}

/** §7.1: HKDF-Expand-Label(Secret, Label, Context, Length) = HKDF-Expand(Secret, HkdfLabel, Length). */
export function hkdfExpandLabel(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return hkdfExpand(hash, secret, hkdfLabel(label, context, length), length);
}

/**
 * §7.1: Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label,
 * Transcript-Hash(Messages), Hash.length). Takes the transcript hash, not the messages.
 */
export function deriveSecret(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  transcriptHash: Uint8Array,
): Uint8Array {
  return hkdfExpandLabel(hash, secret, label, transcriptHash, hashLength(hash));
}

/** Transcript-Hash of a list of whole handshake messages (header included). */
export function transcriptHash(hash: HashName, messages: readonly Uint8Array[]): Uint8Array {
  return hashOf(hash, ...messages);
}

/**
 * The handshake transcript (§4.4.1). It keeps the raw messages so the hash function can be chosen
 * late (the client learns it from ServerHello) and the PSK binder can be computed with the PSK's hash.
 */
export class Transcript {
  private messages: Uint8Array[] = [];

  add(message: Uint8Array): void {
    this.messages.push(message);
  }

  hash(hash: HashName, extra: readonly Uint8Array[] = []): Uint8Array {
    return transcriptHash(hash, [...this.messages, ...extra]);
  }

  /**
   * §4.4.1: "When the server responds to a ClientHello with a HelloRetryRequest, the value of
   * ClientHello1 is replaced with a special synthetic handshake message of handshake type
   * "message_hash" containing Hash(ClientHello1)."
   */
  replaceWithMessageHash(hash: HashName): void {
    const digest = this.hash(hash);
    const synthetic = new Uint8Array(4 + digest.length);
    synthetic[0] = 254; // message_hash
    synthetic[3] = digest.length;
    synthetic.set(digest, 4);
    this.messages = [synthetic];
  }
}

/** §4.4.4: finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length); verify_data = HMAC(finished_key, Transcript-Hash). */
export function finishedVerifyData(hash: HashName, baseKey: Uint8Array, transcript: Uint8Array): Uint8Array {
  const key = hkdfExpandLabel(hash, baseKey, 'finished', new Uint8Array(0), hashLength(hash));
  return hmac(hash, key, transcript);
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const EMPTY = new Uint8Array(0);

/** §7.1: the secrets of one handshake, stage by stage. */
export class KeySchedule {
  readonly hash: HashName;
  readonly earlySecret: Uint8Array;
  handshakeSecret: Uint8Array | null = null;
  masterSecret: Uint8Array | null = null;

  /** psk: the resumption PSK, or null for a full handshake (then "0" = HashLen zeros). */
  constructor(hash: HashName, psk: Uint8Array | null) {
    this.hash = hash;
    this.earlySecret = hkdfExtract(hash, EMPTY, psk ?? new Uint8Array(hashLength(hash)));
  }

  private emptyHash(): Uint8Array {
    return hashOf(this.hash);
  }

  /** binder_key = Derive-Secret(Early Secret, "res binder", "") (resumption PSKs). */
  resumptionBinderKey(): Uint8Array {
    return deriveSecret(this.hash, this.earlySecret, 'res binder', this.emptyHash());
  }

  /** client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello). */
  clientEarlyTrafficSecret(clientHelloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.earlySecret, 'c e traffic', clientHelloHash);
  }

  /** Handshake Secret = HKDF-Extract(Derive-Secret(Early Secret, "derived", ""), (EC)DHE). */
  setSharedSecret(ecdhe: Uint8Array): void {
    const salt = deriveSecret(this.hash, this.earlySecret, 'derived', this.emptyHash());
    this.handshakeSecret = hkdfExtract(this.hash, salt, ecdhe);
    const salt2 = deriveSecret(this.hash, this.handshakeSecret, 'derived', this.emptyHash());
    this.masterSecret = hkdfExtract(this.hash, salt2, new Uint8Array(hashLength(this.hash)));
  }

  /** The two handshake traffic secrets, transcript ClientHello..ServerHello. */
  handshakeTrafficSecrets(th: Uint8Array): { client: Uint8Array; server: Uint8Array } {
    const hs = this.require(this.handshakeSecret);
    return {
      client: deriveSecret(this.hash, hs, 'c hs traffic', th),
      server: deriveSecret(this.hash, hs, 's hs traffic', th),
    };
  }

  /** The two application traffic secrets, transcript ClientHello..server Finished. */
  applicationTrafficSecrets(th: Uint8Array): { client: Uint8Array; server: Uint8Array } {
    const ms = this.require(this.masterSecret);
    return {
      client: deriveSecret(this.hash, ms, 'c ap traffic', th),
      server: deriveSecret(this.hash, ms, 's ap traffic', th),
    };
  }

  /** resumption_master_secret, transcript ClientHello..client Finished. */
  resumptionMasterSecret(th: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.require(this.masterSecret), 'res master', th);
  }

  private require(s: Uint8Array | null): Uint8Array {
    if (s === null) throw new Error('KeySchedule: (EC)DHE secret not set yet');
    return s;
  }
}

/** §4.6.1: PSK = HKDF-Expand-Label(resumption_secret, "resumption", ticket_nonce, Hash.length). */
export function resumptionPsk(hash: HashName, resumptionSecret: Uint8Array, ticketNonce: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, resumptionSecret, 'resumption', ticketNonce, hashLength(hash));
}

/** RFC 9001 §6.1: secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length). */
export function nextTrafficSecret(hash: HashName, secret: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, secret, 'quic ku', EMPTY, hashLength(hash));
}
