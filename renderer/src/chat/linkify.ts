/**
 * Splits a message body into text and links (http, https and xmpp: URIs), so the view builds the
 * links as elements and text nodes: a body is never HTML (STYLE.md principle 6).
 */
import { parseXmppUri } from '../../../app/contract/xmppUri.ts';

export type Segment =
  { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string; scheme: 'http' | 'xmpp' };

/** False only for a body without any link (no scheme LINK matches): it needs no splitting. */
export const MAY_LINK = /https?:\/\/|xmpp:/i;

const LINK = /\b(?:https?:\/\/[^\s<>"]+|xmpp:[^\s<>"]+)/gi;
/** Punctuation that ends a sentence rather than the link, when it is the last character. */
const TRAILING = /[.,;:!?'"’”)\]}>]$/;

/** Strips trailing punctuation, keeping a closing parenthesis that closes one inside the link. */
function trimLink(candidate: string): string {
  let link = candidate;
  while (TRAILING.test(link)) {
    const last = link[link.length - 1];
    if (last === ')' && count(link, '(') >= count(link, ')')) break;
    link = link.slice(0, -1);
  }
  return link;
}

const count = (text: string, char: string) => text.split(char).length - 1;

/** The segments of `body`, in order; their texts joined give `body` back. */
export function linkify(body: string): Segment[] {
  const segments: Segment[] = [];
  let from = 0;
  for (const match of body.matchAll(LINK)) {
    const link = trimLink(match[0]);
    const lower = link.toLowerCase();
    const scheme = lower.startsWith('xmpp:') ? 'xmpp' : 'http';
    // A bare scheme ("http://" or "xmpp:") is text.
    if (link.length <= (scheme === 'xmpp' ? 5 : lower.indexOf('//') + 2)) continue;
    if (scheme === 'http' && !URL.canParse(link)) continue;
    if (match.index > from) segments.push({ kind: 'text', text: body.slice(from, match.index) });
    segments.push({ kind: 'link', text: link, href: link, scheme });
    from = match.index + link.length;
  }
  if (from < body.length) segments.push({ kind: 'text', text: body.slice(from) });
  return segments;
}

/**
 * The bare JID an `xmpp:` URI (RFC 5122 §2) points at, or null. A body's link comes from whoever
 * sent the message, so it goes through the same parser as the shell's links (app/contract/xmppUri.ts):
 * an address the core would refuse opens nothing, and the one it gives is in the form the
 * conversation list keys (lower case, NFC, no trailing dot), so the chat it opens is the listed one.
 */
export function xmppUriJid(uri: string): string | null {
  const parsed = parseXmppUri(uri);
  return parsed.ok ? parsed.target.jid : null;
}
