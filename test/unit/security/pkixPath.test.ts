import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePath, type PathResult } from '../../../app/security/pkixPath.ts';
import { loadTrustAnchors } from '../../../app/security/driver/systemTrustAnchors.ts';
import { makeCertificate, makeHierarchy, newKeys, NOW, toPem } from './certFactory.ts';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function failureCode(result: PathResult): string {
  return result.ok ? 'ok' : result.code;
}

test('a leaf, its intermediate and a trusted root: valid, path leaf-first to the anchor', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const result = await validatePath([leaf.der, intermediate.der], anchors, NOW);
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(
    result.path.map((certificate) => certificate.subject),
    ['CN=alpha.test', 'CN=Quiver Test Intermediate, O=Quiver Tests', 'CN=Quiver Test Root, O=Quiver Tests'],
  );
  assert.equal(result.anchor.subject, 'CN=Quiver Test Root, O=Quiver Tests');
});

test('out of order, with the root included, with an unrelated extra certificate and junk: still valid', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const stranger = await makeCertificate({ cn: 'Unrelated CA', ca: true });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  for (const chain of [
    [leaf.der, root.der, intermediate.der],
    [leaf.der, stranger.der, intermediate.der],
    [leaf.der, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), intermediate.der, leaf.der],
  ]) {
    const result = await validatePath(chain, anchors, NOW);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.path.length, 3);
  }
});

test('the root as the only trusted anchor among many (a bundle in one PEM)', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const others = await Promise.all([1, 2, 3].map((n) => makeCertificate({ cn: `Other Root ${n}`, ca: true })));
  const bundle = [...others, root].map((certificate) => toPem(certificate.der)).join('');
  const anchors = loadTrustAnchors([bundle], { includeSystem: false });
  assert.equal(anchors.anchors.length, 4);
  assert.ok((await validatePath([leaf.der, intermediate.der], anchors, NOW)).ok);
});

test('missing intermediate: the leaf names an issuer nobody sent (public-CA style leaf with caIssuers)', async () => {
  const { root, leaf } = await makeHierarchy({ caIssuersUrl: 'http://ca.test/intermediate.der' });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const result = await validatePath([leaf.der, root.der], anchors, NOW);
  assert.equal(failureCode(result), 'missing-intermediate');
  assert.ok(!result.ok && result.issuer === 'CN=Quiver Test Intermediate, O=Quiver Tests');
});

test('a private CA not in the trust store: untrusted-issuer naming the issuer, whether or not the root is sent', async () => {
  const { root, intermediate, leaf } = await makeHierarchy();
  const other = await makeCertificate({ cn: 'Some Other Root', ca: true });
  const anchors = loadTrustAnchors([toPem(other.der)], { includeSystem: false });
  const withRoot = await validatePath([leaf.der, intermediate.der, root.der], anchors, NOW);
  assert.equal(failureCode(withRoot), 'untrusted-issuer');
  assert.ok(!withRoot.ok && withRoot.issuer === 'CN=Quiver Test Root, O=Quiver Tests');
  const withoutRoot = await validatePath([leaf.der, intermediate.der], anchors, NOW);
  assert.equal(failureCode(withoutRoot), 'untrusted-issuer');
  const leafOnly = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], issuer: root });
  const direct = await validatePath([leafOnly.der], anchors, NOW);
  assert.equal(failureCode(direct), 'untrusted-issuer');
  assert.ok(!direct.ok && direct.issuer === 'CN=Quiver Test Root, O=Quiver Tests');
});

test('expired and not-yet-valid leaves, and an expired intermediate', async () => {
  const { root, intermediate } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const expired = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    issuer: intermediate,
    notBefore: new Date('2025-01-01'),
    notAfter: new Date('2026-06-01'),
  });
  const result = await validatePath([expired.der, intermediate.der], anchors, NOW);
  assert.equal(failureCode(result), 'expired');
  assert.ok(!result.ok && result.date?.toISOString() === '2026-06-01T00:00:00.000Z');
  const future = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    issuer: intermediate,
    notBefore: new Date('2027-01-01'),
  });
  assert.equal(failureCode(await validatePath([future.der, intermediate.der], anchors, NOW)), 'not-yet-valid');

  const oldIntermediate = await makeCertificate({
    cn: 'Old Intermediate',
    ca: true,
    issuer: root,
    notBefore: new Date('2025-01-01'),
    notAfter: new Date('2026-02-01'),
  });
  const leaf = await makeCertificate({ cn: 'alpha.test', issuer: oldIntermediate });
  const viaOld = await validatePath([leaf.der, oldIntermediate.der], anchors, NOW);
  assert.equal(failureCode(viaOld), 'expired');
  assert.ok(!viaOld.ok && viaOld.subject === 'CN=Old Intermediate');
});

