/**
 * XEP-0085 Chat State Notifications: the <active/> a content message may carry, standalone
 * notifications (composing, paused, inactive, gone) and the state an incoming message reports.
 */
import { Element } from 'ltx';
import { NS_CHATSTATES, NS_HINTS } from './namespaces.ts';

/** XEP-0085 §2: the five chat states. */
export type ChatState = 'active' | 'composing' | 'paused' | 'inactive' | 'gone';

const STATES: ReadonlySet<string> = new Set<ChatState>(['active', 'composing', 'paused', 'inactive', 'gone']);

export function isChatState(value: unknown): value is ChatState {
  return typeof value === 'string' && STATES.has(value);
}

/**
 * XEP-0085 §5.1: "If the User desires chat state notifications, the message(s) that it sends to
 * the Contact before receiving a reply MUST contain a chat state notification extension, which
 * SHOULD be <active/>." and §5.3: "every content message SHOULD contain an <active/> notification."
 */
export function chatStateElement(state: ChatState): Element {
  return new Element(state, { xmlns: NS_CHATSTATES });
}

/**
 * A standalone notification to `to`, type chat (§5.4: "SHOULD be set to a value of "chat" (for
 * one-to-one sessions)"). §5.6: a standalone notification "MUST NOT contain any child elements other
 * than the chat state notification extension, which SHOULD be a state other than <active/>"; we
 * add a XEP-0334 <no-store/> hint all the same, addressed to the servers on the way, because §5.8
 * says servers "SHOULD NOT store them offline" and an archive full of typing notifications helps
 * no one. The caller keeps §5.3: "a client MUST NOT send a second instance of any given standalone
 * notification".
 */
export function chatStateStanza(to: string, id: string, state: ChatState): Element {
  const el = new Element('message', { to, id, type: 'chat' });
  el.cnode(chatStateElement(state));
  el.c('no-store', { xmlns: NS_HINTS });
  return el;
}

/**
 * The chat state `message` reports, or null. §5.6: "A message stanza MUST NOT contain more than one
 * child element qualified by the 'http://jabber.org/protocol/chatstates' namespace": a message with
 * two (or an unknown state) reports none.
 */
export function parseChatState(message: Element): ChatState | null {
  const found = message.getChildElements().filter((c) => c.getNS() === NS_CHATSTATES);
  if (found.length !== 1) return null;
  const name = found[0]!.getName();
  return isChatState(name) ? name : null;
}
