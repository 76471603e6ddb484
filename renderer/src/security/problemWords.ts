/**
 * The certificate decision dialog's wording: what is wrong with the certificate (from
 * `CertificateDecisionView.problem`) and advice that fits that problem (issue 13: "The certificate
 * decision dialog names the actual problem (wrong name, expired, unknown issuer, missing
 * intermediate, key changed) with advice that fits it"). Pure: the caller passes `now`.
 */
import type { CertificateDecisionView, CertificateSummary } from '../../../app/contract/viewModels.ts';

export interface ProblemWords {
  /** One sentence naming the problem, shown first. */
  problem: string;
  /** What the person should do about it, shown under the problem. */
  advice: string;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' });

/** A certificate date (ISO 8601 text) as a local date; the text itself when it does not parse. */
export function certificateDate(text: string): string {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : dateFormat.format(ms);
}

/** The readable part of a distinguished name: its CN when it has one, else the whole name. */
export function dnName(dn: string): string {
  const cn = /(?:^|,\s*)CN=([^,]+)/.exec(dn);
  return cn?.[1]?.trim() ?? dn;
}

/** The names a certificate is for, without their `dns:` / `xmpp:` / `srv:` tags, each once. */
export function certificateNames(certificate: CertificateSummary | undefined): string[] {
  if (!certificate) return [];
  const names = certificate.subjectAltNames.map((san) => {
    const colon = san.indexOf(':');
    return colon < 0 ? san : san.slice(colon + 1);
  });
  if (names.length === 0) names.push(dnName(certificate.subject));
  return [...new Set(names)];
}

/** "a", "a and b", "a, b and c". */
export function listWords(items: string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The decision's problem; a changed pinned key is that, whatever else is wrong with the new certificate. */
export const problemOf = (decision: CertificateDecisionView) =>
  decision.kind === 'key-changed' ? 'key-changed' : decision.problem;

/** The problem and the advice for one decision. */
export function problemWords(decision: CertificateDecisionView, now: number): ProblemWords {
  const leaf = decision.certificates[0];
  const domain = decision.domain;
  const today = dateFormat.format(now);
  switch (problemOf(decision)) {
    case 'wrong-name':
      return {
        problem: `The certificate is for ${listWords(certificateNames(leaf)) || 'no name at all'}, not ${domain}.`,
        advice:
          "This may be a misconfigured server or someone intercepting the connection. Do not accept it unless the server's admin told you this name is expected.",
      };
    case 'expired':
      return {
        problem: `The certificate expired on ${leaf ? certificateDate(leaf.notAfter) : 'an unknown date'} (today is ${today}).`,
        advice:
          "Usually the server's admin forgot to renew it, but an old certificate may also be a stolen one. Tell the admin; accept once only if you know the server and expect this.",
      };
    case 'not-yet-valid':
      return {
        problem: `The certificate is valid only from ${leaf ? certificateDate(leaf.notBefore) : 'a later date'} (today is ${today}, by this computer's clock).`,
        advice:
          "Check this computer's date and time first: if they are wrong, correct them and retry. If they are right, tell the server's admin.",
      };
    case 'self-signed':
      return {
        problem: 'The certificate is signed by itself: no authority vouches for it.',
        advice:
          "Compare the key's fingerprint below with the one the server's admin gave you. Trust it only if they match.",
      };
    case 'unknown-issuer':
      return {
        problem: `The certificate is issued by ${leaf ? dnName(leaf.issuer) : 'an authority'}, an authority Quiver does not know.`,
        advice:
          "If this is your organisation's own authority, add its certificate in the account's advanced settings (Extra CA) instead of accepting this one. If not, do not accept it.",
      };
    case 'missing-intermediate':
      return {
        problem: 'The server did not send the certificate that links it to an authority.',
        advice:
          "The server's admin must fix this by sending the full chain. Until then, accept once only if you trust the network you are on.",
      };
    case 'key-changed':
      return {
        problem: `${domain} now presents a different key from the one you pinned.`,
        advice:
          "This can mean someone is intercepting the connection, or that the server's admin replaced the key. Refuse unless the admin told you the new key; compare it with the one they gave you.",
      };
    case 'other':
      return {
        problem: decision.reason.message,
        advice: 'Quiver does not connect unless you decide to trust this server. If you are not sure, refuse.',
      };
  }
}
