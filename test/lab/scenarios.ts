/**
 * The one place that lists the lab's scenarios: which domains exist, which server answers for
 * each, which certificate it presents, which DNS records (SRV, TLSA, DNSSEC) point at it and which
 * HTTPS documents (POSH, Host Meta 2) speak for it. `zones.ts`, `ca.ts`, `prosody.ts`,
 * `dnssec.ts` and `wellKnown.ts` generate their files from these tables, so a new scenario is a
 * new row here plus, at most, the generator that reads a new column.
 */
import type { DnssecStatus, Prooftype } from '../../app/contract/viewModels.ts';

/** Who signs a certificate. */
export type CertificateIssuer =
  | 'root' // the lab's root CA (the trust anchor tests pass as `caPem`)
  | 'intermediate' // the lab's intermediate CA, itself issued by the root (`intermediateCaPem`)
  | 'self'; // self-signed: no chain to anything

/** A certificate the lab issues. Identifiers per RFC 6125 §6 / RFC 7622. */
export interface CertificateSpec {
  /** File stem: `<name>.pem`, `<name>.key` in the lab's `ca/` directory. */
  readonly name: string;
  /** subjectAltName dNSName entries (DNS-ID). */
  readonly dnsIds: readonly string[];
  /** otherName id-on-dnsSRV (1.3.6.1.5.5.7.8.7), IA5String, RFC 4985 form `_service.domain`. */
  readonly srvIds: readonly string[];
  /** otherName id-on-xmppAddr (1.3.6.1.5.5.7.8.5), UTF8String (RFC 6120 §13.7.1.4). */
  readonly xmppAddrs: readonly string[];
  /** Default 'root'. */
  readonly issuer?: CertificateIssuer;
  /** notBefore 60 days and notAfter 30 days in the past (RFC 5280 §4.1.2.5): expired. */
  readonly expired?: boolean;
}

/** Which lab server answers for a domain. */
export type ServerRole =
  | 'tls' // the Prosody instance with STARTTLS and direct TLS, encryption required
  | 'plain' // the Prosody instance that offers no STARTTLS at all
  | 'modern' // the Prosody 13 instance (bookworm-backports): as 'tls', plus SASL2, Bind2 and FAST
  | 'none'; // no XMPP server; DNS only

/** How a scenario's zone is served. */
export type ZoneSigning =
  | 'unsigned' // no DNSSEC: every answer is insecure (AD clear)
  | 'signed' // ldns-signzone with a fresh key whose DS unbound has as trust anchor: AD set
  | 'bogus'; // signed and anchored, but the RRSIGs over SRV, A and TLSA are corrupted: SERVFAIL

/**
 * What Quiver's one verifier should conclude for this domain (issue 3), so probe and connect tests
 * can iterate the scenarios. `ask`: no proof holds and the person decides (refuse, accept once,
 * pin); `refused`: no decision may override it (TLSA mismatch, bogus DNSSEC).
 */
export interface Expectation {
  readonly outcome: 'trusted' | 'ask' | 'refused';
  readonly prooftype: Prooftype | null;
  /** DNSSEC status of the SRV answer (or 'insecure' for host-meta). */
  readonly dnssec: DnssecStatus;
}

/**
 * POSH (RFC 7711) document served at `https://<domain>/.well-known/posh/xmpp-client.json`, or with
 * `draftPath` only at the earlier drafts' `/.well-known/posh._xmpp-client._tcp.json`.
 */
export type PoshSpec =
  /** RFC 7711 §3.1: `fingerprints` of this CertificateSpec's whole DER certificate. */
  (
    | { readonly fingerprintsOf: string }
    /** RFC 7711 §3.2: `{"url": ...}`, a reference to the document to use instead. */
    | { readonly url: string }
  ) & { readonly draftPath?: boolean };

/**
 * XMPP over QUIC (XEP-0467) for a domain: a `_xmppq-client._udp` SRV record (the record name of
 * the one deployed XEP-0467 implementation, as discovery reads it) to `xmpp.<domain>` on the lab's
 * QUIC gateway or on the UDP blackhole.
 */
