/**
 * The security view's and the certificate dialog's words (renderer/src/security): every token the
 * core writes (`dns-id:…`, `user-accepted-once`, `srv:_xmpp-client._tcp`) comes out in words, the
 * summary reads as issue 13 asks, and each certificate problem has its own sentence and advice.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  CertificateDecisionView,
  CertificateProblem,
  SecurityRecord,
  Verdict,
} from '../../../app/contract/viewModels.ts';
import { identityText, proofText, sanText } from '../../../renderer/src/security/identityWords.ts';
import { channelBindingExplanation, saslExplanation } from '../../../renderer/src/security/saslWords.ts';
import { certificateNames, problemWords } from '../../../renderer/src/security/problemWords.ts';
import { summaryText, userDecisionOf, userDecisionText } from '../../../renderer/src/security/summaryWords.ts';

const verdict = (overrides: Partial<Verdict> = {}): Verdict => ({
  trusted: true,
  prooftype: 'pkix',
  identity: 'dns-id:alpha.test',
  delegation: null,
  dnssec: 'insecure',
  tried: [],
  error: null,
  decision: null,
  ...overrides,
});

const leaf = {
  subject: 'CN=xmpp.alpha.test',
  issuer: 'CN=Lab CA',
  subjectAltNames: ['dns:xmpp.alpha.test', 'xmpp:alpha.test'],
  notBefore: '2026-01-01T00:00:00Z',
  notAfter: '2027-01-01T00:00:00Z',
  sha256: '11'.repeat(32),
  spkiSha256: '22'.repeat(32),
};

const record = (overrides: Partial<SecurityRecord> = {}): SecurityRecord => ({
  id: 'r1',
  accountId: 'a1',
  jid: 'alice@alpha.test',
  transport: 'tls',
  host: 'xmpp.alpha.test',
  port: 5223,
  srv: null,
  source: 'srv:_xmpps-client._tcp',
  dnssec: 'insecure',
  tlsVersion: 'TLSv1.3',
  cipher: 'TLS_AES_256_GCM_SHA384',
  alpn: 'xmpp-client',
  sni: 'alpha.test',
  certificates: [leaf],
  verification: verdict(),
  saslMechanism: 'SCRAM-SHA-256-PLUS',
  channelBinding: 'tls-exporter',
  boundJid: null,
  startedAt: 0,
  endedAt: null,
  endReason: null,
  quicConnectionId: null,
  quicStreamId: null,
  quic: null,
  fallback: null,
  pathEvents: [],
  ...overrides,
});

describe('security words', () => {
  it('names identities as RFC 6125 does, never as tokens', () => {
    assert.equal(identityText('dns-id:example.org'), 'DNS-ID example.org');
    assert.equal(identityText('srv-id:_xmpp-client.example.org'), 'SRV-ID _xmpp-client.example.org');
    assert.equal(identityText('xmppaddr:example.org'), 'XmppAddr example.org');
    assert.equal(identityText('user-accepted-once'), null);
    assert.equal(identityText(`pin:${'ab'.repeat(32)}`), null);
    assert.equal(sanText('dns:example.org'), 'example.org');
    assert.equal(sanText('srv:_xmpp-client.example.org'), '_xmpp-client.example.org (SRV name)');
    assert.equal(sanText('xmpp:example.org'), 'example.org (XMPP address)');
  });

  it('says what each prooftype proved', () => {
    assert.equal(proofText(verdict(), 'alpha.test', leaf), 'PKIX, DNS-ID alpha.test');
    assert.equal(
      proofText(verdict({ prooftype: 'dane-ee', identity: null }), 'alpha.test', leaf),
      "DANE-EE: the key matches the domain's signed TLSA record",
    );
    const hosting = { ...leaf, subjectAltNames: ['dns:hosting.example.net'] };
    assert.equal(
      proofText(verdict({ prooftype: 'posh', identity: 'posh:example.org' }), 'example.org', hosting),
      'POSH delegation from example.org to hosting.example.net',
    );
  });

  it('sums a direct TLS connection up in one line', () => {
    assert.equal(
      summaryText(record(), null),
      'Verified: the certificate proves alpha.test (PKIX, DNS-ID alpha.test) · TLS 1.3 · direct TLS to xmpp.alpha.test:5223 · SCRAM-SHA-256-PLUS with channel binding',
    );
    assert.match(
      summaryText(record({ transport: 'starttls', port: 5222, channelBinding: null, saslMechanism: 'PLAIN' }), null),
      /STARTTLS to xmpp\.alpha\.test:5222 · PLAIN without channel binding$/,
    );
  });

  it('names accept-once and pins as what they are', () => {
    const once = verdict({ prooftype: null, identity: null, userDecision: 'accepted-once' });
    assert.equal(userDecisionOf(once), 'accepted-once');
    // A record written before userDecision existed.
    assert.equal(userDecisionOf(verdict({ prooftype: 'pin', identity: 'user-accepted-once' })), 'accepted-once');
    assert.equal(userDecisionOf(verdict({ prooftype: 'pin', identity: 'pin:ab' })), 'pinned');
    assert.equal(userDecisionOf(verdict()), null);
    assert.equal(
      userDecisionText('accepted-once', null),
      'You accepted this certificate once, for this connection only',
    );
    const at = Date.UTC(2026, 4, 3, 12);
    assert.equal(
      userDecisionText('pinned', at),
      `You pinned this key on ${new Intl.DateTimeFormat(undefined, { dateStyle: 'long' }).format(at)}`,
    );
    const line = summaryText(record({ verification: once }), null);
    assert.match(line, /^Accepted once by you: nothing proved the server is alpha\.test/);
    assert.doesNotMatch(line, /user-accepted-once|pinned/i);
  });

  it('explains SASL mechanisms and channel binding in one line each', () => {
    assert.match(saslExplanation('SCRAM-SHA-256-PLUS'), /never sent.*tied to this TLS connection/);
    assert.match(saslExplanation('PLAIN'), /sent to the server inside the encrypted connection/);
    assert.match(saslExplanation('HT-SHA-256-EXPR'), /token/);
    assert.match(channelBindingExplanation('tls-exporter'), /RFC 9266/);
    assert.match(channelBindingExplanation(null), /^None/);
  });

  it('words each certificate problem with its own advice', () => {
    const now = Date.UTC(2026, 11, 6);
    const decision = (problem: CertificateProblem, certificate = leaf): CertificateDecisionView => ({
      id: 'd1',
      problem,
      accountId: 'a1',
      jid: 'alice@example.org',
      domain: 'example.org',
      transport: 'tls',
      host: 'xmpp.example.org',
      port: 5223,
      kind: problem === 'key-changed' ? 'key-changed' : 'unproven',
      certificates: [certificate],
      presentedSpkiSha256: certificate.spkiSha256,
      pinnedSpkiSha256: [],
      tried: [],
      reason: { code: 'x', message: 'Something else went wrong.' },
      at: now,
    });
    assert.deepEqual(certificateNames(leaf), ['xmpp.alpha.test', 'alpha.test']);
    const wrong = problemWords(decision('wrong-name'), now);
    assert.equal(wrong.problem, 'The certificate is for xmpp.alpha.test and alpha.test, not example.org.');
    assert.match(wrong.advice, /misconfigured server or someone intercepting.*admin told you this name is expected/);
    assert.doesNotMatch(wrong.advice, /CA|authority/);
    const expired = problemWords(decision('expired', { ...leaf, notAfter: '2025-03-01T00:00:00Z' }), now);
    assert.match(expired.problem, /^The certificate expired on .*2025 \(today is .*2026\)\.$/);
    assert.match(problemWords(decision('not-yet-valid'), now).advice, /date and time/);
    assert.match(problemWords(decision('self-signed'), now).problem, /signed by itself: no authority vouches for it/);
    assert.match(problemWords(decision('self-signed'), now).advice, /fingerprint/);
    const unknown = problemWords(decision('unknown-issuer'), now);
    assert.equal(unknown.problem, 'The certificate is issued by Lab CA, an authority Quiver does not know.');
    assert.match(unknown.advice, /your organisation's own authority.*advanced settings/);
    assert.match(problemWords(decision('missing-intermediate'), now).advice, /admin must fix/);
    assert.match(problemWords(decision('key-changed'), now).problem, /different key from the one you pinned/);
    assert.equal(problemWords(decision('other'), now).problem, 'Something else went wrong.');
  });
});
