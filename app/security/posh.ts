/**
 * The POSH prooftype (draft-ietf-xmpp-dna-10 §5.2, RFC 7711): the JID's domain publishes, over
 * HTTPS it proves with PKIX, the fingerprints of the certificate its (hosted) XMPP server presents.
 * "The client's verification material is obtained by retrieving a hash of the PKIX certificate over
 * HTTPS at a well-known URI" (DNA §5.2 step 3), so the whole DER end-entity certificate is hashed,
 * as deployed clients do.
 *
 * `PoshSource` fetches and caches (RFC 7711 §3.1 `expires`); `provePosh` compares. The verifier tries
 * POSH only when the certificate does not name the JID's domain (a hosted domain).
 */
import { createHash } from 'node:crypto';
import type { ParsedCertificate } from './certificate.ts';
import type { FetchHttpsJson, HttpsJsonOptions } from './httpsJson.ts';
import type { ProofOutcome } from './pkixProof.ts';
import { SecurityError } from './securityError.ts';
import type { ServerFacts } from './serverFacts.ts';
import { anchorSetKey, type TrustAnchors } from './trustAnchors.ts';

/**
 * The RFC 7711 §3 path for the `xmpp-client` service, then the path registered by
 * draft-ietf-xmpp-dna-10 §8.1 (`posh._xmpp-client._tcp.json`), which the lab seeds use.
 */
export const POSH_PATHS = ['/.well-known/posh/xmpp-client.json', '/.well-known/posh._xmpp-client._tcp.json'] as const;
/** A failed fetch is remembered this long, so a reconnect loop does not hammer the web server. */
export const POSH_FAILURE_TTL_MS = 60_000;
/** Even a document that says "expires" in a year is fetched again after this long. */
export const POSH_MAX_TTL_MS = 7 * 24 * 3600_000;

export type PoshLookup =
  | {
      ok: true;
      /** The document that held the fingerprints. */
      url: string;
      /** The JID domain's own document when it delegated with `url`. */
      delegatedFrom: string | null;
      fingerprints: PoshFingerprint[];
      cached: boolean;
    }
  | { ok: false; reason: string; cached: boolean };

export interface PoshSource {
  /** POSH fingerprints for `domain`'s `xmpp-client` service. Never throws for what the network or the web server did. */
  lookup(domain: string): Promise<PoshLookup>;
}

/** One POSH fingerprint object (RFC 7711 §3.1): base64 digests of the whole DER certificate. */
export interface PoshFingerprint {
  'sha-256'?: string;
  'sha-512'?: string;
}

/** What the source remembers of one lookup, success or failure, until `expiresAt`. */
export interface PoshCacheEntry {
  /** The JID's domain, lowercase. */
  domain: string;
  /** Which trust anchors verified the HTTPS fetch: `anchorSetKey` (trustAnchors.ts), 64 lowercase hex. */
  anchorSet: string;
  /** The document that held the fingerprints; null for a failure. */
  url: string | null;
  /** The domain's own document when it delegated with `url` (RFC 7711 §3.2). */
  delegatedFrom: string | null;
  /** Null for a failure. */
  fingerprints: PoshFingerprint[] | null;
  /** Why there is no POSH proof (worded for a person); null on success. */
  error: string | null;
  /** Milliseconds since the epoch. */
  fetchedAt: number;
  expiresAt: number;
}

/**
 * The storage methods the source keeps its cache in (app/storage/poshCache.ts). Entries are filed
 * by domain and by the trust anchors that verified the fetch (`anchorSetKey`): a document is proof
 * only to someone who trusts the HTTPS it came over.
 */
export interface PoshCache {
  getPoshEntry(domain: string, anchorSet: string): PoshCacheEntry | null;
  putPoshEntry(entry: PoshCacheEntry): void;
}

export interface PoshSourceOptions {
  /** Anchors for the HTTPS fetch: the system roots plus the account's extra CAs. */
  anchors: TrustAnchors;
  /** The account's resolver for host names (lab names exist only there). */
  resolve?: (host: string) => Promise<string[]>;
  cache?: PoshCache | null;
  /** Milliseconds since the epoch: the system clock in the app, a fake clock in tests. */
  now: () => number;
  timeoutMs?: number;
  /** See `HttpsJsonOptions.httpsPort` (the test lab). */
  httpsPort?: number;
  /** The HTTPS fetch: driver/httpsFetch.ts's `fetchHttpsJson` in the app. */
  fetchJson: FetchHttpsJson;
}

