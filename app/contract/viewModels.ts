/**
 * What the UI sees of the core. Plain data only: these objects cross IPC and WebSocket.
 */

export type Transport = 'starttls' | 'tls' | 'quic';
export type TransportPreference = 'auto' | Transport;

export type AccountStatus = 'offline' | 'connecting' | 'online' | 'error' | 'disabled';

/** A failure worded for a person: what happened and what they can do. `code` is stable. */
export interface UserError {
  code: string;
  message: string;
}

export interface AccountSettings {
  /** DNS resolver as HOST:PORT; null means the system's. */
  resolver: string | null;
  /**
   * The person says this resolver validates DNSSEC, so its AD bit counts. A resolver on loopback
   * is believed anyway; a remote one only with this set.
   */
  resolverValidates: boolean;
  /** Extra trust anchors (PEM) for this account, e.g. a company CA. */
  extraCaPem: string | null;
  transport: TransportPreference;
}

export interface AccountView {
  id: string;
  jid: string;
  enabled: boolean;
  status: AccountStatus;
  /**
   * The status in words for a person, with the how: "connecting over QUIC to xmpp.example.org:443",
   * "online (QUIC, shared with 2 accounts)", "offline: wrong password", "waiting for your decision
   * on a certificate", "disabled".
   */
  statusText: string;
  /** The full JID the server bound, when online. */
  boundJid: string | null;
  error: UserError | null;
  settings: AccountSettings;
  /**
   * A short name the person chose; by default the JID's domain, or the bare JID when another
   * account has the same domain. Shown wherever the account's conversations appear.
   */
  label: string;
  /** The account's colour as `#rrggbb`, one of ACCOUNT_COLORS unless the person chose another. */
  color: string;
  /** Position in the person's order of accounts (0 first). */
  order: number;
  /** The presence this account announces (what the person chose), not what it is connected as. */
  presence: OwnPresence;
  /** The server offers XEP-0191 blocking (known once online; false before). */
  canBlock: boolean;
}

/** The colours accounts get by default, in order of creation: distinct in light and dark themes. */
export const ACCOUNT_COLORS = [
  '#2f6fdf',
  '#c2410c',
  '#15803d',
  '#9d4edd',
  '#db2777',
  '#0e7490',
  '#a16207',
  '#4d7c0f',
] as const;

/** What the person announces: RFC 6121 §4.7.2.1 show values a person picks, and a status message. */
export interface OwnPresence {
  show: 'available' | 'away' | 'dnd';
  status: string | null;
}

export type Subscription = 'none' | 'to' | 'from' | 'both';
export type Show = 'available' | 'chat' | 'away' | 'xa' | 'dnd' | 'unavailable';

export interface PresenceView {
  show: Show;
  status: string | null;
}

export interface RosterItemView {
  jid: string;
  name: string | null;
  subscription: Subscription;
  ask: boolean;
  groups: string[];
  /** Best presence among the contact's resources; null when none seen. */
  presence: PresenceView | null;
}

export type MessageDirection = 'in' | 'out';
/**
 * How far a message got.
 * - queued: stored locally, not yet written to a stream;
 * - sent: written to a stream, the server has not confirmed it;
 * - acked: stored by the server (an XEP-0198 acknowledgement covered it);
 * - delivered: the recipient's client confirmed it (an XEP-0184 receipt);
 * - received: an incoming message;
 * - failed: refused by the server; `MessageView.error` says why, and `message.retry` sends it again.
 */
export type MessageState = 'queued' | 'sent' | 'acked' | 'delivered' | 'received' | 'failed';

export interface MessageView {
  /** Local row id. */
  id: string;
  accountId: string;
  /** Bare JID of the other party. */
  peer: string;
  direction: MessageDirection;
  body: string;
  /** The stanza's id attribute. */
  stanzaId: string;
  /** When it was sent (the XEP-0203 delay stamp when it carried one), ms since the epoch. */
  at: number;
  state: MessageState;
  /** Why the server refused it, worded for a person; null unless `state` is 'failed'. */
  error: string | null;
}

/**
 * One conversation (account + peer) in the one list across accounts. Stored in SQLite: a message
 * from anyone creates it, `conversation.start` creates an empty one, unread counts and drafts
 * survive a restart.
 */
export interface ConversationView {
  accountId: string;
  peer: string;
  /** The roster name, null when the contact has none or is not in the roster. */
  name: string | null;
  lastMessage: MessageView | null;
  /** When the last message was sent or received, or the conversation started; ms since the epoch. */
  lastActivity: number;
  /** Incoming messages not read yet. */
  unread: number;
  /** What the person had typed and not sent; '' when none. */
  draft: string;
  /** The peer is not in the account's roster (a message from a stranger). */
  stranger: boolean;
  /** The peer is on the account's XEP-0191 block list. */
  blocked: boolean;
  /**
   * Set only when the account was removed with its history kept: `account.list` no longer lists
   * it, so the conversation carries the account's cue itself.
   */
  removedAccount?: { jid: string; label: string; color: string };
}