export interface QuicSpec {
  /**
   * 'gateway': `quiver gateway` in the lab process in front of the scenario's server: the first
   * gateway forwards to the TLS Prosody 0.12 (server 'tls'), the second to Prosody 13 ('modern');
   * 'blackhole': a UDP socket that reads and drops every datagram (UDP blocked: no answer, no ICMP).
   */
  readonly endpoint: 'gateway' | 'blackhole';
  /**
   * The CertificateSpec.name the gateway presents when the ClientHello's SNI is this domain
   * (gateway only; it must name the domain as a DNS-ID, which is how the gateway picks it).
   */
  readonly certificate?: string;
  /**
   * TLSA `3 1 1` at `_<gateway port>._udp.<srvTarget>` (RFC 7673 §3 applied to UDP, as issue 11
   * asks), holding the SPKI of this CertificateSpec.
   */
  readonly tlsaSpkiOf?: string;
  /** What the verifier should conclude about the QUIC handshake (absent for the blackhole). */
  readonly expected?: Expectation;
  /** The transport an account of this domain should end up on when it may use either. */
  readonly winner: 'quic' | 'tcp';
}

export interface Scenario {
  readonly domain: string;
  readonly server: ServerRole;
  /** The CertificateSpec.name presented for this domain (STARTTLS and direct TLS with SNI). */
  readonly certificate?: string;
  /** `_xmpp-client._tcp` SRV (RFC 6120 §3.2.1) to the server's STARTTLS port. */
  readonly xmppClientSrv: boolean;
  /** `_xmpps-client._tcp` SRV (XEP-0368) to the server's direct TLS port. */
  readonly xmppsClientSrv: boolean;
  /** SRV target; default `xmpp.<domain>` (which then gets an A record 127.0.0.1 in the zone). */
  readonly srvTarget?: string;
  /**
   * A single SRV record with target "." (RFC 2782: "A Target of '.' means that the service is
   * decidedly not available at this domain").
   */
  readonly srvNotAvailable?: boolean;
  /** Default 'unsigned'. */
  readonly signing?: ZoneSigning;
  /**
   * TLSA `3 1 1` (DANE-EE, SPKI, SHA-256; RFC 7671 §5.1) at `_<port>._tcp.<srvTarget>` for the
   * STARTTLS and the direct TLS port, holding the SPKI of this CertificateSpec.
   */
  readonly tlsaSpkiOf?: string;
  readonly posh?: PoshSpec;
  /**
   * XEP-0487: `https://<domain>/.well-known/host-meta.json` with one `urn:xmpp:alt-connections:tls`
   * link to the lab's direct TLS port on 127.0.0.1 with this `sni`.
   */
  readonly hostMetaSni?: string;
  /**
   * Further Prosody VirtualHosts with this scenario's certificate, so a direct TLS handshake with
   * one of these names as SNI gets it (Prosody 0.12 picks SNI contexts by host name only).
   */
  readonly sniAliases?: readonly string[];
  /** `_xmppq-client._udp` SRV and what answers there; absent: no QUIC record (auto mode uses TCP). */
  readonly quic?: QuicSpec;
  /** Local parts of the accounts created on this domain. */
  readonly users: readonly string[];
  readonly purpose: string;
  readonly expected?: Expectation;
}

/** The hosting provider of the delegation scenarios: its certificate names only itself. */
export const PROVIDER = 'provider.test';
export const PROVIDER_HOST = 'xmpp.provider.test';

/** Two domains one gateway certificate covers (accounts of both may share a QUIC connection). */
export const QUIC_A = 'quic-a.test';
export const QUIC_B = 'quic-b.test';
/** The CertificateSpec the gateway presents to SNI quic-a.test and quic-b.test: DNS-IDs for both. */
export const QUIC_SHARED_CERTIFICATE = 'quic-shared';
/** The domain Prosody 13 serves (issue 12: SASL2, Bind2, FAST beside 0.12's old servers). */
export const MODERN = 'modern.test';
/**
 * XMPP over QUIC to Prosody 13 (SASL2, Bind 2, FAST): the second gateway's domain, ten accounts
 * (the warm-start bench logs in ten).
 */
