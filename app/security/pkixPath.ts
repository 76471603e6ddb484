/**
 * RFC 5280 §6 certification path validation, delegated to pkijs' CertificateChainValidationEngine
 * (signatures, validity, name chaining, basicConstraints cA and keyUsage keyCertSign for every CA
 * on the path, name constraints on dNSName SANs, policies), plus the checks pkijs leaves out:
 * pathLenConstraint (§4.2.1.9), the end entity's extendedKeyUsage (§4.2.1.12), keyUsage
 * digitalSignature (§4.2.1.3, RFC 8446 §4.4.2.2) and cA=FALSE, and unknown critical extensions on
 * every certificate but the trust anchor (§4.2, §6.1.4 (o)). Name constraints on the identifier
 * that actually matched (SRV-ID, XmppAddr, CN) are nameConstraints.ts' job, after identity
 * matching. Under QUIC no OpenSSL checks the chain: this is the check.
 *
 * The server's chain is only a bag of candidates (RFC 8446 §4.4.2: "... the sender's certificate
 * MUST come in the first CertificateEntry"; the others may be in any order, may include the root,
 * and may include certificates that are not on the path). When pkijs says no, a second, simpler
 * walk finds the most useful reason to tell a person (expired, which issuer is unknown, ...).
 */
import type * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  decodeCertificate,
  OID_AUTHORITY_INFO_ACCESS,
  OID_BASIC_CONSTRAINTS,
  OID_EXT_KEY_USAGE,
  OID_KEY_USAGE,
  parseCertificate,
  type ParsedCertificate,
} from './certificate.ts';
import { SecurityError } from './securityError.ts';
import { issuerNameKey, type TrustAnchor, type TrustAnchors } from './trustAnchors.ts';

export type PathFailureCode =
  | 'untrusted-issuer'
  | 'self-signed'
  | 'missing-intermediate'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-signature'
  | 'bad-certificate'
  | 'not-a-ca'
  | 'path-too-long'
  | 'wrong-usage'
  | 'invalid-path';

export type PathResult =
  | {
      ok: true;
      /** End entity first, trust anchor last (a single element when the end entity is itself an anchor). */
      path: ParsedCertificate[];
      anchor: TrustAnchor;
    }
  | {
      ok: false;
      code: PathFailureCode;
      /** One sentence for logs and the verdict's `tried` detail. */
      reason: string;
      /** Subject of the certificate the failure is about (null when the end entity did not parse). */
      subject: string | null;
      /** Its issuer's name: the authority a person would have to trust. */
      issuer: string | null;
      /** For `expired` / `not-yet-valid`: the date that was crossed. */
      date: Date | null;
    };

/** More than this many certificates from a server is hostile or broken; the rest are ignored. */
export const MAX_CHAIN_LENGTH = 10;
/** Bounds pkijs' issuer search, which recurses and would loop forever on a cross-signed cycle. */
const MAX_ISSUER_SEARCHES = 32;

const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const OID_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';
/** RFC 5280 §4.2.1.3: digitalSignature is bit 0, the high bit of the first octet. */
const DIGITAL_SIGNATURE = 0x80;
/** Extensions this code or pkijs processes; RFC 5280 §4.2: "A certificate-using system MUST reject
 * the certificate if it encounters a critical extension it does not recognize". */
const RECOGNIZED_EXTENSIONS = new Set([
  '2.5.29.14',
  '2.5.29.15',
  '2.5.29.17',
  '2.5.29.18',
  '2.5.29.19',
  '2.5.29.30',
  '2.5.29.32',
  '2.5.29.33',
  '2.5.29.35',
  '2.5.29.36',
  '2.5.29.37',
  '2.5.29.54',
  OID_AUTHORITY_INFO_ACCESS,
]);

const cryptoEngine = new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: globalThis.crypto });

/**
 * Validates `chain` (DER, end entity first, the rest in any order) against `anchors` at `now`.
 * Never throws for anything the server sent.
 */
