/**
 * The shape of "one small JSON document over verified HTTPS", which POSH (RFC 7711) and host-meta
 * (XEP-0156 / XEP-0487) both rest on. The fetch itself owns sockets and a deadline, so it lives in
 * driver/httpsFetch.ts (`fetchHttpsJson`); pure code such as the POSH source is handed one.
 */
import type { TrustAnchors } from './trustAnchors.ts';

export interface HttpsJsonOptions {
  anchors: TrustAnchors;
  /** Addresses of a host name; default: the system's resolver (getaddrinfo). */
  resolve?: (host: string) => Promise<string[]>;
  /** For the whole fetch, redirects included. Default 5000. */
  timeoutMs?: number;
  /** Largest body accepted. Default 64 KiB. */
  maxBytes?: number;
  /** Default 3. */
  maxRedirects?: number;
  /**
   * Connect to this port for every URL that names none (instead of 443), redirects and POSH `url`
   * references included. For the test lab, whose HTTPS server cannot own 443; URLs stay as written.
   */
  httpsPort?: number;
  /** Abandons the fetch (discovery stops waiting for host-meta once SRV answered): it rejects at once. */
  signal?: AbortSignalLike;
}

/** The part of an AbortSignal the fetch uses (the pure build has no DOM or Node globals). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * GETs `url` over HTTPS checked with PKIX against `opts.anchors` and parses the body as JSON.
 * @returns the final URL (after redirects) and the parsed value
 * @throws SecurityError `https-failed`, `https-too-large`, `https-bad-json`, `https-redirect`
 */
export type FetchHttpsJson = (url: string, opts: HttpsJsonOptions) => Promise<{ url: string; json: unknown }>;