test('a self-signed leaf is self-signed; trusted explicitly, it is accepted on its own', async () => {
  const leaf = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'] });
  const root = await makeCertificate({ cn: 'Root', ca: true });
  const none = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  assert.equal(failureCode(await validatePath([leaf.der], none, NOW)), 'self-signed');
  const pinned = loadTrustAnchors([toPem(leaf.der)], { includeSystem: false });
  const result = await validatePath([leaf.der], pinned, NOW);
  assert.ok(result.ok);
  assert.equal(result.path.length, 1);
});

test('an intermediate without the CA bit cannot issue', async () => {
  const root = await makeCertificate({ cn: 'Root', ca: true });
  const notCa = await makeCertificate({ cn: 'Not A CA', issuer: root, keyUsage: null });
  const leaf = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], issuer: notCa });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  assert.equal(failureCode(await validatePath([leaf.der, notCa.der], anchors, NOW)), 'not-a-ca');
});

test('a CA whose keyUsage lacks keyCertSign cannot issue', async () => {
  const root = await makeCertificate({ cn: 'Root', ca: true });
  const noSign = await makeCertificate({ cn: 'No keyCertSign', ca: true, keyUsage: 0x80, issuer: root });
  const leaf = await makeCertificate({ cn: 'alpha.test', issuer: noSign });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  assert.equal(failureCode(await validatePath([leaf.der, noSign.der], anchors, NOW)), 'not-a-ca');
});

test('a forged signature: the issuer by name is there but its key did not sign', async () => {
  const { root, intermediate } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const forged = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    issuer: intermediate,
    signingKey: (await newKeys()).privateKey,
  });
  assert.equal(failureCode(await validatePath([forged.der, intermediate.der], anchors, NOW)), 'bad-signature');
});

test('pathLenConstraint 0 on the intermediate forbids another intermediate under it', async () => {
  const { root, intermediate } = await makeHierarchy();
  const sub = await makeCertificate({ cn: 'Sub Intermediate', ca: true, issuer: intermediate });
  const leaf = await makeCertificate({ cn: 'alpha.test', issuer: sub });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  assert.equal(failureCode(await validatePath([leaf.der, sub.der, intermediate.der], anchors, NOW)), 'path-too-long');
});

test('extendedKeyUsage without serverAuth is refused; with serverAuth or absent it is fine', async () => {
  const { root, intermediate } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const clientOnly = await makeCertificate({
    cn: 'alpha.test',
    issuer: intermediate,
    extKeyUsage: ['1.3.6.1.5.5.7.3.2'],
  });
  assert.equal(failureCode(await validatePath([clientOnly.der, intermediate.der], anchors, NOW)), 'wrong-usage');
  const server = await makeCertificate({
    cn: 'alpha.test',
    issuer: intermediate,
    extKeyUsage: [SERVER_AUTH, '1.3.6.1.5.5.7.3.2'],
  });
  assert.ok((await validatePath([server.der, intermediate.der], anchors, NOW)).ok);
  const none = await makeCertificate({ cn: 'alpha.test', issuer: intermediate });
  assert.ok((await validatePath([none.der, intermediate.der], anchors, NOW)).ok);
});

test('an unknown critical extension on the leaf is refused (RFC 5280 §4.2)', async () => {
  const { root, intermediate } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const leaf = await makeCertificate({ cn: 'alpha.test', issuer: intermediate, unknownCriticalExtension: true });
  assert.equal(failureCode(await validatePath([leaf.der, intermediate.der], anchors, NOW)), 'bad-certificate');
});

test('an unknown critical extension on an intermediate is refused (RFC 5280 §6.1.4 (o)); on the trust anchor it is configuration', async () => {
  const root = await makeCertificate({ cn: 'Root', ca: true });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const odd = await makeCertificate({ cn: 'Odd Intermediate', ca: true, issuer: root, unknownCriticalExtension: true });
  const leaf = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    extKeyUsage: [SERVER_AUTH],
    issuer: odd,
  });
  const result = await validatePath([leaf.der, odd.der], anchors, NOW);
  assert.equal(failureCode(result), 'bad-certificate');
  assert.match(
    result.ok ? '' : result.reason,
    /CN=Odd Intermediate, an intermediate authority on the path, has a critical extension Quiver does not recognise \(1\.3\.6\.1\.4\.1\.99999\.1\)/,
  );
  // Deeper in the path too.
  const upper = await makeCertificate({ cn: 'Upper', ca: true, issuer: root, unknownCriticalExtension: true });
  const lower = await makeCertificate({ cn: 'Lower', ca: true, issuer: upper });
  const deepLeaf = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], issuer: lower });
  assert.equal(failureCode(await validatePath([deepLeaf.der, lower.der, upper.der], anchors, NOW)), 'bad-certificate');
  // The anchor itself is trusted as configured.
  const oddRoot = await makeCertificate({ cn: 'Odd Root', ca: true, unknownCriticalExtension: true });
  const underOddRoot = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], issuer: oddRoot });
  assert.ok(
    (await validatePath([underOddRoot.der], loadTrustAnchors([toPem(oddRoot.der)], { includeSystem: false }), NOW)).ok,
  );
});