type PoshDocument =
  | { kind: 'fingerprints'; fingerprints: PoshFingerprint[]; expires: number | null }
  | { kind: 'url'; url: string; expires: number | null };

/**
 * Reads a POSH document (RFC 7711 §3.1/§3.2): `{"fingerprints":[{"sha-256":"…"}], "expires": s}` or
 * `{"url":"https://…", "expires": s}`.
 * @throws SecurityError `https-bad-json` when the document is not one of these
 */
export function parsePoshDocument(json: unknown, source: string): PoshDocument {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SecurityError('https-bad-json', `The POSH document ${source} is not a JSON object.`);
  }
  const document = json as Record<string, unknown>;
  const rawExpires = document.expires;
  const expires =
    typeof rawExpires === 'number' && Number.isFinite(rawExpires) ? Math.max(0, Math.floor(rawExpires)) : null;
  if (Array.isArray(document.fingerprints)) {
    const fingerprints: PoshFingerprint[] = [];
    for (const entry of document.fingerprints.slice(0, 64)) {
      if (typeof entry !== 'object' || entry === null) continue;
      const item = entry as Record<string, unknown>;
      const fingerprint: PoshFingerprint = {};
      if (typeof item['sha-256'] === 'string') fingerprint['sha-256'] = item['sha-256'];
      if (typeof item['sha-512'] === 'string') fingerprint['sha-512'] = item['sha-512'];
      // RFC 7711 §3.1: other hash algorithms may appear; Quiver knows these two.
      if (fingerprint['sha-256'] !== undefined || fingerprint['sha-512'] !== undefined) fingerprints.push(fingerprint);
    }
    if (fingerprints.length === 0)
      throw new SecurityError('https-bad-json', `The POSH document ${source} lists no sha-256 or sha-512 fingerprint.`);
    return { kind: 'fingerprints', fingerprints, expires };
  }
  if (typeof document.url === 'string') {
    // RFC 7711 §3.2: a POSH reference points to another HTTPS resource; never follow plain http.
    if (!/^https:\/\//i.test(document.url))
      throw new SecurityError(
        'https-redirect',
        `The POSH document ${source} delegates to ${document.url}, which is not an https address.`,
      );
    return { kind: 'url', url: document.url, expires };
  }
  throw new SecurityError('https-bad-json', `The POSH document ${source} has neither "fingerprints" nor "url".`);
}

export function createPoshSource(options: PoshSourceOptions): PoshSource {
  const { now, fetchJson } = options;
  const httpsOptions: HttpsJsonOptions = {
    anchors: options.anchors,
    resolve: options.resolve,
    timeoutMs: options.timeoutMs,
    httpsPort: options.httpsPort,
  };
  // Computed on first use: hashing the system roots is cheap, but not free.
  let anchorSet: string | null = null;
  const anchorSetOfFetch = (): string => (anchorSet ??= anchorSetKey(options.anchors));

  async function fetchDomainDocument(domain: string): Promise<{ url: string; document: PoshDocument }> {
    let lastError: SecurityError | null = null;
    for (const path of POSH_PATHS) {
      const url = `https://${domain}${path}`;
      try {
        const fetched = await fetchJson(url, httpsOptions);
        return { url: fetched.url, document: parsePoshDocument(fetched.json, fetched.url) };
      } catch (error) {
        if (!(error instanceof SecurityError)) throw error;
        lastError = error;
        // Only "not there" sends us to the other path; anything else (TLS, timeout) would repeat.
        if (error.httpStatus !== 404) throw error;
      }
    }
    throw new SecurityError(
      'https-failed',
      `${domain} publishes no POSH document (HTTP 404 at ${POSH_PATHS.join(' and ')}).`,
      { httpStatus: 404, cause: lastError },
    );
  }

  async function fetchFresh(domain: string, at: number, anchors: string): Promise<PoshCacheEntry> {
    const first = await fetchDomainDocument(domain);
    let expires = first.document.expires;
    let url = first.url;
    let delegatedFrom: string | null = null;
    let document = first.document;
    if (document.kind === 'url') {
      // RFC 7711 §3.2: the client follows the reference; Quiver follows exactly one.
      delegatedFrom = first.url;
      const second = await fetchJson(document.url, httpsOptions);
      url = second.url;
      document = parsePoshDocument(second.json, second.url);
      if (document.kind === 'url')
        throw new SecurityError(
          'https-redirect',
          `The POSH document ${second.url} delegates again (to ${document.url}); Quiver follows only one POSH delegation.`,
        );
      expires = minExpires(expires, document.expires);
    }
    const ttlMs = expires === null ? 0 : Math.min(expires * 1000, POSH_MAX_TTL_MS);
    return {
      domain,
      anchorSet: anchors,
      url,
      delegatedFrom,
      fingerprints: document.fingerprints,
      error: null,
      fetchedAt: at,
      expiresAt: at + ttlMs,
    };
  }

  return {
    async lookup(domain) {
      const key = domain.toLowerCase().replace(/\.$/, '');
      const at = now();
      const anchors = anchorSetOfFetch();
      const cached = options.cache?.getPoshEntry(key, anchors) ?? null;
      // The anchor set is part of the key; compared again so that no cache can hand over another's.
      if (cached && cached.anchorSet === anchors && cached.expiresAt > at) return fromEntry(cached, true);
      let entry: PoshCacheEntry;
      try {
        entry = await fetchFresh(key, at, anchors);
      } catch (error) {
        if (!(error instanceof SecurityError)) throw error;
        // A failure is remembered per anchor set too: an account that trusts the web server's CA
        // must not be told "no POSH" because another account could not verify it.
        entry = {
          domain: key,
          anchorSet: anchors,
          url: null,
          delegatedFrom: null,
          fingerprints: null,
          error: error.message,
          fetchedAt: at,
          expiresAt: at + POSH_FAILURE_TTL_MS,
        };
      }
      // Without `expires` (or with 0) the document states no lifetime: it is used now and not kept.
      if (entry.expiresAt > at) options.cache?.putPoshEntry(entry);
      return fromEntry(entry, false);
    },
  };
}

