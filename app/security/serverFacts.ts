/**
 * What every transport (STARTTLS, direct TLS, QUIC) hands to the one verifier after its TLS
 * handshake and before any XMPP byte is sent.
 */
import type { CandidateSource, DnssecStatus, Transport } from '../contract/viewModels.ts';

/**
 * How discovery found the server that was reached: the parts of a candidate the verifier reads.
 * Its source and DNSSEC status decide which names may count as the server's identity (a secure SRV
 * target, a host-meta `sni`); host and port name the TLSA records (RFC 7673 §3).
 */
export interface CandidateFacts {
  /** Host name (or address literal) connected to: the SRV target, or the domain itself. */
  host: string;
  port: number;
  source: CandidateSource;
  /** Whether the answer that produced this candidate was DNSSEC-validated. */
  dnssec: DnssecStatus;
  /** The record as presentation text (`_xmpps-client._tcp.example.org. 0 5 5223 xmpp.example.org.`), null for the default. */
  record: string | null;
  /**
   * XEP-0487: the `sni` a Host Meta 2 link names. Fetched over verified HTTPS from the JID's domain,
   * it delegates that domain to this name (the verifier may then accept a certificate for it).
   */
  hostMetaSni?: string | null;
}

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
  candidate: CandidateFacts;
}
