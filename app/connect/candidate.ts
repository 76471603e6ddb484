/**
 * A way to reach a server, as discovery found it. The connection manager tries candidates in
 * order; the verifier is told how the candidate was found (`CandidateFacts`: its source and DNSSEC
 * status) because that decides which names may count as the server's identity.
 */
import type { Transport } from '../contract/viewModels.ts';
import type { CandidateFacts } from '../security/serverFacts.ts';

export interface Candidate extends CandidateFacts {
  transport: Transport;
  priority: number;
  weight: number;
  /** XEP-0487 `ips`: addresses to use instead of resolving `host`. */
  ips?: string[];
}
