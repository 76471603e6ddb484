/**
 * TLS alert codes (RFC 8446bis §6 and Appendix B.2) and the typed error the handshake raises
 * internally when the peer misbehaves. A TlsAlertError never leaves TlsHandshake: it becomes an
 * 'error' event, which the QUIC layer turns into CRYPTO_ERROR 0x0100 + alert (RFC 9001 §4.8).
 */
import { ByteReader } from '../byteReader.ts';
import { QuiverError } from '../../contract/quiverError.ts';

export const Alert = {
  unexpected_message: 10,
  bad_record_mac: 20,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  internal_error: 80,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;

export type AlertName = keyof typeof Alert;

/** RFC 9000 §20.1 PROTOCOL_VIOLATION: where RFC 9001 names it instead of an alert. */
export const QUIC_PROTOCOL_VIOLATION = 0x0a;
/** RFC 9000 §20.1 CRYPTO_BUFFER_EXCEEDED: "An endpoint has received more data in CRYPTO frames than it can buffer." */
export const QUIC_CRYPTO_BUFFER_EXCEEDED = 0x0d;

export function alertName(alert: number): string {
  for (const [name, code] of Object.entries(Alert)) if (code === alert) return name;
  return `alert_${alert}`;
}

/** A fatal handshake failure caused by the peer (or by the caller refusing the peer). */
export class TlsAlertError extends QuiverError<'tls-alert'> {
  readonly alert: number;
  readonly reason: string;
  /** Set when RFC 9001 asks for a QUIC transport error rather than CRYPTO_ERROR. */
  readonly quicError: number | undefined;
  constructor(alert: number, reason: string, quicError?: number) {
    super('tls-alert', `${alertName(alert)}: ${reason}`);
    this.alert = alert;
    this.reason = reason;
    this.quicError = quicError;
  }
}

/** Raise a fatal alert; for use in decoding and validation code paths. */
export function fail(alert: number, reason: string, quicError?: number): never {
  throw new TlsAlertError(alert, reason, quicError);
}

/**
 * A reader for a TLS structure named `what`: running off its end, or a vector length out of range,
 * is decode_error (RFC 8446bis §6.2: "A message could not be decoded because some field was out
 * of the specified range or the length of the message was incorrect").
 */
export function tlsReader(bytes: Uint8Array, what: string): ByteReader {
  return new ByteReader(bytes, 0, bytes.length, (message) => fail(Alert.decode_error, message), what);
}
