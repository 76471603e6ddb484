/**
 * The verdict beyond PKIX: host-meta delegation, pins, accept-once, and when `decision` is set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Candidate } from '../../../app/connect/candidate.ts';
import { parseCertificate } from '../../../app/security/certificate.ts';
import type { TlsaResolver } from '../../../app/security/dane.ts';
import type { ServerFacts } from '../../../app/security/serverFacts.ts';
import { loadTrustAnchors } from '../../../app/security/driver/systemTrustAnchors.ts';
import { verifyServer } from '../../../app/security/verifier.ts';
import { makeCertificate, makeHierarchy, NOW, toPem, type IssuedCertificate } from './certFactory.ts';

const DEFAULT: Candidate = {
  transport: 'starttls',
  host: 'alpha.test',
  port: 5222,
  priority: 0,
  weight: 0,
  source: 'default',
  dnssec: 'insecure',
  record: null,
};
const HOST_META: Candidate = {
  transport: 'tls',
  host: 'hosting.example.net',
  port: 5223,
  priority: 0,
  weight: 0,
  source: 'host-meta',
  dnssec: 'insecure',
  record: null,
  hostMetaSni: 'hosting.example.net',
  ips: ['127.0.0.1'],
};
const noAnchors = loadTrustAnchors([], { includeSystem: false });

function facts(chain: IssuedCertificate[], candidate: Partial<Candidate> = {}): ServerFacts {
  return {
    transport: candidate.transport ?? 'starttls',
    domain: 'alpha.test',
    sni: candidate.hostMetaSni ?? 'alpha.test',
    alpn: null,
    chain: chain.map((c) => c.der),
    candidate: { ...DEFAULT, ...candidate },
  };
}

function spkiOf(cert: IssuedCertificate): string {
  return createHash('sha256').update(parseCertificate(cert.der).spki).digest('hex');
}

test('host-meta sni delegation: the sni name counts, delegation host-meta:<sni>', async () => {
  const { root, intermediate, leaf } = await makeHierarchy({
    cn: 'hosting.example.net',
    dnsNames: ['hosting.example.net'],
  });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const verdict = await verifyServer(facts([leaf, intermediate], HOST_META), { anchors, now: NOW });
  assert.equal(verdict.trusted, true);
  assert.equal(verdict.prooftype, 'pkix');
  assert.equal(verdict.identity, 'dns-id:hosting.example.net');
  assert.equal(verdict.delegation, 'host-meta:hosting.example.net');
  assert.match(verdict.tried[0]?.detail ?? '', /via host-meta link \(sni hosting\.example\.net\)/);
  // The same certificate from a host-meta link naming another sni, or none: wrong name.
  for (const hostMetaSni of ['other.example.net', null]) {
    const other = await verifyServer(facts([leaf, intermediate], { ...HOST_META, hostMetaSni }), { anchors, now: NOW });
    assert.equal(other.trusted, false, String(hostMetaSni));
    assert.equal(other.error?.code, 'wrong-name');
    assert.equal(other.decision, 'unproven');
  }
});

test('a pinned key proves a self-signed server: prooftype pin', async () => {
  const self = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] });
  const verdict = await verifyServer(facts([self]), {
    anchors: noAnchors,
    now: NOW,
    pins: [{ spkiSha256: 'ab'.repeat(32) }, { spkiSha256: spkiOf(self).toUpperCase() }],
  });
  assert.equal(verdict.trusted, true);
  assert.equal(verdict.prooftype, 'pin');
  assert.equal(verdict.identity, `pin:${spkiOf(self)}`);
  assert.equal(verdict.userDecision, 'pinned');
  assert.equal(verdict.decision, null);
  assert.deepEqual(
    verdict.tried.map((a) => [a.prooftype, a.ok]),
    [
      ['pkix', false],
      ['pin', true],
    ],
  );
});

test('PKIX comes before pins: a PKIX-valid server whose key is pinned is reported as pkix', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const verdict = await verifyServer(facts([leaf, intermediate]), {
    anchors,
    now: NOW,
    pins: [{ spkiSha256: spkiOf(leaf) }],
  });
  assert.equal(verdict.prooftype, 'pkix');
});

test('pins exist but the key changed: refused with key-changed naming both keys, even though PKIX passes', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const old = 'cd'.repeat(32);
  const verdict = await verifyServer(facts([leaf, intermediate]), { anchors, now: NOW, pins: [{ spkiSha256: old }] });
  assert.equal(verdict.trusted, false);
  assert.equal(verdict.decision, 'key-changed');
  assert.equal(verdict.error?.code, 'key-changed');
  assert.ok(verdict.error?.message.includes(old));
  assert.ok(verdict.error?.message.includes(spkiOf(leaf)));
  assert.match(verdict.error?.message ?? '', /^alpha\.test presented a different key than the one you pinned/);
  assert.deepEqual(
    verdict.tried.map((a) => [a.prooftype, a.ok]),
    [
      ['pkix', true],
      ['pin', false],
    ],
  );
});

test('accept-once: trusted, but named as the person accepting it once, not as a pin (also for a changed pinned key)', async () => {
  const self = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] });
  const once = new Set([spkiOf(self)]);
  const verdict = await verifyServer(facts([self]), { anchors: noAnchors, now: NOW, acceptOnce: once });
  assert.equal(verdict.trusted, true);
  assert.equal(verdict.prooftype, null);
  assert.equal(verdict.identity, null);
  assert.equal(verdict.userDecision, 'accepted-once');
  assert.match(verdict.tried.at(-1)?.detail ?? '', /you accepted this key .* for this connection only/);
  const changed = await verifyServer(facts([self]), {
    anchors: noAnchors,
    now: NOW,
    acceptOnce: once,
    pins: [{ spkiSha256: 'cd'.repeat(32) }],
  });
  assert.equal(changed.trusted, true);
  assert.equal(changed.prooftype, null);
  assert.equal(changed.userDecision, 'accepted-once');
  assert.deepEqual(
    changed.tried.map((a) => [a.prooftype, a.ok]),
    [
      ['pkix', false],
      ['pin', false],
      ['pin', true],
    ],
  );
  // Another key accepted once does not help.
  const other = await verifyServer(facts([self]), {
    anchors: noAnchors,
    now: NOW,
    acceptOnce: new Set(['ef'.repeat(32)]),
  });
  assert.equal(other.trusted, false);
});

test('decision is unproven exactly when the person may decide', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const decide = async (
    chain: IssuedCertificate[],
    candidate: Partial<Candidate> = {},
    extra: { dns?: TlsaResolver } = {},
  ) => (await verifyServer(facts(chain, candidate), { anchors, now: NOW, ...extra })).decision;
  // Trusted: nothing to decide.
  assert.equal(await decide([leaf, intermediate]), null);
  // Self-signed, private CA, wrong name, expired: the person may decide.
  assert.equal(await decide([await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] })]), 'unproven');
  const privateCa = await makeCertificate({ cn: 'Private CA', ca: true });
  assert.equal(
    await decide([await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], issuer: privateCa })]),
    'unproven',
  );
  assert.equal(
    await decide([(await makeHierarchy({ cn: 'other.test', dnsNames: ['other.test'] })).leaf, intermediate]),
    'unproven',
  );
  assert.equal(
    await decide([
      await makeCertificate({
        cn: 'alpha.test',
        dnsNames: ['alpha.test'],
        issuer: intermediate,
        notAfter: new Date('2026-06-01'),
      }),
      intermediate,
    ]),
    'unproven',
  );
  // Unreadable certificate: there is no key to decide about.
  assert.equal(
    (await verifyServer({ ...facts([]), chain: [new Uint8Array([1, 2, 3])] }, { anchors, now: NOW })).decision,
    null,
  );
  // The SRV answer that led here was bogus: never.
  assert.equal(
    await decide([await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] })], {
      source: 'srv:_xmpp-client._tcp',
      host: 'h.test',
      dnssec: 'bogus',
    }),
    null,
  );
  // A TLSA mismatch or a bogus TLSA answer: never (see dane.test.ts for the details).
  const secure = { source: 'srv:_xmpp-client._tcp' as const, host: 'h.test', dnssec: 'secure' as const };
  const mismatch: TlsaResolver = {
    query: async () => ({
      rcode: 'NOERROR',
      records: [{ usage: 3, selector: 1, matchingType: 1, data: new Uint8Array(32), ttl: 60 }],
      dnssec: 'secure',
      authenticData: true,
      ttl: 60,
    }),
  };
  const bogus: TlsaResolver = {
    query: async () => ({ rcode: 'SERVFAIL', records: [], dnssec: 'bogus', authenticData: false, ttl: null }),
  };
  const selfSigned = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] });
  assert.equal(await decide([selfSigned], secure, { dns: mismatch }), null);
  assert.equal(await decide([selfSigned], secure, { dns: bogus }), null);
});
