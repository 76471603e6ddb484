/**
 * The PKIX prooftype (draft-ietf-xmpp-dna-10 §3.2 step 6): "if the proof is consistent with the
 * XMPP profile of the matching rules from [RFC6125] and the certificate is otherwise valid
 * according to [RFC5280], the client accepts that there is a strong domain name association".
 *
 * One prooftype, one module: it returns one attempt for the verdict's `tried` list and, when it
 * fails, the error a person should see. DANE, POSH and pins will sit beside it in the same shape.
 */
import type { ProofAttempt, UserError } from '../contract/viewModels.ts';
import type { ParsedCertificate } from './certificate.ts';
import { matchIdentity, toALabels } from './identity.ts';
import { nameConstraintViolation } from './nameConstraints.ts';
import { validatePath, type PathResult } from './pkixPath.ts';
import type { ServerFacts } from './serverFacts.ts';
import type { TrustAnchors } from './trustAnchors.ts';

/** What each prooftype module hands back to the verifier. */
export interface ProofOutcome {
  attempt: ProofAttempt;
  /** Set when `attempt.ok`. */
  identity: string | null;
  delegation: string | null;
  /** Set when not `attempt.ok`: worded for a person. */
  error: UserError | null;
  /** Set by the pin module: the person's own decision held, not a proof (Verdict.userDecision). */
  userDecision?: 'accepted-once' | 'pinned';
}

/**
 * The SRV-ID service of a client connection (RFC 6120 §13.7.1.2.1: `_xmpp-client.example.net`), for
 * every transport: XEP-0368 §3 "TLS certificates MUST be validated the same way as for STARTTLS",
 * and XEP-0467 says the same for QUIC.
 */
const SRV_SERVICE = 'xmpp-client';

export async function provePkix(
  facts: ServerFacts,
  leaf: ParsedCertificate,
  ctx: { anchors: TrustAnchors; now: Date },
): Promise<ProofOutcome> {
  const path = await validatePath(facts.chain, ctx.anchors, ctx.now);
  // RFC 6120 §13.7.2.1: the reference identity is the domain the user asked for (matched as A-labels,
  // shown as the user wrote it).
  const domain = facts.domain;
  const direct = matchIdentity(leaf, { domain, srvService: SRV_SERVICE });
  const secure = secureDelegation(facts);
  const delegated = !direct.ok && secure !== null ? matchIdentity(leaf, { domain: secure.target }) : null;
  const nameDetail = direct.ok
    ? `name: ${direct.identity}`
    : delegated?.ok && secure
      ? `name: ${delegated.identity} via ${secure.how}`
      : `name: ${domain} not among ${describePresented(direct.presented)}${secure ? ` (nor the ${secure.delegation.startsWith('host-meta:') ? 'host-meta' : 'DNSSEC'}-delegated ${secure.target})` : ''}`;

  if (!path.ok) {
    const nameMatches = direct.ok || delegated?.ok === true;
    return {
      attempt: { prooftype: 'pkix', ok: false, detail: `chain: ${path.code} (${path.reason}); ${nameDetail}` },
      identity: null,
      delegation: null,
      error:
        !nameMatches && UNKNOWN_AUTHORITY.has(path.code)
          ? wrongNameError(domain, presentedNames(direct.presented), path)
          : pathError(domain, path),
    };
  }
  const chainDetail = `chain: valid to ${path.anchor.subject}`;
  // RFC 5280 §4.2.1.10: the CAs' name constraints bind whichever identifier matched, not only the
  // dNSName entries pkijs checks (nameConstraints.ts).
  const matched = direct.ok ? direct : delegated?.ok ? delegated : null;
  const violation = matched ? nameConstraintViolation(path.path, matched) : null;
  if (violation !== null) {
    return {
      attempt: {
        prooftype: 'pkix',
        ok: false,
        detail: `${chainDetail}; ${nameDetail}; name constraints: ${violation}`,
      },
      identity: null,
      delegation: null,
      error: {
        code: 'name-constraints',
        message: `${domain} presented a certificate from an authority that is not allowed to vouch for that name: ${violation} The connection may be intercepted; Quiver did not trust it. Tell the server's administrator.`,
      },
    };
  }
  if (direct.ok) {
    return {
      attempt: { prooftype: 'pkix', ok: true, detail: `${chainDetail}; ${nameDetail}` },
      identity: direct.identity,
      delegation: null,
      error: null,
    };
  }
  if (delegated?.ok && secure) {
    return {
      attempt: { prooftype: 'pkix', ok: true, detail: `${chainDetail}; ${nameDetail}` },
      identity: delegated.identity,
      delegation: secure.delegation,
      error: null,
    };
  }
  return {
    attempt: { prooftype: 'pkix', ok: false, detail: `${chainDetail}; ${nameDetail}` },
    identity: null,
    delegation: null,
    error: wrongNameError(domain, presentedNames(direct.presented), null),
  };
}

