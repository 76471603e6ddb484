/**
 * Service identity: does the certificate name the domain we meant to reach?
 * RFC 6125 (§6) as profiled for XMPP by RFC 6120 §13.7.1.2 and §13.7.2.1.
 *
 * Presented identifiers are tried in this order: DNS-ID, SRV-ID, XmppAddr, and CN-ID only as the
 * last resort. All comparisons are on A-labels (RFC 6125 §6.4.2: "...the client MUST convert any
 * U-labels to A-labels before comparison"), case-insensitive, with a trailing dot ignored.
 */
import { domainToASCII } from 'node:url';
import type { ParsedCertificate } from './certificate.ts';

export interface ReferenceIdentity {
  /** The domain we want to talk to: the JID's domain, or a securely delegated SRV target. */
  domain: string;
  /** When set, an SRV-ID `_<service>.<domain>` also counts (RFC 6120 §13.7.1.2.1). */
  srvService?: 'xmpp-client';
}

export type IdentityMatch =
  | {
      ok: true;
      /** `dns-id:alpha.test`, `srv-id:_xmpp-client.alpha.test`, `xmppaddr:alpha.test` or `cn:alpha.test`. */
      identity: string;
    }
  | {
      ok: false;
      /** What the certificate does name, for the message: `dns:…`, `srv:…`, `xmpp:…`, `cn:…`. */
      presented: string[];
    };

export function matchIdentity(cert: ParsedCertificate, reference: ReferenceIdentity): IdentityMatch {
  const domain = toALabels(reference.domain);
  const names = cert.subjectAltNames;
  const presented = [
    ...names.dnsNames.map((name) => `dns:${name}`),
    ...names.srvNames.map((name) => `srv:${name}`),
    ...names.xmppAddrs.map((name) => `xmpp:${name}`),
  ];
  if (domain === null) return { ok: false, presented };

  // RFC 6125 §6.4.1-§6.4.3: DNS-ID, with the wildcard rules of §6.4.3 as tightened by RFC 9525 §6.3.
  if (names.dnsNames.some((name) => matchesDnsName(name, domain))) return { ok: true, identity: `dns-id:${domain}` };

  // RFC 6125 §6.5.1: SRV-ID "the DNS domain name portion ... MUST be matched according to the rules
  // for DNS-IDs, ... and the service type portion MUST be matched" - without wildcards (RFC 4985 §2
  // SRVName has none in XMPP use, and RFC 6120 §13.7.1.2.1 names the exact form).
  if (reference.srvService) {
    const wanted = `_${reference.srvService}.`;
    for (const name of names.srvNames) {
      if (!name.toLowerCase().startsWith(wanted)) continue;
      const rest = toALabels(name.slice(wanted.length));
      if (rest !== null && !rest.includes('*') && rest === domain) return { ok: true, identity: `srv-id:_${reference.srvService}.${domain}` };
    }
  }

  // RFC 6120 §13.7.1.4: id-on-xmppAddr, "the domainpart ... MUST be compared" - no wildcards.
  for (const address of names.xmppAddrs) {
    if (address.includes('@') || address.includes('/')) continue; // a user's or a resource's JID, not a server's
    const value = toALabels(address);
    if (value !== null && !value.includes('*') && value === domain) return { ok: true, identity: `xmppaddr:${domain}` };
  }

  // RFC 6125 §6.4.4: "...if and only if the presented identifiers do not include a DNS-ID, SRV-ID,
  // URI-ID, or any application-specific identifier types supported by the client, then the client
  // MAY as a last resort check for a string whose form matches that of a fully qualified DNS domain
  // name in a Common Name field of the subject field (i.e., a CN-ID)." The most specific CN counts.
  const onlyCn = names.dnsNames.length === 0 && names.srvNames.length === 0 && names.xmppAddrs.length === 0;
  if (onlyCn && cert.commonName !== null && matchesDnsName(cert.commonName, domain)) return { ok: true, identity: `cn:${domain}` };
  return { ok: false, presented: onlyCn && cert.commonName !== null ? [`cn:${cert.commonName}`] : presented };
}

/** Lower-case A-label form without the trailing dot, or null when it is not a usable domain name. */
export function toALabels(name: string): string | null {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed.length === 0 || trimmed.length > 253) return null;
  // `*` is not valid in IDNA; convert the rest and keep a leading wildcard label as it is.
  const wildcard = trimmed.startsWith('*.');
  const body = wildcard ? trimmed.slice(2) : trimmed;
  const ascii = domainToASCII(body).toLowerCase();
  if (ascii.length === 0) return null;
  if (ascii.split('.').some((label) => label.length === 0 || label.length > 63)) return null;
  return wildcard ? `*.${ascii}` : ascii;
}

/**
 * RFC 6125 §6.4.3 (and RFC 9525 §6.3): the wildcard may only be the complete left-most label, and
 * then matches exactly one label: `*.example.org` matches `a.example.org`, not `example.org` nor
 * `a.b.example.org`. Partial-label wildcards (`a*.example.org`, `xn--*`) match nothing. A wildcard
 * directly under a single label (`*.org`) matches nothing either.
 */
function matchesDnsName(presentedName: string, domain: string): boolean {
  const presented = toALabels(presentedName);
  if (presented === null) return false;
  if (!presented.includes('*')) return presented === domain;
  if (!presented.startsWith('*.') || presented.indexOf('*', 1) !== -1) return false;
  const suffix = presented.slice(2);
  if (!suffix.includes('.')) return false;
  const dot = domain.indexOf('.');
  if (dot <= 0) return false;
  return domain.slice(dot + 1) === suffix;
}
