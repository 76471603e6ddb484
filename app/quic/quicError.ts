/**
 * Transport error codes of RFC 9000 §20.1 and the one error type the QUIC layer uses for them.
 * A `QuicError` thrown inside the connection machine becomes a CONNECTION_CLOSE with that code;
 * it never escapes `QuicConnection.handle*`.
 */
import { QuiverError } from '../contract/quiverError.ts';

/** RFC 9000 §20.1 Transport Error Codes. */
export const TransportErrorCode = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
} as const;

export type TransportErrorName = keyof typeof TransportErrorCode | 'CRYPTO_ERROR';

/** RFC 9000 §20.1: CRYPTO_ERROR (0x0100-0x01ff) carries the TLS alert in its low byte. */
export const CRYPTO_ERROR_BASE = 0x100;

export function transportErrorName(code: number): string {
  if (code >= CRYPTO_ERROR_BASE && code <= 0x1ff) return `CRYPTO_ERROR(${code - CRYPTO_ERROR_BASE})`;
  for (const [name, value] of Object.entries(TransportErrorCode)) if (value === code) return name;
  return `0x${code.toString(16)}`;
}

/** A protocol error detected in what the peer sent; `code` is the RFC 9000 name, `errorCode` its number. */
export class QuicError extends QuiverError<TransportErrorName> {
  readonly errorCode: number;
  /** The frame type that triggered the error, when known (CONNECTION_CLOSE carries it). */
  readonly frameType: number;

  constructor(code: TransportErrorName, message: string, frameType = 0, errorCode?: number) {
    super(code, message);
    this.errorCode = errorCode ?? (code === 'CRYPTO_ERROR' ? CRYPTO_ERROR_BASE : TransportErrorCode[code]);
    this.frameType = frameType;
  }
}
