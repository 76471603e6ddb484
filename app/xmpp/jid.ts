/**
 * JID helpers over @xmpp/jid (RFC 7622 addresses). Addresses from the network are untrusted:
 * every function here returns null instead of throwing on garbage.
 */
import { parse } from '@xmpp/jid';

export interface ParsedJid {
  /** Localpart ('' for a domain JID). */
  local: string;
  domain: string;
  /** Resourcepart ('' for a bare JID). */
  resource: string;
  bare: string;
  full: string;
}

export function parseJid(s: string): ParsedJid | null {
  if (s === '' || s.length > 3071) return null;
  try {
    const j = parse(s);
    const local = j.getLocal() ?? '';
    const domain = j.getDomain();
    if (domain === '' || domain.includes('@')) return null;
    return { local, domain, resource: j.getResource() ?? '', bare: j.bare().toString(), full: j.toString() };
  } catch (e) {
    // @xmpp/jid throws TypeError('Invalid domain.') for addresses without a domainpart.
    if (e instanceof TypeError) return null;
    throw e;
  }
}

/** The bare form of `s`, or null when `s` is not a JID. */
export function bareJid(s: string): string | null {
  return parseJid(s)?.bare ?? null;
}

/** True when both are JIDs with the same bare part (case-insensitive as @xmpp/jid normalises). */
export function sameBareJid(a: string, b: string): boolean {
  const pa = parseJid(a);
  const pb = parseJid(b);
  return pa !== null && pb !== null && pa.bare === pb.bare;
}
