/**
 * QUIC packet protection (RFC 9001 §5): key derivation from TLS secrets, AEAD payload protection
 * and header protection. Pure functions over `node:crypto`; no state beyond the key objects.
 */
import { createCipheriv, createDecipheriv, type Cipheriv } from 'node:crypto';
import { hkdfExpandLabel, hkdfExtract } from './tls/keySchedule.ts';

export type HashName = 'sha256' | 'sha384';
export type AeadName = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

/** What packet protection needs from a TLS cipher suite (structurally a subset of the TLS `CipherSuiteInfo`). */
export interface SuiteParams {
  hash: HashName;
  aead: AeadName;
  keyLength: number;
}

export const TLS_AES_128_GCM_SHA256: SuiteParams = { hash: 'sha256', aead: 'aes-128-gcm', keyLength: 16 };

/** RFC 9001 §5.2: initial_salt = 0x38762cf7f55934b34d179ae6a4c80cadccbb7f0a (QUIC version 1). */
export const INITIAL_SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');

export const AEAD_TAG_LENGTH = 16;

function hashLength(hash: HashName): number {
  return hash === 'sha384' ? 48 : 32;
}

/** Derived protection keys for one direction of one epoch (and one key phase in 1-RTT). */
export interface PacketKeys {
  suite: SuiteParams;
  secret: Uint8Array;
  key: Buffer;
  iv: Buffer;
  hpKey: Buffer;
  /** Reused ECB cipher for AES header protection (ECB keeps no state between blocks). */
  hpCipher: Cipheriv | null;
}

/** RFC 9001 §5.1: key, iv and hp from a traffic secret with the "quic key/iv/hp" labels. */
export function derivePacketKeys(suite: SuiteParams, secret: Uint8Array): PacketKeys {
  const key = Buffer.from(hkdfExpandLabel(suite.hash, secret, 'quic key', new Uint8Array(0), suite.keyLength));
  const iv = Buffer.from(hkdfExpandLabel(suite.hash, secret, 'quic iv', new Uint8Array(0), 12));
  const hpKey = Buffer.from(hkdfExpandLabel(suite.hash, secret, 'quic hp', new Uint8Array(0), suite.keyLength));
  return { suite, secret, key, iv, hpKey, hpCipher: makeHpCipher(suite, hpKey) };
}

function makeHpCipher(suite: SuiteParams, hpKey: Buffer): Cipheriv | null {
  if (suite.aead === 'chacha20-poly1305') return null;
  const c = createCipheriv(suite.aead === 'aes-256-gcm' ? 'aes-256-ecb' : 'aes-128-ecb', hpKey, null);
  c.setAutoPadding(false);
  return c;
}

/**
 * RFC 9001 §6.1: secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length).
 * The header protection key is not updated (§6.1: "The header protection key is not updated").
 */
export function nextPhaseKeys(keys: PacketKeys): PacketKeys {
  const { suite } = keys;
  const secret = hkdfExpandLabel(suite.hash, keys.secret, 'quic ku', new Uint8Array(0), hashLength(suite.hash));
  const key = Buffer.from(hkdfExpandLabel(suite.hash, secret, 'quic key', new Uint8Array(0), suite.keyLength));
  const iv = Buffer.from(hkdfExpandLabel(suite.hash, secret, 'quic iv', new Uint8Array(0), 12));
  return { suite, secret, key, iv, hpKey: keys.hpKey, hpCipher: keys.hpCipher };
}

/** RFC 9001 §5.2: the client and server Initial secrets for a client-chosen Destination Connection ID. */
export function initialSecrets(dcid: Uint8Array): { client: Uint8Array; server: Uint8Array } {
  const initialSecret = hkdfExtract('sha256', INITIAL_SALT_V1, dcid);
  return {
    client: hkdfExpandLabel('sha256', initialSecret, 'client in', new Uint8Array(0), 32),
    server: hkdfExpandLabel('sha256', initialSecret, 'server in', new Uint8Array(0), 32),
  };
}

export function initialKeys(dcid: Uint8Array): { client: PacketKeys; server: PacketKeys } {
  const s = initialSecrets(dcid);
  return {
    client: derivePacketKeys(TLS_AES_128_GCM_SHA256, s.client),
    server: derivePacketKeys(TLS_AES_128_GCM_SHA256, s.server),
  };
}