export async function validatePath(chain: Uint8Array[], anchors: TrustAnchors, now: Date): Promise<PathResult> {
  try {
    return await validate(chain, anchors, now);
  } catch (error) {
    // A certificate on the path that pkijs accepted but our stricter parse (e.g. of its
    // subjectAltName) refuses: the chain is unusable, and saying so is the whole job.
    if (!(error instanceof SecurityError)) throw error;
    return failure('bad-certificate', error.message, null, null);
  }
}

async function validate(chain: Uint8Array[], anchors: TrustAnchors, now: Date): Promise<PathResult> {
  const leafDer = chain[0];
  if (!leafDer) return failure('bad-certificate', 'The server sent no certificate.', null, null);
  let leaf: ParsedCertificate;
  let leafCertificate: pkijs.Certificate;
  try {
    leaf = parseCertificate(leafDer);
    leafCertificate = decodeCertificate(leafDer);
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
    return failure('bad-certificate', error.message, null, null);
  }

  const critical = unknownCriticalExtension(leafCertificate);
  if (critical)
    return failure(
      'bad-certificate',
      `The certificate has a critical extension Quiver does not recognise (${critical}).`,
      leaf.subject,
      leaf.issuer,
    );
  const dated = checkValidity(leaf, now);
  if (dated) return dated;
  const usage = checkServerAuth(leafCertificate, leaf) ?? checkDigitalSignature(leafCertificate, leaf);
  if (usage) return usage;

  // The end entity may itself be a trust anchor (a user who added a server's own certificate).
  // Such a certificate is trusted as configured, even when it says cA=TRUE (as `openssl req -x509`
  // makes them by default).
  const direct = anchors.anchors.find((anchor) => sameBytes(anchor.der, leafDer));
  if (direct) return { ok: true, path: [leaf], anchor: direct };
  const caLeaf = checkNotCa(leafCertificate, leaf);
  if (caLeaf) return caLeaf;

  // Intermediates: whatever else parses, minus duplicates of the end entity. Junk is dropped, not fatal.
  const derOf = new Map<pkijs.Certificate, Uint8Array>([[leafCertificate, leafDer]]);
  const intermediates: pkijs.Certificate[] = [];
  for (const der of chain.slice(1, MAX_CHAIN_LENGTH)) {
    if (sameBytes(der, leafDer)) continue;
    try {
      const certificate = decodeCertificate(der);
      derOf.set(certificate, der);
      intermediates.push(certificate);
    } catch (error) {
      if (!(error instanceof SecurityError)) throw error;
    }
  }
  // Only anchors that could issue something in the chain take part (pkijs compares every pair, and
  // a root is parsed by pkijs only when it is a candidate). Names are compared by their normalised
  // OpenSSL form; a certificate OpenSSL cannot read is compared by pkijs against every anchor.
  const issuerKeys = new Set<string>();
  const unkeyed: pkijs.Certificate[] = [];
  for (const certificate of [leafCertificate, ...intermediates]) {
    const key = issuerNameKey(derOf.get(certificate) ?? encode(certificate));
    if (key === null) unkeyed.push(certificate);
    else issuerKeys.add(key);
  }
  const relevant = anchors.anchors.filter((anchor) => {
    if (!issuerKeys.has(anchor.nameKey) && unkeyed.length === 0) return false;
    const parsed = parsedAnchor(anchor);
    return (
      parsed !== null &&
      (issuerKeys.has(anchor.nameKey) || unkeyed.some((certificate) => parsed.subject.isEqual(certificate.issuer)))
    );
  });

  let searches = 0;
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: relevant.map((anchor) => anchor.certificate),
    // pkijs takes the LAST certificate as the end entity.
    certs: [...intermediates, leafCertificate],
    checkDate: now,
    findIssuer: (certificate, validationEngine, crypto) => {
      searches += 1;
      if (searches > MAX_ISSUER_SEARCHES) return Promise.resolve([]);
      return validationEngine.defaultFindIssuer(certificate, validationEngine, crypto);
    },
  });
  let verdict: pkijs.CertificateChainValidationEngineVerifyResult;
  try {
    verdict = await engine.verify({}, cryptoEngine);
  } catch (error) {
    // pkijs throws (instead of resolving result: false) for some chains, e.g. revocation lookups.
    verdict = { result: false, resultCode: -1, resultMessage: (error as Error).message };
  }
  for (const anchor of relevant) derOf.set(anchor.certificate, anchor.der);
  if (!verdict.result || !verdict.certificatePath) {
    return diagnose({
      leafCertificate,
      leaf,
      intermediates,
      anchors: relevant,
      derOf,
      now,
      engineMessage: verdict.resultMessage,
    });
  }

  const path = verdict.certificatePath.map((certificate) =>
    parseCertificate(derOf.get(certificate) ?? encode(certificate)),
  );
  // RFC 5280 §6.1.4 (o): for every intermediate, "Recognize and process any other critical
  // extension present in the certificate" - or reject the path. pkijs does not; the end entity was
  // checked above (§6.1.5 (f)), the trust anchor is configuration, not a certificate on the path.
  for (let index = 1; index < verdict.certificatePath.length - 1; index += 1) {
    const intermediate = verdict.certificatePath[index];
    const critical = intermediate ? unknownCriticalExtension(intermediate) : null;
    const parsed = path[index];
    if (critical && parsed) {
      return failure(
        'bad-certificate',
        `The certificate of ${parsed.subject}, an intermediate authority on the path, has a critical extension Quiver does not recognise (${critical}).`,
        parsed.subject,
        parsed.issuer,
      );
    }
  }
  const lengthProblem = checkPathLength(verdict.certificatePath, path);
  if (lengthProblem) return lengthProblem;
  const top = verdict.certificatePath.at(-1);
  // pkijs may end the path at the server's copy of the root rather than at our object: compare bytes.
  const topDer = top ? (derOf.get(top) ?? encode(top)) : null;
  const anchor = relevant.find((candidate) => topDer !== null && sameBytes(candidate.der, topDer));
  if (!anchor) return failure('invalid-path', 'The path does not end at a trust anchor.', leaf.subject, leaf.issuer);
  return { ok: true, path, anchor };
}

