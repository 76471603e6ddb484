/**
 * The account's status in words for a person (AccountView.statusText): what it is doing and how,
 * "connecting over QUIC to xmpp.example.org:443", "online (QUIC, shared with 2 accounts)",
 * "offline: wrong password", "reconnecting in 30 s". Pure: the caller gathers the facts from the
 * live session (liveAccounts.ts) and emits `account.changed` when the words change.
 */
import type { AccountStatus, Transport, UserError } from '../contract/viewModels.ts';

export interface StatusFacts {
  enabled: boolean;
  status: AccountStatus;
  error: UserError | null;
  /** The candidate the attempt in flight is trying (the latest to start), while connecting. */
  attempt: { transport: Transport; host: string; port: number } | null;
  /** While online: the transport, and how many other accounts share its QUIC connection. */
  online: { transport: Transport; sharedWith: number } | null;
  /** The back-off before the next attempt, when one is scheduled (as scheduled, not counting down). */
  retryInMs: number | null;
}

const TRANSPORT_WORDS: Readonly<Record<Transport, string>> = {
  quic: 'QUIC',
  tls: 'direct TLS',
  starttls: 'STARTTLS',
};

/** Error codes (ConnectErrorCode, the core's own, secret stores') in a few words. */
const CAUSES: Readonly<Record<string, string>> = {
  'not-authorized': 'wrong password',
  'credentials-expired': 'password expired',
  'account-disabled': 'account disabled by the server',
  'no-password': 'no password',
  'secret-file-permissions': 'password file not private',
  'secret-file-invalid': 'password file unreadable',
  'secret-store-unavailable': 'password store unavailable',
  'no-address': 'server unreachable',
  'connection-refused': 'server unreachable',
  'connect-failed': 'server unreachable',
  'connect-timeout': 'server unreachable',
  'remote-connection-failed': 'server unreachable',
  dns: 'server not found',
  'dns-unavailable': 'DNS unavailable',
  'host-not-found': 'server not found',
  'host-unknown': 'server not found',
  'no-service': 'no XMPP service for this domain',
  'no-candidates': 'server not found',
  'tls-failed': 'secure connection failed',
  'tls-timeout': 'secure connection failed',
  untrusted: 'certificate not trusted',
  'untrusted-issuer': 'certificate not trusted',
  'missing-intermediate': 'certificate chain incomplete',
  'wrong-name': 'certificate for another server',
  'self-signed': 'self-signed certificate',
  expired: 'certificate expired',
  'not-yet-valid': 'certificate not yet valid',
  'bad-certificate': 'unusable certificate',
  'bad-signature': 'certificate signature invalid',
  'invalid-chain': 'certificate chain invalid',
  'name-constraints': 'certificate not allowed for this name',
  'wrong-usage': 'certificate not for servers',
  'key-changed': 'server key changed',
  'dane-mismatch': 'certificate does not match DANE',
  'dane-lookup-failed': 'DANE lookup failed',
  'dnssec-bogus': 'DNS answers failed validation',
  'refused-by-user': 'you refused the certificate',
  'quic-unavailable': 'QUIC unavailable',
  'quic-closed': 'QUIC connection failed',
  'quic-timeout': 'QUIC connection failed',
  'quic-handshake-failed': 'QUIC connection failed',
  'quic-connection-closed': 'connection lost',
  closed: 'connection lost',
  reset: 'connection lost',
  'connection-timeout': 'connection lost',
  'transport-error': 'connection lost',
  conflict: 'signed in elsewhere',
  'system-shutdown': 'server shutting down',
  'policy-violation': 'refused by server policy',
  'resource-constraint': 'server busy',
  'temporary-auth-failure': 'server could not sign in',
  'sasl2-task-required': 'server asks for a sign-in step Quiver lacks',
  internal: 'internal error',
};

/** A stable error code in a few words; a code not listed is spoken as it is ("some-code" -> "some code"). */
export function shortCause(code: string): string {
  return CAUSES[code] ?? code.replaceAll('-', ' ');
}

function retryWords(ms: number): string {
  return `reconnecting in ${Math.max(1, Math.round(ms / 1000))} s`;
}

export function statusText(facts: StatusFacts): string {
  if (!facts.enabled) return 'disabled';
  const { status, error, attempt, online, retryInMs } = facts;
  // The session stops at a certificate it cannot prove and the core asks (trustDecisions.ts).
  if (error?.code === 'needs-decision') return 'waiting for your decision on a certificate';
  if (status === 'online') {
    if (!online) return 'online';
    const shared =
      online.transport === 'quic' && online.sharedWith > 0
        ? `, shared with ${online.sharedWith} account${online.sharedWith === 1 ? '' : 's'}`
        : '';
    return `online (${TRANSPORT_WORDS[online.transport]}${shared})`;
  }
  if (retryInMs !== null) {
    const retry = retryWords(retryInMs);
    if (status === 'error' && error) return `offline: ${shortCause(error.code)}, ${retry}`;
    return error ? `${shortCause(error.code)}, ${retry}` : retry;
  }
  if (status === 'connecting') {
    return attempt
      ? `connecting over ${TRANSPORT_WORDS[attempt.transport]} to ${attempt.host}:${attempt.port}`
      : 'connecting';
  }
  if (status === 'error') return error ? `offline: ${shortCause(error.code)}` : 'offline';
  return status === 'disabled' ? 'disabled' : 'offline';
}
