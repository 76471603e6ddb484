/**
 * Events the host pushes to the UI. Names are `domain.pastTense`.
 */
import type {
  AccountView,
  CertificateDecisionView,
  MessageView,
  PinView,
  PresenceView,
  RosterItemView,
  SecurityRecord,
} from './viewModels.ts';

export interface Events {
  'account.changed': { account: AccountView };
  'account.removed': { accountId: string };
  'roster.changed': { accountId: string; items: RosterItemView[] };
  'presence.changed': { accountId: string; jid: string; presence: PresenceView | null };
  /** A message was stored (incoming, or outgoing from any window). */
  'message.added': { message: MessageView };
  /** A stored message changed state (queued -> sent -> acked, or failed). */
  'message.updated': { message: MessageView };
  /**
   * XEP-0085: a contact's chat state in a one-to-one chat ('composing': typing now; 'paused':
   * stopped typing; 'active', 'inactive', 'gone': attention). A message from them means 'active'.
   */
  'chat.stateChanged': {
    accountId: string;
    peer: string;
    state: 'active' | 'composing' | 'paused' | 'inactive' | 'gone';
  };
  'connection.recorded': { record: SecurityRecord };
  /** A server could not be proved and the person must decide (refuse, accept once, pin). */
  'certificate.decisionNeeded': { decision: CertificateDecisionView };
  /** Decided (here or in another window), or no longer relevant. */
  'certificate.decisionResolved': { decisionId: string };
  'pin.changed': { accountId: string; pins: PinView[] };
}

export type EventName = keyof Events;
export type EventEnvelope = { [K in EventName]: { name: K; payload: Events[K] } }[EventName];
