/** View-model fixtures for the UI tests: plain data as the real core would send it. */
import type {
  AccountView,
  CertificateDecisionView,
  ConversationView,
  CertificateSummary,
  MessageView,
  PathEvent,
  PinView,
  RosterItemView,
  SecurityRecord,
} from '../../../app/contract/viewModels.ts';

export function account(id: string, jid: string, overrides: Partial<AccountView> = {}): AccountView {
  return {
    id,
    jid,
    enabled: true,
    status: 'offline',
    statusText: 'offline',
    boundJid: null,
    error: null,
    settings: { resolver: null, resolverValidates: false, extraCaPem: null, transport: 'auto' },
    label: jid.slice(jid.indexOf('@') + 1),
    color: '#2f6fdf',
    order: 0,
    presence: { show: 'available', status: null },
    canBlock: false,
    ...overrides,
  };
}

export function contact(
  jid: string,
  name: string | null,
  show: 'available' | 'away' | 'dnd' | null,
  status: string | null = null,
): RosterItemView {
  return {
    jid,
    name,
    subscription: 'both',
    ask: false,
    groups: [],
    presence: show === null ? null : { show, status },
  };
}

export function message(
  id: string,
  accountId: string,
  peer: string,
  direction: 'in' | 'out',
  body: string,
  at: number,
  state: MessageView['state'] = direction === 'in' ? 'received' : 'acked',
): MessageView {
  return { id, accountId, peer, direction, body, stanzaId: `s-${id}`, at, state, error: null };
}

/** A conversation as `conversation.list` answers it; by default a read contact chat with no draft. */
export function conversation(
  accountId: string,
  peer: string,
  lastMessage: MessageView | null,
  overrides: Partial<ConversationView> = {},
): ConversationView {
  return {
    accountId,
    peer,
    name: null,
    lastMessage,
    lastActivity: lastMessage?.at ?? 0,
    unread: 0,
    draft: '',
    stranger: false,
    blocked: false,
    ...overrides,
  };
}

/** A QUIC connection verified by DANE-EE over a DNSSEC-signed SRV record, with a two-certificate chain. */
export function securityRecord(
  id: string,
  accountId: string,
  startedAt: number,
  overrides: Partial<SecurityRecord> = {},
): SecurityRecord {
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
    quicConnectionId: null,
    quicStreamId: null,
    quic: null,
    fallback: null,
    pathEvents: [],
    ...overrides,
  };
}

/** A path event of a QUIC connection: by default, a migration from Wi-Fi to a phone's hotspot. */
export function pathEvent(at: number, overrides: Partial<PathEvent> = {}): PathEvent {
  return {
    at,
    kind: 'migrated',
    from: '192.168.1.23:50123',
    to: '172.20.10.4:50123',
    rttBeforeMs: 18.4,
    rttAfterMs: 61.2,
    detail: 'path validated from the new address (RFC 9000 §8.2)',
    ...overrides,
  };
}

/**
 * The same connection as `securityRecord`, with the QUIC facts filled in: the second account on a
 * shared QUIC session, stream 4, which moved from Wi-Fi to a hotspot and was then checked.
 */
export function quicSecurityRecord(
  id: string,
  accountId: string,
  startedAt: number,
  overrides: Partial<SecurityRecord> = {},
): SecurityRecord {
  return securityRecord(id, accountId, startedAt, {
    quicConnectionId: '9c41e07a5b2d4f18',
    quicStreamId: 4,
    quic: {
      version: 'QUIC v1',
      pathMtu: 1452,
      ech: 'not available',
      sharedWith: 2,
      resumed: true,
      earlyData: 'accepted',
      localAddress: '172.20.10.4:50123',
      remoteAddress: '[2001:db8::5]:5222',
    },
    fallback: null,
    pathEvents: [
      pathEvent(startedAt + 600_000),
      pathEvent(startedAt + 600_400, {
        kind: 'checked',
        from: null,
        to: null,
        rttBeforeMs: null,
        rttAfterMs: null,
        detail: 'XEP-0198 ack',
      }),
    ],
    ...overrides,
  });
}

