/**
 * (EC)DHE key shares for X25519 and secp256r1 (RFC 8446bis §4.2.8, §7.4). Private keys come
 * from the injectable random source so that a handshake can be replayed from fixed bytes.
 */
import { createECDH, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { Alert, fail } from './alerts.ts';

export type GroupName = 'x25519' | 'secp256r1';

export const GROUP_IDS: Readonly<Record<GroupName, number>> = { x25519: 0x001d, secp256r1: 0x0017 };

export const DEFAULT_GROUPS: readonly GroupName[] = ['x25519', 'secp256r1'];

export function groupById(id: number): GroupName | undefined {
  return id === 0x001d ? 'x25519' : id === 0x0017 ? 'secp256r1' : undefined;
}

// RFC 8410 DER prefixes around a raw 32-byte X25519 key.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export class KeyShare {
  readonly group: GroupName;
  readonly publicKey: Uint8Array;
  private readonly secretFn: (peer: Uint8Array) => Uint8Array;

  private constructor(group: GroupName, publicKey: Uint8Array, secretFn: (peer: Uint8Array) => Uint8Array) {
    this.group = group;
    this.publicKey = publicKey;
    this.secretFn = secretFn;
  }

  static generate(group: GroupName, randomBytes: (n: number) => Uint8Array): KeyShare {
    if (group === 'x25519') {
      const priv: KeyObject = createPrivateKey({
        key: Buffer.concat([X25519_PKCS8_PREFIX, randomBytes(32)]),
        format: 'der',
        type: 'pkcs8',
      });
      const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
      const pub = new Uint8Array(spki.subarray(spki.length - 32));
      return new KeyShare(group, pub, (peer) => x25519Secret(priv, peer));
    }
    const ecdh = createECDH('prime256v1');
    // A random scalar >= n is astronomically unlikely; setPrivateKey rejects it, so draw again.
    for (let attempt = 0; ; attempt++) {
      try {
        ecdh.setPrivateKey(randomBytes(32));
        break;
      } catch (err) {
        if (attempt > 8) throw err;
      }
    }
    return new KeyShare(group, new Uint8Array(ecdh.getPublicKey()), (peer) => p256Secret(ecdh, peer));
  }

  /** The shared secret with the peer's key_exchange; a malformed share raises illegal_parameter. */
  computeSecret(peerKeyExchange: Uint8Array): Uint8Array {
    return this.secretFn(peerKeyExchange);
  }
}

function x25519Secret(priv: KeyObject, peer: Uint8Array): Uint8Array {
  if (peer.length !== 32) fail(Alert.illegal_parameter, `X25519 key share of ${peer.length} bytes`);
  let secret: Uint8Array;
  try {
    const pub = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peer]), format: 'der', type: 'spki' });
    secret = new Uint8Array(diffieHellman({ privateKey: priv, publicKey: pub }));
  } catch (err) {
    return fail(Alert.illegal_parameter, `X25519 key share rejected: ${(err as Error).message}`);
  }
  // §7.4.2: "implementations MUST check whether the computed Diffie-Hellman shared secret is the
  // all-zero value and abort if so"
  if (secret.every((b) => b === 0)) fail(Alert.illegal_parameter, 'X25519 shared secret is all zeros');
  return secret;
}

function p256Secret(ecdh: ReturnType<typeof createECDH>, peer: Uint8Array): Uint8Array {
  // §4.2.8.2: "For the curves secp256r1 ... the contents are the serialized value of the
  // following struct: uint8 legacy_form = 4; opaque X[coordinate_length]; opaque Y[coordinate_length];"
  if (peer.length !== 65 || peer[0] !== 4)
    fail(Alert.illegal_parameter, 'secp256r1 key share is not an uncompressed point');
  try {
    return new Uint8Array(ecdh.computeSecret(peer));
  } catch (err) {
    return fail(Alert.illegal_parameter, `secp256r1 key share is not on the curve: ${(err as Error).message}`);
  }
}
