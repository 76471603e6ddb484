/** A transport-level failure (connect, TLS handshake, I/O) with a stable `code` and a human message. */
import { QuiverError } from '../contract/quiverError.ts';
export class TransportError extends QuiverError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
  }
}
