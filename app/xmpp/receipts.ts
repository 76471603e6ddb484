/**
 * XEP-0184 Message Delivery Receipts: the <request/> an outgoing content message carries, the ack
 * message we send back (only when the caller decides to, after storing the message), and what an
 * incoming message asks for or acknowledges.
 */
import { Element } from 'ltx';
import { NS_HINTS, NS_RECEIPTS } from './namespaces.ts';

/**
 * XEP-0184 §5.1: "the sender MAY request a receipt when sending a content message of type "chat",
 * "headline", or "normal" to the recipient's bare JID. However, the sender MUST NOT depend on
 * receiving an ack message in reply." Quiver does no service discovery yet (§5.2 asks for it before
 * requesting from a full JID), so it requests on every chat message and treats a receipt as a
 * bonus: a message without one stays as the server acknowledged it.
 */
export function receiptRequestElement(): Element {
  return new Element('request', { xmlns: NS_RECEIPTS });
}

/**
 * The ack message for the content message `theirId` from `to` (its full JID, as it arrived).
 *
 * XEP-0184 §7: "When the recipient sends an ack message, it SHOULD ensure that the message stanza
 * contains only one child element, namely the <received/> element qualified by the
 * 'urn:xmpp:receipts' namespace, which MUST include an 'id' attribute that echoes the 'id'
 * attribute of the content message." We add one more, a XEP-0334 <store/> hint, so that a server
 * that stores only messages with a body keeps the receipt for an offline sender (the hint is for
 * the servers on the way, which §7 lets add elements too). §7 also calls it "a good practice to use
 * the same message type as the message that requested the receipt". §5.4: an ack message never
 * carries a <request/> (loops).
 */
export function receiptStanza(to: string, id: string, theirId: string, type: 'chat' | 'normal' = 'chat'): Element {
  const el = new Element('message', { to, id, type });
  el.c('received', { xmlns: NS_RECEIPTS, id: theirId });
  el.c('store', { xmlns: NS_HINTS });
  return el;
}

export interface ReceiptInfo {
  /**
   * The sender asks for a receipt: a <request/>, a non-empty 'id' to echo (§7: "A sender MUST
   * include an 'id' attribute on every content message that requests a receipt"), a <body/>
   * (only content messages are acknowledged) and no <received/> (§5.4, loops).
   */
  requested: boolean;
  /** The id of our message this one acknowledges (<received id=.../>), or null. */
  receiptFor: string | null;
}

/** What `message` (a non-error message stanza, jabber:client) says about receipts. */
export function parseReceipt(message: Element, hasBody: boolean): ReceiptInfo {
  let request = false;
  let receiptFor: string | null = null;
  let received = false;
  for (const child of message.getChildElements()) {
    if (child.getNS() !== NS_RECEIPTS) continue;
    if (child.getName() === 'request') request = true;
    else if (child.getName() === 'received') {
      received = true;
      const id = child.attrs.id;
      if (typeof id === 'string' && id !== '') receiptFor = id;
    }
  }
  const id = message.attrs.id;
  return {
    requested: request && !received && hasBody && typeof id === 'string' && id !== '',
    receiptFor,
  };
}
