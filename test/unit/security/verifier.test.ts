import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Candidate } from '../../../app/connect/candidate.ts';
import type { ServerFacts } from '../../../app/security/serverFacts.ts';
import { loadTrustAnchors } from '../../../app/security/driver/systemTrustAnchors.ts';
import { verifyServer } from '../../../app/security/verifier.ts';
import { makeCertificate, makeHierarchy, NOW, toPem, type IssuedCertificate } from './certFactory.ts';

const DEFAULT_CANDIDATE: Candidate = {
  transport: 'starttls',
  host: 'alpha.test',
  port: 5222,
  priority: 0,
  weight: 0,
  source: 'default',
  dnssec: 'insecure',
  record: null,
};

function facts(chain: IssuedCertificate[], candidate: Partial<Candidate> = {}, domain = 'alpha.test'): ServerFacts {
  return {
    transport: 'starttls',
    domain,
    sni: domain,
    alpn: null,
    chain: chain.map((c) => c.der),
    candidate: { ...DEFAULT_CANDIDATE, ...candidate },
  };
}

const SRV_CANDIDATE: Partial<Candidate> = {
  transport: 'tls',
  host: 'hosting.example.net',
  port: 5223,
  source: 'srv:_xmpps-client._tcp',
  record: '_xmpps-client._tcp.alpha.test. 0 5 5223 hosting.example.net.',
};

test('PKIX with a DNS-ID for the JID domain: trusted, prooftype pkix', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const verdict = await verifyServer(facts([leaf, intermediate], { dnssec: 'secure' }), { anchors, now: NOW });
  assert.equal(verdict.trusted, true);
  assert.equal(verdict.prooftype, 'pkix');
  assert.equal(verdict.identity, 'dns-id:alpha.test');
  assert.equal(verdict.delegation, null);
  assert.equal(verdict.dnssec, 'secure');
  assert.equal(verdict.error, null);
  assert.equal(verdict.tried.length, 1);
  assert.equal(verdict.tried[0]?.prooftype, 'pkix');
  assert.equal(verdict.tried[0]?.ok, true);
  assert.match(verdict.tried[0]?.detail ?? '', /valid to CN=Quiver Test Root/);
});

test('SRV-ID and XmppAddr identities are reported as such', async () => {
  const root = await makeCertificate({ cn: 'Root', ca: true });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const srv = await makeCertificate({ cn: 'x', issuer: root, srvNames: ['_xmpp-client.alpha.test'] });
  assert.equal((await verifyServer(facts([srv]), { anchors, now: NOW })).identity, 'srv-id:_xmpp-client.alpha.test');
  const xmpp = await makeCertificate({ cn: 'x', issuer: root, xmppAddrs: ['alpha.test'] });
  assert.equal((await verifyServer(facts([xmpp]), { anchors, now: NOW })).identity, 'xmppaddr:alpha.test');
});

test('wrong name: the message says what was presented and that nothing delegates', async () => {
  const { root, intermediate, leaf } = await makeHierarchy({ cn: 'other.test', dnsNames: ['other.test'] });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const verdict = await verifyServer(facts([leaf, intermediate]), { anchors, now: NOW });
  assert.equal(verdict.trusted, false);
  assert.equal(verdict.prooftype, null);
  assert.equal(verdict.identity, null);
  assert.deepEqual(verdict.error, {
    code: 'wrong-name',
    message:
      'alpha.test presented a certificate for other.test, and no DNSSEC or POSH proof delegates alpha.test to it.',
  });
  assert.equal(verdict.tried[0]?.ok, false);
  assert.match(verdict.tried[0]?.detail ?? '', /alpha\.test not among \[dns:other\.test\]/);
});

test('DNSSEC-secured SRV delegation: the target name counts, with the record as delegation', async () => {
  const { root, intermediate, leaf } = await makeHierarchy({
    cn: 'hosting.example.net',
    dnsNames: ['hosting.example.net'],
  });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const verdict = await verifyServer(facts([leaf, intermediate], { ...SRV_CANDIDATE, dnssec: 'secure' }), {
    anchors,
    now: NOW,
  });
  assert.equal(verdict.trusted, true);
  assert.equal(verdict.prooftype, 'pkix');
  assert.equal(verdict.identity, 'dns-id:hosting.example.net');
  assert.equal(verdict.delegation, 'dnssec-srv:_xmpps-client._tcp.alpha.test. 0 5 5223 hosting.example.net.');
  assert.equal(verdict.dnssec, 'secure');
});

test('the SRV target does not count without DNSSEC, nor from a non-SRV source, nor when bogus', async () => {
  const { root, intermediate, leaf } = await makeHierarchy({
    cn: 'hosting.example.net',
    dnsNames: ['hosting.example.net'],
  });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  for (const candidate of [
    { ...SRV_CANDIDATE, dnssec: 'insecure' as const },
    { ...SRV_CANDIDATE, dnssec: 'bogus' as const },
    { ...SRV_CANDIDATE, source: 'host-meta' as const, dnssec: 'secure' as const },
    { ...SRV_CANDIDATE, source: 'default' as const, dnssec: 'secure' as const },
  ]) {
    const verdict = await verifyServer(facts([leaf, intermediate], candidate), { anchors, now: NOW });
    assert.equal(verdict.trusted, false, JSON.stringify(candidate));
    assert.equal(verdict.error?.code, 'wrong-name');
    assert.equal(
      verdict.error?.message,
      'alpha.test presented a certificate for hosting.example.net, and no DNSSEC or POSH proof delegates alpha.test to it.',
    );
  }
});

