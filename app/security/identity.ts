/**
 * Service identity: does the certificate name the domain we meant to reach?
 * RFC 6125 (§6) as profiled for XMPP by RFC 6120 §13.7.1.2 and §13.7.2.1.
 *
 * Presented identifiers are tried in this order: DNS-ID, SRV-ID, XmppAddr, and CN-ID only as the
 * last resort. All comparisons are on A-labels (RFC 6125 §6.4.2: "...the client MUST convert any
 * U-labels to A-labels before comparison"), case-insensitive, with a trailing dot ignored.
 *
 * The two sides are read differently. The reference identity (what the person typed, or a name
 * from DNS) may be a U-label and is mapped to A-labels with `domainToASCII` after characters that
 * have no business in a domain name are refused. Names the certificate presents are never passed
 * through the URL host parser, which percent-decodes (`ex%61mple.com`), maps Unicode (full-width
 * letters, soft hyphens) and parses numbers as IPv4 (`0x7f.1`): a CA checked the bytes it signed,
 * not what a URL parser makes of them. dNSName, the SRVName domain and the CN must be LDH labels
 * as they stand (RFC 5280 §4.2.1.6: dNSName "MUST be in the 'preferred name syntax', as specified
 * by Section 3.5 of [RFC1034]"); an XmppAddr (a UTF8String, RFC 6120 §13.7.1.4) may carry U-labels,
 * which are converted only when the conversion round-trips exactly.
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import type { ParsedCertificate } from './certificate.ts';
import { isIPv4, isIPv6 } from '../contract/ipLiteral.ts';

export interface ReferenceIdentity {
  /** The domain we want to talk to: the JID's domain, or a securely delegated SRV target. */
  domain: string;
  /** When set, an SRV-ID `_<service>.<domain>` also counts (RFC 6120 §13.7.1.2.1). */
  srvService?: 'xmpp-client';
}

/** Which presented identifier matched. */
export type IdentityType = 'dns-id' | 'srv-id' | 'xmppaddr' | 'cn' | 'ip';

export type IdentityMatch =
  | {
      ok: true;
      /** `dns-id:alpha.test`, `srv-id:_xmpp-client.alpha.test`, `xmppaddr:alpha.test`, `cn:alpha.test` or `ip:192.0.2.1`. */
      identity: string;
      type: IdentityType;
      /**
       * The name the match vouches for: the reference domain as A-labels (or the IP address for
       * `ip`). This is what the path's name constraints must allow (nameConstraints.ts): for an
       * SRV-ID the domain part, for an XmppAddr the domainpart, for a CN the CN.
       */
      domain: string;
    }
  | {
      ok: false;
      /** What the certificate does name, for the message: `dns:…`, `srv:…`, `xmpp:…`, `cn:…` (`ip:…` for an IP reference). */
      presented: string[];
    };

export function matchIdentity(cert: ParsedCertificate, reference: ReferenceIdentity): IdentityMatch {
  const names = cert.subjectAltNames;
  const presented = [
    ...names.dnsNames.map((name) => `dns:${name}`),
    ...names.srvNames.map((name) => `srv:${name}`),
    ...names.xmppAddrs.map((name) => `xmpp:${name}`),
  ];

  // RFC 6125 §1.7.2 leaves IP addresses out of the DNS-ID rules; RFC 5280 §4.2.1.6 carries them as
  // iPAddress. An IP-literal domain is matched against iPAddress entries only, never a dNSName
  // (`127.0.0.1` or `0x7f.1` in a dNSName names no host).
  const ip = ipLiteral(reference.domain);
  if (ip !== null) {
    if (names.ipAddresses.includes(ip)) return { ok: true, identity: `ip:${ip}`, type: 'ip', domain: ip };
    return { ok: false, presented: [...presented, ...names.ipAddresses.map((address) => `ip:${address}`)] };
  }

  const domain = toALabels(reference.domain);
  if (domain === null) return { ok: false, presented };
  const matched = (type: IdentityType, identity: string): IdentityMatch => ({
    ok: true,
    identity: `${type}:${identity}`,
    type,
    domain,
  });

  // RFC 6125 §6.4.1-§6.4.3: DNS-ID, with the wildcard rules of §6.4.3 as tightened by RFC 9525 §6.3.
  if (names.dnsNames.some((name) => matchesDnsName(name, domain))) return matched('dns-id', domain);

  // RFC 6125 §6.5.1: SRV-ID "the DNS domain name portion ... MUST be matched according to the rules
  // for DNS-IDs, ... and the service type portion MUST be matched" - without wildcards (RFC 4985 §2
  // SRVName has none in XMPP use, and RFC 6120 §13.7.1.2.1 names the exact form).
  if (reference.srvService) {
    const wanted = `_${reference.srvService}.`;
    for (const name of names.srvNames) {
      if (!name.toLowerCase().startsWith(wanted)) continue;
      if (presentedDnsName(name.slice(wanted.length), false) === domain)
        return matched('srv-id', `_${reference.srvService}.${domain}`);
    }
  }

  // RFC 6120 §13.7.1.4: id-on-xmppAddr, "the domainpart ... MUST be compared" - no wildcards.
  for (const address of names.xmppAddrs) {
    if (address.includes('@') || address.includes('/')) continue; // a user's or a resource's JID, not a server's
    if (xmppAddrDomain(address) === domain) return matched('xmppaddr', domain);
  }

  // RFC 6125 §6.4.4: "...if and only if the presented identifiers do not include a DNS-ID, SRV-ID,
  // URI-ID, or any application-specific identifier types supported by the client, then the client
  // MAY as a last resort check for a string whose form matches that of a fully qualified DNS domain
  // name in a Common Name field of the subject field (i.e., a CN-ID)." The most specific CN counts.
  const onlyCn = names.dnsNames.length === 0 && names.srvNames.length === 0 && names.xmppAddrs.length === 0;
  if (onlyCn && cert.commonName !== null && matchesDnsName(cert.commonName, domain)) return matched('cn', domain);
  return { ok: false, presented: onlyCn && cert.commonName !== null ? [`cn:${cert.commonName}`] : presented };
}

