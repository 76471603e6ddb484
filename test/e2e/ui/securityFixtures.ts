/**
 * Security records as the core writes them for the three transports, for security.spec.ts: a direct
 * TLS connection proved by PKIX (DNS-ID), a STARTTLS connection the person accepted once, and a
 * QUIC connection shared with two other accounts. Built on fixtures.ts's `securityRecord`.
 */
import type { CertificateSummary, SecurityRecord } from '../../../app/contract/viewModels.ts';
import { pathEvent, quicSecurityRecord, securityRecord } from './fixtures.ts';

/** A certificate for `names` issued by the lab CA, with fingerprints of `byte` repeated. */
export function labCertificate(names: string[], byte: string): CertificateSummary {
  return {
    subject: `CN=${names[0] ?? 'unnamed'}`,
    issuer: 'CN=Quiver Lab CA',
    subjectAltNames: names.map((n) => `dns:${n}`),
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2027-01-01T00:00:00Z',
    sha256: byte.repeat(32),
    spkiSha256: byte.split('').reverse().join('').repeat(32),
  };
}

/** Direct TLS to xmpp.alpha.test:5223 found by SRV _xmpps-client._tcp, PKIX with DNS-ID alpha.test. */
export function tlsRecord(id: string, accountId: string, startedAt: number): SecurityRecord {
  return securityRecord(id, accountId, startedAt, {
    jid: 'alice@alpha.test',
    transport: 'tls',
    host: 'xmpp.alpha.test',
    port: 5223,
    srv: '_xmpps-client._tcp.alpha.test. 300 IN SRV 0 5 5223 xmpp.alpha.test.',
    source: 'srv:_xmpps-client._tcp',
    dnssec: 'insecure',
    tlsVersion: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    sni: 'alpha.test',
    certificates: [labCertificate(['alpha.test', 'xmpp.alpha.test'], '3e')],
    verification: {
      trusted: true,
      prooftype: 'pkix',
      identity: 'dns-id:alpha.test',
      delegation: null,
      dnssec: 'insecure',
      tried: [{ prooftype: 'pkix', ok: true, detail: 'CN=Quiver Lab CA vouches for alpha.test' }],
      error: null,
      decision: null,
    },
    saslMechanism: 'SCRAM-SHA-256-PLUS',
    channelBinding: 'tls-exporter',
    sasl2: true,
    bind2: true,
    fast: false,
    boundJid: 'alice@alpha.test/quiver-1',
  });
}

/** STARTTLS to beta.test:5222 (the default: no SRV record), accepted once by the person. */
export function acceptedOnceRecord(id: string, accountId: string, startedAt: number): SecurityRecord {
  const cert = labCertificate(['beta.test'], '5a');
  return securityRecord(id, accountId, startedAt, {
    jid: 'alice@alpha.test',
    transport: 'starttls',
    host: 'beta.test',
    port: 5222,
    srv: null,
    source: 'default',
    dnssec: 'insecure',
    tlsVersion: 'TLSv1.2',
    cipher: 'ECDHE-RSA-AES128-GCM-SHA256',
    alpn: null,
    sni: 'alpha.test',
    certificates: [{ ...cert, issuer: cert.subject }],
    verification: {
      trusted: true,
      prooftype: null,
      identity: 'user-accepted-once',
      delegation: null,
      dnssec: 'insecure',
      tried: [{ prooftype: 'pkix', ok: false, detail: 'the certificate is self-signed' }],
      error: null,
      decision: null,
      userDecision: 'accepted-once',
    },
    saslMechanism: 'SCRAM-SHA-1',
    channelBinding: null,
    endedAt: startedAt + 60_000,
    endReason: 'Signed off',
  });
}

/** QUIC to xmpp.alpha.test:443 by SRV _xmppq-client._udp, shared with 2 other accounts, moved once. */
export function quicRecord(id: string, accountId: string, startedAt: number): SecurityRecord {
  const tls = tlsRecord(id, accountId, startedAt);
  return quicSecurityRecord(id, accountId, startedAt, {
    jid: tls.jid,
    host: 'xmpp.alpha.test',
    port: 443,
    srv: '_xmppq-client._udp.alpha.test. 300 IN SRV 0 5 443 xmpp.alpha.test.',
    source: 'srv:_xmppq-client._udp',
    sni: 'alpha.test',
    certificates: tls.certificates,
    verification: tls.verification,
    pathEvents: [pathEvent(startedAt + 600_000)],
  });
}