test('a server certificate whose keyUsage lacks digitalSignature is refused (RFC 8446 §4.4.2.2); absent keyUsage is fine', async () => {
  const { root, intermediate } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  for (const keyUsage of [0x04, 0x06, 0x20, 0x00]) {
    const leaf = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], keyUsage, issuer: intermediate });
    const result = await validatePath([leaf.der, intermediate.der], anchors, NOW);
    assert.equal(failureCode(result), 'wrong-usage', `keyUsage ${keyUsage}`);
    assert.match(result.ok ? '' : result.reason, /lacks digitalSignature/);
  }
  for (const keyUsage of [0x80, 0xa0, null]) {
    const leaf = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], keyUsage, issuer: intermediate });
    assert.ok((await validatePath([leaf.der, intermediate.der], anchors, NOW)).ok, `keyUsage ${keyUsage}`);
  }
  // Even a certificate the person trusts directly must be allowed to sign.
  const selfNoSign = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], keyUsage: 0x20 });
  assert.equal(
    failureCode(
      await validatePath([selfNoSign.der], loadTrustAnchors([toPem(selfNoSign.der)], { includeSystem: false }), NOW),
    ),
    'wrong-usage',
  );
});

test('a CA certificate (cA=TRUE) presented as the server certificate is refused, unless it is itself a configured anchor', async () => {
  const { root, intermediate } = await makeHierarchy();
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  const caLeaf = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    ca: true,
    keyUsage: 0x86,
    issuer: intermediate,
  });
  const result = await validatePath([caLeaf.der, intermediate.der], anchors, NOW);
  assert.equal(failureCode(result), 'wrong-usage');
  assert.match(result.ok ? '' : result.reason, /cA=TRUE/);
  // `openssl req -x509` makes self-signed server certificates with cA=TRUE; trusted as an anchor, one is accepted.
  const selfCa = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], ca: true, keyUsage: 0x86 });
  assert.ok(
    (await validatePath([selfCa.der], loadTrustAnchors([toPem(selfCa.der)], { includeSystem: false }), NOW)).ok,
  );
});

test('no chain, or a leaf that is not a certificate: bad-certificate', async () => {
  const anchors = loadTrustAnchors([], { includeSystem: false });
  assert.equal(failureCode(await validatePath([], anchors, NOW)), 'bad-certificate');
  assert.equal(failureCode(await validatePath([new Uint8Array([1, 2, 3])], anchors, NOW)), 'bad-certificate');
});

test('a cross-signed cycle sent by a hostile server terminates', async () => {
  const keysA = await newKeys();
  const keysB = await newKeys();
  // A is issued by B and B by A: a loop for a naive issuer search.
  const stubA = await makeCertificate({ cn: 'Loop A', ca: true, keys: keysA });
  const stubB = await makeCertificate({ cn: 'Loop B', ca: true, keys: keysB });
  const a = await makeCertificate({ cn: 'Loop A', ca: true, keys: keysA, issuer: stubB });
  const b = await makeCertificate({ cn: 'Loop B', ca: true, keys: keysB, issuer: stubA });
  const leaf = await makeCertificate({ cn: 'alpha.test', issuer: a });
  const root = await makeCertificate({ cn: 'Root', ca: true });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  assert.equal(failureCode(await validatePath([leaf.der, a.der, b.der], anchors, NOW)), 'untrusted-issuer');
});

test('the system trust store loads, once, and a public-looking chain to an unknown root is untrusted', async () => {
  const first = loadTrustAnchors([]);
  assert.ok(first.anchors.length > 0, first.systemSource);
  const second = loadTrustAnchors([]);
  assert.equal(second.anchors[0], first.anchors[0]);
  const { intermediate, leaf } = await makeHierarchy();
  assert.equal(failureCode(await validatePath([leaf.der, intermediate.der], first, NOW)), 'untrusted-issuer');
});

test('an extra PEM without a certificate is a bad-trust-anchor error', () => {
  assert.throws(() => loadTrustAnchors(['not a pem'], { includeSystem: false }), { code: 'bad-trust-anchor' });
  assert.throws(
    () => loadTrustAnchors(['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'], { includeSystem: false }),
    { code: 'bad-trust-anchor' },
  );
});

test('a malformed subjectAltName anywhere on the path is bad-certificate, not a throw', async () => {
  const root = await makeCertificate({ cn: 'Root', ca: true });
  const odd = await makeCertificate({ cn: 'Odd Intermediate', ca: true, issuer: root, badXmppAddr: 'ca.test' });
  const leaf = await makeCertificate({ cn: 'alpha.test', dnsNames: ['alpha.test'], issuer: odd });
  const anchors = loadTrustAnchors([toPem(root.der)], { includeSystem: false });
  assert.equal(failureCode(await validatePath([leaf.der, odd.der], anchors, NOW)), 'bad-certificate');
  const badLeaf = await makeCertificate({ cn: 'alpha.test', issuer: root, badXmppAddr: 'alpha.test' });
  assert.equal(failureCode(await validatePath([badLeaf.der], anchors, NOW)), 'bad-certificate');
});