/**
 * Chain failures that only say Quiver does not know the authority. When the certificate also names
 * another server, that is the problem a person must hear first: even an authority they chose to
 * trust would not make it a certificate for their domain.
 */
const UNKNOWN_AUTHORITY: ReadonlySet<string> = new Set(['untrusted-issuer', 'missing-intermediate']);

/** `code: 'wrong-name'`; with `path` when the chain did not validate either (said second). */
function wrongNameError(domain: string, names: string[], path: Extract<PathResult, { ok: false }> | null): UserError {
  const unknown = path
    ? ` It was also not issued by an authority Quiver trusts (issuer: ${path.issuer ?? 'unknown'}).`
    : '';
  return {
    code: 'wrong-name',
    message:
      names.length > 0
        ? `${domain} presented a certificate for ${joinOr(names)}, and no DNSSEC or POSH proof delegates ${domain} to it.${unknown}`
        : `${domain} presented a certificate that names no server, so it cannot prove it is ${domain}.${unknown}`,
  };
}

/** A name other than the JID's domain that may stand for it, and how that was proved. */
export interface SecureDelegation {
  /** A-labels. */
  target: string;
  /** For the verdict: `dnssec-srv:<record>` or `host-meta:<sni>`. */
  delegation: string;
  /** For the `tried` detail. */
  how: string;
}

/**
 * draft-ietf-xmpp-dna-10 §6: "The fundamental problem here is that if DNSSEC is not used then the
 * act of delegation via DNS SRV records is inherently insecure." So the SRV target's name counts
 * only when the SRV answer that named it was DNSSEC-validated (`secure`); never for the default
 * candidate, an insecure or bogus answer.
 *
 * XEP-0487 (Business Rules, 1): host-meta files "MUST be fetched only over HTTPS ... This
 * provides secure delegation, meaning you MUST send the provided SNI and validate that the
 * certificate is valid for that host *or* the XMPP domain". Discovery sets `hostMetaSni` only on
 * links read from a host-meta document it fetched with verified HTTPS from the JID's domain.
 */
export function secureDelegation(facts: ServerFacts): SecureDelegation | null {
  const candidate = facts.candidate;
  const domain = toALabels(facts.domain);
  if (candidate.source.startsWith('srv:') && candidate.dnssec === 'secure') {
    const target = toALabels(candidate.host);
    if (target !== null && target !== domain) {
      const record = candidate.record ?? candidate.host;
      return { target, delegation: `dnssec-srv:${record}`, how: `DNSSEC-signed SRV ${record}` };
    }
  }
  if (candidate.hostMetaSni) {
    const target = toALabels(candidate.hostMetaSni);
    if (target !== null && target !== domain) {
      return {
        target,
        delegation: `host-meta:${target}`,
        how: `host-meta link (sni ${target}) fetched over verified HTTPS from ${facts.domain}`,
      };
    }
  }
  return null;
}

