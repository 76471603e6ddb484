/**
 * The one verifier (STYLE.md principle 2): STARTTLS, direct TLS and QUIC hand the same facts to
 * `verifyServer`, which decides whether the server proved it is the JID's domain, and how.
 *
 * Each prooftype (draft-ietf-xmpp-dna-10 §7) is one module returning a `ProofOutcome`; the verdict
 * lists every attempt in `tried` and names the first that held. Today: PKIX (pkixProof.ts), with the
 * DNSSEC-secured SRV delegation rule. DANE, POSH and pins join `VerifyContext` and the list below.
 */
import type { UserError, Verdict } from '../contract/viewModels.ts';
import { parseCertificate, type ParsedCertificate } from './certificate.ts';
import { provePkix, type ProofOutcome } from './pkixProof.ts';
import { SecurityError } from './securityError.ts';
import type { ServerFacts } from './serverFacts.ts';
import type { TrustAnchors } from './trustAnchors.ts';

export interface VerifyContext {
  anchors: TrustAnchors;
  /** The time certificates are checked against (a parameter, so tests and replays are exact). */
  now: Date;
}

/**
 * Decides trust for one TLS (or QUIC) handshake. Call it after the handshake and before any XMPP
 * byte is sent; store the verdict with the connection. Never throws for what the server sent.
 */
export async function verifyServer(facts: ServerFacts, ctx: VerifyContext): Promise<Verdict> {
  const dnssec = facts.candidate.dnssec;
  let leaf: ParsedCertificate;
  try {
    const first = facts.chain[0];
    if (!first) throw new SecurityError('bad-certificate', 'The server sent no certificate.');
    leaf = parseCertificate(first);
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
    const userError: UserError = { code: 'bad-certificate', message: `${facts.domain} sent a certificate Quiver cannot read (${error.message}), so it cannot prove it is ${facts.domain}.` };
    return { trusted: false, prooftype: null, identity: null, delegation: null, dnssec, tried: [{ prooftype: 'pkix', ok: false, detail: error.message }], error: userError, decision: null };
  }

  const outcomes: ProofOutcome[] = [await provePkix(facts, leaf, ctx)];
  const held = outcomes.find((outcome) => outcome.attempt.ok);
  const tried = outcomes.map((outcome) => outcome.attempt);
  if (held) {
    return { trusted: true, prooftype: held.attempt.prooftype, identity: held.identity, delegation: held.delegation, dnssec, tried, error: null, decision: null };
  }
  return { trusted: false, prooftype: null, identity: null, delegation: null, dnssec, tried, error: outcomes[0]?.error ?? null, decision: null };
}
