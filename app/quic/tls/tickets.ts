/**
 * Session tickets (RFC 8446bis §4.6.1) for PSK resumption with psk_dhe_ke (§4.2.9).
 * Client side: StoredTicket, a JSON-friendly record the caller stores (it holds a secret PSK: keep
 * it where credentials go). Server side: the ticket is the session state sealed with AES-256-GCM
 * under the server's ticket key, so the server keeps no per-session state.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

export interface StoredTicket {
  version: 1;
  /** The server_name the ticket was issued for; it is only offered to the same name. */
  serverName: string;
  alpn: string | null;
  /** The cipher suite of the issuing connection; its hash must be used with the PSK (§4.2.11). */
  cipherSuite: number;
  /** The opaque ticket, base64. */
  ticket: string;
  /** The resumption PSK, base64. Secret. */
  psk: string;
  ageAdd: number;
  lifetimeSeconds: number;
  /** When the NewSessionTicket was received, ms since the Unix epoch (the caller's clock). */
  receivedAt: number;
  /** The certificate chain of the issuing handshake, base64 DER, leaf first: re-verified on resumption. */
  peerChain: string[];
  /**
   * Present when the ticket allows 0-RTT: its NewSessionTicket carried early_data with
   * max_early_data_size 0xffffffff (RFC 9001 §4.6.1). RFC 9000 §7.4.1: "To enable 0-RTT, endpoints
   * store the values of the server transport parameters with any session tickets it receives on
   * the connection": `transportParameters` is the issuing server's quic_transport_parameters,
   * base64 of their encoding; the QUIC layer uses only those §7.4.1 lets it remember.
   */
  earlyData?: { transportParameters: string };
}

/** §4.6.1: "Servers MUST NOT use any value greater than 604800 seconds (7 days)." */
export const MAX_TICKET_LIFETIME_SECONDS = 604800;

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
export { b64 as toBase64, unb64 as fromBase64 };

/** Validates the shape of a ticket read back from storage; null if it is not one. */
export function parseStoredTicket(value: unknown): StoredTicket | null {
  if (typeof value !== 'object' || value === null) return null;
  const t = value as Record<string, unknown>;
  const isStr = (k: string): boolean => typeof t[k] === 'string';
  const isNum = (k: string): boolean => typeof t[k] === 'number' && Number.isFinite(t[k]);
  if (t.version !== 1 || !isStr('serverName') || !isStr('ticket') || !isStr('psk')) return null;
  if (
    !(t.alpn === null || isStr('alpn')) ||
    !isNum('cipherSuite') ||
    !isNum('ageAdd') ||
    !isNum('lifetimeSeconds') ||
    !isNum('receivedAt')
  )
    return null;
  if (!Array.isArray(t.peerChain) || !t.peerChain.every((c) => typeof c === 'string')) return null;
  if (t.earlyData !== undefined) {
    const e = t.earlyData as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.transportParameters !== 'string') return null;
  }
  return value as StoredTicket;
}

/** §4.2.11.1: "Clients MUST NOT attempt to use tickets which have ages greater than the "ticket_lifetime"". */
export function ticketAgeMs(ticket: StoredTicket, now: number): number | null {
  const age = now - ticket.receivedAt;
  if (age < 0 || age > Math.min(ticket.lifetimeSeconds, MAX_TICKET_LIFETIME_SECONDS) * 1000) return null;
  return age;
}

/** What the server seals into a ticket. */
export interface TicketState {
  cipherSuite: number;
  psk: Uint8Array;
  alpn: string | null;
  serverName: string | null;
  issuedAt: number;
  lifetimeSeconds: number;
  ageAdd: number;
  /**
   * Issued with early_data: 0-RTT may be accepted with it, and only while the server's
   * `earlyDataContext` (its configuration that 0-RTT depends on, RFC 9001 §4.6.3) is unchanged.
   */
  earlyData?: { context: Uint8Array };
}

function sealingKey(ticketKey: Uint8Array): Buffer {
  return createHash('sha256').update('quiver quic ticket key v1').update(ticketKey).digest();
}

export function sealTicket(ticketKey: Uint8Array, state: TicketState, iv: Uint8Array): Uint8Array {
  const json = JSON.stringify({
    ...state,
    psk: b64(state.psk),
    earlyData: state.earlyData ? { context: b64(state.earlyData.context) } : undefined,
  });
  const c = createCipheriv('aes-256-gcm', sealingKey(ticketKey), iv);
  const ct = Buffer.concat([c.update(json, 'utf8'), c.final()]);
  return new Uint8Array(Buffer.concat([iv, ct, c.getAuthTag()]));
}

/** Opens a ticket; null when it was not sealed under this key or is malformed (then: full handshake). */
export function openTicket(ticketKey: Uint8Array, sealed: Uint8Array): TicketState | null {
  if (sealed.length < 12 + 16 + 2) return null;
  const iv = sealed.subarray(0, 12);
  const tag = sealed.subarray(sealed.length - 16);
  let json: string;
  try {
    const d = createDecipheriv('aes-256-gcm', sealingKey(ticketKey), iv);
    d.setAuthTag(tag);
    json = Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]).toString('utf8');
  } catch (err) {
    // Authentication failure: a ticket from another key or a forged one. §4.2.11: the server
    // then falls back to a full handshake, so this is not an error.
    if (err instanceof Error) return null;
    throw err;
  }
  const v = JSON.parse(json) as Record<string, unknown>;
  if (typeof v.psk !== 'string' || typeof v.cipherSuite !== 'number' || typeof v.issuedAt !== 'number') return null;
  const early = v.earlyData as Record<string, unknown> | undefined;
  const earlyData = typeof early?.context === 'string' ? { context: unb64(early.context) } : undefined;
  return {
    ...(earlyData ? { earlyData } : {}),
    cipherSuite: v.cipherSuite,
    psk: unb64(v.psk),
    alpn: typeof v.alpn === 'string' ? v.alpn : null,
    serverName: typeof v.serverName === 'string' ? v.serverName : null,
    issuedAt: v.issuedAt,
    lifetimeSeconds: typeof v.lifetimeSeconds === 'number' ? v.lifetimeSeconds : 0,
    ageAdd: typeof v.ageAdd === 'number' ? v.ageAdd : 0,
  };
}
