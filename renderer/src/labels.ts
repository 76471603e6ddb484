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

export const prooftypeLabel: Record<Prooftype, string> = {
  pkix: 'PKIX (CA-signed certificate)',
  'dane-ee': 'DANE-EE',
  'dane-ta': 'DANE-TA',
  'pkix-ee': 'PKIX-EE (DANE usage 1)',
  'pkix-ta': 'PKIX-TA (DANE usage 0)',
  posh: 'POSH',
  pin: 'Pinned key',
};

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