function pathError(domain: string, path: Extract<PathResult, { ok: false }>): UserError {
  const issuer = path.issuer ?? 'unknown';
  switch (path.code) {
    case 'untrusted-issuer':
      // A certificate sent alone is called a missing link only when its caIssuers says where the
      // issuer is (pkixPath's 'missing-intermediate'): without one, an interception proxy's leaf
      // from its own authority looks just like this, and must not get the milder advice.
      return {
        code: 'untrusted',
        // The one problem where adding an authority is the right advice: an organisation's own CA.
        message: `${domain}'s certificate was not issued by an authority Quiver trusts (issuer: ${issuer}). If this is your organisation's own authority, add its certificate to the account's Extra CA setting; otherwise ask the server's administrator for a certificate from a public authority.`,
      };
    case 'self-signed':
      return {
        code: 'self-signed',
        // No authority to add: what proves this key is its fingerprint, compared with the admin's.
        message: `${domain} presented a self-signed certificate (${path.subject ?? 'unknown'}), which no authority vouches for. Compare its key's fingerprint with the one the server's administrator gave you, and trust it (once, or pinned) only if they match.`,
      };
    case 'missing-intermediate':
      return missingIntermediate(domain, issuer);
    case 'expired':
      return {
        code: 'expired',
        message: `${domain}'s certificate${certOf(path, domain)} expired on ${dateText(path.date)}. Check that your computer's date is right; if it is, the server's administrator has to renew the certificate.`,
      };
    case 'not-yet-valid':
      return {
        code: 'not-yet-valid',
        message: `${domain}'s certificate${certOf(path, domain)} is not valid until ${dateText(path.date)}. Check that your computer's date and time are right.`,
      };
    case 'bad-signature':
      return {
        code: 'bad-signature',
        message: `${domain}'s certificate chain has a signature that does not verify (${path.subject ?? 'unknown'}, issued by ${issuer}). The connection may be intercepted; Quiver did not connect.`,
      };
    case 'bad-certificate':
      return { code: 'bad-certificate', message: `${domain} sent a certificate Quiver cannot use: ${path.reason}` };
    case 'wrong-usage':
      return {
        code: 'wrong-usage',
        message: `${domain} presented a certificate that is not meant for TLS servers: ${path.reason} Ask the server's administrator for a server certificate.`,
      };
    case 'not-a-ca':
    case 'path-too-long':
    case 'invalid-path':
      return {
        code: 'invalid-chain',
        message: `${domain}'s certificate chain is not valid: ${path.reason} Ask the server's administrator to fix the certificate chain.`,
      };
  }
}

function missingIntermediate(domain: string, issuer: string): UserError {
  return {
    code: 'missing-intermediate',
    message: `${domain} did not send the certificate that links it to an authority (its issuer: ${issuer}), so Quiver cannot check who vouches for it. The server's administrator has to configure the full certificate chain; until then, accept it once only if you trust the network you are on.`,
  };
}

function certOf(path: Extract<PathResult, { ok: false }>, domain: string): string {
  return path.subject && !path.subject.includes(domain) ? ` chain (${path.subject})` : '';
}

function dateText(date: Date | null): string {
  return date ? date.toISOString().slice(0, 10) : 'an unknown date';
}

function describePresented(presented: string[]): string {
  return presented.length > 0 ? `[${presented.join(', ')}]` : 'no names';
}

/** `dns:other.test` -> `other.test`; `srv:_xmpp-client.other.test` -> `other.test`. Unique, in order. */
function presentedNames(presented: string[]): string[] {
  const names = presented.map((entry) => {
    const value = entry.slice(entry.indexOf(':') + 1);
    return entry.startsWith('srv:') ? value.replace(/^_[^.]*\./, '') : value;
  });
  return [...new Set(names)];
}

function joinOr(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`;
}
