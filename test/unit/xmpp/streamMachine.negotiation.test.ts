/**
 * Negotiation transcripts (RFC 6120 §5 STARTTLS, §6 SASL, §7 binding) against a scripted server:
 * literal bytes in, literal bytes out, on a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { Harness, ID_PREFIX, b64, clientHeader, fixedRandom, kinds, serverHeader } from './harness.ts';

const TLS = `xmlns='urn:ietf:params:xml:ns:xmpp-tls'`;
const SASL = `xmlns='urn:ietf:params:xml:ns:xmpp-sasl'`;
const BIND = `xmlns='urn:ietf:params:xml:ns:xmpp-bind'`;

// RFC 5802 §5 exchange, carried in RFC 6120 §6.4 elements.
const SERVER_FIRST = 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096';
const CLIENT_FINAL = 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=';
const SERVER_FINAL = 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=';

const SASL_FEATURES = `<stream:features><mechanisms ${SASL}><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;
const BIND_FEATURES = `<stream:features><bind ${BIND}/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session><ver xmlns='urn:xmpp:features:rosterver'/></stream:features>`;

/** Runs SASL (SCRAM-SHA-1 with the RFC 5802 vector) and binding on a TLS-protected stream. */
function authenticateAndBind(h: Harness): void {
  assert.equal(
    h.feed(serverHeader('s2') + SASL_FEATURES),
    `<auth ${SASL} mechanism='SCRAM-SHA-1'>${b64('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL')}</auth>`,
  );
  assert.equal(h.machine.state, 'authenticating');
  assert.equal(
    h.feed(`<challenge ${SASL}>${b64(SERVER_FIRST)}</challenge>`),
    `<response ${SASL}>${b64(CLIENT_FINAL)}</response>`,
  );
  assert.equal(
    h.feed(`<success ${SASL}>${b64(SERVER_FINAL)}</success>`),
    clientHeader('example.org', 'user@example.org'),
  );
  assert.deepEqual(h.events(), [{ type: 'authenticated', mechanism: 'SCRAM-SHA-1', channelBinding: null }]);
  assert.equal(h.machine.state, 'opening');
  assert.equal(
    h.feed(serverHeader('s3') + BIND_FEATURES),
    `<iq type="set" id="${ID_PREFIX}1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>quiver</resource></bind></iq>`,
  );
  assert.equal(h.machine.state, 'binding');
  assert.equal(
    h.feed(`<iq type='result' id='${ID_PREFIX}1'><bind ${BIND}><jid>user@example.org/quiver-42</jid></bind></iq>`),
    '',
  );
  assert.deepEqual(h.events(), [
    {
      type: 'online',
      jid: 'user@example.org/quiver-42',
      features: [
        'urn:ietf:params:xml:ns:xmpp-bind',
        'urn:ietf:params:xml:ns:xmpp-session',
        'urn:xmpp:features:rosterver',
      ],
    },
  ]);
  assert.equal(h.machine.state, 'online');
  assert.equal(h.machine.pollTimeout(), undefined, 'no deadline once online');
}