/** A self-signed server certificate, expired: what a small self-hosted server often presents. */
export function selfSignedCertificate(overrides: Partial<CertificateSummary> = {}): CertificateSummary {
  return {
    subject: 'CN=chat.selfhosted.example',
    issuer: 'CN=chat.selfhosted.example',
    subjectAltNames: ['dns:chat.selfhosted.example', 'xmpp:selfhosted.example'],
    notBefore: '2024-03-01T00:00:00Z',
    notAfter: '2025-03-01T00:00:00Z',
    sha256: '5e'.repeat(32),
    spkiSha256: 'c4'.repeat(32),
    ...overrides,
  };
}

/** A server nothing could prove: PKIX failed on a self-signed certificate, no DANE, no POSH. */
export function unprovenDecision(
  id: string,
  accountId: string,
  jid: string,
  overrides: Partial<CertificateDecisionView> = {},
): CertificateDecisionView {
  const domain = jid.slice(jid.indexOf('@') + 1);
  const certificate = selfSignedCertificate();
  return {
    id,
    accountId,
    jid,
    domain,
    transport: 'starttls',
    host: `chat.${domain}`,
    port: 5222,
    kind: 'unproven',
    problem: 'self-signed',
    certificates: [certificate],
    presentedSpkiSha256: certificate.spkiSha256,
    pinnedSpkiSha256: [],
    tried: [
      { prooftype: 'pkix', ok: false, detail: 'the certificate is self-signed: no trusted authority issued it' },
      {
        prooftype: 'dane-ee',
        ok: false,
        detail: `no TLSA record at _5222._tcp.chat.${domain} (the zone is not signed)`,
      },
      {
        prooftype: 'posh',
        ok: false,
        detail: `no POSH document at https://${domain}/.well-known/posh/xmpp-client.json`,
      },
    ],
    reason: {
      code: 'unproven-certificate',
      message: `${domain} presented a self-signed certificate and neither DANE nor POSH vouches for it.`,
    },
    at: Date.now(),
    ...overrides,
  };
}

/** A pinned server that now presents another key, with a chain from a CA Quiver does not trust. */
export function keyChangedDecision(
  id: string,
  accountId: string,
  jid: string,
  oldKeys: string[],
): CertificateDecisionView {
  const domain = jid.slice(jid.indexOf('@') + 1);
  const leaf = selfSignedCertificate({
    subject: `CN=${domain}`,
    issuer: 'CN=Unknown Intermediate CA',
    subjectAltNames: [`dns:${domain}`],
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2099-01-01T00:00:00Z',
    sha256: '9d'.repeat(32),
    spkiSha256: 'e7'.repeat(32),
  });
  const intermediate = selfSignedCertificate({
    subject: 'CN=Unknown Intermediate CA',
    issuer: 'CN=Unknown Intermediate CA',
    subjectAltNames: [],
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2099-01-01T00:00:00Z',
    sha256: '0b'.repeat(32),
    spkiSha256: '1f'.repeat(32),
  });
  return unprovenDecision(id, accountId, jid, {
    kind: 'key-changed',
    host: domain,
    certificates: [leaf, intermediate],
    presentedSpkiSha256: leaf.spkiSha256,
    pinnedSpkiSha256: oldKeys,
    tried: [
      { prooftype: 'pin', ok: false, detail: `the key pinned for ${domain} does not match the key presented` },
      { prooftype: 'pkix', ok: false, detail: 'CN=Unknown Intermediate CA is not a trusted authority' },
    ],
    reason: {
      code: 'pin-mismatch',
      message: `${domain} presented a key that differs from the one you pinned. Quiver did not connect.`,
    },
  });
}

export function pin(
  accountId: string,
  domain: string,
  spkiSha256: string,
  createdAt: number,
  certificate: CertificateSummary | null = selfSignedCertificate({ spkiSha256 }),
): PinView {
  return { accountId, domain, spkiSha256, certificate, createdAt };
}

/** alice at work (blue, first) and at home (orange, second), both online. */
export const workAndHome = () => [
  account('a1', 'alice@work.example', { status: 'online', label: 'Work', color: '#2f6fdf', order: 0 }),
  account('a2', 'alice@home.example', { status: 'online', label: 'Home', color: '#c2410c', order: 1 }),
];
