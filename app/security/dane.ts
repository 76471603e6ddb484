/**
 * The DANE prooftype (draft-ietf-xmpp-dna-10 §5.1): TLSA records (RFC 6698) for the SRV target
 * (RFC 7673), used as RFC 7671 says.
 *
 * RFC 7673 §3: TLSA records are looked up only for a target named by a DNSSEC-secure SRV answer,
 * at `_<port>._tcp.<target>` (`_udp` for QUIC, XEP-0467), and used only when that answer is secure
 * too. Four outcomes, because DANE can do what no other prooftype may: forbid the connection.
 * - `not-applicable`: no secure SRV (or no DNS client): nothing to look up, nothing in `tried`;
 * - `ignored`: no TLSA, an insecure answer, or only unusable records: the other prooftypes decide;
 * - `held`: a usable record matched;
 * - `refused`: usable records and none matched, or the answer was bogus or could not be had. A
 *   secure, usable TLSA RRset must be used (RFC 6698 §4.1; RFC 7671 keeps no PKIX fallback for a
 *   mismatch), so nothing else is tried then, and no decision by the person may override it.
 */
import { createHash } from 'node:crypto';
import type { ProofAttempt, Prooftype, UserError } from '../contract/viewModels.ts';
import type { DnsAnswer, TlsaRecord } from './dnsClient.ts';
import { parseCertificate, type ParsedCertificate } from './certificate.ts';
import { matchIdentity, toALabels, type IdentityMatch } from './identity.ts';
import { nameConstraintViolation } from './nameConstraints.ts';
import { validatePath } from './pkixPath.ts';
import type { ProofOutcome } from './pkixProof.ts';
import { SecurityError } from './securityError.ts';
import type { ServerFacts } from './serverFacts.ts';
import { buildTrustAnchors, type TrustAnchors } from './trustAnchors.ts';

/** The part of the DNS client DANE needs (app/security/dnsClient.ts satisfies it). */
export interface TlsaResolver {
  query(name: string, type: 'TLSA'): Promise<DnsAnswer<TlsaRecord>>;
}

export type DaneOutcome =
  | { kind: 'not-applicable' }
  | { kind: 'ignored'; attempt: ProofAttempt }
  | { kind: 'held'; outcome: ProofOutcome }
  | { kind: 'refused'; attempt: ProofAttempt; error: UserError };

/**
 * RFC 6698 §2.1.1 certificate usages. PKIX-TA (0) has no constant: the PKIX branch of `proveDane`
 * tells it apart from PKIX-EE.
 */
export const USAGE_PKIX_EE = 1;
export const USAGE_DANE_TA = 2;
export const USAGE_DANE_EE = 3;

const PROOFTYPE_OF_USAGE: Record<number, Prooftype> = { 0: 'pkix-ta', 1: 'pkix-ee', 2: 'dane-ta', 3: 'dane-ee' };
const SRV_SERVICE = 'xmpp-client';

/** RFC 7673 §3 / RFC 6698 §3: `_<port>._tcp.<target>`; XEP-0467 QUIC runs over UDP. */
export function tlsaName(facts: Pick<ServerFacts, 'transport' | 'candidate'>): string {
  const protocol = facts.transport === 'quic' ? 'udp' : 'tcp';
  const host = toALabels(facts.candidate.host) ?? facts.candidate.host.toLowerCase();
  return `_${facts.candidate.port}._${protocol}.${host}`;
}

/** RFC 7673 §3: TLSA records are looked up only for the targets of a secure SRV RRset (the brief: and only then used). */
export function daneApplies(facts: Pick<ServerFacts, 'candidate'>): boolean {
  return facts.candidate.source.startsWith('srv:') && facts.candidate.dnssec === 'secure';
}

/**
 * Does one TLSA record match `der` (a certificate)? `null` when the record is unusable: an
 * unknown selector or matching type (RFC 6698 §4.1 / RFC 7671 §4.1 treat such records as
 * unusable, and an RRset of only unusable records as no records), or a digest of the wrong length.
 */
