/**
 * Verdict fixtures for tests that fake the verifier (`ConnectDeps.verify`, `ProbeDeps.verify`) or
 * store a security record: the one verdict shape, so a field added to `Verdict` is added here once.
 */
import type { Verdict } from '../../app/contract/viewModels.ts';

/** A verdict that proves nothing and tries nothing; `over` sets the fields a test is about. */
export function verdict(over: Partial<Verdict> = {}): Verdict {
  return {
    trusted: false,
    prooftype: null,
    identity: null,
    delegation: null,
    dnssec: 'insecure',
    tried: [],
    error: null,
    decision: null,
    ...over,
  };
}

/** example.org proved by PKIX (its dns-id), without DNSSEC: what a verifier that trusts everything returns. */
export const TRUSTED: Verdict = verdict({ trusted: true, prooftype: 'pkix', identity: 'dns-id:example.org' });