test('untrusted issuer: the message names the issuer and what the user can do', async () => {
  const { intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem((await makeCertificate({ cn: 'Another Root', ca: true })).der)], {
    includeSystem: false,
  });
  const verdict = await verifyServer(facts([leaf, intermediate]), { anchors, now: NOW });
  assert.equal(verdict.trusted, false);
  assert.equal(verdict.error?.code, 'untrusted');
  assert.equal(
    verdict.error?.message,
    "alpha.test's certificate was not issued by an authority Quiver trusts (issuer: CN=Quiver Test Root, O=Quiver Tests). If this is your organisation's own authority, add its certificate to the account's Extra CA setting; otherwise ask the server's administrator for a certificate from a public authority.",
  );
  assert.match(verdict.tried[0]?.detail ?? '', /^chain: untrusted-issuer/);
});

test('adding the CA as an extra anchor makes the same server trusted', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const withCa = loadTrustAnchors([toPem(root.der)]);
  assert.equal((await verifyServer(facts([leaf, intermediate]), { anchors: withCa, now: NOW })).trusted, true);
});

test('expired, not yet valid, self-signed, missing intermediate: one code and message each', async () => {
  const { root, intermediate } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const expired = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    issuer: intermediate,
    notAfter: new Date('2026-06-01'),
  });
  const e = await verifyServer(facts([expired, intermediate]), { anchors, now: NOW });
  assert.deepEqual(e.error, {
    code: 'expired',
    message:
      "alpha.test's certificate expired on 2026-06-01. Check that your computer's date is right; if it is, the server's administrator has to renew the certificate.",
  });
  const future = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    issuer: intermediate,
    notBefore: new Date('2027-03-01'),
  });
  const f = await verifyServer(facts([future, intermediate]), { anchors, now: NOW });
  assert.equal(f.error?.code, 'not-yet-valid');
  assert.match(f.error?.message ?? '', /not valid until 2027-03-01/);
  const selfSigned = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] });
  const s = await verifyServer(facts([selfSigned]), { anchors, now: NOW });
  assert.equal(s.error?.code, 'self-signed');
  assert.match(s.error?.message ?? '', /^alpha\.test presented a self-signed certificate \(CN=alpha\.test\)/);
  // Review: the words told the person to add the certificate as an extra trust anchor, against the
  // dialog's advice (compare the fingerprint with the admin's, accept once or pin).
  assert.match(s.error?.message ?? '', /fingerprint/);
  assert.doesNotMatch(s.error?.message ?? '', /trust anchor|Extra CA/i);
  const aia = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    issuer: intermediate,
    caIssuersUrl: 'http://ca.test/i.der',
  });
  const m = await verifyServer(facts([aia]), { anchors, now: NOW });
  assert.equal(m.error?.code, 'missing-intermediate');
  assert.match(
    m.error?.message ?? '',
    /did not send the certificate that links it to an authority \(its issuer: CN=Quiver Test Intermediate, O=Quiver Tests\)/,
  );
  // The server's admin fixes a missing link; adding an authority is no answer to it.
  assert.match(m.error?.message ?? '', /full certificate chain/);
  assert.doesNotMatch(m.error?.message ?? '', /trust anchor|Extra CA/i);
});

test('a chain error wins over a name error in the message; both are in the detail', async () => {
  const selfSigned = await makeCertificate({ cn: 'other.test', dnsNames: ['other.test'] });
  const anchors = loadTrustAnchors([], { includeSystem: false });
  const verdict = await verifyServer(facts([selfSigned]), { anchors, now: NOW });
  assert.equal(verdict.error?.code, 'self-signed');
  assert.match(
    verdict.tried[0]?.detail ?? '',
    /chain: self-signed .*; name: alpha\.test not among \[dns:other\.test\]/,
  );
});

test('a leaf with a malformed subjectAltName: bad-certificate with a message for a person', async () => {
  const root = await makeCertificate({ cn: 'Root', ca: true });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const leaf = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    issuer: root,
    badXmppAddr: 'alpha.test',
  });
  const verdict = await verifyServer(facts([leaf]), { anchors, now: NOW });
  assert.equal(verdict.trusted, false);
  assert.equal(verdict.error?.code, 'bad-certificate');
  assert.match(
    verdict.error?.message ?? '',
    /^alpha\.test sent a certificate Quiver cannot read \(.*XmppAddr.*\), so it cannot prove it is alpha\.test\.$/,
  );
});

test('garbage instead of a certificate, or no certificate: bad-certificate, never a throw', async () => {
  const anchors = loadTrustAnchors([], { includeSystem: false });
  for (const chain of [[new Uint8Array([0x30, 0x80, 0x00])], []]) {
    const verdict = await verifyServer({ ...facts([]), chain }, { anchors, now: NOW });
    assert.equal(verdict.trusted, false);
    assert.equal(verdict.error?.code, 'bad-certificate');
    assert.equal(verdict.tried.length, 1);
    assert.equal(verdict.dnssec, 'insecure');
  }
});
