/** Literal records for the storage tests. */
import type { SecurityRecord } from '../../../app/contract/viewModels.ts';

export function securityRecord(over: Partial<SecurityRecord> = {}): SecurityRecord {
  return {
    id: 'conn-1',
    accountId: null,
    jid: 'alice@example.org',
    transport: 'tls',
    host: 'xmpp.example.org',
    port: 5223,
    srv: '_xmpps-client._tcp.example.org. 0 5 5223 xmpp.example.org.',
    source: 'srv:_xmpps-client._tcp',
    dnssec: 'secure',
    tlsVersion: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    alpn: 'xmpp-client',
    sni: 'example.org',
    certificates: [
      {
        subject: 'CN=example.org',
        issuer: 'CN=Lab CA',
        subjectAltNames: ['dns:example.org', 'xmpp:example.org'],
        notBefore: '2026-01-01T00:00:00Z',
        notAfter: '2027-01-01T00:00:00Z',
        sha256: 'aa'.repeat(32),
        spkiSha256: 'bb'.repeat(32),
      },
    ],
    verification: {
      trusted: true,
      prooftype: 'dane-ee',
      identity: 'dns-id:example.org',
      delegation: null,
      dnssec: 'secure',
      tried: [{ prooftype: 'dane-ee', ok: true, detail: 'TLSA 3 1 1 matched the end-entity key' }],
      error: null,
      decision: null,
    },
    saslMechanism: null,
    channelBinding: null,
    boundJid: null,
    startedAt: 1_700_000_000_000,
    endedAt: null,
    endReason: null,
    quicConnectionId: null,
    quicStreamId: null,
    quic: null,
    fallback: null,
    pathEvents: [],
    ...over,
  };
}
