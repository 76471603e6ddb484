/**
 * JID helpers over @xmpp/jid (RFC 7622 addresses). Addresses from the network are untrusted:
 * every function here returns null instead of throwing on garbage, and @xmpp/jid checks nothing,
 * so `parseJid` applies `jidSafetyProblem` first.
 */
import { parse } from '@xmpp/jid';
import { jidSafetyProblem } from '../contract/jidRules.ts';

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
  // RFC 7622 §3.1: at most 3071 octets in all; no part may carry a control or line break, which
  // would reach logs, the UI and the stored conversation keys.
  if (s === '' || s.length > 3071 || jidSafetyProblem(s) !== null) return null;
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
