/**
 * The one verifier (STYLE.md principle 2): STARTTLS, direct TLS and QUIC hand the same facts to
 * `verifyServer`, which decides whether the server proved it is the JID's domain, and how.
 *
 * Each prooftype (draft-ietf-xmpp-dna-10 §5) is one module returning a `ProofOutcome`; the verdict
 * lists every attempt in `tried` and names the first that held. The order:
 *   1. DANE (dane.ts), only for a target named by a DNSSEC-secure SRV answer. A usable TLSA record
 *      that does not match, or a bogus answer, refuses the candidate outright (RFC 6698 §4.1,
 *      RFC 7673 §3): nothing after it runs, and the person is not asked.
 *   2. Pins the person made for this account and domain, as a gate: a pinned domain whose key
 *      changed is refused (`decision: 'key-changed'`) even if PKIX or DANE would accept the new key,
 *      because the person chose to pin and must see the change.
 *   3. PKIX (pkixProof.ts), with secure delegation by DNSSEC-signed SRV or a host-meta `sni`.
 *   4. POSH (posh.ts), when the certificate does not name the JID's domain (hosted domains).
 *   5. A pinned key (prooftype `pin`, userDecision `pinned`), then a key accepted for this
 *      connection only (prooftype null, userDecision `accepted-once`).
 * When nothing held, `decision: 'unproven'` lets the person decide, unless the DNS that led here
 * was bogus (or the certificate is unreadable: there is no key to decide about).
 */
import type { UserError, Verdict } from '../contract/viewModels.ts';
import { parseCertificate, sha256Hex, type ParsedCertificate } from './certificate.ts';
import { proveDane, type TlsaResolver } from './dane.ts';
import { matchIdentity } from './identity.ts';
import { checkAcceptedOnce, checkPins, type PinnedKey } from './pinProof.ts';
import { provePkix, type ProofOutcome } from './pkixProof.ts';
import { provePosh, type PoshSource } from './posh.ts';
import { SecurityError } from './securityError.ts';
import type { ServerFacts } from './serverFacts.ts';
import type { TrustAnchors } from './trustAnchors.ts';

export interface VerifyContext {
  anchors: TrustAnchors;
  /** The time certificates are checked against (a parameter, so tests and replays are exact). */
  now: Date;
  /** The account's DNS client, for TLSA lookups (DANE). Without it DANE is not attempted. */
  dns?: TlsaResolver | null;
  /** POSH documents (fetch + cache). Without it POSH is not attempted. */
  posh?: PoshSource | null;
  /** The account's pinned keys for this domain. */
  pins?: readonly PinnedKey[];
  /** SPKI SHA-256 (lowercase hex) of keys the person accepted for this connection only. */
  acceptOnce?: ReadonlySet<string>;
}

/**
 * Decides trust for one TLS (or QUIC) handshake. Call it after the handshake and before any XMPP
 * byte is sent; store the verdict with the connection. Never throws for what the server, the DNS
 * or a POSH web server sent.
 */
export async function verifyServer(facts: ServerFacts, ctx: VerifyContext): Promise<Verdict> {
  const dnssec = facts.candidate.dnssec;
  const refuse = (tried: Verdict['tried'], error: UserError | null, decision: Verdict['decision']): Verdict => ({
    trusted: false,
    prooftype: null,
    identity: null,
    delegation: null,
    dnssec,
    tried,
    error,
    decision,
  });
  const accept = (tried: Verdict['tried'], held: ProofOutcome): Verdict => ({
    trusted: true,
    // A key accepted once proves nothing: no prooftype, and the verdict says whose decision it was.
    prooftype: held.userDecision === 'accepted-once' ? null : held.attempt.prooftype,
    identity: held.identity,
    delegation: held.delegation,
    dnssec,
    tried,
    error: null,
    decision: null,
    ...(held.userDecision ? { userDecision: held.userDecision } : {}),
  });

  let leaf: ParsedCertificate;
  try {
    const first = facts.chain[0];
    if (!first) throw new SecurityError('bad-certificate', 'The server sent no certificate.');
    leaf = parseCertificate(first);
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
    const userError: UserError = {
      code: 'bad-certificate',
      message: `${facts.domain} sent a certificate Quiver cannot read (${error.message}), so it cannot prove it is ${facts.domain}.`,
    };
    return refuse([{ prooftype: 'pkix', ok: false, detail: error.message }], userError, null);
  }
  const presentedKey = sha256Hex(leaf.spki);
  const tried: Verdict['tried'] = [];

  // 1. DANE.
  const dane = await proveDane(facts, leaf, ctx);
  if (dane.kind === 'refused') return refuse([dane.attempt], dane.error, null);
  if (dane.kind === 'ignored') tried.push(dane.attempt);

  // 2. The pin gate.
  const pins = checkPins(facts.domain, presentedKey, ctx.pins);
  const once = checkAcceptedOnce(presentedKey, ctx.acceptOnce);
  if (pins.kind === 'changed') {
    if (dane.kind === 'held') tried.push(dane.outcome.attempt);
    else tried.push((await provePkix(facts, leaf, ctx)).attempt);
    tried.push(pins.attempt);
    if (once) {
      // The person saw the changed key and accepted it for this connection.
      tried.push(once.attempt);
      return accept(tried, once);
    }
    return refuse(tried, pins.error, 'key-changed');
  }

  if (dane.kind === 'held') return accept([...tried, dane.outcome.attempt], dane.outcome);

  // 3. PKIX.
  const pkix = await provePkix(facts, leaf, ctx);
  tried.push(pkix.attempt);
  if (pkix.attempt.ok) return accept(tried, pkix);

  // 4. POSH, for a certificate that does not name the JID's domain.
  if (ctx.posh && !matchIdentity(leaf, { domain: facts.domain, srvService: 'xmpp-client' }).ok) {
    const posh = await provePosh(facts, leaf, { posh: ctx.posh, now: ctx.now });
    tried.push(posh.attempt);
    if (posh.attempt.ok) return accept(tried, posh);
  }

  // 5. The person's own decisions.
  if (pins.kind === 'match') {
    tried.push(pins.outcome.attempt);
    return accept(tried, pins.outcome);
  }
  if (once) {
    tried.push(once.attempt);
    return accept(tried, once);
  }

  // Nothing held. The person may decide (self-signed, private CA, wrong name, expired ...) unless
  // the DNS that led here failed validation (the verdict's `dnssec` says so): RFC 4035 §5.5 bogus
  // data is never used, and a person cannot judge an attack on it.
  const error = pkix.error ?? {
    code: 'untrusted',
    message: `Quiver could not prove that this server is ${facts.domain}.`,
  };
  return refuse(tried, error, dnssec === 'bogus' ? null : 'unproven');
}
