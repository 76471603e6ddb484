/**
 * The one error type of app/security. `code` is stable (callers and tests switch on it); `message`
 * is worded for a person: what happened and, where there is something to do, what to do.
 */

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
  | 'dns-bad-server';

export class SecurityError extends Error {
  readonly code: SecurityErrorCode;

  constructor(code: SecurityErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecurityError';
    this.code = code;
  }
}
