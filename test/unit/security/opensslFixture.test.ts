/**
 * Certificates made by OpenSSL, not by our own factory (see fixtures/README.md): the parser, the
 * summary hashes and the path validation against an independent implementation's output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { summarizeCertificate } from '../../../app/security/certificate.ts';
import { validatePath } from '../../../app/security/pkixPath.ts';
import { loadTrustAnchors } from '../../../app/security/driver/systemTrustAnchors.ts';
import { pemCertificates } from '../../../app/security/trustAnchors.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const chain = pemCertificates(fixture('opensslChain.pem'));
const INSIDE = new Date('2026-12-01T00:00:00Z');

test("OpenSSL leaf: SANs of every type, and hashes equal to OpenSSL's own", () => {
  assert.equal(chain.length, 2);
  const leaf = chain[0];
  assert.ok(leaf);
  assert.deepEqual(summarizeCertificate(leaf), {
    subject: 'CN=alpha.test',
    issuer: 'CN=Lab Intermediate, O=Lab',
    subjectAltNames: ['dns:alpha.test', 'srv:_xmpp-client.alpha.test', 'xmpp:alpha.test', 'ip:127.0.0.1'],
    notBefore: '2026-11-22T13:28:24.000Z',
    notAfter: '2027-03-02T13:28:24.000Z',
    sha256: 'c9b3b2e40ae843bda3cc35b599803a4c0c15fc85155da8b6e00567d8db2af1fa',
    spkiSha256: '9ed5dbdf9b8d45dd97cf8e21fca8d07882b3858b9d5693aac38d5bb5739f5924',
  });
});

test('OpenSSL chain (RSA root, SHA-384 RSA intermediate, P-384 leaf) validates to its root', async () => {
  const anchors = loadTrustAnchors([fixture('opensslRoot.pem')], { includeSystem: false });
  const result = await validatePath(chain, anchors, INSIDE);
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(
    result.path.map((certificate) => certificate.subject),
    ['CN=alpha.test', 'CN=Lab Intermediate, O=Lab', 'CN=Lab Root, O=Lab'],
  );
  const after = await validatePath(chain, anchors, new Date('2027-04-01T00:00:00Z'));
  assert.equal(after.ok ? 'ok' : after.code, 'expired');
});
