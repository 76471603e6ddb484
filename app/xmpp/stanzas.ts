/**
 * Builders and parsers for the RFC 6120/6121 stanzas the core machine speaks: message, presence,
 * roster IQs, resource binding and stanza errors. Builders return ltx elements; parsers take
 * untrusted elements and never throw.
 */
import { Element } from 'ltx';
import { NS_BIND, NS_ROSTER, NS_SESSION, NS_STANZAS } from './namespaces.ts';
import { chatStateElement } from './chatStates.ts';
import { receiptRequestElement } from './receipts.ts';
import { originIdElement } from './stanzaIds.ts';
import type { PresenceShow, PresenceType, RosterItem } from './streamEvent.ts';

export interface OutgoingMessage {
  to: string;
  body: string;
  id: string;
  type: 'chat' | 'normal';
  /** XEP-0184: add a <request/> (see receiptRequestElement). */
  requestReceipt?: boolean;
  /** XEP-0085 §5.3: add an <active/> chat state. */
  chatState?: 'active';
}

export interface OutgoingPresence {
  show?: 'chat' | 'away' | 'xa' | 'dnd';
  status?: string;
  type?: 'unavailable' | 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';
  to?: string;
  priority?: number;
}

export interface RosterItemUpdate {
  jid: string;
  name?: string;
  groups?: string[];
  remove?: boolean;
}

/**
 * RFC 6121 §5; with a XEP-0359 <origin-id/> equal to `id`, which must therefore be unique, and
 * when asked a XEP-0184 <request/> (§7: "A sender MUST include an 'id' attribute on every content
 * message that requests a receipt": it always has one) and a XEP-0085 <active/>.
 */
export function messageStanza(m: OutgoingMessage): Element {
  const el = new Element('message', { to: m.to, id: m.id, type: m.type });
  el.c('body').t(m.body);
  el.cnode(originIdElement(m.id));
  if (m.requestReceipt) el.cnode(receiptRequestElement());
  if (m.chatState) el.cnode(chatStateElement(m.chatState));
  return el;
}

export function presenceStanza(p: OutgoingPresence = {}): Element {
  const attrs: Record<string, string> = {};
  if (p.type) attrs.type = p.type;
  if (p.to) attrs.to = p.to;
  const el = new Element('presence', attrs);
  if (p.show) el.c('show').t(p.show);
  if (p.status !== undefined) el.c('status').t(p.status);
  if (p.priority !== undefined) {
    // RFC 6121 §4.7.2.3: "The value MUST be an integer between -128 and +127."
    if (!Number.isInteger(p.priority) || p.priority < -128 || p.priority > 127)
      throw new RangeError(`presence priority ${p.priority} is outside -128..127`);
    el.c('priority').t(String(p.priority));
  }
  return el;
}

/** XEP-0199 §4.2 client-to-server ping: an IQ get with <ping xmlns='urn:xmpp:ping'/> to the server. */
export function pingIq(id: string, to: string): Element {
  const el = new Element('iq', { type: 'get', id, to });
  el.c('ping', { xmlns: 'urn:xmpp:ping' });
  return el;
}

/** RFC 6121 §2.1.3 roster get; with `ver` (§2.6.2) when the server supports versioning. */
export function rosterGet(id: string, ver?: string): Element {
  const el = new Element('iq', { type: 'get', id });
  el.c('query', ver === undefined ? { xmlns: NS_ROSTER } : { xmlns: NS_ROSTER, ver });
  return el;
}

/** RFC 6121 §2.1.5 (add/update) and §2.5 (remove). */
export function rosterSet(id: string, item: RosterItemUpdate): Element {
  const el = new Element('iq', { type: 'set', id });
  const attrs: Record<string, string> = { jid: item.jid };
  if (item.remove) attrs.subscription = 'remove';
  else if (item.name !== undefined) attrs.name = item.name;
  const itemEl = el.c('query', { xmlns: NS_ROSTER }).c('item', attrs);
  if (!item.remove) for (const g of item.groups ?? []) itemEl.c('group').t(g);
  return el;
}

/** RFC 6120 §7.6.1: request binding, optionally suggesting a resource. */
export function bindRequest(id: string, resource: string | undefined): Element {
  const el = new Element('iq', { type: 'set', id });
  const bind = el.c('bind', { xmlns: NS_BIND });
  if (resource) bind.c('resource').t(resource);
  return el;
}

/** RFC 3921 §3: legacy session establishment (only when not marked <optional/>). */
export function sessionRequest(id: string): Element {
  const el = new Element('iq', { type: 'set', id });
  el.c('session', { xmlns: NS_SESSION });
  return el;
}

