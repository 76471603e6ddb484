/**
 * What the client does with a stanza the server delivers once the session is up (RFC 6120 §8,
 * RFC 6121): pure functions from one stanza to the events to report and the reply to send.
 * IQ responses to our own requests are matched by the stream machine, not here.
 */
import type { Element } from 'ltx';
import { parseArchiveResult } from './archive.ts';
import { parseCarbon } from './carbons.ts';
import { parseChatState } from './chatStates.ts';
import { parseDelay } from './delay.ts';
import type { Forwarded } from './forwarded.ts';
import { parseJid, sameBareJid } from './jid.ts';
import { NS_CLIENT, NS_PING } from './namespaces.ts';
import { parseReceipt } from './receipts.ts';
import { parseStanzaIds } from './stanzaIds.ts';
import { iqError, iqResult, parsePresence, parseRosterItem, parseStanzaError, rosterQuery } from './stanzas.ts';
import type { StreamEvent } from './streamEvent.ts';

export interface InboundContext {
  /** The account's bare JID. */
  account: string;
  /** The full JID bound for this session, once known. */
  boundJid: string | null;
  /** XEP-0313 §8.2: whether `queryId` names an archive query of ours still open (none when absent). */
  openArchiveQuery?: (queryId: string) => boolean;
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

/** RFC 6121 §5.2.2: the message type, 'normal' when absent. */
function messageType(el: Element): string {
  return typeof el.attrs.type === 'string' && el.attrs.type !== '' ? el.attrs.type : 'normal';
}

function ignored(reason: string, el: Element): Inbound {
  return { events: [{ type: 'stanza-ignored', reason, from: stanzaFrom(el) }], reply: null };
}

/** What a message event adds to the message's own fields, by where it came from. */
interface Origin {
  delay: number | null;
  carbon: 'sent' | 'received' | null;
  archive: { queryId: string; id: string } | null;
  /** The account's server delivered it live: RFC 6120 §8.1.2.1 defaults and receipt requests apply. */
  live: boolean;
}

function messageEvent(el: Element, ctx: InboundContext, origin: Origin): StreamEvent {
  const bodyEl = el.getChildElements().find((c) => c.getName() === 'body' && c.getNS() === NS_CLIENT);
  const body = bodyEl ? bodyEl.getText() : null;
  const ids = parseStanzaIds(el, ctx.account);
  const receipt = parseReceipt(el, body !== null);
  return {
    type: 'message',
    // RFC 6120 §8.1.2.1: a stanza without 'from' comes from the server on behalf of the account.
    from: stanzaFrom(el) ?? ctx.account,
    to:
      typeof el.attrs.to === 'string' && el.attrs.to !== ''
        ? el.attrs.to
        : origin.live
          ? (ctx.boundJid ?? ctx.account)
          : ctx.account,
    id: stanzaId(el),
    originId: ids.originId,
    // XEP-0313 §3: the archive id is the stanza-id the archive (our bare JID) stamped.
    serverId: ids.serverId ?? origin.archive?.id ?? null,
    messageType: messageType(el),
    body,
    delay: origin.delay,
    // XEP-0184 §5.5: "An entity MUST NOT send an ack message when a user views messages that have
    // been archived or stored on the client or the server ..., only when first receiving the
    // message." A carbon is a copy another of our devices receives first (and answers).
    receiptRequested: origin.live && receipt.requested,
    receiptFor: receipt.receiptFor,
    chatState: parseChatState(el),
    carbon: origin.carbon,
    archive: origin.archive,
    stanza: el,
  };
}

/**
 * RFC 6121 §5: a message; type 'error' becomes a 'stanza-error' event. A XEP-0280 carbon copy or
 * a XEP-0313 archive result is reported as the message it carries (never also as the wrapper),
 * or dropped with a 'stanza-ignored' event when it does not come from the account's own server.
 */
export function inboundMessage(el: Element, ctx: InboundContext): Inbound {
  if (messageType(el) === 'error') {
    const e = parseStanzaError(el);
    return {
      events: [
        {
          type: 'stanza-error',
          id: stanzaId(el),
          condition: e.condition,
          text: e.text,
          stanzaKind: 'message',
          from: stanzaFrom(el),
        },
      ],
      reply: null,
    };
  }
  const carbon = parseCarbon(el, ctx.account);
  if (carbon) {
    if (carbon.kind === 'ignored') return ignored(carbon.reason, el);
    return forwardedMessage(carbon.forwarded, ctx, carbon.kind, null, el);
  }
  const result = parseArchiveResult(el, ctx.account, ctx.openArchiveQuery ?? (() => false));
  if (result) {
    if (result.kind === 'ignored') return ignored(result.reason, el);
    const from = stanzaFrom(result.forwarded.message);
    const ours = from !== null && sameBareJid(from, ctx.account);
    return forwardedMessage(
      result.forwarded,
      ctx,
      ours ? 'sent' : null,
      { queryId: result.queryId, id: result.id },
      el,
    );
  }
  return {
    events: [messageEvent(el, ctx, { delay: parseDelay(el), carbon: null, archive: null, live: true })],
    reply: null,
  };
}

function forwardedMessage(
  forwarded: Forwarded,
  ctx: InboundContext,
  carbon: 'sent' | 'received' | null,
  archive: { queryId: string; id: string } | null,
  wrapper: Element,
): Inbound {
  // A copy of an error is not an error of ours to report.
  if (messageType(forwarded.message) === 'error') return ignored('a forwarded message of type error', wrapper);
  return {
    events: [messageEvent(forwarded.message, ctx, { delay: forwarded.delay, carbon, archive, live: false })],
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
