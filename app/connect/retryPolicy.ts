/**
 * What the connection code does after a failure, decided by the failure's code, in one place:
 * the codes a connection attempt can fail with, which of them mean "try the next candidate",
 * which mean "stop and ask the person", which mean "back off harder", and the backoff schedule.
 * The connector (`establish`) and the account session (`AccountSession`) only ask this module.
 */
import type { SecurityErrorCode } from '../security/securityError.ts';
import type { LocalCode, LocalRfcCode } from '../xmpp/streamError.ts';

/** RFC 6120 §4.9.3: the defined conditions of a stream error the server sends. */
export type StreamCondition =
  | 'bad-format'
  | 'bad-namespace-prefix'
  | 'conflict'
  | 'connection-timeout'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'invalid-xml'
  | 'not-authorized'
  | 'not-well-formed'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml'
  | 'see-other-host'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-encoding'
  | 'unsupported-feature'
  | 'unsupported-stanza-type'
  | 'unsupported-version';

/** RFC 6120 §6.5: the conditions of a SASL <failure/>. */
export type SaslCondition =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

/** app/transport: TCP, TLS and QUIC-stream failures (`TransportError`). */
export type TransportCode =
  | 'no-address'
  | 'connection-refused'
  | 'connect-failed'
  | 'connect-timeout'
  | 'tls-failed'
  | 'tls-timeout'
  | 'transport-error'
  | 'quic-stream-reset'
  | 'quic-stream-stopped'
  | 'quic-connection-closed';

/** The verifier's refusals (`Verdict.error.code`, app/security). */
export type VerdictCode =
  | 'untrusted'
  | 'wrong-name'
  | 'self-signed'
  | 'untrusted-issuer'
  | 'missing-intermediate'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-certificate'
  | 'bad-signature'
  | 'invalid-chain'
  | 'name-constraints'
  | 'wrong-usage'
  | 'key-changed'
  | 'dane-mismatch'
  | 'dane-lookup-failed'
  | 'dnssec-bogus';

/** The connection code's own: discovery, host resolution, the connector, QUIC sessions, the account session. */
export type OwnCode =
  /** The attempt was cancelled (stop(), or the probe's deadline). */
  | 'aborted'
  /** A bug, or a failure that carried no code. */
  | 'internal'
  /** The stream closed during login without saying why. */
  | 'closed'
  /** A discovery lookup that failed (kept in `attempts`, never thrown). */
  | 'dns'
  | 'dns-unavailable'
  | 'host-not-found'
  | 'no-service'
  | 'no-candidates'
  | 'quic-unavailable'
  | 'quic-closed'
  | 'quic-timeout'
  | 'quic-streams-exhausted'
  | 'quic-handshake-failed'
  /** AccountSession: no password stored, or a server the person has to decide on. */
  | 'no-password'
  | 'needs-decision'
  /** The secret store (app/storage/secretStore.ts) could not give the password. */
  | 'secret-file-permissions'
  | 'secret-file-invalid'
  | 'secret-store-unavailable';

/** Every code a connection attempt or a live stream can fail with. */
export type ConnectErrorCode =
  | OwnCode
  | TransportCode
  | VerdictCode
  | SecurityErrorCode
  | StreamCondition
  | SaslCondition
  | LocalCode
  | LocalRfcCode;

/** What `establish` does after one candidate failed. */
export type CandidateAction =
  /** Another candidate may work (unreachable, refused proof, a stream problem on that server). */
  | 'next-candidate'
  /** The same failure would repeat on every candidate (the credentials): stop and report it. */
  | 'stop'
  /** The attempt was cancelled: give up at once, without trying or reporting anything else. */
  | 'cancelled';

/** What the account session does after an attempt failed or a live stream ended. */
export type SessionAction =
  /** A retry cannot fix it: the person must act (new password, trust decision, settings). */
  | 'ask-person'
  /** The server asks for fewer attempts: retry, with the backoff started high. */
  | 'back-off'
  /** Retry on the backoff schedule. */
  | 'retry';

