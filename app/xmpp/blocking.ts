/**
 * XEP-0191 Blocking Command and the XEP-0030 disco#info that tells whether the server offers it.
 * Builds the requests (disco#info, blocklist, block, unblock) and parses the answers and pushes.
 * Pure: no I/O; lists from the network are bounded (`MAX_BLOCKLIST`).
 */
import { Element } from 'ltx';
import { parseJid, sameBareJid } from './jid.ts';
import { NS_BLOCKING, NS_DISCO_INFO } from './namespaces.ts';

/** At most this many JIDs are taken from a block list or push; the rest are dropped (and logged by the caller). */
export const MAX_BLOCKLIST = 10_000;
/** At most this many features are read from a disco#info result. */
export const MAX_DISCO_FEATURES = 1000;

/** XEP-0030 §3.1: a disco#info query to `to` (here: the account's domain). */
export function discoInfoIq(id: string, to: string): Element {
  const iq = new Element('iq', { type: 'get', id, to });
  iq.c('query', { xmlns: NS_DISCO_INFO });
  return iq;
}

/** XEP-0030 §3.1: the features (var attributes) of a disco#info result, at most MAX_DISCO_FEATURES. */
export function parseDiscoFeatures(result: Element): string[] {
  const query = result.getChild('query', NS_DISCO_INFO);
  if (!query) return [];
  const features: string[] = [];
  for (const child of query.getChildElements()) {
    if (features.length >= MAX_DISCO_FEATURES) break;
    if (child.getName() === 'feature' && typeof child.attrs.var === 'string') features.push(child.attrs.var);
  }
  return features;
}

/** XEP-0191 §3.2: "the client sends an IQ-get ... containing an empty <blocklist/> element". */
export function blocklistIq(id: string): Element {
  const iq = new Element('iq', { type: 'get', id });
  iq.c('blocklist', { xmlns: NS_BLOCKING });
  return iq;
}

/**
 * XEP-0191 §3.3 (block) / §3.4 (unblock): "an IQ-set ... containing a <block/> element that
 * contains one or more <item/> child elements". An unblock without items (§3.5, unblock all) is
 * never sent by Quiver: `jids` must not be empty.
 */
export function blockIq(id: string, jids: readonly string[], block: boolean): Element {
  if (jids.length === 0) throw new Error('blockIq(): no JID to (un)block');
  const iq = new Element('iq', { type: 'set', id });
  const el = iq.c(block ? 'block' : 'unblock', { xmlns: NS_BLOCKING });
  for (const jid of jids) {
    if (parseJid(jid) === null) throw new Error(`blockIq(): "${jid}" is not a JID`);
    el.c('item', { jid });
  }
  return iq;
}

/** JIDs of the <item/> children of `el`, valid ones only, lower-cased, at most MAX_BLOCKLIST. */
function items(el: Element): { jids: string[]; dropped: number } {
  const jids: string[] = [];
  let dropped = 0;
  for (const child of el.getChildElements()) {
    if (child.getName() !== 'item') continue;
    const jid = typeof child.attrs.jid === 'string' ? parseJid(child.attrs.jid) : null;
    if (jid === null || jids.length >= MAX_BLOCKLIST) {
      dropped++;
      continue;
    }
    jids.push(jid.full);
  }
  return { jids: [...new Set(jids)], dropped };
}

/**
 * XEP-0191 §3.2: the server "MUST return an IQ-result containing a <blocklist/> element, which
 * contains one <item/> child for each blocked JID". `dropped`: items not taken (invalid, or beyond
 * MAX_BLOCKLIST). Null when the result carries no <blocklist/>.
 */
export function parseBlocklist(result: Element): { jids: string[]; dropped: number } | null {
  const list = result.getChild('blocklist', NS_BLOCKING);
  return list ? items(list) : null;
}

/** What an IQ set in the blocking namespace is. */
export type BlockPush =
  /** `all`: an unblock without items (§3.5: everyone was unblocked). */
  { kind: 'push'; block: boolean; jids: string[]; all: boolean; dropped: number } | { kind: 'ignored'; reason: string };

/**
 * An IQ set carrying <block/> or <unblock/> (XEP-0191 §3.3: "the server MUST ... push" the change to
 * the user's resources); null when the IQ is not one. Only a push from the account's own bare JID
 * or from no one (RFC 6120 §8.1.2.1: the server on the account's behalf) or the account's domain
 * is taken, as RFC 6121 §2.1.6 asks of roster pushes; anything else is 'ignored'.
 */
export function parseBlockPush(iq: Element, account: string): BlockPush | null {
  if (iq.attrs.type !== 'set') return null;
  const child = iq.getChildElements()[0];
  if (!child || child.getNS() !== NS_BLOCKING || (child.getName() !== 'block' && child.getName() !== 'unblock'))
    return null;
  const from = typeof iq.attrs.from === 'string' ? iq.attrs.from : '';
  if (from !== '') {
    const f = parseJid(from);
    const domain = account.slice(account.indexOf('@') + 1).toLowerCase();
    const ours = f !== null && f.resource === '' && (sameBareJid(f.bare, account) || f.bare.toLowerCase() === domain);
    if (!ours)
      return { kind: 'ignored', reason: `a block list push from ${from.slice(0, 100)}, not from the account's server` };
  }
  const block = child.getName() === 'block';
  const { jids, dropped } = items(child);
  if (jids.length === 0 && (block || dropped > 0))
    return { kind: 'ignored', reason: `a${block ? ' block' : 'n unblock'} push without any valid item` };
  return { kind: 'push', block, jids, all: !block && jids.length === 0 && dropped === 0, dropped };
}