/** Scratch for nonces: `createCipheriv` copies its IV, so one buffer serves every call. */
const nonceScratch = Buffer.alloc(12);

/** RFC 9001 §5.3: the nonce is the IV XORed with the packet number, left-padded to the IV length. */
function nonceFor(iv: Buffer, pn: number): Buffer {
  iv.copy(nonceScratch, 0, 0, 12);
  let p = pn;
  for (let i = 11; i >= 4 && p > 0; i--) {
    nonceScratch[i]! ^= p % 256;
    p = Math.floor(p / 256);
  }
  return nonceScratch;
}

/**
 * AEAD-encrypts `plaintext` with the header as associated data, writing ciphertext || tag into
 * `out` at `offset` (which must have room for plaintext + 16 bytes). Returns the end offset.
 */
export function sealPayloadInto(
  keys: PacketKeys,
  pn: number,
  header: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
  offset: number,
): number {
  const cipher = createCipheriv(keys.suite.aead as 'aes-128-gcm', keys.key, nonceFor(keys.iv, pn), {
    authTagLength: AEAD_TAG_LENGTH,
  });
  cipher.setAAD(header);
  const a = cipher.update(plaintext);
  out.set(a, offset);
  let o = offset + a.length;
  const b = cipher.final();
  if (b.length > 0) {
    out.set(b, o);
    o += b.length;
  }
  out.set(cipher.getAuthTag(), o);
  return o + AEAD_TAG_LENGTH;
}

/** AEAD-decrypts ciphertext || tag; returns null when authentication fails (RFC 9001 §5.3: the packet is discarded). */
export function openPayload(keys: PacketKeys, pn: number, header: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < AEAD_TAG_LENGTH) return null;
  const decipher = createDecipheriv(keys.suite.aead as 'aes-128-gcm', keys.key, nonceFor(keys.iv, pn), {
    authTagLength: AEAD_TAG_LENGTH,
  });
  decipher.setAAD(header);
  decipher.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_LENGTH));
  const a = decipher.update(sealed.subarray(0, sealed.length - AEAD_TAG_LENGTH));
  try {
    const b = decipher.final();
    if (b.length === 0) return a;
    const out = new Uint8Array(a.length + b.length);
    out.set(a, 0);
    out.set(b, a.length);
    return out;
  } catch (err) {
    // RFC 9001 §5.3: a packet that fails authentication is discarded; the failure is the answer.
    if (err instanceof Error) return null;
    throw err;
  }
}

/** RFC 9001 §5.4.3 (AES) and §5.4.4 (ChaCha20): the 5-byte header protection mask for a 16-byte sample. */
export function headerMask(keys: PacketKeys, sample: Uint8Array): Uint8Array {
  if (keys.hpCipher) return keys.hpCipher.update(sample).subarray(0, 5);
  // §5.4.4: counter = sample[0..3] (little-endian), nonce = sample[4..15]; OpenSSL's 16-byte
  // chacha20 IV is exactly counter || nonce.
  const c = createCipheriv('chacha20', keys.hpKey, sample);
  return c.update(new Uint8Array(5));
}

/** RFC 9001 §5.8: the fixed key and nonce for the Retry Integrity Tag of QUIC version 1. */
const RETRY_KEY = Buffer.from('be0c690b9f66575a1d766b54e368c84e', 'hex');
const RETRY_NONCE = Buffer.from('461599d35d632bf2239825bb', 'hex');

/** RFC 9001 §5.8: the tag over the Retry pseudo-packet (ODCID length, ODCID, Retry packet without tag). */
export function retryIntegrityTag(originalDcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  const pseudo = new Uint8Array(1 + originalDcid.length + retryWithoutTag.length);
  pseudo[0] = originalDcid.length;
  pseudo.set(originalDcid, 1);
  pseudo.set(retryWithoutTag, 1 + originalDcid.length);
  const c = createCipheriv('aes-128-gcm', RETRY_KEY, RETRY_NONCE, { authTagLength: 16 });
  c.setAAD(pseudo);
  c.final();
  return new Uint8Array(c.getAuthTag());
}