export function tlsaMatches(
  record: Pick<TlsaRecord, 'selector' | 'matchingType' | 'data'>,
  der: Uint8Array,
  spki: Uint8Array,
): boolean | null {
  // RFC 6698 §2.1.2: selector 0 is the full certificate, 1 the SubjectPublicKeyInfo (DER).
  const selected = record.selector === 0 ? der : record.selector === 1 ? spki : null;
  if (selected === null) return null;
  // RFC 6698 §2.1.3: matching type 0 is the exact content, 1 its SHA-256, 2 its SHA-512.
  let value: Uint8Array;
  if (record.matchingType === 0) value = selected;
  else if (record.matchingType === 1) {
    if (record.data.byteLength !== 32) return null;
    value = createHash('sha256').update(selected).digest();
  } else if (record.matchingType === 2) {
    if (record.data.byteLength !== 64) return null;
    value = createHash('sha512').update(selected).digest();
  } else return null;
  return (
    value.byteLength === record.data.byteLength && Buffer.compare(Buffer.from(value), Buffer.from(record.data)) === 0
  );
}

/** RFC 6698 §2.1: usages 0-3, selectors 0-1, matching types 0-2, and a digest of the right size. */
function usable(record: TlsaRecord): boolean {
  if (!(record.usage in PROOFTYPE_OF_USAGE) || (record.selector !== 0 && record.selector !== 1)) return false;
  if (record.matchingType === 0) return record.data.byteLength > 0;
  if (record.matchingType === 1) return record.data.byteLength === 32;
  if (record.matchingType === 2) return record.data.byteLength === 64;
  return false;
}

export function describeTlsa(record: Pick<TlsaRecord, 'usage' | 'selector' | 'matchingType'>): string {
  return `TLSA ${record.usage} ${record.selector} ${record.matchingType}`;
}

/**
 * Runs DANE for one handshake. Never throws for what the server or the DNS sent.
 * @param leaf the parsed end-entity certificate (`facts.chain[0]`)
 */
