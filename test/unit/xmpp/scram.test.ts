import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { ScramClient, ScramPrepError } from '../../../app/xmpp/scram.ts';

// RFC 5802 §5: the SCRAM-SHA-1 example exchange, byte for byte.
test('RFC 5802 §5 SCRAM-SHA-1 example vector', () => {
  const c = new ScramClient({
    hash: 'sha1',
    username: 'user',
    password: 'pencil',
    clientNonce: 'fyko+d2lbbFgONRv9qkxdawL',
    gs2: { flag: 'n' },
  });
  assert.equal(c.clientFirst(), 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
  const final = c.clientFinal('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
  assert.deepEqual(final, {
    ok: true,
    value: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  });
  assert.deepEqual(c.verifyServerFinal('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='), { ok: true, value: true });
});

// RFC 7677 §3: the SCRAM-SHA-256 example exchange, byte for byte.
test('RFC 7677 §3 SCRAM-SHA-256 example vector', () => {
  const c = new ScramClient({
    hash: 'sha256',
    username: 'user',
    password: 'pencil',
    clientNonce: 'rOprNGfwEbeRWgbNEkqO',
    gs2: { flag: 'n' },
  });
  assert.equal(c.clientFirst(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
  const final = c.clientFinal('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
  assert.deepEqual(final, {
    ok: true,
    value: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  });
  assert.deepEqual(c.verifyServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='), { ok: true, value: true });
});

test('a wrong server signature does not verify', () => {
  const c = new ScramClient({
    hash: 'sha1',
    username: 'user',
    password: 'pencil',
    clientNonce: 'fyko+d2lbbFgONRv9qkxdawL',
    gs2: { flag: 'n' },
  });
  c.clientFinal('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
  const r = c.verifyServerFinal('v=AAF9pqV8S7suAoZWja4dJRkFsKQ=');
  assert.equal(r.ok, false);
  assert.equal(c.verifyServerFinal('e=invalid-proof').ok, false);
  assert.equal(c.verifyServerFinal('v=').ok, false);
});

test('malicious server-first messages are refused', () => {
  const mk = () =>
    new ScramClient({ hash: 'sha1', username: 'user', password: 'pencil', clientNonce: 'abc', gs2: { flag: 'n' } });
  assert.equal(mk().clientFinal('r=xyz123,s=QSXCR+Q6sek8bf92,i=4096').ok, false, 'nonce must extend ours');
  assert.equal(mk().clientFinal('r=abc,s=QSXCR+Q6sek8bf92,i=4096').ok, false, 'nonce must add server part');
  assert.equal(mk().clientFinal('m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096').ok, false, 'mandatory extension');
  assert.equal(mk().clientFinal('r=abcdef,s=QSXCR+Q6sek8bf92,i=0').ok, false, 'zero iterations');
  assert.equal(mk().clientFinal('r=abcdef,s=QSXCR+Q6sek8bf92,i=99999999').ok, false, 'too many iterations');
  assert.equal(mk().clientFinal('r=abcdef,s=!!!,i=4096').ok, false, 'salt not base64');
  assert.equal(mk().clientFinal('garbage').ok, false);
  assert.equal(mk().verifyServerFinal('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=').ok, false, 'final before first');
});

test('user names are SASLprepped and escaped (RFC 5802 §5.1)', () => {
  const c = new ScramClient({
    hash: 'sha256',
    username: 'a,b=c',
    password: 'p',
    clientNonce: 'n1',
    gs2: { flag: 'y' },
  });
  assert.equal(c.clientFirst(), 'y,,n=a=2Cb=3Dc,r=n1');
  assert.throws(
    () =>
      new ScramClient({ hash: 'sha256', username: 'u', password: 'bad\u0007', clientNonce: 'n', gs2: { flag: 'n' } }),
    ScramPrepError,
  );
});

// RFC 9266 tls-exporter binding: c= is base64(gs2-header || exporter) and the proof covers it.
test('-PLUS binds the fixed tls-exporter value into c= and the proof', () => {
  const exporter = Uint8Array.from({ length: 32 }, (_, i) => i);
  const c = new ScramClient({
    hash: 'sha256',
    username: 'user',
    password: 'pencil',
    clientNonce: 'cnonce',
    gs2: { flag: 'p', binding: { type: 'tls-exporter', data: exporter } },
  });
  assert.equal(c.clientFirst(), 'p=tls-exporter,,n=user,r=cnonce');
  const serverFirst = 'r=cnonceSRV,s=QSXCR+Q6sek8bf92,i=4096';
  const final = c.clientFinal(serverFirst);
  assert.ok(final.ok);
  const cbind = Buffer.concat([Buffer.from('p=tls-exporter,,'), exporter]).toString('base64');
  assert.ok(final.value.startsWith(`c=${cbind},r=cnonceSRV,p=`));
  // Independent server-side check (RFC 5802 §3).
  const salted = pbkdf2Sync('pencil', Buffer.from('QSXCR+Q6sek8bf92', 'base64'), 4096, 32, 'sha256');
  const authMessage = `n=user,r=cnonce,${serverFirst},c=${cbind},r=cnonceSRV`;
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const sig = createHmac('sha256', storedKey).update(authMessage).digest();
  const proof = Buffer.from(final.value.split(',p=')[1]!, 'base64');
  const recovered = Buffer.from(proof.map((b, i) => b ^ sig[i]!));
  assert.deepEqual(createHash('sha256').update(recovered).digest(), storedKey);
  const serverSig = createHmac('sha256', createHmac('sha256', salted).update('Server Key').digest())
    .update(authMessage)
    .digest();
  assert.ok(c.verifyServerFinal(`v=${serverSig.toString('base64')}`).ok);
});