/** Failures that would repeat on every candidate: the credentials, not the server, are wrong. */
const STOP_TRYING = new Set<ConnectErrorCode>([
  'not-authorized',
  'account-disabled',
  'credentials-expired',
  'invalid-mechanism',
  'no-acceptable-mechanism',
  // XEP-0484: every candidate would refuse the same token; the session retries with the password.
  'fast-token-rejected',
  // XEP-0388: the server wants a task Quiver cannot do, or signed in another account.
  'sasl2-task-required',
  'sasl2-bad-identity',
]);

/** Errors a retry cannot fix: the user must act (new password, trust decision, settings). */
const ASK_PERSON = new Set<ConnectErrorCode>([
  'not-authorized',
  'account-disabled',
  'credentials-expired',
  'no-password',
  'no-service',
  'wrong-name',
  'untrusted',
  'self-signed',
  'bad-trust-anchor',
  'dns-bad-server',
  'secret-file-permissions',
  'secret-file-invalid',
  'secret-store-unavailable',
  'sasl2-task-required',
  'sasl2-bad-identity',
  // Stream errors after login (RFC 6120 §4.9.3): retrying would only repeat them.
  'host-unknown',
]);

/**
 * Stream errors that say "not so often" (RFC 6120 §4.9.3.14, §4.9.3.17, §4.9.3.20): start the
 * backoff high. And 'conflict' (§4.9.3.3, another session took our resource): Quiver's resource is
 * its own per account, so the other session is almost always one of ours the server still held
 * (an attempt the client gave up on whose bind arrived late, after a network cut): reconnect, but
 * slowly, so that two copies of one profile do not throw each other out every second.
 */
const SLOW_DOWN = new Set<ConnectErrorCode>(['policy-violation', 'resource-constraint', 'system-shutdown', 'conflict']);

/** A candidate that could not even be reached says less than one that refused a proof or a login. */
const UNREACHABLE = new Set<ConnectErrorCode>(['connection-refused', 'connect-timeout', 'connect-failed']);

/** Between attempts, ms; the last step repeats. */
export const BACKOFF_MS: readonly number[] = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000];
/** The backoff step a slow-down stream error starts at: 30 s, then 60 s. */
export const SLOW_DOWN_ATTEMPT = 4;
/** A stream that stayed up this long resets the backoff; a shorter one counts as a failed attempt. */
export const STABLE_MS = 60_000;

/**
 * The code of anything thrown or reported, as a `ConnectErrorCode`: `fallback` when it carries no
 * code. A code this module does not list is kept as it is (a server may send a condition of a
 * later RFC): it then means "try the next candidate" and "retry", the cautious defaults.
 */
export function codeOf(error: unknown, fallback: ConnectErrorCode = 'internal'): ConnectErrorCode {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? (code as ConnectErrorCode) : fallback;
}

/** After one candidate failed with `code`: try the next, stop, or give up because it was cancelled. */
export function candidateAction(code: ConnectErrorCode): CandidateAction {
  if (code === 'aborted') return 'cancelled';
  return STOP_TRYING.has(code) ? 'stop' : 'next-candidate';
}

/**
 * How much a candidate's failure tells the person, to choose the one message when all failed:
 * 2 for a refused proof or login, 1 for a server that could not be reached, 0 for "QUIC is not
 * available yet", which says least of all.
 */
export function failureWeight(code: ConnectErrorCode): 0 | 1 | 2 {
  if (code === 'quic-unavailable') return 0;
  return UNREACHABLE.has(code) ? 1 : 2;
}

/**
 * After a connection attempt failed, or a live stream ended, with `code`. `establish` failures
 * never back off harder (`slowDown` false): only a server that ended a live stream asks for that.
 */
export function sessionAction(code: ConnectErrorCode, options: { slowDown: boolean }): SessionAction {
  if (ASK_PERSON.has(code)) return 'ask-person';
  return options.slowDown && SLOW_DOWN.has(code) ? 'back-off' : 'retry';
}

/**
 * The wait before attempt number `attempt` (0 for the first retry): the schedule's step with ±20%
 * jitter, so many clients cut off by one server restart do not come back in lockstep.
 * @param random in [0, 1) (Math.random in the app; fixed in tests)
 */
export function backoffDelay(attempt: number, random: () => number): number {
  const base = BACKOFF_MS[Math.min(Math.max(attempt, 0), BACKOFF_MS.length - 1)]!;
  return Math.round(base * (0.8 + random() * 0.4));
}
