/**
 * The 'features' goal (`quiver probe`): the machine goes as far as the stream features over TLS,
 * reports them and stops. Literal server bytes in, literal bytes out, on a fake clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, clientHeader, kinds, serverHeader } from './harness.ts';

const TLS = `xmlns='urn:ietf:params:xml:ns:xmpp-tls'`;
const SASL = `xmlns='urn:ietf:params:xml:ns:xmpp-sasl'`;

/** Prosody-like features over TLS: SASL, SASL2 with Bind 2 inline, stream management, roster versioning. */
const TLS_FEATURES =
  `<stream:features>` +
  `<mechanisms ${SASL}><mechanism>SCRAM-SHA-256-PLUS</mechanism><mechanism>SCRAM-SHA-256</mechanism></mechanisms>` +
  `<authentication xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-256</mechanism>` +
  `<inline><bind xmlns='urn:xmpp:bind:0'/><sm xmlns='urn:xmpp:sm:3'/></inline></authentication>` +
  `<sm xmlns='urn:xmpp:sm:3'/><ver xmlns='urn:xmpp:features:rosterver'/>` +
  `</stream:features>`;

const OFFERED = {
  namespaces: ['urn:ietf:params:xml:ns:xmpp-sasl', 'urn:xmpp:sasl:2', 'urn:xmpp:sm:3', 'urn:xmpp:features:rosterver'],
  starttls: false,
  mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'],
  sasl2Mechanisms: ['SCRAM-SHA-256'],
  bind2: true,
  sm: true,
};

/** Everything the client wrote must be stream headers, <starttls/> and the close: never SASL. */
function assertNoSasl(written: string): void {
  assert.doesNotMatch(written, /<auth|<authenticate|<response|urn:ietf:params:xml:ns:xmpp-sasl|urn:xmpp:sasl:2/);
}

test('STARTTLS: stops at the features over TLS and reports them; no SASL is sent', () => {
  const h = new Harness({ goal: 'features', jid: 'example.org', password: undefined, security: 'starttls' });
  let written = h.start();
  assert.equal(written, clientHeader('example.org', null));
  written += h.feed(
    `${serverHeader('s1')}<stream:features><starttls ${TLS}><required/></starttls><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
  );
  assert.equal(h.machine.state, 'starttls');
  assert.deepEqual(h.events(), [], 'the plaintext features are not the goal');
  written += h.feed(`<proceed ${TLS}/>`);
  assert.deepEqual(h.events(), [{ type: 'tls-required' }]);
  h.machine.handleTlsUp(null, h.now);
  const overTls = h.out();
  assert.equal(overTls, clientHeader('example.org', null), 'no account, so no from (RFC 6120 §4.7.1)');
  assert.equal(h.feed(serverHeader('s2') + TLS_FEATURES), '', 'nothing is sent in answer to the features');
  assert.deepEqual(h.events(), [{ type: 'features', features: OFFERED }]);
  assert.equal(h.machine.state, 'features');
  assert.equal(h.machine.pollTimeout(), undefined, 'no deadline: the goal is reached');
  // More features or stanzas change nothing: the machine does not negotiate past its goal.
  assert.equal(h.feed(`<iq type='get' id='x'/>`), '');
  assert.deepEqual(h.events(), []);
  h.machine.close(h.now);
  written += overTls + h.out();
  assertNoSasl(written);
  assert.match(written, /<\/stream:stream>$/);
  h.feed('</stream:stream>');
  assert.deepEqual(h.events(), [{ type: 'closed', error: null }]);
});

test('direct TLS: the first features are the goal', () => {
  const h = new Harness({ goal: 'features', security: 'tls' });
  assert.equal(
    h.start(),
    clientHeader('example.org', 'user@example.org'),
    'with an account JID, from is sent over TLS',
  );
  assert.equal(h.feed(serverHeader() + TLS_FEATURES), '');
  assert.deepEqual(h.events(), [{ type: 'features', features: OFFERED }]);
  assert.equal(h.machine.state, 'features');
});

test('a server without <starttls/> is still refused with tls-unavailable; nothing but the header and the close is sent', () => {
  const h = new Harness({ goal: 'features', jid: 'example.org', password: undefined, security: 'starttls' });
  h.start();
  const out = h.feed(`${serverHeader()}${TLS_FEATURES}`);
  assert.equal(out, '</stream:stream>');
  const events = h.events();
  assert.deepEqual(kinds(events), ['error:tls-unavailable']);
  assert.ok(
    events.every((e) => e.type !== 'features'),
    'plaintext features are never reported',
  );
  h.feed('</stream:stream>');
  assert.deepEqual(kinds(h.events()), ['closed']);
});

test('plaintext after <proceed/> is still refused, and no features are reported', () => {
  const h = new Harness({ goal: 'features', jid: 'example.org', password: undefined, security: 'starttls' });
  h.start();
  h.feed(`${serverHeader()}<stream:features><starttls ${TLS}/></stream:features>`);
  h.out();
  h.feed(`<proceed ${TLS}/>${serverHeader('s2')}${TLS_FEATURES}`);
  assert.deepEqual(kinds(h.events()), ['error:plaintext-after-proceed', 'closed']);
  assert.equal(h.out(), '', 'nothing is written in plaintext after <proceed/>');
});

test('a stream error before the features is reported as for a session', () => {
  const h = new Harness({ goal: 'features', jid: 'example.org', password: undefined, security: 'tls' });
  h.start();
  h.feed(
    `${serverHeader()}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>no such host</text></stream:error>`,
  );
  const [event] = h.events();
  assert.ok(event?.type === 'error');
  assert.equal(event.error.code, 'host-unknown');
  assert.equal(event.error.text, 'no such host');
});

test("goal 'session' still needs an account JID and a password", () => {
  assert.throws(() => new Harness({ jid: 'example.org' }), /account JID/);
  assert.throws(() => new Harness({ password: undefined }), /password/);
});
