/**
 * A connection at a glance (issue 13, "A summary at a glance, details one click away"): one line
 * such as "Verified: the certificate proves alpha.test (PKIX, DNS-ID alpha.test) · TLS 1.3 · direct
 * TLS to xmpp.alpha.test:5223 · SCRAM-SHA-256-PLUS with channel binding", and the person's own
 * decisions named as what they are ("Accept-once and pins are named as what they are").
 */
import type { PinView, SecurityRecord, Verdict } from '../../../app/contract/viewModels.ts';
import { identityText, proofText, prooftypeName } from './identityWords.ts';
import { saslSummary } from './saslWords.ts';

export type UserDecision = 'accepted-once' | 'pinned';

/**
 * Whether the person's decision, not a proof, let this connection through. `Verdict.userDecision`
 * says so when the core sets it; records written before it are read from their tokens.
 */
export function userDecisionOf(verdict: Verdict): UserDecision | null {
  if (!verdict.trusted) return null;
  if (verdict.userDecision) return verdict.userDecision;
  if (verdict.identity === 'user-accepted-once') return 'accepted-once';
  if (verdict.prooftype === 'pin') return 'pinned';
  return null;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' });

/** "You accepted this certificate once, for this connection only" / "You pinned this key on 3 May 2026". */
export function userDecisionText(decision: UserDecision, pinnedAt: number | null): string {
  if (decision === 'accepted-once') return 'You accepted this certificate once, for this connection only';
  return pinnedAt === null ? 'You pinned this key' : `You pinned this key on ${dateFormat.format(pinnedAt)}`;
}

/** When the key this record's server presented was pinned, from the account's pins; null if not pinned (any more). */
export function pinnedAt(record: SecurityRecord, pins: readonly PinView[]): number | null {
  const key = record.certificates[0]?.spkiSha256.toLowerCase();
  const domain = domainOf(record.jid);
  const found = pins.find((p) => p.spkiSha256.toLowerCase() === key && p.domain === domain);
  return found?.createdAt ?? null;
}

/** The domain part of a bare JID. */
export const domainOf = (jid: string) => jid.slice(jid.indexOf('@') + 1);

/** `TLSv1.3` → "TLS 1.3". */
export function tlsVersionText(version: string | null): string | null {
  if (version === null) return null;
  const m = /^TLSv?(\d(?:\.\d)?)$/i.exec(version.trim());
  return m ? `TLS ${m[1]}` : version;
}

/** `host:port`, with an IPv6 host in brackets. */
export const hostPort = (record: Pick<SecurityRecord, 'host' | 'port'>) =>
  `${record.host.includes(':') ? `[${record.host}]` : record.host}:${record.port}`;

/** `sharedWith` (accounts already on the QUIC session when this one joined) in words. */
export function sharedText(sharedWith: number): string {
  if (sharedWith === 0) return 'not shared: this account opened the session';
  return `shared with ${sharedWith} other account${sharedWith === 1 ? '' : 's'}`;
}

/** "direct TLS to xmpp.example.org:5223", "STARTTLS to …", "QUIC to … (shared with 2 other accounts)". */
export function routeText(record: SecurityRecord): string {
  const to = hostPort(record);
  switch (record.transport) {
    case 'tls':
      return `direct TLS to ${to}`;
    case 'starttls':
      return `STARTTLS to ${to}`;
    case 'quic':
      return record.quic && record.quic.sharedWith > 0
        ? `QUIC to ${to} (${sharedText(record.quic.sharedWith)})`
        : `QUIC to ${to}`;
  }
}

/** The verdict part of the summary: "Verified: the certificate proves example.org (PKIX, DNS-ID example.org)". */
export function verdictText(record: SecurityRecord, pinDate: number | null): string {
  const v = record.verification;
  const domain = domainOf(record.jid);
  const decision = userDecisionOf(v);
  if (decision === 'accepted-once') return `Accepted once by you: nothing proved the server is ${domain}`;
  if (decision === 'pinned')
    return `Trusted because ${userDecisionText('pinned', pinDate).replace(/^You/, 'you')} for ${domain}`;
  if (!v.trusted) {
    if (v.decision === 'key-changed') return `Not trusted: the key of ${domain} changed since you pinned it`;
    return `Not trusted: nothing proved the server is ${domain}`;
  }
  const identity = identityText(v.identity);
  const how =
    v.prooftype === 'posh' || v.prooftype === null
      ? proofText(v, domain, record.certificates[0])
      : `${prooftypeName[v.prooftype]}${identity ? `, ${identity}` : ''}`;
  return `Verified: the certificate proves ${domain} (${how})`;
}

/** The whole line: verdict · TLS version · route · login. */
export function summaryText(record: SecurityRecord, pinDate: number | null): string {
  return [
    verdictText(record, pinDate),
    tlsVersionText(record.tlsVersion),
    routeText(record),
    saslSummary(record.saslMechanism, record.channelBinding),
  ]
    .filter((part): part is string => part !== null)
    .join(' · ');
}