/** RFC 6120 §8.2.3: an empty result to a get/set. */
export function iqResult(request: Element): Element {
  const attrs: Record<string, string> = { type: 'result', id: String(request.attrs.id ?? '') };
  if (typeof request.attrs.from === 'string') attrs.to = request.attrs.from;
  return new Element('iq', attrs);
}

/** RFC 6120 §8.3: an error reply to an IQ request. */
export function iqError(request: Element, condition: string, errorType: 'cancel' | 'modify'): Element {
  const attrs: Record<string, string> = { type: 'error', id: String(request.attrs.id ?? '') };
  if (typeof request.attrs.from === 'string') attrs.to = request.attrs.from;
  const el = new Element('iq', attrs);
  el.c('error', { type: errorType }).c(condition, { xmlns: NS_STANZAS });
  return el;
}

/** Text of the first child named `name` in the stanza's own namespace, or null. */
function childText(el: Element, name: string): string | null {
  const child = el.getChildElements().find((c) => c.getName() === name && c.getNS() === el.getNS());
  return child ? child.getText() : null;
}

/** RFC 6120 §8.3.2: the defined condition and optional text of a stanza's <error/>. */
export function parseStanzaError(stanza: Element): { condition: string; text: string | null } {
  const error = stanza.getChildElements().find((c) => c.getName() === 'error');
  if (!error) return { condition: 'undefined-condition', text: null };
  let condition = 'undefined-condition';
  let text: string | null = null;
  for (const c of error.getChildElements()) {
    if (c.getNS() !== NS_STANZAS) continue;
    if (c.getName() === 'text') text = c.getText();
    else if (condition === 'undefined-condition') condition = c.getName();
  }
  return { condition, text };
}

const SUBSCRIPTIONS = new Set(['none', 'to', 'from', 'both', 'remove']);

/** RFC 6121 §2.1.2: one <item/> of a roster query; null when it has no usable jid. */
export function parseRosterItem(item: Element): RosterItem | null {
  const jid = item.attrs.jid;
  if (typeof jid !== 'string' || jid === '') return null;
  const sub = item.attrs.subscription;
  const groups = item
    .getChildElements()
    .filter((g) => g.getName() === 'group')
    .map((g) => g.getText())
    .filter((g) => g !== '');
  return {
    jid,
    name: typeof item.attrs.name === 'string' && item.attrs.name !== '' ? item.attrs.name : null,
    // RFC 6121 §2.1.2.5: absent subscription means "none".
    subscription: typeof sub === 'string' && SUBSCRIPTIONS.has(sub) ? (sub as RosterItem['subscription']) : 'none',
    ask: item.attrs.ask === 'subscribe',
    groups: [...new Set(groups)],
  };
}

/** The <query xmlns='jabber:iq:roster'/> child of an IQ, or undefined. */
export function rosterQuery(iq: Element): Element | undefined {
  return iq.getChildElements().find((c) => c.getName() === 'query' && c.getNS() === NS_ROSTER);
}

export function parseRosterQuery(query: Element): { items: RosterItem[]; ver: string | null } {
  const items: RosterItem[] = [];
  for (const c of query.getChildElements()) {
    if (c.getName() !== 'item') continue;
    const item = parseRosterItem(c);
    if (item) items.push(item);
  }
  return { items, ver: typeof query.attrs.ver === 'string' ? query.attrs.ver : null };
}

const PRESENCE_TYPES = new Set(['unavailable', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'error']);
const SHOWS = new Set(['chat', 'away', 'xa', 'dnd']);

export interface ParsedPresence {
  presenceType: PresenceType;
  show: PresenceShow | null;
  status: string | null;
  priority: number;
}

/** RFC 6121 §4.7; null for types a client does not handle (e.g. 'probe'). */
export function parsePresence(p: Element): ParsedPresence | null {
  const type = p.attrs.type;
  let presenceType: PresenceType;
  if (type === undefined || type === '') presenceType = 'available';
  else if (typeof type === 'string' && PRESENCE_TYPES.has(type)) presenceType = type as PresenceType;
  else return null;
  let show: PresenceShow | null = null;
  if (presenceType === 'available') {
    const s = childText(p, 'show');
    // RFC 6121 §4.7.2.1: without <show/> the entity "is assumed to be online and available".
    show = s !== null && SHOWS.has(s.trim()) ? (s.trim() as PresenceShow) : 'available';
  }
  const pr = childText(p, 'priority');
  let priority = 0;
  if (pr !== null && /^\s*[+-]?\d{1,4}\s*$/.test(pr)) {
    const n = parseInt(pr, 10);
    if (n >= -128 && n <= 127) priority = n;
  }
  return { presenceType, show, status: childText(p, 'status'), priority };
}
