/**
 * Name constraints for the identifier that actually matched (RFC 5280 §4.2.1.10).
 *
 * pkijs applies a CA's nameConstraints to the dNSName entries of the end entity's subjectAltName,
 * but identity.ts also accepts an SRV-ID, an XmppAddr and (as a last resort) the CN, which pkijs
 * never compares with any subtree. Without this check a sub-CA constrained to `corp.example` could
 * issue a certificate whose XmppAddr says `victim.example`. So after a path is validated, the
 * domain the match vouches for is checked against the dNSName subtrees of every CA on the path,
 * trust anchor included: RFC 5280 §4.2.1.10 "Restrictions apply to the subject distinguished name
 * and apply to subject alternative names", and "any name matching a restriction in the
 * excludedSubtrees field is invalid regardless of information appearing in the permittedSubtrees".
 */
import type * as pkijs from 'pkijs';
import { decodeCertificate, type ParsedCertificate } from './certificate.ts';
import type { IdentityMatch } from './identity.ts';
import { SecurityError } from './securityError.ts';

export const OID_NAME_CONSTRAINTS = '2.5.29.30';
/** RFC 5280 §4.2.1.6 GeneralName dNSName [2]. */
const DNS_NAME = 2;

/** The dNSName subtrees one CA sets (lower-case, as written; `.example.com` keeps its dot). */
export interface DnsNameConstraints {
  /** Subject of the CA, for messages. */
  ca: string;
  /** Null when the CA sets no permitted dNSName subtree (then it permits every DNS name). */
  permitted: string[] | null;
  excluded: string[];
}

/**
 * The dNSName constraints of every CA on a validated path (end entity first, as `validatePath`
 * returns it): everything after the first element. CAs without nameConstraints are left out.
 * @throws SecurityError `bad-certificate` when a CA on the path does not parse (it validated, so it does).
 */
export function collectDnsNameConstraints(path: readonly ParsedCertificate[]): DnsNameConstraints[] {
  const result: DnsNameConstraints[] = [];
  for (const ca of path.slice(1)) {
    const certificate = decodeCertificate(ca.der);
    const extension = certificate.extensions?.find((candidate) => candidate.extnID === OID_NAME_CONSTRAINTS);
    if (!extension) continue;
    const value = extension.parsedValue as pkijs.NameConstraints | undefined;
    if (!value) {
      throw new SecurityError('bad-certificate', `The nameConstraints extension of ${ca.subject} cannot be read.`);
    }
    const dnsBases = (subtrees: pkijs.GeneralSubtree[] | undefined): string[] =>
      (subtrees ?? [])
        .filter((subtree) => subtree.base.type === DNS_NAME)
        .map((subtree) => String(subtree.base.value).toLowerCase());
    const permitted = dnsBases(value.permittedSubtrees);
    const excluded = dnsBases(value.excludedSubtrees);
    if (permitted.length === 0 && excluded.length === 0) continue;
    result.push({ ca: ca.subject, permitted: permitted.length > 0 ? permitted : null, excluded });
  }
  return result;
}

/**
 * RFC 5280 §4.2.1.10: "DNS name restrictions are expressed as host.example.com. Any DNS name that
 * can be constructed by simply adding zero or more labels to the left-hand side of the name
 * satisfies the name constraint." A base with a leading dot (`.example.com`, the form many CAs
 * use) is read as subdomains only; an empty base matches every name.
 */
export function withinDnsSubtree(domain: string, base: string): boolean {
  const name = domain.toLowerCase().replace(/\.$/, '');
  const tree = base.toLowerCase().replace(/\.$/, '');
  if (tree.length === 0) return true;
  if (tree.startsWith('.')) return name.endsWith(tree) && name.length > tree.length;
  return name === tree || name.endsWith(`.${tree}`);
}

/**
 * Is the matched identity allowed by every CA on `path`? Returns null when it is, else a sentence
 * for the verdict. An `ip` match is left to pkijs, which applies iPAddress subtrees to the end
 * entity's iPAddress entries (the only place such a match can come from).
 */
export function nameConstraintViolation(
  path: readonly ParsedCertificate[],
  match: Extract<IdentityMatch, { ok: true }>,
): string | null {
  if (match.type === 'ip') return null;
  let constraints: DnsNameConstraints[];
  try {
    constraints = collectDnsNameConstraints(path);
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
    return error.message;
  }
  for (const ca of constraints) {
    const excluded = ca.excluded.find((base) => withinDnsSubtree(match.domain, base));
    if (excluded !== undefined) {
      return `${ca.ca} may not vouch for ${match.domain} (its name constraints exclude ${excluded || 'every DNS name'}), yet the certificate names it (${match.identity}).`;
    }
    if (ca.permitted !== null && !ca.permitted.some((base) => withinDnsSubtree(match.domain, base))) {
      return `${ca.ca} may vouch only for names under ${ca.permitted.join(', ')} (its name constraints), but the certificate names ${match.domain} (${match.identity}).`;
    }
  }
  return null;
}
