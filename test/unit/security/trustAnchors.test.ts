/**
 * The pure half of the trust anchors: system roots parsed from PEM texts handed in, joined with a
 * user's extra CAs (reading the system's store is driver/systemTrustAnchors.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecurityError } from '../../../app/security/securityError.ts';
import { buildTrustAnchors, NO_SYSTEM_ROOTS, parseSystemRoots } from '../../../app/security/trustAnchors.ts';
import { makeHierarchy, toPem } from './certFactory.ts';

const GARBAGE_PEM = '-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n';

test('system roots: each certificate of each PEM text, unparseable ones counted as skipped', async () => {
  const { root, intermediate } = await makeHierarchy();
  const roots = parseSystemRoots([toPem(root.der) + toPem(intermediate.der), GARBAGE_PEM], 'test bundle');
  assert.equal(roots.source, 'test bundle');
  assert.equal(roots.skipped, 1);
  assert.deepEqual(
    roots.anchors.map((anchor) => [anchor.origin, anchor.subject]),
    [
      ['system', 'CN=Quiver Test Root, O=Quiver Tests'],
      ['system', 'CN=Quiver Test Intermediate, O=Quiver Tests'],
    ],
  );
});

test('the system roots come first, then the extra CAs; without system roots the source is none', async () => {
  const { root, intermediate } = await makeHierarchy();
  const system = parseSystemRoots([toPem(root.der)], 'test bundle');
  const anchors = buildTrustAnchors([toPem(intermediate.der)], system);
  assert.deepEqual(
    anchors.anchors.map((anchor) => anchor.origin),
    ['system', 'extra'],
  );
  assert.equal(anchors.systemSource, 'test bundle');
  const extraOnly = buildTrustAnchors([toPem(intermediate.der)]);
  assert.equal(extraOnly.systemSource, NO_SYSTEM_ROOTS.source);
  assert.equal(extraOnly.anchors.length, 1);
});

test('an extra CA that is no certificate is refused (bad-trust-anchor), unlike a bad system root', () => {
  for (const pem of ['not a PEM', GARBAGE_PEM]) {
    assert.throws(
      () => buildTrustAnchors([pem]),
      (error) => error instanceof SecurityError && error.code === 'bad-trust-anchor',
      pem,
    );
  }
});

test('system roots: a certificate listed more than once (576 entries, 144 distinct, in Node 24) is one anchor', async () => {
  const { root, intermediate } = await makeHierarchy();
  const pem = toPem(root.der);
  const roots = parseSystemRoots([pem, pem + toPem(intermediate.der), pem.replace(/\n/g, '\r\n')], 'test store');
  assert.equal(roots.anchors.length, 2);
  assert.equal(roots.skipped, 0);
  assert.deepEqual(
    roots.anchors.map((anchor) => anchor.subject),
    ['CN=Quiver Test Root, O=Quiver Tests', 'CN=Quiver Test Intermediate, O=Quiver Tests'],
  );
});
