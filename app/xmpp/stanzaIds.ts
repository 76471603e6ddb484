/**
 * XEP-0359: Unique and Stable Stanza IDs. Reads the ids of an incoming message that may be used to
 * recognise a redelivery, and builds the <origin-id/> of an outgoing one. A message's 'id'
 * attribute is not among them: each sending client picks it, so it is unique at most per resource.
 */
import { Element } from 'ltx';
import { parseJid, sameBareJid } from './jid.ts';
import { NS_SID } from './namespaces.ts';

export interface StanzaIds {
  /**
   * The <stanza-id/> stamped by the account's own server, or null. XEP-0359 §2.1: "The value of the
   * 'id' attribute must be unique and stable, i.e. it MUST NOT change later for some reason within
   * the scope of the 'by' value."
   */
  serverId: string | null;
  /** The <origin-id/> the sending client chose, or null; unique at most per sending full JID. */
  originId: string | null;
}

function idOf(el: Element): string | null {
  const id = el.attrs.id;
  return typeof id === 'string' && id !== '' ? id : null;
}

/**
 * The XEP-0359 ids of a message delivered to the account `account` (its bare JID).
 *
 * XEP-0359 §3: "The value of the 'by' attribute MUST be the XMPP address of the entity assigning
 * the unique and stable stanza ID. For one-on-one messages the assigning entity is the account."
 * Anyone may put a <stanza-id/> into a message they send; only the one whose 'by' is the account's
 * own bare JID was stamped by our server (which, per §3, "MUST ignore the existing value of 'id'
 * and override it" when a sender forged one in its name). Every other stanza-id is ignored.
 * §3 also says a stanza has "at most one <stanza-id/> extension element with the same XMPP address
 * as value of the 'by' attribute": a message with two claiming to be ours has none we trust.
 *
 * XEP-0359 §3 asks a receiver to check that the 'by' entity announces urn:xmpp:sid:0 before
 * deduplicating on its ids; this client does no service discovery yet, so storage merges two
 * messages with the same server id only when their content is the same too.
 */
export function parseStanzaIds(message: Element, account: string): StanzaIds {
  let serverId: string | null = null;
  let ours = 0;
  let originId: string | null = null;
  let origins = 0;
  for (const child of message.getChildElements()) {
    if (child.getNS() !== NS_SID) continue;
    if (child.getName() === 'stanza-id') {
      const by = child.attrs.by;
      if (typeof by !== 'string' || parseJid(by)?.resource !== '' || !sameBareJid(by, account)) continue;
      ours++;
      serverId = idOf(child);
    } else if (child.getName() === 'origin-id') {
      origins++;
      originId = idOf(child);
    }
  }
  return { serverId: ours === 1 ? serverId : null, originId: origins === 1 ? originId : null };
}

/**
 * XEP-0359 §2.2: "Some use cases require the originating entity, e.g. a client, to generate the
 * stanza ID. In this case, the client MUST use the <origin-id/> element extension element qualified
 * by the 'urn:xmpp:sid:0' namespace." `id` must be unique (ours is the message's own id).
 */
export function originIdElement(id: string): Element {
  return new Element('origin-id', { xmlns: NS_SID, id });
}
