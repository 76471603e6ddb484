/**
 * What every transport (STARTTLS, direct TLS, QUIC) hands to the one verifier after its TLS
 * handshake and before any XMPP byte is sent.
 */
import type { Transport } from '../contract/viewModels.ts';
import type { Candidate } from '../connect/candidate.ts';

export interface ServerFacts {
  transport: Transport;
  /** The JID's domain: the reference identity (RFC 6120 §13.7.2.1). */
  domain: string;
  /** The server_name sent (XEP-0368: the JID's domain, not the SRV target). */
  sni: string;
  /** The negotiated ALPN protocol, if any. */
  alpn: string | null;
  /** The certificate chain as the server sent it: DER, end-entity first. */
  chain: Uint8Array[];
  candidate: Candidate;
}