/** A system root that OpenSSL reads but pkijs cannot is left out rather than failing every validation. */
function parsedAnchor(anchor: TrustAnchor): pkijs.Certificate | null {
  try {
    return anchor.certificate;
  } catch (error) {
    if (!(error instanceof SecurityError)) throw error;
    return null;
  }
}

function failure(
  code: PathFailureCode,
  reason: string,
  subject: string | null,
  issuer: string | null,
  date: Date | null = null,
): PathResult {
  return { ok: false, code, reason, subject, issuer, date };
}

function checkValidity(certificate: ParsedCertificate, now: Date): PathResult | null {
  // RFC 5280 §6.1.3 (a)(2): "The certificate validity period includes the current time."
  if (now.getTime() > certificate.notAfter.getTime()) {
    return failure(
      'expired',
      `The certificate of ${certificate.subject} expired on ${certificate.notAfter.toISOString()}.`,
      certificate.subject,
      certificate.issuer,
      certificate.notAfter,
    );
  }
  if (now.getTime() < certificate.notBefore.getTime()) {
    return failure(
      'not-yet-valid',
      `The certificate of ${certificate.subject} is not valid before ${certificate.notBefore.toISOString()}.`,
      certificate.subject,
      certificate.issuer,
      certificate.notBefore,
    );
  }
  return null;
}

