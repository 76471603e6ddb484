/**
 * What is actually wrong with a certificate the person is asked about (CertificateDecisionView's
 * `problem`), so the dialog can say "this certificate is for another server" rather than a generic
 * "could not prove". Pure: it reads the verifier's structured result (the error `code` each prooftype
 * module sets, pkixProof.ts and pinProof.ts) and, only when that code says nothing it knows, the
 * certificate itself against `now`.
 */
import type { CertificateProblem, CertificateSummary, Verdict } from '../contract/viewModels.ts';

/** The verdict error codes that name a problem outright (pkixProof.ts, pinProof.ts). */
const BY_CODE: Readonly<Record<string, CertificateProblem>> = {
  'wrong-name': 'wrong-name',
  expired: 'expired',
  'not-yet-valid': 'not-yet-valid',
  'self-signed': 'self-signed',
  'missing-intermediate': 'missing-intermediate',
  untrusted: 'unknown-issuer',
  'key-changed': 'key-changed',
};

/** Verdict error codes (pkixProof.ts) that the certificate's dates or names must never explain away. */
const NOT_BY_DATES: ReadonlySet<string> = new Set([
  'bad-signature',
  'name-constraints',
  'invalid-chain',
  'wrong-usage',
  'bad-certificate',
]);

export interface ProblemInput {
  verdict: Verdict;
  /** As the server sent them, end entity first. */
  certificates: readonly CertificateSummary[];
  /** Milliseconds since the epoch (the caller's clock). */
  now: number;
}

export function classifyCertificateProblem({ verdict, certificates, now }: ProblemInput): CertificateProblem {
  // A pin gate refusal is about the key whatever else is true of the certificate.
  if (verdict.decision === 'key-changed') return 'key-changed';
  const known = verdict.error ? BY_CODE[verdict.error.code] : undefined;
  if (known) return known;
  // A failure worse than any named problem (a signature that does not verify, an authority beyond
  // its name constraints, ...) keeps the verifier's own words: the dates must not make it milder.
  if (verdict.error && NOT_BY_DATES.has(verdict.error.code)) return 'other';
  const leaf = certificates[0];
  if (!leaf) return 'other';
  // RFC 5280 §4.1.2.5: valid from notBefore through notAfter, inclusive.
  const notAfter = Date.parse(leaf.notAfter);
  const notBefore = Date.parse(leaf.notBefore);
  if (Number.isFinite(notAfter) && now > notAfter) return 'expired';
  if (Number.isFinite(notBefore) && now < notBefore) return 'not-yet-valid';
  // Without the signature at hand, a certificate sent alone that names itself as its issuer.
  if (certificates.length === 1 && leaf.subject === leaf.issuer) return 'self-signed';
  return 'other';
}
