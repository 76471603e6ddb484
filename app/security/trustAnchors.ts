/**
 * The certificates Quiver trusts as roots of a PKIX path (RFC 5280 §6.1.1 (d), "trust anchor
 * information"): the system's roots plus the extra CAs a user configured for an account.
 *
 * Under QUIC no OpenSSL checks the chain, so this set is what `validatePath` anchors to for every
 * transport. Reading the system's roots is I/O (driver/systemTrustAnchors.ts, `loadTrustAnchors`,
 * which parses them once per process); this file parses and combines what it is given.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type * as pkijs from 'pkijs';
import { decodeCertificate, formatName } from './certificate.ts';
import { SecurityError } from './securityError.ts';

export interface TrustAnchor {
  readonly der: Uint8Array;
  readonly origin: 'system' | 'extra';
  /** The subject as a normalised string (`nameKey`), to find candidate issuers without parsing every root. */
  readonly nameKey: string;
  /** The pkijs view, parsed on first use (parsing all system roots with pkijs costs ~0.5 s; natively, ~25 ms). */
  readonly certificate: pkijs.Certificate;
  /** RFC 4514-style subject, for messages (parsed on first use). */
  readonly subject: string;
}

export interface TrustAnchors {
  readonly anchors: readonly TrustAnchor[];
  /** Where the system roots came from (`tls.getCACertificates('system')`, the bundle file, ...) or `none`. */
  readonly systemSource: string;
  /** System certificates that could not be parsed and were left out (never the user's extra ones). */
  readonly skipped: number;
}

/** The system's roots, parsed: `source` says where they came from (`none` for no system roots). */
export interface SystemRoots {
  readonly anchors: readonly TrustAnchor[];
  readonly source: string;
  /** Certificates that could not be parsed and were left out. */
  readonly skipped: number;
}

export const NO_SYSTEM_ROOTS: SystemRoots = { anchors: [], source: 'none', skipped: 0 };

/**
 * `system` plus every certificate in each of `extraPem` (each may be a bundle).
 * @throws SecurityError `bad-trust-anchor` when an extra PEM holds no certificate or a malformed one:
 *   a user's trust setting that silently did nothing would be worse than an error.
 */
export function buildTrustAnchors(extraPem: string[], system: SystemRoots = NO_SYSTEM_ROOTS): TrustAnchors {
  const extra: TrustAnchor[] = [];
  for (const [index, pem] of extraPem.entries()) {
    const blocks = pemCertificates(pem);
    if (blocks.length === 0) {
      throw new SecurityError(
        'bad-trust-anchor',
        `Extra trust anchor ${index + 1} contains no PEM certificate (-----BEGIN CERTIFICATE-----).`,
      );
    }
    for (const der of blocks) {
      try {
        extra.push(toAnchor(der, 'extra'));
      } catch (error) {
        throw new SecurityError(
          'bad-trust-anchor',
          `Extra trust anchor ${index + 1} contains a certificate that cannot be parsed: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
  }
  return { anchors: [...system.anchors, ...extra], systemSource: system.source, skipped: system.skipped };
}

/**
 * A name for this exact set of anchors (lowercase hex SHA-256 over the sorted SHA-256 of each
 * anchor's DER, duplicates once): equal for two accounts that trust the same certificates, in any
 * order, different as soon as one trusts an extra CA. Whatever was learnt over HTTPS verified with
 * these anchors (a POSH document) is filed under it. Memoised per `TrustAnchors` object.
 */
export function anchorSetKey(anchors: TrustAnchors): string {
  const known = anchorSetKeys.get(anchors);
  if (known !== undefined) return known;
  const digests = [
    ...new Set(anchors.anchors.map((anchor) => createHash('sha256').update(anchor.der).digest('hex'))),
  ].sort();
  const key = createHash('sha256').update(digests.join('\n')).digest('hex');
  anchorSetKeys.set(anchors, key);
  return key;
}

const anchorSetKeys = new WeakMap<TrustAnchors, string>();

/** Every `CERTIFICATE` block of a PEM text (RFC 7468 §5), decoded. Other block types are ignored. */
export function pemCertificates(pem: string): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  const pattern = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/g;
  for (const match of pem.matchAll(pattern)) {
    const bytes = Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64');
    if (bytes.byteLength > 0) blocks.push(new Uint8Array(bytes));
  }
  return blocks;
}

/**
 * The roots in `pems` (the PEM texts of one source: a bundle file, Node's certificate list), as
 * system anchors, each distinct certificate once (Node 24's `tls.getCACertificates('system')` lists
 * 576 entries for 144 distinct roots here). Only OpenSSL parses them here; pkijs parses a root when a
 * chain names it (`TrustAnchor.certificate`). Certificates that do not parse are counted in `skipped`.
 */
export function parseSystemRoots(pems: readonly string[], source: string): SystemRoots {
  const anchors: TrustAnchor[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  for (const der of pems.flatMap(pemCertificates)) {
    const key = Buffer.from(der).toString('base64');
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      anchors.push(toAnchor(der, 'system'));
    } catch (error) {
      if (!(error instanceof SecurityError)) throw error;
      skipped += 1;
    }
  }
  return { anchors, source, skipped };
}

function toAnchor(der: Uint8Array, origin: TrustAnchor['origin']): TrustAnchor {
  const key = subjectNameKey(der);
  if (key === null) throw new SecurityError('bad-certificate', 'The certificate cannot be parsed.');
  let certificate: pkijs.Certificate | null = null;
  let subject: string | null = null;
  // The user's own anchors are parsed now, so that a bad one is reported when it is configured.
  if (origin === 'extra') certificate = decodeCertificate(der);
  return {
    der,
    origin,
    nameKey: key,
    get certificate(): pkijs.Certificate {
      certificate ??= decodeCertificate(der);
      return certificate;
    },
    get subject(): string {
      subject ??= formatName(this.certificate.subject);
      return subject;
    },
  };
}

/** The subject name of a certificate as a comparison key, or null when it does not parse natively. */
export function subjectNameKey(der: Uint8Array): string | null {
  return nameKeys(der)?.subject ?? null;
}

/** The issuer name of a certificate as a comparison key (equal to its issuer's `subjectNameKey`), or null. */
export function issuerNameKey(der: Uint8Array): string | null {
  return nameKeys(der)?.issuer ?? null;
}

function nameKeys(der: Uint8Array): { subject: string; issuer: string } | null {
  try {
    const x509 = new X509Certificate(der);
    return { subject: normalizeName(x509.subject), issuer: normalizeName(x509.issuer) };
  } catch (error) {
    // Not parseable by OpenSSL: callers fall back to pkijs name comparison.
    void error;
    return null;
  }
}

/** RFC 5280 §7.1 compares names case-insensitively with internal whitespace collapsed (RFC 4518 §2.6.1). */
function normalizeName(name: string): string {
  return name
    .split('\n')
    .map((rdn) => rdn.toLowerCase().replace(/\s+/g, ' ').trim())
    .join('\n');
}
