/**
 * The system's root certificates, read once per process (Node's view of the system store, else
 * Debian's bundle file, else the roots compiled into Node), joined with the extra CAs a user
 * configured for an account. Parsing and combining is pure (app/security/trustAnchors.ts); this
 * file only reads.
 */
import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import {
  buildTrustAnchors,
  NO_SYSTEM_ROOTS,
  parseSystemRoots,
  type SystemRoots,
  type TrustAnchors,
} from '../trustAnchors.ts';

export const SYSTEM_BUNDLE_PATH = '/etc/ssl/certs/ca-certificates.crt';

let systemCache: SystemRoots | null = null;

/**
 * The system roots plus every certificate in each of `extraPem` (each may be a bundle).
 * `options.includeSystem: false` gives only the extra anchors (tests; an account that pins its own CA).
 * @throws SecurityError `bad-trust-anchor` when an extra PEM holds no certificate or a malformed one
 *   (see `buildTrustAnchors`)
 */
export function loadTrustAnchors(extraPem: string[], options: { includeSystem?: boolean } = {}): TrustAnchors {
  return buildTrustAnchors(extraPem, options.includeSystem === false ? NO_SYSTEM_ROOTS : systemRoots());
}

function systemRoots(): SystemRoots {
  if (systemCache) return systemCache;
  const sources: { name: string; load: () => string[] }[] = [
    { name: "tls.getCACertificates('system')", load: () => tls.getCACertificates('system') },
    { name: SYSTEM_BUNDLE_PATH, load: () => [readFileSync(SYSTEM_BUNDLE_PATH, 'utf8')] },
    { name: "tls.getCACertificates('bundled')", load: () => tls.getCACertificates('bundled') },
  ];
  for (const source of sources) {
    let pems: string[];
    try {
      pems = source.load();
    } catch (error) {
      // A missing store is normal on some systems: try the next source.
      void error;
      continue;
    }
    const roots = parseSystemRoots(pems, source.name);
    if (roots.anchors.length > 0) {
      systemCache = roots;
      return systemCache;
    }
  }
  systemCache = NO_SYSTEM_ROOTS;
  return systemCache;
}
