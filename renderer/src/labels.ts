/** Words for the values of the contract's view models, as the UI shows them. */
import type {
  AccountStatus,
  CandidateSource,
  DnssecStatus,
  MessageState,
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

export const dnssecLabel: Record<DnssecStatus, string> = {
  secure: 'Secure (validated)',
  insecure: 'Insecure (unsigned)',
  bogus: 'Bogus (validation failed)',
};

/** Short names, for chips and lists (RFC 7218 acronyms for the TLSA certificate usages). */
export const prooftypeLabel: Record<Prooftype, string> = {
  pkix: 'PKIX',
  'dane-ee': 'DANE-EE',
  'dane-ta': 'DANE-TA',
  'pkix-ee': 'PKIX-EE',
  'pkix-ta': 'PKIX-TA',
  posh: 'POSH',
  pin: 'Pinned by you',
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
  pin: 'Pinned by you (you chose to trust this server key for this account)',
};

/**
 * The verdict's `delegation` in words. The core writes it as `<how>:<what>` (e.g.
 * `dnssec-srv:_xmpp-client._tcp.example.org. 300 IN SRV …`); unknown forms are shown as they are.
 */
export function delegationText(delegation: string | null, domain: string, trusted: boolean): string {
  if (delegation === null) return trusted ? `None: the server proved ${domain} itself` : '—';
  const colon = delegation.indexOf(':');
  const how = colon < 0 ? '' : delegation.slice(0, colon);
  const what = delegation.slice(colon + 1).trim();
  switch (how) {
    case 'dnssec-srv':
      return `${domain} delegates to this server by a DNSSEC-signed SRV record (${what})`;
    case 'posh':
      return `${domain} delegates to this server by its POSH document (${what})`;
    case 'host-meta':
      return `${domain} names this server in its Host Meta document, fetched over verified HTTPS (${what})`;
    default:
      return delegation;
  }
}

/** The domain part of a bare JID. */
export const domainOf = (jid: string) => jid.slice(jid.indexOf('@') + 1);

export const messageStateLabel: Record<MessageState, string> = {
  queued: 'Queued',
  sent: 'Sent',
  acked: 'Delivered to server',
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
