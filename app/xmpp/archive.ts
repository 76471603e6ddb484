/**
 * XEP-0313 Message Archive Management with XEP-0059 Result Set Management paging: the query IQ
 * for the account's own archive, the result messages it triggers and the <fin/> that ends a page.
 */
import { Element } from 'ltx';
import { formatDateTime } from './delay.ts';
import { parseForwarded, type Forwarded } from './forwarded.ts';
import { parseJid, sameBareJid } from './jid.ts';
import { NS_DATA, NS_MAM, NS_RSM } from './namespaces.ts';

export interface ArchiveQuery {
  /** RSM <after/>: the archive id (the server's XEP-0359 stanza-id) of the last message already known. */
  after?: string | null;
  /** The 'start' field: only messages archived at or after this time (ms since the epoch). */
  start?: number | null;
  /** RSM <max/>: the page size, a positive integer. */
  max: number;
  /** The 'with' field: only messages to or from this JID. */
  with?: string | null;
}

/**
 * XEP-0313 §4: `<iq type='set'><query xmlns='urn:xmpp:mam:2' queryid=...>` with a XEP-0004 form of
 * type submit (§4.1: "the FORM_TYPE field MUST be set to this protocol's namespace") and an RSM
 * <set/> (§4.3: the server "MUST support the paging mechanism defined therein"). No 'to': the
 * account's own archive (§3: servers "MUST expose these archives to the user on the user's bare JID").
 */
export function archiveQueryIq(id: string, queryId: string, q: ArchiveQuery): Element {
  if (!Number.isInteger(q.max) || q.max < 1)
    throw new RangeError(`queryArchive(): max must be a positive integer, got ${q.max}`);
  if (q.with != null && parseJid(q.with) === null) throw new Error(`queryArchive(): "${q.with}" is not a JID`);
  const iq = new Element('iq', { type: 'set', id });
  const query = iq.c('query', { xmlns: NS_MAM, queryid: queryId });
  const form = query.c('x', { xmlns: NS_DATA, type: 'submit' });
  form.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS_MAM);
  if (q.with != null) form.c('field', { var: 'with' }).c('value').t(q.with);
  // §4.1.2: "The 'start' and 'end' fields, if provided, MUST contain timestamps formatted according
  // to the DateTime profile defined in XEP-0082".
  if (q.start != null) form.c('field', { var: 'start' }).c('value').t(formatDateTime(q.start));
  const set = query.c('set', { xmlns: NS_RSM });
  set.c('max').t(String(q.max));
  if (q.after != null && q.after !== '') set.c('after').t(q.after);
  return iq;
}

export type ArchiveResult =
  /** Not an archive result: handle the message as it is. */
  | null
  /** A result not from our archive or for no query we have open: drop it. */
  | { kind: 'ignored'; reason: string }
  /** `id`: the message's archive id (§4.2: "an 'id' attribute that gives the current message's archive UID"). */
  | { kind: 'result'; queryId: string; id: string; forwarded: Forwarded };

/**
 * Reads `message` as a result of one of our archive queries (`isOpen(queryId)`) on the account's
 * own archive (`account`, a bare JID).
 *
 * XEP-0313 §8.2: "A client MUST verify the source of MAM query results against an open query (i.e.
 * checking the stanza 'from' matches the entity that was queried) and MUST either ignore or
 * otherwise disregard (maybe with a warning to the user) unsolicited results ... Additionally, if
 * the client has multiple queries in flight at once, it MUST also check that the query ID for a
 * result matches that of an open query for that entity." Our queries go to our own archive: the
 * results come from our bare JID, or without 'from' (the server on the account's behalf, RFC 6120
 * §8.1.2.1).
 */
export function parseArchiveResult(
  message: Element,
  account: string,
  isOpen: (queryId: string) => boolean,
): ArchiveResult {
  const result = message.getChildElements().find((c) => c.getName() === 'result' && c.getNS() === NS_MAM);
  if (!result) return null;
  const from = message.attrs.from;
  if (typeof from === 'string' && from !== '' && (parseJid(from)?.resource !== '' || !sameBareJid(from, account)))
    return {
      kind: 'ignored',
      reason: `an archive result from ${from}, not from the account's own archive (XEP-0313 §8.2)`,
    };
  const queryId = result.attrs.queryid;
  if (typeof queryId !== 'string' || !isOpen(queryId))
    return { kind: 'ignored', reason: 'an archive result for no query Quiver has open (XEP-0313 §8.2)' };
  const id = result.attrs.id;
  if (typeof id !== 'string' || id === '')
    return { kind: 'ignored', reason: 'an archive result without an id (XEP-0313 §4.2)' };
  // Placed in the archive's order by the catch-up: a stamp to the second counts from its start.
  const forwarded = parseForwarded(result, 'first');
  if (!forwarded) return { kind: 'ignored', reason: 'an archive result without a forwarded message (XEP-0313 §4.2)' };
  return { kind: 'result', queryId, id, forwarded };
}

export interface ArchiveFin {
  /**
   * XEP-0313 §4.3: "When the results returned by the server are complete ... the server MUST include
   * a 'complete' attribute on the <fin> element, with a value of 'true'"; otherwise more pages follow.
   */
  complete: boolean;
  /** RSM <first/> and <last/>: the archive ids of the page's first and last results (null for an empty page). */
  first: string | null;
  last: string | null;
  /** RSM <count/>: the number of results in the whole set, when the server says. */
  count: number | null;
}

/** The <fin xmlns='urn:xmpp:mam:2'/> of an IQ result to an archive query; null without one. */
export function parseArchiveFin(iq: Element): ArchiveFin | null {
  const fin = iq.getChildElements().find((c) => c.getName() === 'fin' && c.getNS() === NS_MAM);
  if (!fin) return null;
  const set = fin.getChildElements().find((c) => c.getName() === 'set' && c.getNS() === NS_RSM);
  const text = (name: string): string | null => {
    const el = set?.getChildElements().find((c) => c.getName() === name);
    const t = el?.getText().trim();
    return t ? t : null;
  };
  const countText = text('count');
  const count = countText !== null && /^\d{1,9}$/.test(countText) ? Number(countText) : null;
  // XML Schema boolean: 'true' or '1'.
  const complete = fin.attrs.complete === 'true' || fin.attrs.complete === '1';
  return { complete, first: text('first'), last: text('last'), count };
}