/** A message found by `search.run`, with the text around the match. */
export interface MessageHit {
  message: MessageView;
  /**
   * The body around the match; the matched words are between U+0002 and U+0003 (so the UI can mark
   * them without parsing HTML).
   */
  snippet: string;
}

export interface SearchResult {
  /** Conversations whose peer address or name matches, most recent first. */
  conversations: ConversationView[];
  /** Messages whose text matches (SQLite FTS5), newest first. */
  messages: MessageHit[];
}

/** Someone asked to see an account's presence (RFC 6121 §3.1.2); waits for the person's answer. */
export interface SubscriptionRequestView {
  accountId: string;
  /** Bare JID of who asks. */
  jid: string;
  /** The status text or XEP-0172 nickname they sent, if any. */
  message: string | null;
  at: number;
}

/**
 * What an `xmpp:` URI (RFC 5122) asks for, parsed in the shell and handed to the window:
 * open a chat with `jid` (`?message`, with an optional body), add it (`?roster`, `?subscribe`).
 */
export interface XmppUriTarget {
  jid: string;
  /**
   * RFC 5122 §2.3: the account the link suggests writing from (the authority, a bare JID in the
   * same case-mapped form as `jid`), or null. Used when it is one of the person's accounts.
   */
  account: string | null;
  action: 'message' | 'roster' | 'subscribe' | null;
  body: string | null;
  name: string | null;
}

// ---- Security facts of a connection ---------------------------------------------------------------

export type Prooftype = 'pkix' | 'dane-ee' | 'dane-ta' | 'pkix-ee' | 'pkix-ta' | 'posh' | 'pin';
export type DnssecStatus = 'secure' | 'insecure' | 'bogus';
export type CandidateSource =
  'srv:_xmpps-client._tcp' | 'srv:_xmpp-client._tcp' | 'srv:_xmppq-client._udp' | 'host-meta' | 'default';

/** One prooftype the verifier tried, and why it did or did not hold. */
export interface ProofAttempt {
  prooftype: Prooftype;
  ok: boolean;
  detail: string;
}

/**
 * The verifier's decision about one connection (app/security). The same object for STARTTLS,
 * direct TLS and QUIC; stored with the connection and shown in the UI.
 */
export interface Verdict {
  trusted: boolean;
  prooftype: Prooftype | null;
  /** The identity that matched, e.g. `dns-id:example.org`, `srv-id:_xmpp-client.example.org`, `xmppaddr:example.org`. */
  identity: string | null;
  /** When the certificate names another domain that is proved to host this one: how. */
  delegation: string | null;
  dnssec: DnssecStatus;
  tried: ProofAttempt[];
  error: UserError | null;
  /**
   * Set when no proof held but the person may decide (self-signed, private CA, a pinned key that
   * changed). Never set for refusals no decision may override: a TLSA record that does not match,
   * bogus DNSSEC answers.
   */
  decision: DecisionKind | null;
  /**
   * Set when the person's own decision made the server trusted: `pinned` (a stored pin matched;
   * `prooftype` is `pin`) or `accepted-once` (a key accepted for this connection only; `prooftype`
   * is null, since nothing proved the server).
   */
  userDecision?: 'accepted-once' | 'pinned';
}

/** `unproven`: nothing proved the server; `key-changed`: a pinned server shows another key. */
export type DecisionKind = 'unproven' | 'key-changed';
export type DecisionChoice = 'refuse' | 'accept-once' | 'pin';

/** A server certificate waiting for the person's decision (DNA draft: "an explicit user decision that is pinned"). */
/**
 * What is wrong with a certificate, for the decision dialog's wording and advice:
 * - wrong-name: valid, but for other names than the domain;
 * - expired / not-yet-valid: outside its validity period;
 * - self-signed: signed by its own key;
 * - unknown-issuer: issued by an authority Quiver does not trust;
 * - missing-intermediate: the server did not send the intermediate certificate the chain needs;
 * - key-changed: a pinned server shows another key;
 * - other: anything else (the reason's text says what).
 */
export type CertificateProblem =
  | 'wrong-name'
  | 'expired'
  | 'not-yet-valid'
  | 'self-signed'
  | 'unknown-issuer'
  | 'missing-intermediate'
  | 'key-changed'
  | 'other';

