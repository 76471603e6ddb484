/**
 * Whether a certificate is within its validity period now. The view model carries the dates as
 * text (ISO 8601 from the core); a date that does not parse is reported as `unknown` rather than
 * guessed.
 */
import type { CertificateSummary } from '../../app/contract/viewModels.ts';

export type Validity = 'valid' | 'expired' | 'not-yet-valid' | 'unknown';

export function certificateValidity(cert: Pick<CertificateSummary, 'notBefore' | 'notAfter'>, now: number): Validity {
  const from = Date.parse(cert.notBefore);
  const until = Date.parse(cert.notAfter);
  if (Number.isNaN(from) || Number.isNaN(until)) return 'unknown';
  if (now > until) return 'expired';
  if (now < from) return 'not-yet-valid';
  return 'valid';
}

export const validityLabel: Record<Validity, string> = {
  valid: 'Valid now',
  expired: 'Expired',
  'not-yet-valid': 'Not valid yet',
  unknown: 'Validity dates unreadable',
};

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** A certificate date for people: the local date when it parses, the raw text otherwise. */
export function formatCertDate(text: string): string {
  if (text === '') return 'an unknown date';
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : dateFormat.format(ms);
}
