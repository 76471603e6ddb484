/**
 * What RFC 7622 (XMPP addresses) requires of a JID, checked on the text a person typed before it
 * crosses into the core. @xmpp/jid, which the core parses JIDs with, enforces none of it: it
 * lowercases, escapes a localpart it finds odd (XEP-0106) and accepts NUL, controls, empty or
 * 100 KB parts. This is a character-class check per part (PRECIS, RFC 8264, approximated with
 * Unicode property escapes); it does not apply the bidi rule (RFC 5893) or the IDNA2008 contextual
 * rules, and checks label lengths in UTF-8 octets rather than in their A-label form.
 *
 * Pure: the renderer compiles it too.
 */
import { isIPv4, isIPv6 } from './ipLiteral.ts';

export interface JidShape {
  /** 'required': localpart@domain (an account); 'optional': a contact or a server. */
  localpart: 'required' | 'optional';
  /** Whether a /resource may follow. */
  resource: 'forbidden' | 'optional';
}

/** RFC 7622 §3.2, §3.3, §3.4: "MUST NOT be more than 1023 octets in length". */
const MAX_PART_OCTETS = 1023;

/**
 * RFC 7622 §3.3.1: "the following characters are disallowed in localparts: U+0022 (QUOTATION MARK),
 * U+0026 (AMPERSAND), U+0027 (APOSTROPHE), U+002F (SOLIDUS), U+003A (COLON), U+003C (LESS-THAN
 * SIGN), U+003E (GREATER-THAN SIGN), U+0040 (COMMERCIAL AT)" (in addition to PRECIS).
 */
