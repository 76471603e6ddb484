/**
 * The one place storage turns a JID into the key it is stored under, so that `Alice@Example.org`
 * and `alice@example.org/phone` find the same account, contact and conversation.
 *
 * This is an approximation of PRECIS, good enough for keys: RFC 7622 §3.3 makes the localpart an
 * instance of the UsernameCaseMapped profile (RFC 8265 §3.3), whose case-mapping rule maps
 * uppercase characters to lowercase, and RFC 7622 §3.2 compares domainparts after IDNA2008
 * mapping, which lowercases them. No key may carry a control, a format character or a line break,
 * or a part over 1023 octets (`jidSafetyProblem`): what a server sends becomes keys too.
 */
import { jidSafetyProblem } from '../contract/jidRules.ts';
import { StorageError } from './storageError.ts';

/** Returns the bare JID (`local@domain` or `domain`) in stored form; a resource is dropped. */
export function normalizeBareJid(jid: string): string {
  const trimmed = jid.trim();
  const problem = jidSafetyProblem(trimmed);
  if (problem !== null) {
    throw new StorageError(
      'invalid-jid',
      `${JSON.stringify(jid.slice(0, 100))} is not a valid XMPP address: ${problem}`,
    );
  }
  const slash = trimmed.indexOf('/');
  const bare = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const at = bare.lastIndexOf('@');
  const local = at === -1 ? null : bare.slice(0, at);
  // RFC 7622 §3.2: a trailing dot on the domainpart is removed before comparison.
  const domain = (at === -1 ? bare : bare.slice(at + 1)).replace(/\.$/, '');
  if (domain === '' || local === '' || /[\s@]/.test(domain) || (local !== null && /[\s@]/.test(local))) {
    throw new StorageError(
      'invalid-jid',
      `"${jid}" is not a valid XMPP address; it should look like alice@example.org.`,
    );
  }
  const norm = (part: string) => part.normalize('NFC').toLowerCase();
  return local === null ? norm(domain) : `${norm(local)}@${norm(domain)}`;
}
