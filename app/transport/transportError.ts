/** A transport-level failure (connect, TLS handshake, I/O) with a stable `code` and a human message. */
export class TransportError extends Error {
  readonly code: string;
  constructor(code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
    this.code = code;
  }
}