const LOCALPART_FORBIDDEN = /["&'/:<>@]/u;
/** RFC 8264 §9.1 LetterDigits (the non-ASCII PVALID code points of the IdentifierClass). */
const LETTER_DIGITS = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
/** RFC 8264 §4.3 FreeformClass: what it disallows (controls, default-ignorables, unassigned, surrogates). */
const FREEFORM_DISALLOWED =
  /[\p{Cc}\p{Cs}\p{Cn}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\p{Zl}\p{Zp}]/u;
/** Never in any part of an address, however lenient the caller (`jidSafetyProblem`). */
const UNSAFE_ANYWHERE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const LDH_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Length in UTF-8 octets (a lone surrogate counts as the 3 of U+FFFD). */
function octets(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Why `text` is not a JID of that shape (a phrase for a person), or null when it is one. */
export function jidProblem(text: string, shape: JidShape): string | null {
  // RFC 7622 §3.1: the resourcepart begins at the first '/', the localpart ends at the first '@'
  // before it.
  const slash = text.indexOf('/');
  const bare = slash === -1 ? text : text.slice(0, slash);
  const at = bare.indexOf('@');
  const local = at === -1 ? null : bare.slice(0, at);
  const domain = at === -1 ? bare : bare.slice(at + 1);
  if (slash !== -1) {
    if (shape.resource === 'forbidden') return 'must not have a /resource';
    const problem = resourcepartProblem(text.slice(slash + 1));
    if (problem) return problem;
  }
  if (local === null) {
    if (shape.localpart === 'required') return 'must have the form name@domain';
  } else {
    const problem = localpartProblem(local);
    if (problem) return problem;
  }
  return domainpartProblem(domain);
}

/**
 * The part of RFC 7622 that keeps an address from the network safe to store, compare, log and
 * show: no control, format (bidi overrides, zero-width characters), surrogate or line-separator
 * code point in any part (PRECIS disallows them in both classes, RFC 8264 §9.12, §9.13), and no
 * part over 1023 octets. Less than `jidProblem` on purpose: a server may route addresses a person
 * could not type (an `_` in a gateway's domain), and Quiver must still handle them.
 */
export function jidSafetyProblem(text: string): string | null {
  const bad = UNSAFE_ANYWHERE.exec(text);
  if (bad) return `has a character no address may contain (${describeCodePoint(bad[0].codePointAt(0)!)})`;
  const slash = text.indexOf('/');
  const bare = slash === -1 ? text : text.slice(0, slash);
  const at = bare.indexOf('@');
  const parts = [at === -1 ? '' : bare.slice(0, at), at === -1 ? bare : bare.slice(at + 1)];
  if (slash !== -1) parts.push(text.slice(slash + 1));
  if (parts.some((part) => octets(part) > MAX_PART_OCTETS)) return `has a part longer than ${MAX_PART_OCTETS} bytes`;
  return null;
}

/** RFC 7622 §3.3: the UsernameCaseMapped profile of the PRECIS IdentifierClass, plus §3.3.1. */
function localpartProblem(local: string): string | null {
  if (local === '') return 'has nothing before the @';
  if (octets(local) > MAX_PART_OCTETS) return `has a name part longer than ${MAX_PART_OCTETS} bytes`;
  if (LOCALPART_FORBIDDEN.test(local)) return 'has one of " & \' / : < > @ in the name part';
  // RFC 8265 §3.3.2: width mapping, case mapping and NFC come before the IdentifierClass check.
  const mapped = local
    .replace(/[\uff01-\uffef]/gu, (c) => c.normalize('NFKC'))
    .toLowerCase()
    .normalize('NFC');
  for (const ch of mapped) {
    const cp = ch.codePointAt(0)!;
    // RFC 8264 §9.11 ASCII7: the printable ASCII characters (not the space) are valid.
    if (cp >= 0x21 && cp <= 0x7e) continue;
    // §9.1 LetterDigits are valid unless they have a compatibility decomposition (§9.17 HasCompat).
    if (LETTER_DIGITS.test(ch) && ch.normalize('NFKC') === ch) continue;
    return `has a character the name part may not contain (${describeCodePoint(cp)})`;
  }
  return null;
}

/** RFC 7622 §3.4: the OpaqueString profile of the PRECIS FreeformClass. */
function resourcepartProblem(resource: string): string | null {
  if (resource === '') return 'has nothing after the /';
  if (octets(resource) > MAX_PART_OCTETS) return `has a resource longer than ${MAX_PART_OCTETS} bytes`;
  const bad = FREEFORM_DISALLOWED.exec(resource);
  if (bad) return `has a character the resource may not contain (${describeCodePoint(bad[0].codePointAt(0)!)})`;
  return null;
}

/**
 * RFC 7622 §3.2: an IP literal or a domain name of NR-LDH labels and U-labels (RFC 5890); "If the
 * domainpart includes a final character considered to be a label separator (dot) by [RFC1034],
 * this character MUST be stripped", so one trailing dot is accepted.
 */
function domainpartProblem(raw: string): string | null {
  const domain = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (domain === '') return 'has no domain';
  if (octets(domain) > MAX_PART_OCTETS) return `has a domain longer than ${MAX_PART_OCTETS} bytes`;
  // RFC 7622 §3.2: an IPv4address or an IP-literal (RFC 3986 §3.2.2: an IPv6 address in brackets).
  const literal = domain.startsWith('[') && domain.endsWith(']') ? domain.slice(1, -1) : null;
  if (isIPv4(domain) || (literal !== null && !literal.includes('%') && isIPv6(literal))) return null;
  for (const label of domain.toLowerCase().normalize('NFC').split('.')) {
    if (label === '') return 'has an empty label in the domain (two dots in a row)';
    // RFC 1035 §2.3.4, RFC 5890 §2.3.2.1: a label is at most 63 octets.
    if (octets(label) > 63) return 'has a domain label longer than 63 bytes';
    if (/^[\x21-\x7e]+$/.test(label)) {
      if (!LDH_LABEL.test(label)) return 'has a domain with a character other than letters, digits, - and .';
      continue;
    }
    // A U-label: letters, digits and hyphens, none with a compatibility decomposition (RFC 5892).
    for (const ch of label) {
      if (ch === '-' || (ch.charCodeAt(0) < 0x80 && LDH_LABEL.test(ch))) continue;
      if (LETTER_DIGITS.test(ch) && ch.normalize('NFKC') === ch) continue;
      return `has a character a domain may not contain (${describeCodePoint(ch.codePointAt(0)!)})`;
    }
  }
  return null;
}

/** `U+0000`, plus the character itself when it is visible. */
function describeCodePoint(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const ch = String.fromCodePoint(cp);
  return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch) ? `${hex} ${ch}` : hex;
}