/** RFC 5280 §4.2.1.12: "If the extension is present, then the certificate MUST only be used for one of the purposes indicated." */
function checkServerAuth(certificate: pkijs.Certificate, parsed: ParsedCertificate): PathResult | null {
  const extension = certificate.extensions?.find((candidate) => candidate.extnID === OID_EXT_KEY_USAGE);
  if (!extension) return null;
  const purposes = (extension.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
  if (purposes.includes(OID_SERVER_AUTH) || purposes.includes(OID_ANY_EXTENDED_KEY_USAGE)) return null;
  return failure(
    'wrong-usage',
    `The certificate of ${parsed.subject} is not meant for TLS servers (its extendedKeyUsage lacks serverAuth).`,
    parsed.subject,
    parsed.issuer,
  );
}

/**
 * RFC 5280 §4.2.1.3: "If the keyUsage extension is present, then the subject public key MUST NOT
 * be used to verify signatures on certificates ... unless the keyCertSign bit is set" and likewise
 * for the other purposes; the server's key signs the handshake: RFC 8446 §4.4.2.2 "The certificate
 * MUST allow the key to be used for signing (i.e., the digitalSignature bit MUST be set if the Key
 * Usage extension is present)".
 */
function checkDigitalSignature(certificate: pkijs.Certificate, parsed: ParsedCertificate): PathResult | null {
  const extension = certificate.extensions?.find((candidate) => candidate.extnID === OID_KEY_USAGE);
  if (!extension) return null;
  const bits = extension.parsedValue as asn1js.BitString | undefined;
  if (((bits?.valueBlock.valueHexView[0] ?? 0) & DIGITAL_SIGNATURE) !== 0) return null;
  return failure(
    'wrong-usage',
    `The certificate of ${parsed.subject} does not allow its key to sign (its keyUsage lacks digitalSignature), so it cannot authenticate a TLS server.`,
    parsed.subject,
    parsed.issuer,
  );
}

/**
 * RFC 5280 §4.2.1.9: cA "indicates whether the certified public key may be used to verify
 * certificate signatures"; a server presenting a CA certificate as its own is using a CA key for
 * TLS. Refused unless that exact certificate is a trust anchor the person configured.
 */
function checkNotCa(certificate: pkijs.Certificate, parsed: ParsedCertificate): PathResult | null {
  const extension = certificate.extensions?.find((candidate) => candidate.extnID === OID_BASIC_CONSTRAINTS);
  if ((extension?.parsedValue as pkijs.BasicConstraints | undefined)?.cA !== true) return null;
  return failure(
    'wrong-usage',
    `The certificate of ${parsed.subject} is a certificate authority's (basicConstraints cA=TRUE), not a server certificate.`,
    parsed.subject,
    parsed.issuer,
  );
}

function unknownCriticalExtension(certificate: pkijs.Certificate): string | null {
  const extension = certificate.extensions?.find(
    (candidate) => candidate.critical && !RECOGNIZED_EXTENSIONS.has(candidate.extnID),
  );
  return extension ? extension.extnID : null;
}

/**
 * RFC 5280 §4.2.1.9: pathLenConstraint "gives the maximum number of non-self-issued intermediate
 * certificates that may follow this certificate in a valid certification path". pkijs parses it but
 * does not enforce it.
 */
function checkPathLength(certificates: pkijs.Certificate[], parsed: ParsedCertificate[]): PathResult | null {
  for (let index = 1; index < certificates.length; index += 1) {
    const extension = certificates[index]?.extensions?.find((candidate) => candidate.extnID === OID_BASIC_CONSTRAINTS);
    const limit = (extension?.parsedValue as pkijs.BasicConstraints | undefined)?.pathLenConstraint;
    if (typeof limit !== 'number') continue;
    const below = parsed.slice(1, index).filter((certificate) => !certificate.selfIssued).length;
    if (below > limit) {
      const ca = parsed[index];
      return failure(
        'path-too-long',
        `${ca?.subject ?? 'A CA'} may sign only ${limit} intermediate level(s) below it, but the path has ${below}.`,
        ca?.subject ?? null,
        ca?.issuer ?? null,
      );
    }
  }
  return null;
}

/**
 * pkijs said no; find the reason a person can act on by walking up from the end entity by name and
 * signature. The walk only explains; it never turns a failure into a success.
 */
async function diagnose(input: {
  leafCertificate: pkijs.Certificate;
  leaf: ParsedCertificate;
  intermediates: pkijs.Certificate[];
  anchors: TrustAnchor[];
  derOf: Map<pkijs.Certificate, Uint8Array>;
  now: Date;
  engineMessage: string;
}): Promise<PathResult> {
  const { leafCertificate, leaf, intermediates, anchors, derOf, now, engineMessage } = input;
  const der = (certificate: pkijs.Certificate): Uint8Array => derOf.get(certificate) ?? encode(certificate);
  let current = leafCertificate;
  let currentParsed = leaf;
  const seen = new Set<pkijs.Certificate>([current]);
  for (let depth = 0; depth < MAX_CHAIN_LENGTH; depth += 1) {
    const isAnchor = anchors.some((anchor) => anchor.certificate === current);
    if (isAnchor) break;
    if (current.subject.isEqual(current.issuer) && (await verifies(current, undefined))) {
      return current === leafCertificate
        ? failure(
            'self-signed',
            `The certificate of ${leaf.subject} is self-signed and is not among the trusted certificates.`,
            leaf.subject,
            leaf.issuer,
          )
        : failure(
            'untrusted-issuer',
            `The chain ends at ${currentParsed.subject}, which is not a trusted authority.`,
            currentParsed.subject,
            currentParsed.subject,
          );
    }
    const named = [...anchors.map((anchor) => anchor.certificate), ...intermediates].filter(
      (candidate) => !seen.has(candidate) && candidate.subject.isEqual(current.issuer),
    );
    if (named.length === 0) {
      // Nothing by that name. A certificate from a public CA carries caIssuers (RFC 5280 §4.2.2.1) so
      // that clients can find the intermediate: then the server left it out; otherwise the
      // authority is simply not one Quiver knows.
      return hasCaIssuers(current)
        ? failure(
            'missing-intermediate',
            `The server did not send the certificate of ${currentParsed.issuer}, which issued ${currentParsed.subject}.`,
            currentParsed.subject,
            currentParsed.issuer,
          )
        : failure(
            'untrusted-issuer',
            `${currentParsed.issuer}, which issued ${currentParsed.subject}, is not a trusted authority.`,
            currentParsed.subject,
            currentParsed.issuer,
          );
    }
    let next: pkijs.Certificate | null = null;
    for (const candidate of named) {
      if (await verifies(current, candidate)) {
        next = candidate;
        break;
      }
    }
    if (!next) {
      return failure(
        'bad-signature',
        `The signature on the certificate of ${currentParsed.subject} does not verify with the key of ${currentParsed.issuer}.`,
        currentParsed.subject,
        currentParsed.issuer,
      );
    }
    seen.add(next);
    current = next;
    currentParsed = parseCertificate(der(next));
    const dated = checkValidity(currentParsed, now);
    if (dated) return dated;
    const extension = next.extensions?.find((candidate) => candidate.extnID === OID_BASIC_CONSTRAINTS);
    if ((extension?.parsedValue as pkijs.BasicConstraints | undefined)?.cA !== true) {
      return failure(
        'not-a-ca',
        `${currentParsed.subject} signed a certificate but is not a certificate authority (basicConstraints cA is not set).`,
        currentParsed.subject,
        currentParsed.issuer,
      );
    }
    // RFC 5280 §4.2.1.3: "If the keyUsage extension is present, then the subject public key MUST
    // NOT be used to verify signatures on certificates ... unless the keyCertSign bit is set."
    const keyUsage = next.extensions?.find((candidate) => candidate.extnID === OID_KEY_USAGE)?.parsedValue as
      asn1js.BitString | undefined;
    if (keyUsage && ((keyUsage.valueBlock.valueHexView[0] ?? 0) & 0x04) === 0) {
      return failure(
        'not-a-ca',
        `${currentParsed.subject} signed a certificate but its keyUsage does not allow signing certificates (keyCertSign).`,
        currentParsed.subject,
        currentParsed.issuer,
      );
    }
  }
  return failure('invalid-path', `The certificate path is not valid: ${engineMessage}`, leaf.subject, leaf.issuer);
}

async function verifies(certificate: pkijs.Certificate, issuer: pkijs.Certificate | undefined): Promise<boolean> {
  try {
    return await certificate.verify(issuer, cryptoEngine);
  } catch (error) {
    // An algorithm WebCrypto does not support, or a key that does not import: not a valid signature.
    void error;
    return false;
  }
}

function hasCaIssuers(certificate: pkijs.Certificate): boolean {
  const extension = certificate.extensions?.find((candidate) => candidate.extnID === OID_AUTHORITY_INFO_ACCESS);
  const access = extension?.parsedValue as pkijs.InfoAccess | undefined;
  return access?.accessDescriptions?.some((description) => description.accessMethod === OID_CA_ISSUERS) ?? false;
}

function encode(certificate: pkijs.Certificate): Uint8Array {
  return new Uint8Array(certificate.toSchema().toBER());
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}
