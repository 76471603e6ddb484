/**
 * Events the host pushes to the UI. Names are `domain.pastTense`.
 */
import type {
  AccountView,
  CertificateDecisionView,
  ConversationView,
  SubscriptionRequestView,
  XmppUriTarget,
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
  /** A conversation was created or changed: new last message, unread count, draft, name, stranger or blocked. */
  'conversation.changed': { conversation: ConversationView };
  /** A conversation and its messages were deleted (e.g. the account was removed with its history). */
  'conversation.removed': { accountId: string; peer: string };
  /** Someone asked to see an account's presence; pending until `subscription.answer`. */
  'subscription.requested': { request: SubscriptionRequestView };
  /** A request was answered (here, in another window, or withdrawn). */
  'subscription.resolved': { accountId: string; jid: string };
  /** The account's XEP-0191 block list changed. */
  'block.changed': { accountId: string; jids: string[] };
  /** The shell was asked to open an `xmpp:` URI (RFC 5122): the window shows it. */
  'uri.opened': { target: XmppUriTarget };
}

export type EventName = keyof Events;
export type EventEnvelope = { [K in EventName]: { name: K; payload: Events[K] } }[EventName];