export const QUIC_MODERN = 'quic-modern.test';
/** The CertificateSpec the gateway presents when no other names the SNI (alpha.test's, as before). */
export const GATEWAY_DEFAULT_CERTIFICATE = 'alpha.test';

/**
 * Fault tests (test/integration/faults.test.ts) need a fresh pair of accounts per scenario: what a
 * scenario leaves behind (offline messages, archives, hibernating sessions) would count in the
 * next one. alpha.test and modern.test have `alice-f<n>` and `bob-f<n>` for n = 1..FAULT_PAIRS
 * (not in each other's rosters; chat messages need no subscription).
 */
export const FAULT_PAIRS = 8;

export function faultUsers(): string[] {
  return Array.from({ length: FAULT_PAIRS }, (_, i) => [`alice-f${i + 1}`, `bob-f${i + 1}`]).flat();
}

export const SCENARIOS: readonly Scenario[] = [
  {
    domain: 'alpha.test',
    server: 'tls',
    certificate: 'alpha.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    users: ['alice', 'bob', ...faultUsers()],
    purpose: 'everything right; certificate with DNS-ID, SRV-ID and XmppAddr: PKIX',
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
  {
    domain: 'beta.test',
    server: 'tls',
    certificate: 'beta.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    users: ['carol'],
    purpose: 'everything right; certificate with a DNS-ID only: PKIX',
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
  {
    domain: 'wrongname.test',
    server: 'tls',
    certificate: 'other.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    users: ['erin'],
    purpose: 'the server presents a certificate for other.test: PKIX name check must fail',
    expected: { outcome: 'ask', prooftype: null, dnssec: 'insecure' },
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
  {
    domain: PROVIDER,
    server: 'tls',
    certificate: PROVIDER,
    xmppClientSrv: true,
    xmppsClientSrv: true,
    srvTarget: PROVIDER_HOST,
    sniAliases: [PROVIDER_HOST],
    posh: { fingerprintsOf: PROVIDER },
    users: [],
    purpose:
      'the hosting provider: certificate for provider.test and xmpp.provider.test only; ' +
      'its POSH document is the target of hosted-url.test\'s "url" delegation',
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
  {
    domain: 'hosted.test',
    server: 'tls',
    certificate: PROVIDER,
    xmppClientSrv: true,
    xmppsClientSrv: true,
    srvTarget: PROVIDER_HOST,
    posh: { fingerprintsOf: PROVIDER },
    users: ['henry'],
    purpose:
      "hosted by xmpp.provider.test (insecure SRV); the provider's certificate does not name " +
      'hosted.test; a POSH document with its fingerprint proves the delegation',
    expected: { outcome: 'trusted', prooftype: 'posh', dnssec: 'insecure' },
  },
  {
    domain: 'hosted-url.test',
    server: 'tls',
    certificate: PROVIDER,
    xmppClientSrv: true,
    xmppsClientSrv: true,
    srvTarget: PROVIDER_HOST,
    posh: { url: `https://${PROVIDER}/.well-known/posh/xmpp-client.json` },
    users: ['hugo'],
    purpose: 'as hosted.test, but its POSH document is a "url" reference (RFC 7711 §3.2) to the provider\'s',
    expected: { outcome: 'trusted', prooftype: 'posh', dnssec: 'insecure' },
  },
  {
    domain: 'hosted-draft.test',
    server: 'tls',
    certificate: PROVIDER,
    xmppClientSrv: true,
    xmppsClientSrv: true,
    srvTarget: PROVIDER_HOST,
    posh: { fingerprintsOf: PROVIDER, draftPath: true },
    users: ['hilda'],
    purpose:
      "as hosted.test, but the POSH document is only at the drafts' path " +
      '/.well-known/posh._xmpp-client._tcp.json (the RFC 7711 path is 404)',
    expected: { outcome: 'trusted', prooftype: 'posh', dnssec: 'insecure' },
  },
  {
    domain: 'secure-hosted.test',
    server: 'tls',
    certificate: PROVIDER,
    xmppClientSrv: true,
    xmppsClientSrv: true,
    srvTarget: PROVIDER_HOST,
    signing: 'signed',
    users: ['sam'],
    purpose:
      'hosted by xmpp.provider.test, no POSH; the DNSSEC-secure SRV answer delegates the ' +
      'domain to the target, whose name the certificate carries',
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'secure' },
  },
  {
    domain: 'dane.test',
    server: 'tls',
    certificate: 'dane.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    signing: 'signed',
    tlsaSpkiOf: 'dane.test',
    users: ['dana'],
    purpose: 'self-signed certificate, secure SRV and a matching secure TLSA 3 1 1: DANE-EE',
    expected: { outcome: 'trusted', prooftype: 'dane-ee', dnssec: 'secure' },
  },
  {
    domain: 'dane-mismatch.test',
    server: 'tls',
    certificate: 'dane-mismatch.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    signing: 'signed',
    tlsaSpkiOf: 'decoy.test',
    users: ['mona'],
    purpose: 'valid CA-signed certificate, but the secure TLSA names another key: refuse, no PKIX fallback',
    expected: { outcome: 'refused', prooftype: null, dnssec: 'secure' },
  },
  {
    domain: 'bogus.test',
    server: 'tls',
    certificate: 'bogus.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    signing: 'bogus',
    users: ['bob'],
    purpose: 'signed zone whose SRV/A/TLSA signatures are broken: the resolver answers SERVFAIL; refuse',
    expected: { outcome: 'refused', prooftype: null, dnssec: 'bogus' },
  },
  {
    domain: 'unsigned-tlsa.test',
    server: 'tls',
    certificate: 'unsigned-tlsa.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    tlsaSpkiOf: 'decoy.test',
    users: ['uma'],
    purpose: 'unsigned zone with a non-matching TLSA that must be ignored; valid certificate: PKIX',
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
  {
    domain: 'selfsigned.test',
    server: 'tls',
    certificate: 'selfsigned.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    // carol: the UI's end-to-end test (accept once, pin, key swap); sid: test/integration/decisions.test.ts.
    users: ['sid', 'carol'],
    purpose: 'self-signed certificate, no DANE: nothing proves it, the person is asked',
    expected: { outcome: 'ask', prooftype: null, dnssec: 'insecure' },
  },
  {
    domain: 'expired.test',
    server: 'tls',
    certificate: 'expired.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    users: ['ed'],
    purpose: 'CA-signed certificate whose notAfter is in the past: PKIX fails',
    expected: { outcome: 'ask', prooftype: null, dnssec: 'insecure' },
  },
  {
    domain: 'nointermediate.test',
    server: 'tls',
    certificate: 'nointermediate.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    users: ['nia'],
    purpose: 'certificate issued by the lab intermediate CA, server sends the leaf only: no path to the root',
    expected: { outcome: 'ask', prooftype: null, dnssec: 'insecure' },
  },
  {
    domain: 'hostmeta.test',
    server: 'tls',
    certificate: PROVIDER,
    xmppClientSrv: false,
    xmppsClientSrv: false,
    hostMetaSni: PROVIDER_HOST,
    users: ['hank'],
    purpose:
      'no SRV; a Host Meta 2 document (XEP-0487) fetched over verified HTTPS names the ' +
      'provider (sni xmpp.provider.test, 127.0.0.1, direct TLS port): delegation by host-meta',
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
  {
    domain: QUIC_A,
    server: 'tls',
    certificate: QUIC_A,
    xmppClientSrv: true,
    xmppsClientSrv: true,
    quic: {
      endpoint: 'gateway',
      certificate: QUIC_SHARED_CERTIFICATE,
      expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
      winner: 'quic',
    },
    // Ten: `npm run bench` logs in 1, 5 and 10 accounts of one server (test/bench/accountsBound.ts).
    users: ['alice', 'bob', 'carol', 'dave', 'erin', 'fiona', 'gustav', 'hanna', 'ivan', 'judith'],
    purpose:
      'XMPP over QUIC through the gateway, whose certificate for this SNI names quic-a.test and ' +
      'quic-b.test: accounts of both domains may share one QUIC connection; TCP as alpha.test',
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
  {
    domain: QUIC_B,
    server: 'tls',
    certificate: QUIC_B,
    xmppClientSrv: true,
    xmppsClientSrv: true,
    quic: {
      endpoint: 'gateway',
      certificate: QUIC_SHARED_CERTIFICATE,
      expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
      winner: 'quic',
    },
    users: ['frank', 'grace'],
    purpose: "as quic-a.test, the other domain of the gateway's shared certificate",
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
  {
    domain: 'quic-solo.test',
    server: 'tls',
    certificate: 'quic-solo.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    quic: {
      endpoint: 'gateway',
      certificate: 'quic-solo.test',
      expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
      winner: 'quic',
    },
    users: ['olga', 'oscar'],
    purpose:
      'XMPP over QUIC through the same gateway, whose certificate for this SNI names only ' +
      'quic-solo.test: its accounts never join the quic-a/quic-b connection, they get their own',
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
  {
    domain: 'quic-dane.test',
    server: 'tls',
    certificate: 'quic-dane.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    signing: 'signed',
    tlsaSpkiOf: 'quic-dane.test',
    quic: {
      endpoint: 'gateway',
      certificate: 'quic-dane.test',
      tlsaSpkiOf: 'quic-dane.test',
      expected: { outcome: 'trusted', prooftype: 'dane-ee', dnssec: 'secure' },
      winner: 'quic',
    },
    users: ['quinn'],
    purpose:
      'signed; the gateway presents a self-signed certificate for this SNI and a secure TLSA 3 1 1 ' +
      'at _<gateway port>._udp.xmpp.quic-dane.test matches it: DANE-EE over QUIC (TCP as dane.test)',
    expected: { outcome: 'trusted', prooftype: 'dane-ee', dnssec: 'secure' },
  },
  {
    domain: 'udp-blocked.test',
    server: 'tls',
    certificate: 'udp-blocked.test',
    xmppClientSrv: true,
    xmppsClientSrv: true,
    quic: { endpoint: 'blackhole', winner: 'tcp' },
    users: ['ursula'],
    purpose:
      'the _xmppq-client._udp SRV names a UDP port where every datagram is swallowed (UDP blocked): ' +
      'QUIC times out, TCP (CA certificate) wins',
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
  {
    domain: MODERN,
    server: 'modern',
    certificate: MODERN,
    xmppClientSrv: true,
    xmppsClientSrv: true,
    users: ['alice', 'bob', 'carol', ...faultUsers()],
    purpose:
      'served by Prosody 13 (SASL2 with Bind2 inline, FAST, SM inline, carbons, MAM, CSI) on ports ' +
      'of its own; a client without SASL2 logs in with SASL and bind as on 0.12',
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
  {
    domain: QUIC_MODERN,
    server: 'modern',
    certificate: QUIC_MODERN,
    xmppClientSrv: true,
    xmppsClientSrv: true,
    quic: {
      endpoint: 'gateway',
      certificate: QUIC_MODERN,
      expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
      winner: 'quic',
    },
    // Ten: `npm run bench` logs ten accounts in from a warm start (test/bench/warmStartTable.ts).
    users: ['alice', 'bob', 'carol', 'dave', 'erin', 'fiona', 'gustav', 'hanna', 'ivan', 'judith'],
    purpose:
      'XMPP over QUIC to Prosody 13 (SASL2 with Bind 2 inline, FAST, SM inline) through the second ' +
      "gateway, which forwards to Prosody 13's plaintext loopback port; TCP as modern.test",
    expected: { outcome: 'trusted', prooftype: 'pkix', dnssec: 'insecure' },
  },
];

/** The certificate of the lab's HTTPS server (POSH, host-meta): every scenario domain. */
export const HTTPS_CERTIFICATE = 'lab-https';

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
  // Names only the provider: hosted domains need POSH, a secure SRV or host-meta to accept it.
  { name: PROVIDER, dnsIds: [PROVIDER, PROVIDER_HOST], srvIds: [], xmppAddrs: [] },
  { name: 'dane.test', dnsIds: ['dane.test'], srvIds: [], xmppAddrs: [], issuer: 'self' },
  { name: 'dane-mismatch.test', dnsIds: ['dane-mismatch.test'], srvIds: [], xmppAddrs: [] },
  // Never presented by any server: the key whose SPKI the non-matching TLSA records name.
  { name: 'decoy.test', dnsIds: ['decoy.test'], srvIds: [], xmppAddrs: [], issuer: 'self' },
  { name: 'bogus.test', dnsIds: ['bogus.test'], srvIds: [], xmppAddrs: [] },
  { name: 'unsigned-tlsa.test', dnsIds: ['unsigned-tlsa.test'], srvIds: [], xmppAddrs: [] },
  { name: 'selfsigned.test', dnsIds: ['selfsigned.test'], srvIds: [], xmppAddrs: [], issuer: 'self' },
  { name: 'expired.test', dnsIds: ['expired.test'], srvIds: [], xmppAddrs: [], expired: true },
  { name: 'nointermediate.test', dnsIds: ['nointermediate.test'], srvIds: [], xmppAddrs: [], issuer: 'intermediate' },
  // TCP (Prosody) certificates of the QUIC scenarios, one per domain as alpha.test's ...
  { name: QUIC_A, dnsIds: [QUIC_A], srvIds: [], xmppAddrs: [] },
  { name: QUIC_B, dnsIds: [QUIC_B], srvIds: [], xmppAddrs: [] },
  { name: 'quic-solo.test', dnsIds: ['quic-solo.test'], srvIds: [], xmppAddrs: [] },
  { name: 'quic-dane.test', dnsIds: ['quic-dane.test'], srvIds: [], xmppAddrs: [], issuer: 'self' },
  { name: 'udp-blocked.test', dnsIds: ['udp-blocked.test'], srvIds: [], xmppAddrs: [] },
  // Prosody 13's, with the same names as alpha.test's.
  { name: MODERN, dnsIds: [MODERN], srvIds: [`_xmpp-client.${MODERN}`], xmppAddrs: [MODERN] },
  // Prosody 13's and the second gateway's for quic-modern.test.
  { name: QUIC_MODERN, dnsIds: [QUIC_MODERN], srvIds: [], xmppAddrs: [] },
  // ... and the gateway's one certificate for both quic-a.test and quic-b.test.
  { name: QUIC_SHARED_CERTIFICATE, dnsIds: [QUIC_A, QUIC_B], srvIds: [], xmppAddrs: [] },
  {
    name: HTTPS_CERTIFICATE,
    dnsIds: [...new Set(SCENARIOS.map((s) => s.domain))],
    srvIds: [],
    xmppAddrs: [],
  },
];

/** Pairs of bare JIDs that have each other in their rosters with subscription "both". */
export const MUTUAL_ROSTERS: readonly (readonly [string, string])[] = [
  ['alice@alpha.test', 'bob@alpha.test'],
  [`alice@${QUIC_A}`, `bob@${QUIC_A}`],
  [`alice@${MODERN}`, `bob@${MODERN}`],
];

/**
 * The certificates the lab's first gateway holds, in the order it tries them for an SNI (the
 * first is its default): alpha.test's, then each QUIC scenario's of the TLS Prosody 0.12 once.
 */
export function gatewayCertificates(): string[] {
  return gatewayCertificatesFor('tls', [GATEWAY_DEFAULT_CERTIFICATE]);
}

/**
 * The certificates the second gateway (in front of Prosody 13) holds: each QUIC scenario's of
 * Prosody 13 once, the first its default (quic-modern.test's).
 */
export function prosody13GatewayCertificates(): string[] {
  return gatewayCertificatesFor('modern', []);
}

function gatewayCertificatesFor(server: ServerRole, first: readonly string[]): string[] {
  const names = [...first];
  for (const s of SCENARIOS) {
    if (s.server !== server) continue;
    const name = s.quic?.certificate;
    if (name !== undefined && !names.includes(name)) names.push(name);
  }
  return names;
}

/** The SRV target of a scenario (without trailing dot). */
export function srvTargetOf(s: Scenario): string {
  return s.srvTarget ?? `xmpp.${s.domain}`;
}
