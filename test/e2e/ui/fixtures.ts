/** View-model fixtures for the UI tests: plain data as the real core would send it. */
import type {
  AccountView,
  MessageView,
  RosterItemView,
  SecurityRecord,
} from '../../../app/contract/viewModels.ts';

export function account(id: string, jid: string, overrides: Partial<AccountView> = {}): AccountView {
  return {
    id,
    jid,
    enabled: true,
    status: 'offline',
    boundJid: null,
    error: null,
    settings: { resolver: null, extraCaPem: null, transport: 'auto' },
    ...overrides,
  };
}

export function contact(jid: string, name: string | null, show: 'available' | 'away' | 'dnd' | null, status: string | null = null): RosterItemView {
  return {
    jid,
    name,
    subscription: 'both',
    ask: false,
    groups: [],
    presence: show === null ? null : { show, status },
  };
}

export function message(id: string, accountId: string, peer: string, direction: 'in' | 'out', body: string, at: number, state: MessageView['state'] = direction === 'in' ? 'received' : 'acked'): MessageView {
  return { id, accountId, peer, direction, body, stanzaId: `s-${id}`, at, state };
}

/** A QUIC connection verified by DANE-EE over a DNSSEC-signed SRV record, with a two-certificate chain. */
export function securityRecord(id: string, accountId: string, startedAt: number, overrides: Partial<SecurityRecord> = {}): SecurityRecord {
  return {
    id,
    accountId,
    jid: 'alice@example.org',
    transport: 'quic',
    host: 'xmpp.example.org',
    port: 5222,
    srv: '_xmppq-client._udp.example.org. 300 IN SRV 0 5 5222 xmpp.example.org.',
    source: 'srv:_xmppq-client._udp',
    dnssec: 'secure',
    tlsVersion: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    alpn: 'xmpp-client',
    sni: 'example.org',
    certificates: [
      {
        subject: 'CN=xmpp.example.org',
        issuer: 'CN=Quiver Lab CA',
        subjectAltNames: ['dns:xmpp.example.org', 'srv:_xmpp-client.example.org', 'xmpp:example.org'],
        notBefore: '2026-01-01T00:00:00Z',
        notAfter: '2027-01-01T00:00:00Z',
        sha256: '3f'.repeat(32),
        spkiSha256: 'a1'.repeat(32),
      },
      {
        subject: 'CN=Quiver Lab CA',
        issuer: 'CN=Quiver Lab CA',
        subjectAltNames: [],
        notBefore: '2026-01-01T00:00:00Z',
        notAfter: '2036-01-01T00:00:00Z',
        sha256: '7c'.repeat(32),
        spkiSha256: 'b2'.repeat(32),
      },
    ],
    verification: {
      trusted: true,
      decision: null,
      prooftype: 'dane-ee',
      identity: 'dns-id:xmpp.example.org',
      delegation: 'SRV target xmpp.example.org, DNSSEC-validated',
      dnssec: 'secure',
      tried: [
        { prooftype: 'dane-ee', ok: true, detail: 'TLSA 3 1 1 matches the server key' },
        { prooftype: 'pkix', ok: false, detail: 'not needed' },
      ],
      error: null,
    },
    saslMechanism: 'SCRAM-SHA-256-PLUS',
    channelBinding: 'tls-exporter',
    boundJid: 'alice@example.org/quiver-1',
    startedAt,
    endedAt: null,
    endReason: null,
    ...overrides,
  };
}
