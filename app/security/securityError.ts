/**
 * The one error type of app/security. `code` is stable (callers and tests switch on it); `message`
 * is worded for a person: what happened and, where there is something to do, what to do.
 */
import { QuiverError } from '../contract/quiverError.ts';

export type SecurityErrorCode =
  /** DER that is not an X.509 certificate (RFC 5280 §4.1), or one Quiver cannot process. */
  | 'bad-certificate'
  /** An extra trust anchor (PEM) given by the user holds no usable certificate. */
  | 'bad-trust-anchor'
  /** No answer from the DNS server within the timeout, after the retry. */
  | 'dns-timeout'
  /** The DNS server's answer could not be decoded or was absurd (counts, sizes). */
  | 'dns-malformed'
  /** The DNS server could not be reached (socket error, connection refused, reset). */
  | 'dns-network'
  /** The name asked for is not a valid DNS name (RFC 1035 §2.3.4 size limits). */
  | 'dns-bad-name'
  /** The resolver setting is not HOST, HOST:PORT or [IPv6]:PORT with an address literal. */
  | 'dns-bad-server'
  /** An HTTPS fetch failed: connection, TLS (PKIX) verification, timeout, or a status other than 200. */
  | 'https-failed'
  /** An HTTPS response body was larger than the caller's limit. */
  | 'https-too-large'
  /** An HTTPS response body is not JSON (RFC 8259). */
  | 'https-bad-json'
  /** An HTTPS redirect went to something other than https, or there were too many redirects. */
  | 'https-redirect';

export class SecurityError extends QuiverError<SecurityErrorCode> {
  /** For `https-failed` after a response: its HTTP status (POSH tries another path on 404). */
  readonly httpStatus: number | null;

  constructor(code: SecurityErrorCode, message: string, options?: { cause?: unknown; httpStatus?: number }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.httpStatus = options?.httpStatus ?? null;
  }
}
