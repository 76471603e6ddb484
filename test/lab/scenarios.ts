/**
 * The one place that lists the lab's scenarios: which domains exist, which server answers for
 * each, which certificate it presents and which SRV records point at it. `zones.ts`, `ca.ts` and
 * `prosody.ts` generate their files from these tables, so a new scenario (DNSSEC-signed zone,
 * TLSA, POSH, QUIC) is a new row here plus the generator that reads the new column.
 */

/** A certificate the lab CA issues. Identifiers per RFC 6125 §6 / RFC 7622. */
export interface CertificateSpec {
  /** File stem: `<name>.pem`, `<name>.key` in the lab's `ca/` directory. */
  readonly name: string;
  /** subjectAltName dNSName entries (DNS-ID). */
  readonly dnsIds: readonly string[];
  /** otherName id-on-dnsSRV (1.3.6.1.5.5.7.8.7), IA5String, RFC 4985 form `_service.domain`. */
  readonly srvIds: readonly string[];
  /** otherName id-on-xmppAddr (1.3.6.1.5.5.7.8.5), UTF8String (RFC 6120 §13.7.1.4). */
  readonly xmppAddrs: readonly string[];
}

export const CERTIFICATES: readonly CertificateSpec[] = [
  {
    name: 'alpha.test',
    dnsIds: ['alpha.test'],
    srvIds: ['_xmpp-client.alpha.test'],
    xmppAddrs: ['alpha.test'],
  },
  { name: 'beta.test', dnsIds: ['beta.test'], srvIds: [], xmppAddrs: [] },
  // Presented by the wrongname.test host: a valid chain, but for another name.
  { name: 'other.test', dnsIds: ['other.test'], srvIds: [], xmppAddrs: [] },
];

/** Which lab server answers for a domain. */
export type ServerRole =
  | 'tls' // the Prosody instance with STARTTLS and direct TLS, encryption required
  | 'plain' // the Prosody instance that offers no STARTTLS at all
  | 'none'; // no XMPP server; DNS only

export interface Scenario {
  readonly domain: string;
  readonly server: ServerRole;
  /** The CertificateSpec.name presented for this domain (STARTTLS and direct TLS with SNI). */
  readonly certificate?: string;
  /** `_xmpp-client._tcp` SRV (RFC 6120 §3.2.1) to the server's STARTTLS port. */
  readonly xmppClientSrv: boolean;
  /** `_xmpps-client._tcp` SRV (XEP-0368) to the server's direct TLS port. */
  readonly xmppsClientSrv: boolean;
  /**
   * A single SRV record with target "." (RFC 2782: "A Target of '.' means that the service is
   * decidedly not available at this domain").
   */
  readonly srvNotAvailable?: boolean;
  /** Local parts of the accounts created on this domain. */
  readonly users: readonly string[];
  readonly purpose: string;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    domain: 'alpha.test',
    server: 'tls',
    certificate: 'alpha.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    users: ['alice', 'bob'],
    purpose: 'everything right; certificate with DNS-ID, SRV-ID and XmppAddr',
  },
  {
    domain: 'beta.test',
    server: 'tls',
    certificate: 'beta.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    users: ['carol'],
    purpose: 'everything right; certificate with a DNS-ID only',
  },
  {
    domain: 'wrongname.test',
    server: 'tls',
    certificate: 'other.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    users: ['erin'],
    purpose: 'the server presents a certificate for other.test: PKIX name check must fail',
  },
  {
    domain: 'plain.test',
    server: 'plain',
    xmppClientSrv: true,
    xmppsClientSrv: false,
    users: ['dave'],
    purpose: 'the server offers no STARTTLS: the client must refuse to continue',
  },
  {
    domain: 'nosrv.test',
    server: 'none',
    xmppClientSrv: false,
    xmppsClientSrv: false,
    users: [],
    purpose: 'no SRV records, only A 127.0.0.1: fallback to the domain on port 5222 (nothing listens)',
  },
  {
    domain: 'noservice.test',
    server: 'none',
    xmppClientSrv: false,
    xmppsClientSrv: false,
    srvNotAvailable: true,
    users: [],
    purpose: 'SRV target "." for both services: XMPP decidedly not available',
  },
];

/** Pairs of bare JIDs that have each other in their rosters with subscription "both". */
export const MUTUAL_ROSTERS: readonly (readonly [string, string])[] = [['alice@alpha.test', 'bob@alpha.test']];
