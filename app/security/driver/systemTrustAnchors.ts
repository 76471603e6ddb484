/**
 * The system's root certificates, read and parsed once per process (Node's view of the system
 * store, else Debian's bundle file, else the roots compiled into Node), joined with the extra CAs a
 * user configured for an account, which are parsed on every call and belong to that call's result
 * only. Parsing and combining is pure (app/security/trustAnchors.ts); this file only reads.
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

/** One place system roots may come from; `load` throws when the store is not there. */
export interface SystemRootSource {
  readonly name: string;
  load(): string[];
}

/** In order of preference: the first source that yields at least one parseable root is used. */
export const SYSTEM_ROOT_SOURCES: readonly SystemRootSource[] = [
  { name: "tls.getCACertificates('system')", load: () => tls.getCACertificates('system') },
  { name: SYSTEM_BUNDLE_PATH, load: () => [readFileSync(SYSTEM_BUNDLE_PATH, 'utf8')] },
  { name: "tls.getCACertificates('bundled')", load: () => tls.getCACertificates('bundled') },
];

/**
 * The system roots plus every certificate in each of `extraPem` (each may be a bundle).
 * `options.includeSystem: false` gives only the extra anchors (tests; an account that pins its own CA).
 * @throws SecurityError `bad-trust-anchor` when an extra PEM holds no certificate or a malformed one
 *   (see `buildTrustAnchors`)
 */
export type LoadTrustAnchors = (extraPem: string[], options?: { includeSystem?: boolean }) => TrustAnchors;

/**
 * A loader that reads `sources` at its first call that wants system roots and keeps the parsed,
 * de-duplicated roots for its lifetime: every later call shares the same `TrustAnchor` objects (and
 * so what pkijs parsed of them), and gets a fresh `TrustAnchors` holding only its own extra CAs.
 */
export function trustAnchorLoader(sources: readonly SystemRootSource[]): LoadTrustAnchors {
  let cache: SystemRoots | null = null;
  const systemRoots = (): SystemRoots => {
    cache ??= readSystemRoots(sources);
    return cache;
  };
  return (extraPem, options = {}) =>
    buildTrustAnchors(extraPem, options.includeSystem === false ? NO_SYSTEM_ROOTS : systemRoots());
}

/** The process's loader: the system roots are read and parsed once per process. */
export const loadTrustAnchors: LoadTrustAnchors = trustAnchorLoader(SYSTEM_ROOT_SOURCES);

function readSystemRoots(sources: readonly SystemRootSource[]): SystemRoots {
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
    if (roots.anchors.length > 0) return roots;
  }
  return NO_SYSTEM_ROOTS;
}
