/** Words for the values of the contract's view models, as the UI shows them. */
import type {
  AccountStatus,
  CandidateSource,
  DnssecStatus,
  MessageState,
  PathEvent,
  PresenceView,
  Prooftype,
  Transport,
  TransportPreference,
} from '../../app/contract/viewModels.ts';

export const accountStatusLabel: Record<AccountStatus, string> = {
  offline: 'Offline',
  connecting: 'Connecting…',
  online: 'Online',
  error: 'Error',
  disabled: 'Disabled',
};

export const transportLabel: Record<Transport, string> = {
  starttls: 'STARTTLS',
  tls: 'Direct TLS',
  quic: 'QUIC',
};

export const transportPreferenceLabel: Record<TransportPreference, string> = {
  auto: 'Automatic (best available)',
  starttls: 'STARTTLS only',
  tls: 'Direct TLS only',
  quic: 'QUIC only',
};

export const sourceLabel: Record<CandidateSource, string> = {
  'srv:_xmpps-client._tcp': 'SRV _xmpps-client._tcp',
  'srv:_xmpp-client._tcp': 'SRV _xmpp-client._tcp',
  'srv:_xmppq-client._udp': 'SRV _xmppq-client._udp',
  'host-meta': 'host-meta (XEP-0156)',
  default: 'Default (domain, standard port)',
};

/** DNSSEC state of the answers that led here, and what it means for the person. */
export const dnssecLabel: Record<DnssecStatus, string> = {
  secure: 'Signed and validated (DNSSEC): the DNS answers could not have been forged',
  insecure: 'Not signed (no DNSSEC): the DNS answers prove nothing by themselves',
  bogus: 'Signatures did not validate (DNSSEC bogus): the DNS answers may have been forged',
};

/** Short names, for chips and lists (RFC 7218 acronyms for the TLSA certificate usages). */
export const prooftypeLabel: Record<Prooftype, string> = {
  pkix: 'PKIX',
  'dane-ee': 'DANE-EE',
  'dane-ta': 'DANE-TA',
  'pkix-ee': 'PKIX-EE',
  'pkix-ta': 'PKIX-TA',
  posh: 'POSH',
  pin: 'Pin',
};

/** What each prooftype means, in words a person can check against what they know of the server. */
export const prooftypeExplanation: Record<Prooftype, string> = {
  pkix: 'PKIX (a certificate authority you trust vouches for the name)',
  'dane-ee': 'DANE (the DNSSEC-signed TLSA record matches the server key)',
  'dane-ta': 'DANE (the DNSSEC-signed TLSA record names the authority that issued the certificate)',
  'pkix-ee':
    'DANE with PKIX (the DNSSEC-signed TLSA record matches the certificate, and a trusted authority vouches for it)',
  'pkix-ta': 'DANE with PKIX (the DNSSEC-signed TLSA record names a trusted authority in the chain)',
  posh: 'POSH (the domain’s HTTPS site vouches for this certificate)',
  pin: 'Your pin (you chose to trust this server key for this account)',
};

/** The domain part of a bare JID. */
export const domainOf = (jid: string) => jid.slice(jid.indexOf('@') + 1);

export const messageStateLabel: Record<MessageState, string> = {
  queued: 'Waiting to send',
  sent: 'Sent',
  acked: 'Stored by the server',
  delivered: 'Delivered',
  received: 'Received',
  failed: 'Not sent',
};

export type PresenceTone = 'ok' | 'warn' | 'bad' | 'idle';

export function presenceTone(presence: PresenceView | null): PresenceTone {
  switch (presence?.show) {
    case 'available':
    case 'chat':
      return 'ok';
    case 'away':
    case 'xa':
      return 'warn';
    case 'dnd':
      return 'bad';
    default:
      return 'idle';
  }
}

export function presenceLabel(presence: PresenceView | null): string {
  switch (presence?.show) {
    case 'available':
      return 'Available';
    case 'chat':
      return 'Free to chat';
    case 'away':
      return 'Away';
    case 'xa':
      return 'Away for a while';
    case 'dnd':
      return 'Do not disturb';
    default:
      return 'Offline';
  }
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export const formatTime = (ms: number) => timeFormat.format(ms);
export const formatDateTime = (ms: number) => dateTimeFormat.format(ms);

/** A path event's kind in words (issue 11); `checked` also says how, from the event's detail. */
export function pathEventText(event: PathEvent): string {
  switch (event.kind) {
    case 'migrated':
      return 'Moved to a new network address';
    case 'migration-failed':
      return 'Could not move to the new network address; reconnected';
    case 'checked':
      return event.detail ? `Checked: alive (${event.detail})` : 'Checked: alive';
    case 'reconnected':
      return 'Needed a new connection; reconnected';
  }
}

/** `12 ms`; an RTT is measured, so fractions below a millisecond are noise. */
export const formatRtt = (ms: number | null) => (ms === null ? '—' : `${Math.round(ms)} ms`);

/** A QUIC connection id short enough to compare by eye: its first 8 characters. */
export const shortId = (id: string) => (id.length > 10 ? `${id.slice(0, 8)}…` : id);

/** `sharedWith` (accounts already on the session when this one joined) in words. */
export function sharedWithText(sharedWith: number): string {
  if (sharedWith === 0) return 'not shared: this account opened the session';
  return `shared with ${sharedWith} other account${sharedWith === 1 ? '' : 's'}`;
}

/** A record's fallback reason as a sentence. */
export function fallbackSentence(fallback: string): string {
  const text = fallback.trim();
  const sentence = /[.!?]$/.test(text) ? text : `${text}.`;
  return `Quiver did not use its first choice for this connection: ${sentence}`;
}