test('starttls mode: full transcript STARTTLS -> SCRAM-SHA-1 (RFC 5802 vector) -> bind', () => {
  const h = new Harness({ security: 'starttls' });
  assert.equal(h.start(), clientHeader('example.org', null), 'no from before TLS (RFC 6120 §4.7.1)');
  assert.equal(h.machine.state, 'opening');
  assert.equal(h.machine.pollTimeout(), h.now + 30_000);
  assert.equal(
    h.feed(
      `${serverHeader('s1')}<stream:features><starttls ${TLS}><required/></starttls><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
    ),
    `<starttls ${TLS}/>`,
  );
  assert.equal(h.machine.state, 'starttls');
  assert.equal(h.feed(`<proceed ${TLS}/>`), '');
  assert.deepEqual(h.events(), [{ type: 'tls-required' }]);
  assert.equal(h.machine.state, 'tls-wait');
  h.machine.handleTlsUp(null, h.now);
  assert.equal(h.out(), clientHeader('example.org', 'user@example.org'));
  authenticateAndBind(h);
});

test('tls mode: full transcript SCRAM-SHA-1 -> bind, then roster, presence, message, close', () => {
  const h = new Harness({ security: 'tls' });
  assert.equal(h.start(), clientHeader('example.org', 'user@example.org'));
  authenticateAndBind(h);

  assert.equal(h.machine.requestRoster(), `${ID_PREFIX}2`);
  assert.equal(h.out(), `<iq type="get" id="${ID_PREFIX}2"><query xmlns="jabber:iq:roster"/></iq>`);
  h.feed(
    `<iq type='result' id='${ID_PREFIX}2' to='user@example.org/quiver-42'><query xmlns='jabber:iq:roster' ver='v1'><item jid='juliet@example.com' name='Juliet' subscription='both'><group>Friends</group><group>Friends</group></item><item jid='nurse@example.com' ask='subscribe'/><item/></query></iq>`,
  );
  assert.deepEqual(h.events(), [
    {
      type: 'roster',
      ver: 'v1',
      unchanged: false,
      items: [
        { jid: 'juliet@example.com', name: 'Juliet', subscription: 'both', ask: false, groups: ['Friends'] },
        { jid: 'nurse@example.com', name: null, subscription: 'none', ask: true, groups: [] },
      ],
    },
  ]);

  h.machine.sendPresence();
  assert.equal(h.out(), '<presence/>');
  h.machine.sendPresence({ show: 'away', status: 'at <lunch> & out', priority: 5 });
  assert.equal(
    h.out(),
    '<presence><show>away</show><status>at &lt;lunch&gt; &amp; out</status><priority>5</priority></presence>',
  );

  const id = h.machine.sendMessage({ to: 'juliet@example.com', body: 'Wherefore art thou?' });
  assert.equal(id, `${ID_PREFIX}3`);
  assert.equal(
    h.out(),
    // XEP-0359 §2.2: the origin-id a client generates; ours equals the stanza's id.
    `<message to="juliet@example.com" id="${ID_PREFIX}3" type="chat"><body>Wherefore art thou?</body><origin-id xmlns="urn:xmpp:sid:0" id="${ID_PREFIX}3"/><request xmlns="urn:xmpp:receipts"/></message>`,
  );
  assert.equal(h.machine.sendMessage({ to: 'juliet@example.com', body: 'x', id: 'mine', type: 'normal' }), 'mine');
  assert.match(h.out(), /id="mine" type="normal"/);

  h.machine.close(h.now);
  assert.equal(h.out(), '<presence type="unavailable"/></stream:stream>');
  assert.equal(h.machine.state, 'closing');
  assert.deepEqual(h.events(), []);
  h.feed('</stream:stream>');
  assert.deepEqual(h.events(), [{ type: 'closed', error: null }]);
  assert.equal(h.machine.state, 'closed');
});

test('-PLUS: SCRAM-SHA-256-PLUS with a fixed tls-exporter, verified by an independent server computation', () => {
  const exporter = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
  const h = new Harness({ security: 'starttls' });
  h.start();
  h.feed(`${serverHeader('s1')}<stream:features><starttls ${TLS}/></stream:features>`);
  h.feed(`<proceed ${TLS}/>`);
  h.events();
  h.machine.handleTlsUp({ type: 'tls-exporter', data: exporter }, h.now);
  h.out();
  const features = `<stream:features><mechanisms ${SASL}><mechanism>SCRAM-SHA-1</mechanism><mechanism>SCRAM-SHA-256</mechanism><mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>SCRAM-SHA-256-PLUS</mechanism></mechanisms><sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-server-end-point'/><channel-binding type='tls-exporter'/></sasl-channel-binding></stream:features>`;
  const nonce = 'fyko+d2lbbFgONRv9qkxdawL';
  const first = `p=tls-exporter,,n=user,r=${nonce}`;
  assert.equal(
    h.feed(serverHeader('s2') + features),
    `<auth ${SASL} mechanism='SCRAM-SHA-256-PLUS'>${b64(first)}</auth>`,
  );

  // The server side of RFC 5802 §3, computed here from scratch.
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  const serverFirst = `r=${nonce}SERVER,s=${salt.toString('base64')},i=4096`;
  const response = h.feed(`<challenge ${SASL}>${b64(serverFirst)}</challenge>`);
  const clientFinal = Buffer.from(/<response [^>]*>([^<]*)<\/response>/.exec(response)![1]!, 'base64').toString();
  const cbind = Buffer.concat([Buffer.from('p=tls-exporter,,'), exporter]).toString('base64');
  assert.ok(clientFinal.startsWith(`c=${cbind},r=${nonce}SERVER,p=`), clientFinal);
  const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
  const authMessage = `n=user,r=${nonce},${serverFirst},${clientFinal.split(',p=')[0]}`;
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const clientSig = createHmac('sha256', storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientFinal.split(',p=')[1]!, 'base64');
  assert.deepEqual(
    createHash('sha256')
      .update(Buffer.from(proof.map((b, i) => b ^ clientSig[i]!)))
      .digest(),
    storedKey,
    'client proof verifies',
  );
  const serverSig = createHmac('sha256', createHmac('sha256', salted).update('Server Key').digest())
    .update(authMessage)
    .digest();

  h.feed(`<success ${SASL}>${b64(`v=${serverSig.toString('base64')}`)}</success>`);
  assert.deepEqual(h.events(), [
    { type: 'authenticated', mechanism: 'SCRAM-SHA-256-PLUS', channelBinding: 'tls-exporter' },
  ]);
});

test('a server without <starttls/> is refused with tls-unavailable, never used in plaintext', () => {
  const h = new Harness({ security: 'starttls' });
  h.start();
  const out = h.feed(
    `${serverHeader('s1')}<stream:features><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
  );
  assert.equal(out, '</stream:stream>', 'only the close: no auth in plaintext');
  const [err, ...rest] = h.events();
  assert.ok(err?.type === 'error');
  assert.equal(err.error.code, 'tls-unavailable');
  assert.equal(err.error.source, 'local');
  assert.match(err.error.message, /example\.org does not offer STARTTLS/);
  assert.deepEqual(rest, []);
  h.feed('</stream:stream>');
  assert.deepEqual(h.events(), [{ type: 'closed', error: err.error }]);
});

test('STARTTLS <failure/> is fatal', () => {
  const h = new Harness({ security: 'starttls' });
  h.start();
  h.feed(`${serverHeader()}<stream:features><starttls ${TLS}/></stream:features>`);
  h.out();
  h.feed(`<failure ${TLS}/></stream:stream>`);
  assert.deepEqual(kinds(h.events()), ['error:tls-failed', 'closed']);
});

test('plaintext injected after <proceed/> is refused (same chunk and later chunk)', () => {
  for (const split of [true, false]) {
    const h = new Harness({ security: 'starttls' });
    h.start();
    h.feed(`${serverHeader()}<stream:features><starttls ${TLS}/></stream:features>`);
    h.out();
    const inj = `<success ${SASL}/>`;
    if (split) {
      h.feed(`<proceed ${TLS}/>`);
      assert.deepEqual(h.events(), [{ type: 'tls-required' }]);
      h.feed(inj);
    } else {
      h.feed(`<proceed ${TLS}/>${inj}`);
    }
    assert.deepEqual(kinds(h.events()), ['error:plaintext-after-proceed', 'closed']);
    assert.equal(h.out(), '', 'nothing is written in plaintext after <proceed/>');
  }
});

function toSasl(h: Harness): void {
  h.start();
  h.feed(serverHeader('s2') + SASL_FEATURES);
  h.out();
}

test('SASL <failure/> becomes a StreamError with the condition and a human message', () => {
  const h = new Harness();
  toSasl(h);
  const out = h.feed(`<failure ${SASL}><not-authorized/><text xml:lang='en'>Wrong password</text></failure>`);
  const [err] = h.events();
  assert.ok(err?.type === 'error');
  assert.equal(err.error.code, 'not-authorized');
  assert.equal(err.error.source, 'peer');
  assert.equal(err.error.text, 'Wrong password');
  assert.match(
    err.error.message,
    /^The server rejected the password for user@example\.org \(not-authorized\)\. Check the password and try again\./,
  );
  assert.equal(out, '</stream:stream>');
});

test('a wrong server signature (v=) is fatal', () => {
  const h = new Harness();
  toSasl(h);
  h.feed(`<challenge ${SASL}>${b64(SERVER_FIRST)}</challenge>`);
  h.out();
  const out = h.feed(`<success ${SASL}>${b64('v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=')}</success>`);
  const [err, ...rest] = h.events();
  assert.ok(err?.type === 'error');
  assert.equal(err.error.code, 'server-authentication-failed');
  assert.ok(!rest.some((e) => e.type === 'authenticated'));
  assert.equal(out, '</stream:stream>', 'no stream restart');
});

test('success without v= is fatal; v= in a final challenge is accepted', () => {
  const a = new Harness();
  toSasl(a);
  a.feed(`<challenge ${SASL}>${b64(SERVER_FIRST)}</challenge>`);
  a.feed(`<success ${SASL}/>`);
  assert.deepEqual(kinds(a.events()), ['error:server-authentication-failed']);

  const b = new Harness();
  toSasl(b);
  b.feed(`<challenge ${SASL}>${b64(SERVER_FIRST)}</challenge>`);
  b.out();
  assert.equal(b.feed(`<challenge ${SASL}>${b64(SERVER_FINAL)}</challenge>`), `<response ${SASL}/>`);
  b.feed(`<success ${SASL}>=</success>`);
  assert.deepEqual(b.events(), [{ type: 'authenticated', mechanism: 'SCRAM-SHA-1', channelBinding: null }]);
});

test('no acceptable mechanism', () => {
  const h = new Harness();
  h.start();
  h.feed(
    `${serverHeader()}<stream:features><mechanisms ${SASL}><mechanism>DIGEST-MD5</mechanism></mechanisms></stream:features>`,
  );
  assert.deepEqual(kinds(h.events()), ['error:no-acceptable-mechanism']);
});

test('PLAIN when it is the only mechanism (TLS is up)', () => {
  const h = new Harness();
  h.start();
  assert.equal(
    h.feed(
      `${serverHeader()}<stream:features><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
    ),
    `<auth ${SASL} mechanism='PLAIN'>${b64('\u0000user\u0000pencil')}</auth>`,
  );
});

test('bind error and missing bind are fatal; required legacy session is established', () => {
  const a = new Harness();
  toSasl(a);
  a.feed(`<challenge ${SASL}>${b64(SERVER_FIRST)}</challenge><success ${SASL}>${b64(SERVER_FINAL)}</success>`);
  a.feed(`${serverHeader('s3')}<stream:features/>`);
  assert.deepEqual(kinds(a.events()), ['authenticated', 'error:bind-failed']);

  const b = new Harness();
  toSasl(b);
  b.feed(`<challenge ${SASL}>${b64(SERVER_FIRST)}</challenge><success ${SASL}>${b64(SERVER_FINAL)}</success>`);
  b.feed(`${serverHeader('s3')}<stream:features><bind ${BIND}/></stream:features>`);
  b.feed(
    `<iq type='error' id='${ID_PREFIX}1'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
  );
  const err = b.events().find((e) => e.type === 'error');
  assert.ok(err?.type === 'error');
  assert.equal(err.error.code, 'bind-failed');
  assert.match(err.error.message, /already in use/);

  const c = new Harness();
  toSasl(c);
  c.feed(`<challenge ${SASL}>${b64(SERVER_FIRST)}</challenge><success ${SASL}>${b64(SERVER_FINAL)}</success>`);
  c.feed(
    `${serverHeader('s3')}<stream:features><bind ${BIND}/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>`,
  );
  c.out();
  assert.equal(
    c.feed(`<iq type='result' id='${ID_PREFIX}1'><bind ${BIND}><jid>user@example.org/r</jid></bind></iq>`),
    `<iq type="set" id="${ID_PREFIX}2"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>`,
  );
  assert.ok(!c.events().some((e) => e.type === 'online'));
  c.feed(`<iq type='result' id='${ID_PREFIX}2'/>`);
  assert.equal(c.events().at(-1)?.type, 'online');
});

test('stream errors: condition, text and see-other-host kept', () => {
  const h = new Harness();
  h.start();
  const out = h.feed(
    `${serverHeader()}<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>[2001:db8::1]:9222</see-other-host><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>moved</text></stream:error></stream:stream>`,
  );
  const [err, closed] = h.events();
  assert.ok(err?.type === 'error');
  assert.equal(err.error.code, 'see-other-host');
  assert.equal(err.error.source, 'peer');
  assert.equal(err.error.otherHost, '[2001:db8::1]:9222');
  assert.equal(err.error.text, 'moved');
  assert.match(err.error.message, /redirected this connection to \[2001:db8::1\]:9222/);
  assert.deepEqual(closed, { type: 'closed', error: err.error });
  assert.equal(out, '</stream:stream>');

  const g = new Harness();
  g.start();
  g.feed(`${serverHeader()}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`);
  assert.deepEqual(kinds(g.events()), ['error:host-unknown']);
});

test('a wrong stream namespace or version is refused', () => {
  const h = new Harness();
  h.start();
  const out = h.feed(
    `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`,
  );
  assert.deepEqual(kinds(h.events()), ['error:invalid-namespace']);
  assert.equal(
    out,
    `<stream:error><invalid-namespace xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`,
  );

  const v = new Harness();
  v.start();
  v.feed(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`);
  assert.deepEqual(kinds(v.events()), ['error:unsupported-version']);
});

test('each negotiation step has a deadline; timeout is fatal', () => {
  const h = new Harness({ stepTimeoutMs: 5_000, security: 'starttls' });
  h.start();
  assert.equal(h.machine.pollTimeout(), 6_000);
  h.now = 5_999;
  h.machine.handleTimeout(h.now);
  assert.deepEqual(h.events(), [], 'early timer does nothing');
  h.now = 3_000;
  assert.equal(h.feed(`${serverHeader()}<stream:features><starttls ${TLS}/></stream:features>`), `<starttls ${TLS}/>`);
  assert.equal(h.machine.pollTimeout(), 8_000, 'the starttls step re-arms');
  h.fireTimeout();
  const [err, closed] = h.events();
  assert.ok(err?.type === 'error');
  assert.equal(err.error.code, 'timeout');
  assert.match(err.error.message, /did not answer during the STARTTLS request within 5 s/);
  assert.deepEqual(closed, { type: 'closed', error: err.error });
  assert.equal(
    h.out(),
    `<stream:error><connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`,
  );
  assert.equal(h.machine.pollTimeout(), undefined);
});

test('the TLS handshake wait and the close handshake have deadlines', () => {
  const h = new Harness({ stepTimeoutMs: 1_000, security: 'starttls' });
  h.start();
  h.feed(`${serverHeader()}<stream:features><starttls ${TLS}/></stream:features><proceed ${TLS}/>`);
  h.out();
  assert.equal(h.machine.state, 'tls-wait');
  h.fireTimeout();
  assert.equal(h.out(), '', 'no plaintext after proceed, even on timeout');
  assert.deepEqual(kinds(h.events()), ['tls-required', 'error:timeout', 'closed']);

  const c = new Harness({ stepTimeoutMs: 1_000 });
  c.start();
  c.machine.close(c.now);
  assert.equal(c.out(), `${''}</stream:stream>`);
  c.fireTimeout();
  assert.deepEqual(c.events(), [{ type: 'closed', error: null }]);
});

test('transport closed mid-negotiation is an error; an unsolicited </stream:stream> too', () => {
  const h = new Harness();
  h.start();
  h.machine.handleTransportClosed(h.now, 'ECONNRESET');
  assert.deepEqual(kinds(h.events()), ['error:transport-closed', 'closed']);
  h.machine.handleTransportClosed(h.now);
  assert.deepEqual(h.events(), [], 'closed only once');

  const p = new Harness();
  p.start();
  assert.equal(p.feed(`${serverHeader()}</stream:stream>`), '</stream:stream>');
  assert.deepEqual(kinds(p.events()), ['error:peer-closed', 'closed']);
});

test('commands before online are programmer errors', () => {
  const h = new Harness();
  assert.throws(() => h.machine.sendMessage({ to: 'a@b', body: 'x' }), /only valid once online/);
  assert.throws(() => h.machine.handleBytes(new Uint8Array(1), 0), /before start/);
  h.start();
  assert.throws(() => h.machine.start(0), /twice/);
  assert.throws(() => h.machine.requestRoster(), /only valid once online/);
  assert.throws(() => h.machine.handleTlsUp(null, 0), /tls-required/);
  assert.throws(() => new Harness({ jid: 'example.org' }), /account JID/);
});

test('randomness is injectable: the SCRAM nonce comes from randomBytes', () => {
  const nonce = Buffer.alloc(18, 7);
  const auth = new Harness({ randomBytes: fixedRandom(nonce) });
  auth.start();
  const out = auth.feed(serverHeader('s2') + SASL_FEATURES);
  assert.equal(out, `<auth ${SASL} mechanism='SCRAM-SHA-1'>${b64(`n,,n=user,r=${nonce.toString('base64')}`)}</auth>`);
});

test("channel binding available but no -PLUS offered: gs2 'y' (RFC 5802 §6), reported as unbound", () => {
  const h = new Harness({ security: 'tls', channelBinding: { type: 'tls-exporter', data: new Uint8Array(32) } });
  h.start();
  assert.equal(
    h.feed(serverHeader('s2') + SASL_FEATURES),
    `<auth ${SASL} mechanism='SCRAM-SHA-1'>${b64('y,,n=user,r=fyko+d2lbbFgONRv9qkxdawL')}</auth>`,
  );
  const response = h.feed(`<challenge ${SASL}>${b64(SERVER_FIRST)}</challenge>`);
  const final = Buffer.from(/>([^<]*)</.exec(response)![1]!, 'base64').toString();
  assert.ok(final.startsWith(`c=${b64('y,,')},`), final);
});

test('XEP-0440: -PLUS offered with only unknown binding types is refused as tampering', () => {
  const h = new Harness({ security: 'tls', channelBinding: { type: 'tls-exporter', data: new Uint8Array(32) } });
  h.start();
  const out = h.feed(
    `${serverHeader('s2')}<stream:features><mechanisms ${SASL}><mechanism>SCRAM-SHA-256-PLUS</mechanism><mechanism>SCRAM-SHA-256</mechanism></mechanisms><sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-unique'/></sasl-channel-binding></stream:features>`,
  );
  assert.equal(out, '</stream:stream>');
  assert.deepEqual(kinds(h.events()), ['error:no-acceptable-mechanism']);
});
