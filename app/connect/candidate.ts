/**
 * A way to reach a server, as discovery found it. The connection manager tries candidates in
 * order; the verifier is told how the candidate was found (its source and DNSSEC status) because
 * that decides which names may count as the server's identity.
 */
import type { CandidateSource, DnssecStatus, Transport } from '../contract/viewModels.ts';

export interface Candidate {
  transport: Transport;
  /** Host name (or address literal) to connect to: the SRV target, or the domain itself. */
  host: string;
  port: number;
  priority: number;
  weight: number;
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
  /** XEP-0487 `ips`: addresses to use instead of resolving `host`. */
  ips?: string[];
}