/**
 * A reference domain (typed by the person, or a name from DNS) as lower-case A-labels without the
 * trailing dot, or null when it is not a usable domain name: percent signs, controls, format
 * characters (soft hyphen, zero-width joiners), spaces, a wildcard, or a name a URL parser would
 * read as an IPv4 number (`0x7f.1`). An IP literal comes back in its canonical text form.
 */
export function toALabels(name: string): string | null {
  const ip = ipLiteral(name);
  if (ip !== null) return ip;
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed.length === 0 || trimmed.length > 253 || FORBIDDEN.test(trimmed)) return null;
  // RFC 5890 §2.3.2.1: U-labels become A-labels; the result must be plain LDH labels.
  return ldhName(domainToASCII(trimmed), false);
}

/**
 * The canonical text of an IP literal (`192.0.2.1`; `2001:db8::1`, brackets optional), as
 * certificate.ts formats iPAddress entries, or null. Only dotted-quad decimal counts as IPv4.
 */
export function ipLiteral(name: string): string | null {
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  if (bare.includes('%')) return null; // an IPv6 zone index names an interface, not a server
  if (isIPv4(bare) && bare === name) return bare;
  if (isIPv6(bare)) return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  return null;
}

/** Percent, C0/C1 controls and DEL, Unicode format characters (soft hyphen, ZWJ, ...), separators and spaces. */
const FORBIDDEN = /[%\p{Cc}\p{Cf}\p{Z}\s]/u;
/** RFC 1034 §3.5 / RFC 5890 §2.3.1: letters, digits and hyphens; no hyphen at either end; 1-63 octets. */
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** The WHATWG URL parser reads a host whose last label is a number (`1`, `0x7f`) as IPv4. */
const NUMERIC_LABEL = /^(?:[0-9]+|0x[0-9a-f]*)$/;

/**
 * A name as it stands, lower-cased, or null unless it is LDH labels (RFC 1034 §3.5) of at most 253
 * octets whose last label is not numeric. With `wildcard`, a left-most label of exactly `*` is kept.
 */
function ldhName(name: string, wildcard: boolean): string | null {
  const lower = name.toLowerCase();
  if (lower.length === 0 || lower.length > 253) return null;
  const labels = lower.split('.');
  const last = labels.at(-1) ?? '';
  if (NUMERIC_LABEL.test(last)) return null;
  for (const [index, label] of labels.entries()) {
    if (wildcard && index === 0 && label === '*' && labels.length > 1) continue;
    if (!LDH_LABEL.test(label)) return null;
  }
  return lower;
}

/** A dNSName, an SRVName's domain part or a CN: LDH as it stands, trailing dot ignored. */
function presentedDnsName(name: string, wildcard: boolean): string | null {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  return ldhName(trimmed, wildcard);
}

/**
 * An XmppAddr's domainpart as A-labels, or null. RFC 7622 §3.2 allows U-labels here. An all-ASCII
 * label must be LDH already; a label with non-ASCII characters must be a lower-case U-label whose
 * A-label converts back to exactly it (so full-width letters, compatibility forms and other
 * characters IDNA would map are refused rather than mapped), and only `.` separates labels.
 */
function xmppAddrDomain(address: string): string | null {
  const trimmed = address.endsWith('.') ? address.slice(0, -1) : address;
  if (trimmed.length === 0 || trimmed.length > 253 || FORBIDDEN.test(trimmed)) return null;
  const labels: string[] = [];
  for (const label of trimmed.split('.')) {
    if (![...label].some((character) => character.charCodeAt(0) > 0x7f)) {
      labels.push(label);
      continue;
    }
    const lower = label.toLowerCase();
    const aLabel = domainToASCII(lower);
    if (!aLabel.startsWith('xn--') || aLabel.includes('.') || domainToUnicode(aLabel) !== lower) return null;
    labels.push(aLabel);
  }
  return ldhName(labels.join('.'), false);
}

/**
 * RFC 6125 §6.4.3 (and RFC 9525 §6.3): the wildcard may only be the complete left-most label, and
 * then matches exactly one label: `*.example.org` matches `a.example.org`, not `example.org` nor
 * `a.b.example.org`. Partial-label wildcards (`a*.example.org`, `xn--*`) match nothing. A wildcard
 * directly under a single label (`*.org`) matches nothing either.
 */
function matchesDnsName(presentedName: string, domain: string): boolean {
  const presented = presentedDnsName(presentedName, true);
  if (presented === null) return false;
  if (!presented.startsWith('*.')) return presented === domain;
  const suffix = presented.slice(2);
  if (!suffix.includes('.')) return false;
  const dot = domain.indexOf('.');
  if (dot <= 0) return false;
  return domain.slice(dot + 1) === suffix;
}
