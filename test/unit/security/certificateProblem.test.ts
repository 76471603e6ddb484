/**
 * The decision dialog names the certificate's actual problem: each case is a real chain through the
 * real verifier, then classified, and the reason's text speaks of that problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Candidate } from '../../../app/connect/candidate.ts';
import type { Verdict } from '../../../app/contract/viewModels.ts';
import { summarizeCertificate } from '../../../app/security/certificate.ts';
import { classifyCertificateProblem } from '../../../app/security/certificateProblem.ts';
import { loadTrustAnchors } from '../../../app/security/driver/systemTrustAnchors.ts';
import type { ServerFacts } from '../../../app/security/serverFacts.ts';
import { verifyServer } from '../../../app/security/verifier.ts';
import { makeCertificate, makeHierarchy, NOW, toPem, type IssuedCertificate } from './certFactory.ts';

const CANDIDATE: Candidate = {
  transport: 'starttls',
  host: 'alpha.test',
  port: 5222,
  priority: 0,
  weight: 0,
  source: 'default',
  dnssec: 'insecure',
  record: null,
};

const noAnchors = loadTrustAnchors([], { includeSystem: false });

async function verify(
  chain: IssuedCertificate[],
  anchors = noAnchors,
  extra: { pins?: { spkiSha256: string }[] } = {},
): Promise<{ verdict: Verdict; problem: string }> {
  const facts: ServerFacts = {
    transport: 'starttls',
    domain: 'alpha.test',
    sni: 'alpha.test',
    alpn: null,
    chain: chain.map((c) => c.der),
    candidate: CANDIDATE,
  };
  const verdict = await verifyServer(facts, { anchors, now: NOW, ...extra });
  const problem = classifyCertificateProblem({
    verdict,
    certificates: chain.map((c) => summarizeCertificate(c.der)),
    now: NOW.getTime(),
  });
  return { verdict, problem };
}

test('wrong-name: a chain to a trusted root, for another domain', async () => {
  const { root, intermediate, leaf } = await makeHierarchy({ cn: 'other.test', dnsNames: ['other.test'] });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const { verdict, problem } = await verify([leaf, intermediate], anchors);
  assert.equal(problem, 'wrong-name');
  assert.match(verdict.error?.message ?? '', /certificate for other\.test/);
});

test('wrong-name also when the issuer is unknown: the name is what matters, and the text says so, not "not issued by an authority"', async () => {
  const { intermediate, leaf } = await makeHierarchy({ cn: 'other.test', dnsNames: ['other.test'] });
  const { verdict, problem } = await verify([leaf, intermediate]);
  assert.equal(problem, 'wrong-name');
  assert.equal(verdict.error?.code, 'wrong-name');
  assert.match(verdict.error?.message ?? '', /^alpha\.test presented a certificate for other\.test/);
  assert.match(verdict.error?.message ?? '', /not issued by an authority Quiver trusts/);
});

test('expired and not-yet-valid: the validity period against now', async () => {
  const { root, intermediate, leaf } = await makeHierarchy({
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2026-01-01T00:00:00Z'),
  });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const expired = await verify([leaf, intermediate], anchors);
  assert.equal(expired.problem, 'expired');
  assert.match(expired.verdict.error?.message ?? '', /expired on 2026-01-01/);
  const future = await makeHierarchy({ notBefore: new Date('2027-01-01T00:00:00Z') });
  const early = await verify(
    [future.leaf, future.intermediate],
    loadTrustAnchors([toPem(future.root.der)], { includeSystem: false }),
  );
  assert.equal(early.problem, 'not-yet-valid');
});

test('self-signed: signed by its own key', async () => {
  const self = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] });
  const { verdict, problem } = await verify([self]);
  assert.equal(problem, 'self-signed');
  assert.match(verdict.error?.message ?? '', /self-signed/);
});

test('missing-intermediate: one certificate whose caIssuers points at the issuer the server left out', async () => {
  const { root, leaf } = await makeHierarchy({ caIssuersUrl: 'http://ca.alpha.test/intermediate.crt' });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const { verdict, problem } = await verify([leaf], anchors);
  assert.equal(problem, 'missing-intermediate');
  assert.equal(verdict.error?.code, 'missing-intermediate');
  assert.match(verdict.error?.message ?? '', /did not send the certificate that links it to an authority/);
});

test('unknown-issuer: a full chain to a root Quiver does not trust', async () => {
  const { intermediate, leaf } = await makeHierarchy();
  const { verdict, problem } = await verify([leaf, intermediate]);
  assert.equal(problem, 'unknown-issuer');
  assert.match(verdict.error?.message ?? '', /not issued by an authority Quiver trusts/);
});

test('key-changed: a pinned domain shows another key', async () => {
  const self = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] });
  const { problem } = await verify([self], noAnchors, { pins: [{ spkiSha256: 'ab'.repeat(32) }] });
  assert.equal(problem, 'key-changed');
});

test('without a code it knows, the certificate itself decides; else other', () => {
  const base: Verdict = {
    trusted: false,
    prooftype: null,
    identity: null,
    delegation: null,
    dnssec: 'insecure',
    tried: [],
    error: { code: 'something-new', message: 'x' },
    decision: 'unproven',
  };
  const cert = {
    subject: 'CN=alpha.test',
    issuer: 'CN=Some CA',
    subjectAltNames: ['dns:alpha.test'],
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2026-06-01T00:00:00.000Z',
    sha256: 'cc'.repeat(32),
    spkiSha256: 'dd'.repeat(32),
  };
  const now = NOW.getTime();
  assert.equal(classifyCertificateProblem({ verdict: base, certificates: [cert], now }), 'expired');
  assert.equal(
    classifyCertificateProblem({
      verdict: base,
      certificates: [{ ...cert, notAfter: '2027-06-01T00:00:00.000Z' }],
      now,
    }),
    'other',
  );
  assert.equal(
    classifyCertificateProblem({
      verdict: base,
      certificates: [{ ...cert, issuer: cert.subject, notAfter: '2027-06-01T00:00:00.000Z' }],
      now,
    }),
    'self-signed',
  );
  assert.equal(classifyCertificateProblem({ verdict: base, certificates: [], now }), 'other');
});

test('a certificate sent alone from an unknown authority without caIssuers is an unknown issuer, not a missing link', async () => {
  // Review: an interception proxy's leaf (its own CA, no AIA) was called 'missing-intermediate',
  // whose advice ("accept once if you trust the network") is milder than unknown-issuer's.
  const { leaf } = await makeHierarchy();
  const { verdict, problem } = await verify([leaf]);
  assert.equal(problem, 'unknown-issuer');
  assert.equal(verdict.error?.code, 'untrusted');
});

test('a verdict error that names a worse problem (bad signature, name constraints) is never explained by the dates or as self-signed', () => {
  const cert = {
    subject: 'CN=alpha.test',
    issuer: 'CN=alpha.test',
    subjectAltNames: ['dns:alpha.test'],
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2026-06-01T00:00:00.000Z',
    sha256: 'cc'.repeat(32),
    spkiSha256: 'dd'.repeat(32),
  };
  for (const code of ['bad-signature', 'name-constraints', 'invalid-chain', 'wrong-usage', 'bad-certificate']) {
    const verdict: Verdict = {
      trusted: false,
      prooftype: null,
      identity: null,
      delegation: null,
      dnssec: 'insecure',
      tried: [],
      error: { code, message: 'x' },
      decision: 'unproven',
    };
    for (const notAfter of [cert.notAfter, '2027-06-01T00:00:00.000Z'])
      assert.equal(
        classifyCertificateProblem({ verdict, certificates: [{ ...cert, notAfter }], now: NOW.getTime() }),
        'other',
        code,
      );
  }
});
