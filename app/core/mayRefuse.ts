/**
 * Who may fail one of our messages with an error (RFC 6120 §8.3). An error names a stanza by its
 * id, and ids are no secret: a stranger could otherwise mark any of our messages as refused, and a
 * retry would then send it twice.
 */
import { normalizeBareJid } from '../storage/normalizeJid.ts';

/**
 * Who may say our message to `peer` failed (RFC 6120 §8.3: errors come from the entity that could
 * not handle it): the recipient, its server, or ours (`from` null, our domain or our bare JID).
 * Anyone else naming the id is ignored: an id is no secret.
 */
export function mayRefuse(from: string | null, peer: string, accountJid: string): boolean {
  if (from === null) return true;
  let who: string;
  try {
    who = normalizeBareJid(from);
  } catch {
    // An address storage cannot read is nobody we sent a message to.
    return false;
  }
  const domainOf = (jid: string) => jid.slice(jid.indexOf('@') + 1);
  const own = normalizeBareJid(accountJid);
  return who === peer || who === own || who === domainOf(peer) || who === domainOf(own);
}