export interface CertificateDecisionView {
  id: string;
  /** The actual problem (see CertificateProblem); `kind` says only whether a pin was involved. */
  problem: CertificateProblem;
  accountId: string;
  jid: string;
  /** The JID's domain the server must prove. */
  domain: string;
  transport: Transport;
  host: string;
  port: number;
  kind: DecisionKind;
  /** The chain as presented, end-entity first. */
  certificates: CertificateSummary[];
  /** SPKI SHA-256 of the key presented (what a pin names). */
  presentedSpkiSha256: string;
  /** For `key-changed`: the keys pinned before. */
  pinnedSpkiSha256: string[];
  tried: ProofAttempt[];
  reason: UserError;
  at: number;
}

/** A key the person pinned for an account and domain. */
export interface PinView {
  accountId: string;
  domain: string;
  spkiSha256: string;
  /** The certificate seen when pinning, for display. */
  certificate: CertificateSummary | null;
  createdAt: number;
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  /** SubjectAltName entries as `dns:…`, `srv:…`, `xmpp:…`, `ip:…`. */
  subjectAltNames: string[];
  notBefore: string;
  notAfter: string;
  /** Hex SHA-256 of the DER certificate. */
  sha256: string;
  /** Hex SHA-256 of the DER SubjectPublicKeyInfo (what a pin names). */
  spkiSha256: string;
}

/**
 * One row per connection attempt that reached TLS: how Quiver got there and why it trusted the server.
 * `quiver connect --json` prints exactly this object.
 */
export interface SecurityRecord {
  id: string;
  accountId: string | null;
  jid: string;
  transport: Transport;
  host: string;
  port: number;
  /** The SRV (or other discovery) record this candidate came from, as presentation text; null for the default. */
  srv: string | null;
  source: CandidateSource;
  dnssec: DnssecStatus;
  tlsVersion: string | null;
  cipher: string | null;
  alpn: string | null;
  sni: string;
  certificates: CertificateSummary[];
  verification: Verdict;
  saslMechanism: string | null;
  channelBinding: string | null;
  /** XEP-0388: the login used SASL2 (absent or false: RFC 6120 SASL). */
  sasl2?: boolean;
  /** XEP-0386: the resource was bound inline with Bind 2. */
  bind2?: boolean;
  /** XEP-0484: a FAST token signed in, not the password. */
  fast?: boolean;
  boundJid: string | null;
  startedAt: number;
  endedAt: number | null;
  /** Why the connection ended or failed, null while open. */
  endReason: string | null;
  /**
   * Quiver's id for the QUIC connection this stream rides on (XEP-0467): the same for every
   * account sharing that session, and stable for the connection's life (migration keeps it).
   * Null for TCP.
   */
  quicConnectionId: string | null;
  /** The QUIC stream id carrying this account's XMPP stream; null for TCP. */
  quicStreamId: number | null;
  /** What only a QUIC connection has; null for TCP. */
  quic: QuicDetails | null;
  /**
   * Why this account is not where the connector tried first, in words: the QUIC session refused
   * a stream and it got a connection of its own, QUIC failed and TCP won, the network is known to
   * block UDP. Null when the first choice worked.
   */
  fallback: string | null;
  /** Migrations, liveness checks and reconnections on this connection, oldest first. */
  pathEvents: PathEvent[];
}

/** The QUIC facts of one connection (issue 11: shown in the security view). */
export interface QuicDetails {
  /** `QUIC v1` (RFC 9000). */
  version: string;
  /** The path MTU in use when the record was written (bytes of UDP payload). */
  pathMtu: number;
  /** Encrypted Client Hello: Quiver does not offer it yet. */
  ech: 'not available';
  /** Accounts already on this QUIC session when this one joined (0: it opened the session). */
  sharedWith: number;
  /** The session was resumed from a ticket of an earlier connection (no certificate sent again). */
  resumed: boolean;
  /**
   * 0-RTT: whether this account's stream header went out as early data on the session's first
   * flight ('accepted' by the server or 'rejected' and sent again after the handshake), or not.
   */
  earlyData: 'not offered' | 'accepted' | 'rejected';
  /** Local and remote socket addresses as `address:port` (IPv6 in brackets). */
  localAddress: string | null;
  remoteAddress: string;
}

/**
 * Something that happened to a connection's network path. `migrated`: the QUIC connection moved
 * to a new local address (RFC 9000 §9) without a new handshake; `migration-failed`: it could not,
 * and the streams were reconnected; `checked`: a stream's liveness check after a network change
 * (`detail` says how: XEP-0198 ack or XEP-0199 ping); `reconnected`: the account needed a new
 * connection.
 */
export interface PathEvent {
  at: number;
  kind: 'migrated' | 'migration-failed' | 'checked' | 'reconnected';
  from: string | null;
  to: string | null;
  rttBeforeMs: number | null;
  rttAfterMs: number | null;
  detail: string;
}
