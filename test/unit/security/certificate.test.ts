import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseCertificate, summarizeCertificate, summarizeChain } from '../../../app/security/certificate.ts';
import { SecurityError } from '../../../app/security/securityError.ts';
import { makeCertificate, VALID_FROM, VALID_TO } from './certFactory.ts';

test('parseCertificate reads every SAN type, CN, validity and SPKI', async () => {
  const cert = await makeCertificate({
    cn: 'alpha.test',
    o: 'Alpha, Inc.',
    dnsNames: ['alpha.test', '*.alpha.test'],
    srvNames: ['_xmpp-client.alpha.test'],
    xmppAddrs: ['alpha.test'],
    ipAddresses: [
      [192, 0, 2, 1],
      [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ],
  });
  const parsed = parseCertificate(cert.der);
  assert.deepEqual(parsed.subjectAltNames, {
    dnsNames: ['alpha.test', '*.alpha.test'],
    srvNames: ['_xmpp-client.alpha.test'],
    xmppAddrs: ['alpha.test'],
    ipAddresses: ['192.0.2.1', '2001:db8::1'],
  });
  assert.equal(parsed.subject, 'CN=alpha.test, O=Alpha\\, Inc.');
  assert.equal(parsed.issuer, parsed.subject);
  assert.equal(parsed.selfIssued, true);
  assert.equal(parsed.commonName, 'alpha.test');
  assert.deepEqual(parsed.commonNames, ['alpha.test']);
  assert.equal(parsed.notBefore.getTime(), VALID_FROM.getTime());
  assert.equal(parsed.notAfter.getTime(), VALID_TO.getTime());
  // The SPKI is the exact bytes WebCrypto exports for the key.
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', cert.keys.publicKey));
  assert.deepEqual(Buffer.from(parsed.spki), Buffer.from(spki));
});

test('summarizeCertificate gives the contract view with hex SHA-256 of DER and SPKI', async () => {
  const cert = await makeCertificate({
    cn: 'alpha.test',
    dnsNames: ['alpha.test'],
    srvNames: ['_xmpp-client.alpha.test'],
    xmppAddrs: ['alpha.test'],
    ipAddresses: [[127, 0, 0, 1]],
  });
  const summary = summarizeCertificate(cert.der);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', cert.keys.publicKey));
  assert.deepEqual(summary, {
    subject: 'CN=alpha.test',
    issuer: 'CN=alpha.test',
    subjectAltNames: ['dns:alpha.test', 'srv:_xmpp-client.alpha.test', 'xmpp:alpha.test', 'ip:127.0.0.1'],
    notBefore: VALID_FROM.toISOString(),
    notAfter: VALID_TO.toISOString(),
    sha256: createHash('sha256').update(cert.der).digest('hex'),
    spkiSha256: createHash('sha256').update(spki).digest('hex'),
  });
  assert.match(summary.sha256, /^[0-9a-f]{64}$/);
});

test('malformed DER is a bad-certificate SecurityError, never a crash', async () => {
  const good = (await makeCertificate({ cn: 'alpha.test' })).der;
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array()],
    ['garbage', new Uint8Array([1, 2, 3, 4])],
    ['an INTEGER', new Uint8Array([0x02, 0x01, 0x01])],
    ['truncated', good.subarray(0, good.length - 10)],
    ['trailing bytes', new Uint8Array([...good, 0x00])],
    ['a sequence of nothing', new Uint8Array([0x30, 0x00])],
    ['huge length', new Uint8Array([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff])],
  ];
  for (const [label, der] of cases) {
    assert.throws(
      () => parseCertificate(der),
      (error: unknown) => error instanceof SecurityError && error.code === 'bad-certificate',
      label,
    );
    assert.throws(
      () => summarizeCertificate(der),
      (error: unknown) => error instanceof SecurityError && error.code === 'bad-certificate',
      label,
    );
  }
});

test('flipping any single byte never throws anything but bad-certificate', async () => {
  const good = (
    await makeCertificate({
      cn: 'alpha.test',
      dnsNames: ['alpha.test'],
      srvNames: ['_xmpp-client.alpha.test'],
      xmppAddrs: ['alpha.test'],
    })
  ).der;
  for (let index = 0; index < good.length; index += 1) {
    const mutated = new Uint8Array(good);
    mutated[index] = (mutated[index] ?? 0) ^ 0xff;
    try {
      parseCertificate(mutated);
    } catch (error) {
      assert.ok(error instanceof SecurityError && error.code === 'bad-certificate', `byte ${index}: ${String(error)}`);
    }
  }
});

test('a GeneralizedTime that asn1js cannot read (it throws instead of failing the decode) is a bad-certificate', () => {
  // 0x18 (GeneralizedTime) with the content 'A': asn1js throws 'Wrong input string for conversion'.
  // The byte-flipping test above met it now and then, when a random serial byte became 0x18.
  for (const der of [new Uint8Array([0x18, 0x01, 0x41]), new Uint8Array([0x30, 0x03, 0x18, 0x01, 0x41])]) {
    assert.throws(
      () => parseCertificate(der),
      (error: unknown) => error instanceof SecurityError && error.code === 'bad-certificate',
    );
  }
});

test('summarizeChain never throws: an unreadable certificate is kept with its DER hash', async () => {
  const good = await makeCertificate({ cn: 'alpha.test' });
  const junk = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
  const [first, second] = summarizeChain([good.der, junk]);
  assert.equal(first?.subject, 'CN=alpha.test');
  assert.match(second?.subject ?? '', /^\(unreadable: /);
  assert.equal(second?.sha256, createHash('sha256').update(junk).digest('hex'));
  assert.equal(second?.spkiSha256, '');
});