function minExpires(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

function fromEntry(entry: PoshCacheEntry, cached: boolean): PoshLookup {
  if (entry.fingerprints && entry.url)
    return { ok: true, url: entry.url, delegatedFrom: entry.delegatedFrom, fingerprints: entry.fingerprints, cached };
  return { ok: false, reason: entry.error ?? 'no POSH document', cached };
}

/** Does any fingerprint name this DER certificate? Compared as bytes, so base64 padding variants match. */
export function poshMatches(fingerprints: readonly PoshFingerprint[], der: Uint8Array): 'sha-256' | 'sha-512' | null {
  const sha256 = createHash('sha256').update(der).digest();
  const sha512 = createHash('sha512').update(der).digest();
  for (const fingerprint of fingerprints) {
    if (fingerprint['sha-256'] !== undefined && Buffer.from(fingerprint['sha-256'], 'base64').equals(sha256))
      return 'sha-256';
    if (fingerprint['sha-512'] !== undefined && Buffer.from(fingerprint['sha-512'], 'base64').equals(sha512))
      return 'sha-512';
  }
  return null;
}

/**
 * The POSH attempt for one handshake. A match proves the server for `facts.domain`: the domain
 * itself, over HTTPS it proved with PKIX, named this exact certificate. The certificate must still be
 * within its validity period (RFC 5280 §4.1.2.5); its issuer does not matter, since the domain
 * vouched for this certificate byte for byte.
 */
export async function provePosh(
  facts: ServerFacts,
  leaf: ParsedCertificate,
  ctx: { posh: PoshSource; now: Date },
): Promise<ProofOutcome> {
  const lookup = await ctx.posh.lookup(facts.domain);
  const failed = (detail: string): ProofOutcome => ({
    attempt: { prooftype: 'posh', ok: false, detail },
    identity: null,
    delegation: null,
    error: null,
  });
  if (!lookup.ok)
    return failed(
      `no POSH proof from ${facts.domain}: ${lookup.reason}${lookup.cached ? ' (remembered from a recent attempt)' : ''}`,
    );
  const source = lookup.delegatedFrom ? `${lookup.delegatedFrom} (delegating to ${lookup.url})` : lookup.url;
  const algorithm = poshMatches(lookup.fingerprints, leaf.der);
  if (algorithm === null)
    return failed(`${source} lists ${lookup.fingerprints.length} fingerprint(s), none of this certificate`);
  if (ctx.now < leaf.notBefore || ctx.now > leaf.notAfter) {
    return failed(
      `${source} lists this certificate's ${algorithm}, but it is valid only from ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()}`,
    );
  }
  return {
    attempt: {
      prooftype: 'posh',
      ok: true,
      detail: `${source} lists this certificate's ${algorithm} fingerprint${lookup.cached ? ' (cached)' : ''}`,
    },
    identity: `posh:${facts.domain}`,
    delegation: `posh:${lookup.delegatedFrom ?? lookup.url}`,
    error: null,
  };
}
