/**
 * RFC 6121 §3: presence subscriptions, the protocol side. What an inbound subscription presence
 * means for the person (`classifySubscription`), and the presences that answer or ask
 * (`subscriptionPresence`). Pure: no I/O; the caller stores requests and decides.
 */
import type { Element } from 'ltx';
import { parseJid, sameBareJid } from './jid.ts';
import { NS_NICK } from './namespaces.ts';
import type { OutgoingPresence } from './stanzas.ts';
import type { PresenceType } from './streamEvent.ts';

/** A request's message (status text or nickname) is cut to this many characters. */
export const MAX_REQUEST_MESSAGE = 1000;

/** What an inbound presence of a subscription type means. */
export type SubscriptionInbound =
  /** `jid` (bare) asks to see the account's presence (RFC 6121 §3.1.2). */
  | { kind: 'request'; jid: string; message: string | null }
  /**
   * `jid` unsubscribed from the account's presence (§3.3.1: "If a user would like to unsubscribe
   * from a contact's presence, the user sends a presence stanza of type "unsubscribe""): a request
   * of theirs still waiting for the person's answer is over.
   */
  | { kind: 'withdrawn'; jid: string }
  /**
   * `jid` refused our request or cancelled our subscription to ITS presence (§3.1.4, §3.2.1: the
   * contact "sends a presence stanza of type "unsubscribed""). It says nothing about a request of
   * theirs: that one stays pending. The server's roster push carries the new subscription state.
   */
  | { kind: 'refused'; jid: string }
  /** `jid` approved our request (§3.1.5). */
  | { kind: 'approved'; jid: string }
  /** Not acted on; `reason` is worth a log line. */
  | { kind: 'ignored'; reason: string };

/**
 * Classifies an inbound presence of type subscribe, unsubscribe, subscribed or unsubscribed; null
 * for any other type. `account` is the account's bare JID.
 *
 * RFC 6121 §3.1.2: "the user's server MUST stamp the outgoing presence with the bare JID
 * <user@domainpart> of the user": a subscription presence from a full JID was not stamped by a
 * conforming server and is ignored, as is one from the account itself or without a localpart-free
 * valid address.
 */
export function classifySubscription(
  p: { from: string; presenceType: PresenceType; status: string | null; stanza?: Element },
  account: string,
): SubscriptionInbound | null {
  const type = p.presenceType;
  if (type !== 'subscribe' && type !== 'unsubscribe' && type !== 'subscribed' && type !== 'unsubscribed') return null;
  const jid = parseJid(p.from);
  if (jid === null) return { kind: 'ignored', reason: `a ${type} presence from an invalid address` };
  if (jid.resource !== '')
    return { kind: 'ignored', reason: `a ${type} presence from a full JID (RFC 6121 §3.1.2 stamps the bare JID)` };
  if (sameBareJid(jid.bare, account)) return { kind: 'ignored', reason: `a ${type} presence from the account itself` };
  const bare = jid.bare.toLowerCase();
  if (type === 'subscribe') return { kind: 'request', jid: bare, message: requestMessage(p) };
  if (type === 'subscribed') return { kind: 'approved', jid: bare };
  if (type === 'unsubscribed') return { kind: 'refused', jid: bare };
  return { kind: 'withdrawn', jid: bare };
}

/** The XEP-0172 nickname (§4.1: "MAY include the user's nickname" in a subscription request), else the status. */
function requestMessage(p: { status: string | null; stanza?: Element }): string | null {
  const nick = p.stanza?.getChild('nick', NS_NICK)?.getText().trim();
  const text = nick ? nick : (p.status?.trim() ?? '');
  return text === '' ? null : text.slice(0, MAX_REQUEST_MESSAGE);
}

/**
 * The presence that approves (`subscribed`), refuses or cancels (`unsubscribed`), asks
 * (`subscribe`) or cancels our own subscription (`unsubscribe`), to the bare JID `to`
 * (RFC 6121 §3.1.1, §3.1.4, §3.2.1, §3.3.1).
 */
export function subscriptionPresence(
  type: 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed',
  to: string,
): OutgoingPresence {
  const jid = parseJid(to);
  if (jid === null || jid.resource !== '') throw new Error(`subscriptionPresence(): "${to}" is not a bare JID`);
  return { type, to: jid.bare };
}
