/**
 * The `pin` prooftype: the person's own decision about a key no other prooftype could prove.
 * draft-ietf-xmpp-dna-10 §3.2: a self-signed certificate "requires the client to apply either the
 * fallback process described in section 6.6.4 of [RFC6125] or prompt the user to accept an
 * unauthenticated connection". Two forms: a pin kept for the account and domain (RFC 6125 §6.6.4's
 * cached decision), and an acceptance for this one connection.
 *
 * Keys are compared as the SHA-256 of the DER SubjectPublicKeyInfo (hex), as RFC 7469 §2.4 pins
 * do, so that a certificate renewed with the same key stays pinned.
 */
import type { ProofAttempt, UserError } from '../contract/viewModels.ts';
import type { ProofOutcome } from './pkixProof.ts';

export interface PinnedKey {
  spkiSha256: string;
}

export type PinCheck =
  | { kind: 'none' }
  | { kind: 'match'; outcome: ProofOutcome }
  | { kind: 'changed'; attempt: ProofAttempt; error: UserError; pinned: string[] };

/** Compares the presented key with the account's pins for `domain`. */
export function checkPins(
  domain: string,
  presentedSpkiSha256: string,
  pins: readonly PinnedKey[] | undefined,
): PinCheck {
  if (!pins || pins.length === 0) return { kind: 'none' };
  const presented = presentedSpkiSha256.toLowerCase();
  const pinned = pins.map((pin) => pin.spkiSha256.toLowerCase());
  if (pinned.includes(presented)) {
    return {
      kind: 'match',
      outcome: {
        attempt: { prooftype: 'pin', ok: true, detail: `the key (SPKI SHA-256 ${presented}) is pinned for ${domain}` },
        identity: `pin:${presented}`,
        delegation: null,
        error: null,
        userDecision: 'pinned',
      },
    };
  }
  return {
    kind: 'changed',
    pinned,
    attempt: {
      prooftype: 'pin',
      ok: false,
      detail: `the key (SPKI SHA-256 ${presented}) is not among the ${pinned.length} key(s) pinned for ${domain}: ${pinned.join(', ')}`,
    },
    error: {
      code: 'key-changed',
      message: `${domain} presented a different key than the one you pinned. Pinned: ${pinned.join(', ')}; presented now: ${presented} (SPKI SHA-256). The server's administrator may have installed a new key, or someone may be intercepting the connection. Confirm the new key with the administrator before you accept it.`,
    },
  };
}

/**
 * The person accepted this key for this connection only (`certificate.decide` with `accept-once`).
 * The attempt is listed under the `pin` module in `tried`, but the verdict's `prooftype` stays null.
 */
export function checkAcceptedOnce(
  presentedSpkiSha256: string,
  acceptOnce: ReadonlySet<string> | undefined,
): ProofOutcome | null {
  const presented = presentedSpkiSha256.toLowerCase();
  if (!acceptOnce?.has(presented)) return null;
  return {
    attempt: {
      prooftype: 'pin',
      ok: true,
      detail: `you accepted this key (SPKI SHA-256 ${presented}) for this connection only`,
    },
    // Nothing proved the server and nothing was pinned: the verdict says so (prooftype null,
    // userDecision 'accepted-once') rather than passing for a pin.
    identity: null,
    delegation: null,
    error: null,
    userDecision: 'accepted-once',
  };
}