export async function proveDane(
  facts: ServerFacts,
  leaf: ParsedCertificate,
  ctx: { dns?: TlsaResolver | null; anchors: TrustAnchors; now: Date },
): Promise<DaneOutcome> {
  if (!ctx.dns || !daneApplies(facts)) return { kind: 'not-applicable' };
  const name = tlsaName(facts);
  const host = facts.candidate.host;
  const domain = facts.domain;

  let answer: DnsAnswer<TlsaRecord>;
  try {
    answer = await ctx.dns.query(name, 'TLSA');
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
    // RFC 7673 §3: a TLSA lookup that fails for another reason than "no records" (an indeterminate
    // answer) means this target is not connected to; the other SRV targets may still be tried.
    return refused('dane-ee', `${name}: lookup failed (${error.message})`, {
      code: 'dane-lookup-failed',
      message: `Quiver could not look up the DANE (TLSA) records of ${host}, which ${domain}'s DNSSEC-signed SRV record names (${error.message}). Without them it cannot tell whether this server is ${domain}, so it did not connect. Check your network and DNS resolver, then try again.`,
    });
  }

  if (answer.dnssec === 'bogus') {
    // RFC 4035 §5.5 / RFC 7673 §3: a bogus answer is never used, and the target is not connected to.
    return refused('dane-ee', `${name}: the TLSA answer failed DNSSEC validation (bogus)`, {
      code: 'dnssec-bogus',
      message: `The DNSSEC signatures on the DANE (TLSA) records of ${host} (${name}) do not validate, so Quiver cannot tell whether this server is ${domain}. This is either an attack or a broken DNS setup; ${domain}'s DNS administrator has to fix the signatures. Quiver did not connect, and this cannot be overridden.`,
    });
  }
  if (answer.rcode !== 'NOERROR' && answer.rcode !== 'NXDOMAIN') {
    return refused('dane-ee', `${name}: the DNS server answered ${answer.rcode}`, {
      code: 'dane-lookup-failed',
      message: `The DNS server answered ${answer.rcode} when Quiver asked for the DANE (TLSA) records of ${host} (${name}), so it cannot tell whether this server is ${domain}; it did not connect. Check your DNS resolver, then try again.`,
    });
  }
  if (answer.dnssec !== 'secure') {
    // RFC 6698 §4.1 / RFC 7673 §3: TLSA records from an insecure answer are not used for DANE;
    // the other prooftypes decide.
    const detail =
      answer.records.length > 0
        ? `${name}: ${answer.records.length} TLSA record(s) ignored: the answer is not DNSSEC-signed (insecure)`
        : `${name}: no DNSSEC-signed TLSA records (insecure answer); DANE does not apply`;
    return { kind: 'ignored', attempt: { prooftype: firstProoftype(answer.records), ok: false, detail } };
  }
  const records = answer.records.filter(usable);
  if (records.length === 0) {
    const detail =
      answer.records.length > 0
        ? `${name}: ${answer.records.length} TLSA record(s), none usable (unknown usage, selector or matching type); DANE does not apply`
        : `${name}: no TLSA records (DNSSEC-signed denial); DANE does not apply`;
    return { kind: 'ignored', attempt: { prooftype: firstProoftype(answer.records), ok: false, detail } };
  }

  const notes: string[] = [];
  const names = nameCheck(facts, leaf);
  let pkixPath: Awaited<ReturnType<typeof validatePath>> | null = null;
  for (const record of records) {
    const label = describeTlsa(record);
    const prooftype = PROOFTYPE_OF_USAGE[record.usage] ?? 'dane-ee';
    if (record.usage === USAGE_DANE_EE) {
      // RFC 7671 §5.1: with DANE-EE(3) the record is the whole proof; the certificate's names and
      // validity dates are not checked.
      if (tlsaMatches(record, leaf.der, leaf.spki)) {
        return held(
          prooftype,
          `${name}: ${label} matched the end-entity ${record.selector === 1 ? 'key' : 'certificate'} (names and dates not checked, RFC 7671 §5.1)`,
          `tlsa:${name}`,
          facts,
        );
      }
      notes.push(`${label} did not match the end-entity ${record.selector === 1 ? 'key' : 'certificate'}`);
      continue;
    }
    if (record.usage === USAGE_DANE_TA) {
      const result = await proveDaneTa(facts, record, ctx.now);
      // RFC 5280 §4.2.1.10 on the path to the DANE-TA anchor too: a constrained CA below (or as)
      // the anchor may not vouch for a name outside its subtrees (nameConstraints.ts).
      const violation = result.ok && names.ok ? nameConstraintViolation(result.path, names.match) : null;
      if (violation !== null) {
        notes.push(`${label} matched ${result.ok ? result.anchor : 'an anchor'}, but ${violation}`);
        continue;
      }
      if (result.ok && names.ok) {
        return held(
          prooftype,
          `${name}: ${label} matched the trust anchor ${result.anchor}; chain valid to it; name: ${names.identity}`,
          names.identity,
          facts,
          names.target,
        );
      }
      notes.push(
        result.ok
          ? `${label} matched ${result.anchor}, but the certificate does not name ${domain} or ${host}`
          : `${label}: ${result.reason}`,
      );
      continue;
    }
    // PKIX-TA(0) and PKIX-EE(1): a normal PKIX path to our trust anchors, and the record names a
    // certificate on that path (RFC 6698 §2.1.1).
    pkixPath ??= await validatePath(facts.chain, ctx.anchors, ctx.now);
    if (!pkixPath.ok) {
      notes.push(`${label}: the PKIX chain is not valid (${pkixPath.code}: ${pkixPath.reason})`);
      continue;
    }
    const onPath = record.usage === USAGE_PKIX_EE ? pkixPath.path.slice(0, 1) : pkixPath.path.slice(1);
    const match = onPath.find((certificate) => tlsaMatches(record, certificate.der, certificate.spki));
    if (!match) {
      notes.push(
        `${label} matched no ${record.usage === USAGE_PKIX_EE ? 'end-entity certificate' : 'CA certificate on the PKIX path'}`,
      );
      continue;
    }
    if (!names.ok) {
      notes.push(`${label} matched ${match.subject}, but the certificate does not name ${domain} or ${host}`);
      continue;
    }
    const violation = nameConstraintViolation(pkixPath.path, names.match);
    if (violation !== null) {
      notes.push(`${label} matched ${match.subject}, but ${violation}`);
      continue;
    }
    return held(
      prooftype,
      `${name}: ${label} matched ${match.subject}; chain valid to ${pkixPath.anchor.subject}; name: ${names.identity}`,
      names.identity,
      facts,
      names.target,
    );
  }

  // RFC 7671 §4.1 (and RFC 6698 §4.1): with usable TLSA records and no match, the server is not
  // authenticated; the client does not fall back to PKIX.
  return refused(firstProoftype(records), `${name}: ${notes.join('; ')}`, {
    code: 'dane-mismatch',
    message: `${host} presented a certificate that does not match ${domain}'s DNSSEC-signed DANE records (${name}). Either the connection is being intercepted, or the server's administrator changed the certificate without updating the TLSA records. Quiver did not connect, and this cannot be overridden; tell the administrator of ${domain}.`,
  });
}

