/**
 * `xmpp:` URIs (RFC 5122) as the operating system hands them to the shell: a link on a web page,
 * a QR code, another program. The text is hostile until proven otherwise, so anything that is not
 * a well-formed URI naming a valid address is refused with a reason (for the log), never guessed at.
 *
 * RFC 5122 §2.2: xmppiri = "xmpp" ":" ihierxmpp [ "?" iquerycomp ] [ "#" ifragment ];
 * ihierxmpp = iauthpath / ipathxmpp; iauthpath = "//" iauthxmpp [ "/" ipathxmpp ].
 * The authority names the account the sender suggests using (§2.3); it is kept as `account`, and
 * the window writes from it when it is one of the person's accounts. The fragment is ignored
 * (§2.2: "the fragment identifier component ... has no defined semantics").
 *
 * Pure: the shell (main) and the renderer compile it.
 */
import { jidProblem, jidSafetyProblem } from './jidRules.ts';
import type { XmppUriTarget } from './viewModels.ts';

/**
 * Longest URI accepted, in UTF-16 code units. An address is at most 3 × 1023 octets (RFC 7622
 * §3.1) and a chat link carries a short body at most; a longer text is refused, not truncated.
 */
export const MAX_XMPP_URI_LENGTH = 8192;
/** Longest query value kept (a `;body=` prefilled in the composer, a `;name=`). */
export const MAX_XMPP_URI_VALUE = 4096;

export type XmppUriParse = { ok: true; target: XmppUriTarget } | { ok: false; reason: string };

/** The XEP-0147 query types Quiver acts on; any other one opens the chat with action null. */
const ACTIONS = new Set<XmppUriTarget['action']>(['message', 'roster', 'subscribe']);

/**
 * Parses an `xmpp:` URI or IRI into what it asks for. The JID is percent-decoded (RFC 5122 §2.7.2:
 * "each percent-encoded octet ... MUST be decoded" as UTF-8), checked against RFC 7622 and reduced
 * to its bare form (a chat is opened with an account or a contact, not with one of its devices).
 */
export function parseXmppUri(text: string): XmppUriParse {
  if (text.length > MAX_XMPP_URI_LENGTH) return refuse(`longer than ${MAX_XMPP_URI_LENGTH} characters`);
  // RFC 3986 §3.1: "schemes are case-insensitive".
  if (!/^xmpp:/i.test(text)) return refuse('not an xmpp: URI');
  let rest = text.slice(5);
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const question = rest.indexOf('?');
  const query = question === -1 ? null : rest.slice(question + 1);
  let path = question === -1 ? rest : rest.slice(0, question);

  let account: string | null = null;
  if (path.startsWith('//')) {
    // iauthpath: "//" iauthxmpp [ "/" ipathxmpp ], iauthxmpp = inodeid "@" ihost.
    const slash = path.indexOf('/', 2);
    const authority = decode(slash === -1 ? path.slice(2) : path.slice(2, slash));
    if (authority === null) return refuse('the account part has a broken percent escape');
    const problem =
      jidSafetyProblem(authority) ?? jidProblem(authority, { localpart: 'required', resource: 'forbidden' });
    if (problem) return refuse(`the account part ${problem}`);
    account = caseMapped(authority);
    path = slash === -1 ? '' : path.slice(slash + 1);
  }
  if (path === '') return refuse('names no address');

  // RFC 5122 §2.2: a literal "/" separates the resource; an encoded one belongs to the part.
  const slash = path.indexOf('/');
  const bareText = decode(slash === -1 ? path : path.slice(0, slash));
  if (bareText === null) return refuse('the address has a broken percent escape');
  // RFC 7622 §3.3.1: "/" is disallowed in a localpart, and no domainpart has one: decoded here it
  // would turn into a resource or move the domain ("romeo%2Fx@example.com" is domain "romeo").
  if (bareText.includes('/')) return refuse('the address has an encoded "/" before its resource');
  const resource = slash === -1 ? null : decode(path.slice(slash + 1));
  if (slash !== -1 && resource === null) return refuse('the resource has a broken percent escape');
  const full = resource === null ? bareText : `${bareText}/${resource}`;
  const unsafe = jidSafetyProblem(full);
  if (unsafe) return refuse(`the address ${unsafe}`);
  const invalid = jidProblem(full, { localpart: 'optional', resource: 'optional' });
  if (invalid) return refuse(`the address ${invalid}`);
  const jid = caseMapped(bareText);

  const target: XmppUriTarget = { jid, account, action: null, body: null, name: null };
  if (query === null) return { ok: true, target };
  // XEP-0147 §2: iquerycomp = iquerytype [ *ipair ]; ipair = ";" ikey "=" ivalue.
  const [typeText = '', ...pairs] = query.split(';');
  const type = decode(typeText);
  if (type === null) return refuse('the action has a broken percent escape');
  const action = type as XmppUriTarget['action'];
  if (!ACTIONS.has(action)) return { ok: true, target };
  target.action = action;
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals === -1) continue;
    const key = decode(pair.slice(0, equals));
    const value = decode(pair.slice(equals + 1));
    if (key === null || value === null) return refuse(`the parameter ${pair.slice(0, 40)} has a broken percent escape`);
    if (value.length > MAX_XMPP_URI_VALUE) return refuse(`the parameter ${key} is too long`);
    // A body or name is shown and sent as text; controls other than line breaks and tabs have no
    // place in either.
    if (/[\p{Cc}]/u.test(value.replace(/[\n\r\t]/g, ''))) return refuse(`the parameter ${key} has control characters`);
    // XEP-0147 registry: message takes "body" (and "subject", "thread", ... not used here); roster
    // takes "name" (and "group"). The first occurrence wins.
    if (action === 'message' && key === 'body') target.body ??= value;
    if (action === 'roster' && key === 'name') target.name ??= value;
  }
  return { ok: true, target };
}

/**
 * RFC 7622 §3.2.2 and §3.3.2: the domainpart and the localpart (UsernameCaseMapped) are both
 * case-mapped to lower case and put in NFC, so "Romeo@Montague.NET" is the chat
 * "romeo@montague.net"; §3.2: a trailing dot "MUST be stripped". The same key storage makes
 * (app/storage/normalizeJid.ts), so the window finds the conversation and the account the core lists.
 */
function caseMapped(bare: string): string {
  return bare.replace(/\.$/, '').normalize('NFC').toLowerCase();
}

function refuse(reason: string): XmppUriParse {
  return { ok: false, reason };
}

/** RFC 3986 §2.1 percent-decoding as UTF-8; null for a broken escape or invalid UTF-8. */
function decode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    // URIError: a lone "%", "%zz" or bytes that are not UTF-8. The caller turns null into a reason.
    return null;
  }
}
