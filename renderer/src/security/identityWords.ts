/**
 * What a verdict proved, in words a person can check against what they know of their server. The
 * core writes identities and delegations as tokens (`dns-id:example.org`, `posh:https://…`,
 * `user-accepted-once`); none of those tokens may reach the screen as such (issue 13, "Security
 * details": "the prooftype and what it proved in words").
 */
import type { CertificateSummary, Prooftype, Verdict } from '../../../app/contract/viewModels.ts';

/** RFC 6125 §1.8 identifier types, as a person reads them (the names the RFC and XEP-0178 use). */
const IDENTITY_KINDS: Record<string, string> = {
  'dns-id': 'DNS-ID',
  'srv-id': 'SRV-ID',
  xmppaddr: 'XmppAddr',
  cn: 'Common Name',
  ip: 'IP address',
};

/**
 * `dns-id:example.org` → "DNS-ID example.org"; `srv-id:_xmpp-client.example.org` → "SRV-ID
 * _xmpp-client.example.org". Null for no identity, for the person's own decisions (`pin:…`,
 * `user-accepted-once`: said elsewhere) and for POSH (said by `proofText`).
 */
export function identityText(identity: string | null): string | null {
  if (identity === null || identity === 'user-accepted-once') return null;
  const colon = identity.indexOf(':');
  if (colon < 0) return null;
  const kind = identity.slice(0, colon);
  const value = identity.slice(colon + 1);
  if (kind === 'pin' || kind === 'posh') return null;
  const word = IDENTITY_KINDS[kind];
  return word ? `${word} ${value}` : `${value} (${kind.replace(/[-_]/g, ' ')})`;
}

/** The first DNS name a certificate carries (its SANs, else its subject's CN), for "to hosting.example.net". */
export function certificateName(certificate: CertificateSummary | undefined): string | null {
  if (!certificate) return null;
  const dns = certificate.subjectAltNames.find((name) => name.startsWith('dns:'));
  if (dns) return dns.slice(4);
  const cn = /(?:^|,\s*)CN=([^,]+)/.exec(certificate.subject);
  return cn?.[1] ?? null;
}

/**
 * One subjectAltName as the core writes it (`dns:…`, `srv:…`, `xmpp:…`, `ip:…`) in words: a DNS
 * name as itself, the others with what they are ("_xmpp-client.example.org (SRV name)").
 */
export function sanText(san: string): string {
  const colon = san.indexOf(':');
  const kind = colon < 0 ? '' : san.slice(0, colon);
  const value = san.slice(colon + 1);
  switch (kind) {
    case 'dns':
      return value;
    case 'srv':
      return `${value} (SRV name)`;
    case 'xmpp':
      return `${value} (XMPP address)`;
    case 'ip':
      return `${value} (IP address)`;
    default:
      return san;
  }
}

/** Short names of the prooftypes (RFC 7218 acronyms for the TLSA certificate usages). */
export const prooftypeName: Record<Prooftype, string> = {
  pkix: 'PKIX',
  'dane-ee': 'DANE-EE',
  'dane-ta': 'DANE-TA',
  'pkix-ee': 'PKIX-EE',
  'pkix-ta': 'PKIX-TA',
  posh: 'POSH',
  pin: 'your decision',
};

/**
 * What the proof established, in one phrase: "DNS-ID example.org", "DANE-EE: the key matches the
 * domain's signed TLSA record", "POSH delegation from example.org to hosting.example.net".
 * `domain` is the JID's domain; `leaf` the server's certificate (for POSH, the hosting name).
 */
export function proofText(verdict: Verdict, domain: string, leaf: CertificateSummary | undefined): string {
  const identity = identityText(verdict.identity);
  switch (verdict.prooftype) {
    case null:
      return 'nothing proved the server';
    case 'posh': {
      const to = certificateName(leaf);
      return to && to !== domain
        ? `POSH delegation from ${domain} to ${to}`
        : `POSH: ${domain}'s HTTPS site lists this certificate`;
    }
    case 'dane-ee':
      return `DANE-EE: the key matches the domain's signed TLSA record${identity ? ` (${identity})` : ''}`;
    case 'dane-ta':
      return `DANE-TA: the certificate's issuer matches the domain's signed TLSA record${identity ? `, ${identity}` : ''}`;
    case 'pkix-ee':
    case 'pkix-ta':
      return `${prooftypeName[verdict.prooftype]}: the signed TLSA record and a trusted authority agree${identity ? `, ${identity}` : ''}`;
    case 'pin':
      return 'you decided to trust this key';
    case 'pkix':
      return identity ? `PKIX, ${identity}` : 'PKIX: a trusted authority vouches for the name';
  }
}

/**
 * The delegation token in words: `dnssec-srv:<record>` "example.org delegates to this server by a
 * DNSSEC-signed SRV record (…)", `posh:<url>`, `host-meta:<target>`. A form this version does not
 * know is shown after "Delegation:" rather than dropped.
 */
export function delegationText(delegation: string | null, domain: string, trusted: boolean): string {
  if (delegation === null) return trusted ? `None: the server proved ${domain} itself` : '—';
  const colon = delegation.indexOf(':');
  const how = colon < 0 ? '' : delegation.slice(0, colon);
  const what = delegation.slice(colon + 1).trim();
  switch (how) {
    case 'dnssec-srv':
      return `${domain} delegates to this server by a DNSSEC-signed SRV record (${what})`;
    case 'posh':
      return `${domain} delegates to this server by its POSH document (${what})`;
    case 'host-meta':
      return `${domain} names this server in its Host Meta document, fetched over verified HTTPS (${what})`;
    default:
      return delegation;
  }
}
