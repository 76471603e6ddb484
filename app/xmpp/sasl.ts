/**
 * SASL mechanism choice for XMPP (RFC 6120 §6, RFC 5802 §6, XEP-0440) and the PLAIN message
 * (RFC 4616). The order is fixed: SCRAM-SHA-256-PLUS > SCRAM-SHA-1-PLUS > SCRAM-SHA-256 >
 * SCRAM-SHA-1 > PLAIN, and PLAIN only when no SCRAM is offered at all.
 */
import saslprep from '@mongodb-js/saslprep';
import type { ChannelBinding, Gs2Binding } from './scram.ts';

export type MechanismName = 'SCRAM-SHA-256-PLUS' | 'SCRAM-SHA-1-PLUS' | 'SCRAM-SHA-256' | 'SCRAM-SHA-1' | 'PLAIN';

export type MechanismChoice =
  | { ok: true; mechanism: MechanismName; hash: 'sha256' | 'sha1' | null; gs2: Gs2Binding | null }
  | { ok: false; reason: string };

export interface MechanismOffer {
  /** <mechanism/> names from <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>. */
  mechanisms: string[];
  /** XEP-0440 <sasl-channel-binding/> types, or null when the server did not advertise the element. */
  channelBindingTypes: string[] | null;
}

/**
 * Picks the mechanism. `binding` is the channel-binding data of the TLS session we are on, or
 * null when the transport cannot export it (then we never claim binding support).
 */
export function chooseMechanism(offer: MechanismOffer, binding: ChannelBinding | null): MechanismChoice {
  const offered = new Set(offer.mechanisms.map((m) => m.trim().toUpperCase()));
  const hasPlus = offered.has('SCRAM-SHA-256-PLUS') || offered.has('SCRAM-SHA-1-PLUS');
  const types = offer.channelBindingTypes;

  let gs2: Gs2Binding = { flag: 'n' };
  if (binding) {
    if (hasPlus && (types === null || types.includes(binding.type))) {
      const plus: MechanismName = offered.has('SCRAM-SHA-256-PLUS') ? 'SCRAM-SHA-256-PLUS' : 'SCRAM-SHA-1-PLUS';
      return {
        ok: true,
        mechanism: plus,
        hash: plus === 'SCRAM-SHA-256-PLUS' ? 'sha256' : 'sha1',
        gs2: { flag: 'p', binding },
      };
    }
    if (hasPlus && types !== null && !types.includes('tls-server-end-point')) {
      // XEP-0440 §Business Rules 6: a server announcing -PLUS and channel-binding types of which
      // we support none MUST make us abort "if tls-server-end-point is also not advertised by
      // the server (this is an ongoing MITM attack ...)".
      return {
        ok: false,
        reason: `the server offers channel binding only with ${types.join(', ') || 'no types'}, which looks like tampering`,
      };
    }
    // RFC 5802 §6: "y" when "the client supports channel binding but thinks the server does not";
    // when the server does bind but with a type we lack, we do not bind: "n".
    gs2 = hasPlus ? { flag: 'n' } : { flag: 'y' };
  }
  if (offered.has('SCRAM-SHA-256')) return { ok: true, mechanism: 'SCRAM-SHA-256', hash: 'sha256', gs2 };
  if (offered.has('SCRAM-SHA-1')) return { ok: true, mechanism: 'SCRAM-SHA-1', hash: 'sha1', gs2 };
  // PLAIN only when no SCRAM at all is offered (a -PLUS we could not use still counts as SCRAM),
  // and only because the stream machine never authenticates before TLS is up.
  if (offered.has('PLAIN') && ![...offered].some((m) => m.startsWith('SCRAM-'))) {
    return { ok: true, mechanism: 'PLAIN', hash: null, gs2: null };
  }
  return { ok: false, reason: `the server offers ${[...offered].join(', ') || 'no mechanisms'}` };
}

/** RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd (we send no authzid). */
export function plainMessage(username: string, password: string): Uint8Array {
  return new TextEncoder().encode(`\u0000${saslprep(username)}\u0000${saslprep(password)}`);
}
