/**
 * What the client does with a stanza the server delivers once the session is up (RFC 6120 §8,
 * RFC 6121): pure functions from one stanza to the events to report and the reply to send.
 * IQ responses to our own requests are matched by the stream machine, not here.
 */
import type { Element } from 'ltx';
import { parseJid, sameBareJid } from './jid.ts';
import { NS_CLIENT, NS_PING } from './namespaces.ts';
import { parseStanzaIds } from './stanzaIds.ts';
import { iqError, iqResult, parsePresence, parseRosterItem, parseStanzaError, rosterQuery } from './stanzas.ts';
import type { StreamEvent } from './streamEvent.ts';

export interface InboundContext {
  /** The account's bare JID. */
  account: string;
  /** The full JID bound for this session, once known. */
  boundJid: string | null;
}

export interface Inbound {
  events: StreamEvent[];
  /** The stanza to send back, if any. */
  reply: Element | null;
}

const NOTHING: Inbound = { events: [], reply: null };

export function stanzaFrom(el: Element): string | null {
  return typeof el.attrs.from === 'string' && el.attrs.from !== '' ? el.attrs.from : null;
}

/** The 'id' attribute; an empty one identifies nothing and is reported as none. */
function stanzaId(el: Element): string | null {
  return typeof el.attrs.id === 'string' && el.attrs.id !== '' ? el.attrs.id : null;
}

/** RFC 6121 §5: a message; type 'error' becomes a 'stanza-error' event. */
export function inboundMessage(el: Element, ctx: InboundContext): Inbound {
  const id = stanzaId(el);
  // RFC 6121 §5.2.2: a message without 'type' is 'normal'.
  const type = typeof el.attrs.type === 'string' && el.attrs.type !== '' ? el.attrs.type : 'normal';
  if (type === 'error') {
    const e = parseStanzaError(el);
    return {
      events: [
        { type: 'stanza-error', id, condition: e.condition, text: e.text, stanzaKind: 'message', from: stanzaFrom(el) },
      ],
      reply: null,
    };
  }
  const bodyEl = el.getChildElements().find((c) => c.getName() === 'body' && c.getNS() === NS_CLIENT);
  return {
    events: [
      {
        type: 'message',
        // RFC 6120 §8.1.2.1: a stanza without 'from' comes from the server on behalf of the account.
        from: stanzaFrom(el) ?? ctx.account,
        to: typeof el.attrs.to === 'string' ? el.attrs.to : (ctx.boundJid ?? ctx.account),
        id,
        ...parseStanzaIds(el, ctx.account),
        messageType: type,
        body: bodyEl ? bodyEl.getText() : null,
        stanza: el,
      },
    ],
    reply: null,
  };
}

/** RFC 6121 §4: a presence; type 'error' is reported both as 'stanza-error' and as presence. */
export function inboundPresence(el: Element, ctx: InboundContext): Inbound {
  const p = parsePresence(el);
  if (!p) return NOTHING;
  const from = stanzaFrom(el) ?? ctx.account;
  const events: StreamEvent[] = [];
  if (p.presenceType === 'error') {
    const e = parseStanzaError(el);
    events.push({
      type: 'stanza-error',
      id: stanzaId(el),
      condition: e.condition,
      text: e.text,
      stanzaKind: 'presence',
      from,
    });
  }
  events.push({ type: 'presence', from, ...p, stanza: el });
  return { events, reply: null };
}

/** An IQ of type get or set from the server or another entity. */
export function inboundIqRequest(iq: Element, ctx: InboundContext): Inbound {
  const type = iq.attrs.type;
  const query = rosterQuery(iq);
  if (type === 'set' && query) {
    // RFC 6121 §2.1.6: "A receiving client MUST ignore the stanza unless it has no 'from'
    // attribute (i.e., implicitly from the bare JID of the user's account) or it has a 'from'
    // attribute whose value matches the user's bare JID <user@domainpart>."
    const from = stanzaFrom(iq);
    if (from !== null && (parseJid(from)?.resource !== '' || !sameBareJid(from, ctx.account))) return NOTHING;
    const items = query.getChildElements().filter((c) => c.getName() === 'item');
    const item = items.length === 1 ? parseRosterItem(items[0]!) : null;
    // RFC 6121 §2.1.6: a roster push carries exactly one <item/>.
    if (!item) return { events: [], reply: iqError(iq, 'bad-request', 'modify') };
    return {
      events: [{ type: 'roster-push', item, ver: typeof query.attrs.ver === 'string' ? query.attrs.ver : null }],
      // RFC 6121 §2.1.6 (and RFC 6120 §8.2.3 for any IQ set): answer the push with a result.
      reply: iqResult(iq),
    };
  }
  const child = iq.getChildElements()[0];
  if (type === 'get' && child && child.getName() === 'ping' && child.getNS() === NS_PING) {
    // XEP-0199 §4.1: "If the client supports the ping namespace, it MUST return an IQ-result,
    // which functions as a "pong"".
    return { events: [], reply: iqResult(iq) };
  }
  // RFC 6120 §8.4: an IQ get/set whose payload namespace we do not understand is answered with
  // a <service-unavailable/> error (and RFC 6120 §8.2.3: every get/set gets a result or an error).
  return { events: [], reply: iqError(iq, 'service-unavailable', 'cancel') };
}
