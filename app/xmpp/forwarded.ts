/**
 * XEP-0297 Stanza Forwarding: the <forwarded/> wrapper that carbons (XEP-0280) and archive results
 * (XEP-0313) put around a message, with the XEP-0203 <delay/> of when it was originally sent.
 */
import type { Element } from 'ltx';
import { parseDelay } from './delay.ts';
import { NS_CLIENT, NS_FORWARD } from './namespaces.ts';

export interface Forwarded {
  /** The forwarded <message/>, in jabber:client. */
  message: Element;
  /** The <forwarded/>'s own <delay/>, else the message's, in ms since the epoch; null when neither has one. */
  delay: number | null;
}

/**
 * The first <forwarded xmlns='urn:xmpp:forward:0'/> child of `parent` and the message inside it,
 * or null when there is none or it holds no <message/> in jabber:client (XEP-0297 §3: the
 * forwarded stanza keeps its own namespace; for a client's messages that is jabber:client).
 * `wholeSecond`: how a stamp to the second is read (`parseDelay`).
 */
export function parseForwarded(parent: Element, wholeSecond: 'last' | 'first' = 'last'): Forwarded | null {
  const fwd = parent.getChildElements().find((c) => c.getName() === 'forwarded' && c.getNS() === NS_FORWARD);
  if (!fwd) return null;
  const message = fwd.getChildElements().find((c) => c.getName() === 'message' && c.getNS() === NS_CLIENT);
  if (!message) return null;
  return { message, delay: parseDelay(fwd, wholeSecond) ?? parseDelay(message, wholeSecond) };
}