function firstProoftype(records: TlsaRecord[]): Prooftype {
  return PROOFTYPE_OF_USAGE[records[0]?.usage ?? USAGE_DANE_EE] ?? 'dane-ee';
}

function refused(prooftype: Prooftype, detail: string, error: UserError): DaneOutcome {
  return { kind: 'refused', attempt: { prooftype, ok: false, detail }, error };
}

function held(
  prooftype: Prooftype,
  detail: string,
  identity: string,
  facts: ServerFacts,
  matchedTarget?: string | null,
): DaneOutcome {
  // The SRV answer was secure (or DANE would not apply): that is what delegated the domain to the
  // target whose TLSA records proved the server. Name it when the certificate's name is not the domain.
  const target = toALabels(facts.candidate.host);
  const delegated = prooftype === 'dane-ee' ? target !== toALabels(facts.domain) : Boolean(matchedTarget);
  const record = facts.candidate.record ?? facts.candidate.host;
  return {
    kind: 'held',
    outcome: {
      attempt: { prooftype, ok: true, detail },
      identity,
      delegation: delegated ? `dnssec-srv:${record}` : null,
      error: null,
    },
  };
}

/**
 * RFC 7673 §4: for usages other than DANE-EE the certificate is checked against the SRV target host
 * name (secure by DNSSEC); the service domain is accepted too, with its SRV-ID as RFC 6120
 * §13.7.1.2.1 says.
 */
function nameCheck(
  facts: ServerFacts,
  leaf: ParsedCertificate,
): { ok: true; identity: string; target: string | null; match: Extract<IdentityMatch, { ok: true }> } | { ok: false } {
  const direct: IdentityMatch = matchIdentity(leaf, { domain: facts.domain, srvService: SRV_SERVICE });
  if (direct.ok) return { ok: true, identity: direct.identity, target: null, match: direct };
  const target = toALabels(facts.candidate.host);
  if (target === null) return { ok: false };
  const delegated = matchIdentity(leaf, { domain: target });
  return delegated.ok ? { ok: true, identity: delegated.identity, target, match: delegated } : { ok: false };
}

/**
 * RFC 7671 §5.2: with DANE-TA(2) the server sends the trust anchor in its chain (a client can
 * match a digest only against a certificate it has; `2 0 0` carries the whole certificate instead),
 * and the chain must then be a valid path from the end entity to that anchor.
 */
async function proveDaneTa(
  facts: ServerFacts,
  record: TlsaRecord,
  now: Date,
): Promise<{ ok: true; anchor: string; path: ParsedCertificate[] } | { ok: false; reason: string }> {
  const candidates: Uint8Array[] = [];
  for (const der of facts.chain.slice(1)) {
    let spki: Uint8Array;
    try {
      spki = parseCertificate(der).spki;
    } catch (error) {
      if (!(error instanceof SecurityError)) throw error;
      continue; // junk in the chain is not an anchor
    }
    if (tlsaMatches(record, der, spki)) candidates.push(der);
  }
  if (record.selector === 0 && record.matchingType === 0) candidates.push(record.data);
  if (candidates.length === 0)
    return {
      ok: false,
      reason: 'no certificate in the chain the server sent matches it (DANE-TA needs the anchor in the chain)',
    };
  let reason = '';
  for (const der of candidates) {
    let anchors: TrustAnchors;
    try {
      anchors = buildTrustAnchors([toPem(der)]);
    } catch (error) {
      if (!(error instanceof SecurityError)) throw error;
      reason = `the matching anchor cannot be used (${error.message})`;
      continue;
    }
    const path = await validatePath(facts.chain, anchors, now);
    if (path.ok) return { ok: true, anchor: path.anchor.subject, path: path.path };
    reason = `the chain is not valid up to the matching anchor (${path.code}: ${path.reason})`;
  }
  return { ok: false, reason };
}

function toPem(der: Uint8Array): string {
  const base64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}
