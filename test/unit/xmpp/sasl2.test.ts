/**
 * XEP-0388 SASL2 with XEP-0386 Bind 2, XEP-0198 inline, XEP-0484 FAST, XEP-0474 and XEP-0440,
 * driven through the stream machine with a scripted server (literal elements, the server side of
 * SCRAM computed here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { Harness, b64, kinds, serverHeader } from './harness.ts';
import type { StreamEvent } from '../../../app/xmpp/streamMachine.ts';
import { downgradeHash } from '../../../app/xmpp/downgradeProtection.ts';
import { parseDateTime } from '../../../app/xmpp/delay.ts';

const SASL2 = `xmlns='urn:xmpp:sasl:2'`;
const SM = `xmlns='urn:xmpp:sm:3'`;
const NONCE = 'fyko+d2lbbFgONRv9qkxdawL';
const UA_ID = 'f81d4fae-7dec-41d0-a765-00a0c91e6bf6';
const SALT = Buffer.from('QSXCR+Q6sek8bf92', 'base64');

interface FeatureOptions {
  mechanisms?: string[];
  bind2?: string[] | null;
  sm?: boolean;
  fast?: string[] | null;
  cb?: string[] | null;
}

function features(o: FeatureOptions = {}): string {
  const mechs = (o.mechanisms ?? ['SCRAM-SHA-1', 'PLAIN']).map((m) => `<mechanism>${m}</mechanism>`).join('');
  const bind2 =
    o.bind2 === null
      ? ''
      : `<bind xmlns='urn:xmpp:bind:0'><inline>${(o.bind2 ?? ['urn:xmpp:sm:3', 'urn:xmpp:carbons:2', 'urn:xmpp:csi:0']).map((v) => `<feature var='${v}'/>`).join('')}</inline></bind>`;
  const fast = o.fast
    ? `<fast xmlns='urn:xmpp:fast:0'>${o.fast.map((m) => `<mechanism>${m}</mechanism>`).join('')}</fast>`
    : '';
  const sm = o.sm === false ? '' : `<sm ${SM}/>`;
  const cb = o.cb
    ? `<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>${o.cb.map((t) => `<channel-binding type='${t}'/>`).join('')}</sasl-channel-binding>`
    : '';
  return (
    `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${mechs}</mechanisms>${cb}` +
    `<authentication ${SASL2}>${mechs}<inline>${bind2}${sm}${fast}</inline></authentication></stream:features>`
  );
}

/** The features that follow SASL2 <success/> (no stream restart). */
const POST_FEATURES = `<stream:features><sm ${SM}/><ver xmlns='urn:xmpp:features:rosterver'/></stream:features>`;

/** RFC 5802 §3, the server side, for a client-final-message (without proof) and server-first. */
function serverFinal(hash: 'sha1' | 'sha256', gs2: string, serverFirst: string, clientFinal: string): string {
  const salted = pbkdf2Sync('pencil', SALT, 4096, hash === 'sha1' ? 20 : 32, hash);
  const withoutProof = clientFinal.split(',p=')[0]!;
  const authMessage = `n=user,r=${NONCE},${serverFirst},${withoutProof}`;
  const clientKey = createHmac(hash, salted).update('Client Key').digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const clientSig = createHmac(hash, storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientFinal.split(',p=')[1]!, 'base64');
  const recovered = createHash(hash)
    .update(Buffer.from(proof.map((b, i) => b ^ clientSig[i]!)))
    .digest();
  assert.deepEqual(recovered, storedKey, 'client proof verifies');
  assert.ok(withoutProof.startsWith(`c=${b64(gs2)}`) || gs2.startsWith('p='), withoutProof);
  const serverKey = createHmac(hash, salted).update('Server Key').digest();
  return `v=${createHmac(hash, serverKey).update(authMessage).digest('base64')}`;
}

function payload(xml: string, element: string): string {
  const m =
    new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml) ??
    new RegExp(`<${element} [^>]*>([^<]*)</${element}>`).exec(xml);
  assert.ok(m, `<${element}> in ${xml}`);
  return Buffer.from(m[1]!, 'base64').toString('utf8');
}

/** Starts a direct-TLS machine, feeds the features, returns the <authenticate/> it sent. */
function begin(h: Harness, o: FeatureOptions = {}): string {
  h.start();
  return h.feed(serverHeader('s1') + features(o));
}

/** Runs the SCRAM-SHA-1 exchange after <authenticate/>; returns the server-final for <success/>. */
function scram(h: Harness, extra = ''): string {
  const serverFirst = `r=${NONCE}SERVER,s=${SALT.toString('base64')},i=4096${extra}`;
  const response = h.feed(`<challenge ${SASL2}>${b64(serverFirst)}</challenge>`);
  assert.match(response, /^<response xmlns=["']urn:xmpp:sasl:2["']>/);
  return serverFinal('sha1', 'n,,', serverFirst, payload(response, 'response'));
}

function success(serverFinalMsg: string | null, authzid: string, inner = ''): string {
  const data = serverFinalMsg === null ? '' : `<additional-data>${b64(serverFinalMsg)}</additional-data>`;
  return `<success ${SASL2}>${data}<authorization-identifier>${authzid}</authorization-identifier>${inner}</success>`;
}

function only<T extends StreamEvent['type']>(events: StreamEvent[], type: T): Extract<StreamEvent, { type: T }> {
  const found = events.filter((e) => e.type === type);
  assert.equal(found.length, 1, `one ${type} in ${kinds(events).join(',')}`);
  return found[0] as Extract<StreamEvent, { type: T }>;
}

test('SASL2 SCRAM with Bind 2: inline SM enable and carbons, no stream restart, SM counts from the inline enable', () => {
  const h = new Harness({
    streamManagement: { resume: true },
    carbons: true,
    userAgent: { id: UA_ID, device: 'laptop' },
  });
  const auth = begin(h);
  assert.match(auth, /^<authenticate xmlns="urn:xmpp:sasl:2" mechanism="SCRAM-SHA-1"><initial-response>/);
  assert.equal(payload(auth, 'initial-response'), `n,,n=user,r=${NONCE}`);
  assert.ok(
    auth.includes(`<user-agent id="${UA_ID}"><software>Quiver</software><device>laptop</device></user-agent>`),
    auth,
  );
  assert.ok(
    auth.includes(
      `<bind xmlns="urn:xmpp:bind:0"><tag>Quiver</tag><enable xmlns="urn:xmpp:sm:3" resume="true"/><enable xmlns="urn:xmpp:carbons:2"/></bind>`,
    ),
    auth,
  );
  assert.doesNotMatch(auth, /<resume|request-token|urn:xmpp:csi/);
  const v = scram(h);
  const written = h.feed(
    success(
      v,
      'user@example.org/Quiver.abc',
      `<bound xmlns='urn:xmpp:bind:0'><enabled ${SM} id='sm-1' resume='true' max='300'/></bound>`,
    ),
  );
  // XEP-0388 §2.5: "Note that no stream restart occurs."
  assert.equal(written, '');
  assert.deepEqual(h.events(), [
    { type: 'authenticated', mechanism: 'SCRAM-SHA-1', channelBinding: null, sasl2: true, bind2: true, fast: false },
  ]);
  assert.equal(h.feed(POST_FEATURES), '', 'no <enable/> and no legacy <bind/> after the features');
  const evs = h.events();
  assert.deepEqual(kinds(evs), ['online', 'sm-enabled']);
  const online = only(evs, 'online');
  assert.equal(online.jid, 'user@example.org/Quiver.abc');
  assert.deepEqual(online.inlineEnabled, ['urn:xmpp:carbons:2']);
  assert.deepEqual(only(evs, 'sm-enabled'), { type: 'sm-enabled', id: 'sm-1', resume: true, max: 300, location: null });
  // Counting runs as after a plain <enable/>: the server's <r/> is answered with what we handled.
  h.feed(`<message ${"xmlns='jabber:client'"} from='a@example.org/x' type='chat'><body>hi</body></message>`);
  h.events();
  assert.equal(h.feed(`<r ${SM}/>`), `<a xmlns='urn:xmpp:sm:3' h='1'/>`);
  h.machine.sendMessage({ to: 'a@example.org', body: 'x', id: 'm1' });
  h.out();
  assert.equal(h.machine.streamManagementState()?.unacked.length, 1);
  assert.equal(h.machine.streamManagementState()?.id, 'sm-1');
});

test('SASL2 <failure/> is fatal with its RFC 6120 condition and text', () => {
  const h = new Harness();
  begin(h, { bind2: null });
  h.feed(
    `<failure ${SASL2}><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>Wrong password</text></failure>`,
  );
  const err = only(h.events(), 'error');
  assert.equal(err.error.code, 'not-authorized');
  assert.equal(err.error.text, 'Wrong password');
  assert.match(err.error.message, /rejected the password for user@example\.org/);
});

test('SASL2 <continue/> (a task Quiver does not support) is refused clearly', () => {
  const h = new Harness();
  begin(h);
  scram(h);
  h.feed(`<continue ${SASL2}><tasks><task>HOTP-EXAMPLE</task></tasks></continue>`);
  const err = only(h.events(), 'error');
  assert.equal(err.error.code, 'sasl2-task-required');
});

test('SASL2 success naming another account, or a wrong SCRAM signature, is fatal', () => {
  const other = new Harness();
  begin(other, { bind2: null });
  other.feed(success(scram(other), 'mallory@example.org'));
  assert.equal(only(other.events(), 'error').error.code, 'sasl2-bad-identity');

  const forged = new Harness();
  begin(forged, { bind2: null });
  scram(forged);
  forged.feed(success('v=' + Buffer.alloc(20).toString('base64'), 'user@example.org'));
  assert.equal(only(forged.events(), 'error').error.code, 'server-authentication-failed');
});

test('SASL2 without Bind 2 offered: the features follow <success/> and binding is the RFC 6120 one', () => {
  const h = new Harness();
  begin(h, { bind2: null });
  h.feed(success(scram(h), 'user@example.org'));
  h.events();
  const out = h.feed(`<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`);
  assert.match(
    out,
    /^<iq type="set" id="[^"]+"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>quiver<\/resource>/,
  );
});

test('XEP-0484: FAST login with a token (HT-SHA-256-NONE): HMAC(token, "Initiator"), the server proof checked', () => {
  const token = 'WXZzciBwYmFmdmZnZiBqdmd1IGp2cXVyZmdnYmUgZ2IgY2J5dmdw';
  const h = new Harness({
    userAgent: { id: UA_ID },
    fast: { mechanism: 'HT-SHA-256-NONE', token },
  });
  const auth = begin(h, { fast: ['HT-SHA-256-NONE'], bind2: ['urn:xmpp:sm:3'] });
  assert.match(auth, /mechanism="HT-SHA-256-NONE"/);
  assert.ok(auth.includes('<fast xmlns="urn:xmpp:fast:0"/>'), auth);
  const m = /<initial-response>([^<]*)</.exec(auth)!;
  const expected = Buffer.concat([Buffer.from('user\0'), createHmac('sha256', token).update('Initiator').digest()]);
  assert.deepEqual(Buffer.from(m[1]!, 'base64'), expected);
  const responder = createHmac('sha256', token).update('Responder').digest();
  h.feed(
    `<success ${SASL2}><additional-data>${responder.toString('base64')}</additional-data>` +
      `<authorization-identifier>user@example.org/Quiver.1</authorization-identifier><bound xmlns='urn:xmpp:bind:0'/></success>`,
  );
  h.feed(POST_FEATURES);
  const evs = h.events();
  assert.deepEqual(only(evs, 'authenticated'), {
    type: 'authenticated',
    mechanism: 'HT-SHA-256-NONE',
    channelBinding: null,
    sasl2: true,
    bind2: true,
    fast: true,
  });
  assert.equal(only(evs, 'online').jid, 'user@example.org/Quiver.1');

  // A server whose proof does not match the token is not trusted.
  const bad = new Harness({ userAgent: { id: UA_ID }, fast: { mechanism: 'HT-SHA-256-NONE', token } });
  begin(bad, { fast: ['HT-SHA-256-NONE'] });
  bad.feed(
    `<success ${SASL2}><additional-data>${b64('nope')}</additional-data><authorization-identifier>user@example.org</authorization-identifier></success>`,
  );
  assert.equal(only(bad.events(), 'error').error.code, 'server-authentication-failed');
});

test('XEP-0484: a refused token is reported as fast-token-rejected (the caller retries with the password)', () => {
  const h = new Harness({ userAgent: { id: UA_ID }, fast: { mechanism: 'HT-SHA-256-NONE', token: 't' } });
  begin(h, { fast: ['HT-SHA-256-NONE'] });
  h.feed(`<failure ${SASL2}><credentials-expired xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>`);
  const err = only(h.events(), 'error');
  assert.equal(err.error.code, 'fast-token-rejected');
  assert.match(err.error.message, /credentials-expired/);
});

test('XEP-0484: a token whose mechanism the server no longer offers, or without a user-agent id, is not used', () => {
  const stale = new Harness({ userAgent: { id: UA_ID }, fast: { mechanism: 'HT-SHA-256-EXPR', token: 't' } });
  assert.match(begin(stale, { fast: ['HT-SHA-256-NONE'] }), /mechanism="SCRAM-SHA-1"/);
  const noId = new Harness({ fast: { mechanism: 'HT-SHA-256-NONE', token: 't' } });
  assert.match(begin(noId, { fast: ['HT-SHA-256-NONE'] }), /mechanism="SCRAM-SHA-1"/);
});

test('XEP-0484: <request-token/> and the token from <success/> as a fast-token event; an unreadable expiry is not reported', () => {
  const h = new Harness({ userAgent: { id: UA_ID }, requestFastToken: true });
  const auth = begin(h, { fast: ['HT-SHA-256-NONE'] });
  assert.ok(auth.includes('<request-token xmlns="urn:xmpp:fast:0" mechanism="HT-SHA-256-NONE"/>'), auth);
  h.feed(
    success(
      scram(h),
      'user@example.org/Quiver.2',
      `<bound xmlns='urn:xmpp:bind:0'/><token xmlns='urn:xmpp:fast:0' expiry='2026-12-20T14:36:15Z' token='s3cr3t'/>`,
    ),
  );
  assert.deepEqual(only(h.events(), 'fast-token'), {
    type: 'fast-token',
    mechanism: 'HT-SHA-256-NONE',
    token: 's3cr3t',
    expiry: Date.UTC(2026, 11, 20, 14, 36, 15),
  });

  const garbled = new Harness({ userAgent: { id: UA_ID }, requestFastToken: true });
  begin(garbled, { fast: ['HT-SHA-256-NONE'] });
  garbled.feed(
    success(
      scram(garbled),
      'user@example.org/Quiver.2',
      `<bound xmlns='urn:xmpp:bind:0'/><token xmlns='urn:xmpp:fast:0' expiry='next tuesday' token='s3cr3t'/>`,
    ),
  );
  assert.equal(garbled.events().filter((e) => e.type === 'fast-token').length, 0);
  assert.equal(parseDateTime('2020-03-12T14:36:15.5+01:00'), Date.UTC(2020, 2, 12, 13, 36, 15, 500));
  assert.equal(parseDateTime('2020-13-12T14:36:15Z'), null);
});

test('XEP-0440 + XEP-0484: with tls-exporter the -PLUS mechanism and HT-SHA-256-EXPR are chosen; NONE only without binding', () => {
  const exporter = Uint8Array.from({ length: 32 }, (_, i) => i);
  const h = new Harness({
    channelBinding: { type: 'tls-exporter', data: exporter },
    userAgent: { id: UA_ID },
    requestFastToken: true,
  });
  const auth = begin(h, {
    mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'],
    cb: ['tls-server-end-point', 'tls-exporter'],
    fast: ['HT-SHA-256-NONE', 'HT-SHA-256-EXPR'],
  });
  assert.match(auth, /mechanism="SCRAM-SHA-256-PLUS"/);
  assert.equal(payload(auth, 'initial-response'), `p=tls-exporter,,n=user,r=${NONCE}`);
  assert.ok(auth.includes('mechanism="HT-SHA-256-EXPR"'), auth);

  // A FAST login with an EXPR token binds the exporter into the HMAC.
  const fast = new Harness({
    channelBinding: { type: 'tls-exporter', data: exporter },
    userAgent: { id: UA_ID },
    fast: { mechanism: 'HT-SHA-256-EXPR', token: 'tok' },
  });
  const fastAuth = begin(fast, { fast: ['HT-SHA-256-NONE', 'HT-SHA-256-EXPR'] });
  const proof = Buffer.from(/<initial-response>([^<]*)</.exec(fastAuth)![1]!, 'base64').subarray(5);
  assert.deepEqual(
    proof,
    createHmac('sha256', 'tok')
      .update(Buffer.concat([Buffer.from('Initiator'), exporter]))
      .digest(),
  );

  // XEP-0440 lists only a type we lack (and not tls-server-end-point): tampering, refused.
  const odd = new Harness({ channelBinding: { type: 'tls-exporter', data: exporter } });
  begin(odd, { mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], cb: ['tls-unique'] });
  assert.equal(only(odd.events(), 'error').error.code, 'no-acceptable-mechanism');
});

test('XEP-0198 inline in SASL2: <resume/> in <authenticate/>; <resumed/> in <success/> resumes and resends', () => {
  const previous = {
    id: 'old-sm',
    jid: 'user@example.org/Quiver.old',
    inboundH: 7,
    outboundH: 3,
    unacked: [
      { id: 'm4', xml: `<message to="a@example.org" id="m4"><body>4</body></message>` },
      { id: 'm5', xml: `<message to="a@example.org" id="m5"><body>5</body></message>` },
    ],
    location: null,
    max: null,
  };
  const h = new Harness({ streamManagement: { resume: true, previous } });
  const auth = begin(h);
  assert.ok(auth.includes('<resume xmlns="urn:xmpp:sm:3" h="7" previd="old-sm"/>'), auth);
  assert.ok(auth.includes('<bind xmlns="urn:xmpp:bind:0">'), 'Bind 2 as well, for a failed resumption');
  const out = h.feed(success(scram(h), 'user@example.org/Quiver.old', `<resumed ${SM} previd='old-sm' h='4'/>`));
  assert.equal(out, previous.unacked[1]!.xml, 'm4 was acknowledged by h=4; m5 is resent at once');
  const evs = h.events();
  assert.deepEqual(kinds(evs), ['authenticated', 'sm-acked', 'resumed']);
  assert.equal(only(evs, 'resumed').jid, 'user@example.org/Quiver.old');
  assert.equal(h.machine.state, 'online');
  // Prosody 13 goes on at once: its <r/> and a queued message come before the features of §2.5,
  // which are then read and dropped (once).
  assert.equal(h.feed(`<r ${SM}/>`), `<a ${SM} h='7'/>`);
  h.feed(
    `<message from='a@example.org/x' to='user@example.org/Quiver.old' type='chat' id='q1'><body>queued</body></message>`,
  );
  assert.equal(h.feed(POST_FEATURES), '');
  // Those features describe the authenticated stream: the session goes by them from now on.
  assert.deepEqual(kinds(h.events()), ['sm-ack-sent', 'message', 'features-changed']);
  assert.equal(h.machine.state, 'online');
});

test('XEP-0198 inline in SASL2: <failed/> then the Bind 2 session of the same request, SM enabled inline', () => {
  const previous = {
    id: 'old-sm',
    jid: 'user@example.org/Quiver.old',
    inboundH: 1,
    outboundH: 0,
    unacked: [{ id: 'm1', xml: `<message to="a@example.org" id="m1"><body>1</body></message>` }],
    location: null,
    max: null,
  };
  const h = new Harness({ streamManagement: { resume: true, previous } });
  begin(h);
  h.feed(
    success(
      scram(h),
      'user@example.org/Quiver.new',
      `<failed ${SM}><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>` +
        `<bound xmlns='urn:xmpp:bind:0'><enabled ${SM} id='new-sm' resume='1'/></bound>`,
    ),
  );
  assert.equal(h.feed(POST_FEATURES), '');
  const evs = h.events();
  assert.deepEqual(kinds(evs), ['authenticated', 'resume-failed', 'online', 'sm-enabled']);
  const failed = only(evs, 'resume-failed');
  assert.equal(failed.condition, 'item-not-found');
  assert.deepEqual(
    failed.unacked.map((u) => u.id),
    ['m1'],
  );
  assert.equal(only(evs, 'online').jid, 'user@example.org/Quiver.new');
  assert.equal(only(evs, 'sm-enabled').id, 'new-sm');
});

test('XEP-0198: a former stream and no <sm/> in SASL2 <inline/>: no Bind 2; <resume/> after the features', () => {
  const previous = {
    id: 'old',
    jid: 'user@example.org/r',
    inboundH: 0,
    outboundH: 0,
    unacked: [],
    location: null,
    max: null,
  };
  const h = new Harness({ streamManagement: { resume: true, previous } });
  const auth = begin(h, { sm: false });
  assert.doesNotMatch(auth, /<bind|<resume/);
  h.feed(success(scram(h), 'user@example.org'));
  assert.equal(h.feed(POST_FEATURES), `<resume xmlns="urn:xmpp:sm:3" h="0" previd="old"/>`);
});

test('XEP-0474: an "h" in server-first that does not match the advertised lists is a downgrade; a matching one passes', () => {
  const h = new Harness();
  begin(h, { bind2: null });
  const serverFirst = `r=${NONCE}SERVER,s=${SALT.toString('base64')},i=4096,h=${b64('x'.repeat(20))}`;
  assert.equal(
    h.feed(`<challenge ${SASL2}>${b64(serverFirst)}</challenge>`).includes('<response'),
    false,
    'no response is sent',
  );
  const err = only(h.events(), 'error');
  assert.equal(err.error.code, 'downgrade-detected');
  assert.match(err.error.message, /XEP-0474/);

  const ok = new Harness();
  begin(ok, { bind2: null, cb: ['tls-exporter', 'tls-server-end-point'] });
  // §3.1: mechanisms sorted, joined by 0x1E; 0x1F; channel-binding types sorted, joined by 0x1E.
  const expected = createHash('sha1')
    .update('PLAIN\x1eSCRAM-SHA-1\x1ftls-exporter\x1etls-server-end-point')
    .digest('base64');
  assert.equal(
    downgradeHash(
      { mechanisms: ['SCRAM-SHA-1', 'PLAIN'], channelBindingTypes: ['tls-server-end-point', 'tls-exporter'] },
      'sha1',
    ),
    expected,
  );
  ok.feed(success(scram(ok, `,h=${expected}`), 'user@example.org'));
  assert.deepEqual(kinds(ok.events()), ['authenticated']);
});

test('XEP-0474 on RFC 6120 SASL too: a mismatching "h" stops the legacy exchange', () => {
  const h = new Harness({ sasl2: false });
  const auth = begin(h);
  assert.match(auth, /^<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>/);
  const serverFirst = `r=${NONCE}SERVER,s=${SALT.toString('base64')},i=4096,h=AAAA`;
  h.feed(`<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${b64(serverFirst)}</challenge>`);
  assert.equal(only(h.events(), 'error').error.code, 'downgrade-detected');
});

test('an old server without SASL2 gets RFC 6120 SASL, exactly as before', () => {
  const h = new Harness({ userAgent: { id: UA_ID }, requestFastToken: true, carbons: true });
  h.start();
  const out = h.feed(
    serverHeader('s1') +
      `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`,
  );
  assert.equal(
    out,
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>${b64(`n,,n=user,r=${NONCE}`)}</auth>`,
  );
});

test('review: an application-specific element in <failure/> does not hide the RFC 6120 condition', () => {
  const h = new Harness();
  begin(h, { bind2: null });
  h.feed(
    `<failure ${SASL2}><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><optional-application-specific xmlns='urn:example:app'/><text>Wrong password</text></failure>`,
  );
  assert.equal(only(h.events(), 'error').error.code, 'not-authorized');
});

test('review: a FAST success without the server proof is refused, and its token not kept', () => {
  const token = 'WXZzciBwYmFmdmZnZiBqdmd1IGp2cXVyZmdnYmUgZ2IgY2J5dmdw';
  const h = new Harness({
    userAgent: { id: UA_ID },
    fast: { mechanism: 'HT-SHA-256-NONE', token },
    requestFastToken: true,
  });
  begin(h, { fast: ['HT-SHA-256-NONE'] });
  h.feed(
    `<success ${SASL2}><authorization-identifier>user@example.org</authorization-identifier>` +
      `<token xmlns='urn:xmpp:fast:0' expiry='2099-01-01T00:00:00Z' token='stolen'/></success>`,
  );
  const evs = h.events();
  assert.equal(only(evs, 'error').error.code, 'server-authentication-failed');
  assert.ok(!evs.some((e) => e.type === 'fast-token'), 'no token from an unproven server');
});

test('review: a bind result naming another account is refused', () => {
  const h = new Harness();
  begin(h, { bind2: null });
  h.feed(success(scram(h), 'user@example.org'));
  const out = h.feed(`<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`);
  const id = /id="([^"]+)"/.exec(out)![1]!;
  h.events();
  h.feed(
    `<iq type='result' id='${id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>mallory@example.org/x</jid></bind></iq>`,
  );
  assert.equal(only(h.events(), 'error').error.code, 'bind-failed');
  assert.notEqual(h.machine.state, 'online');
});

test('review: a resumption answer outside <success/> ends the stream cleanly (it used to throw in the socket callback)', () => {
  const previous = {
    id: 'old-sm',
    jid: 'user@example.org/Quiver.old',
    inboundH: 1,
    outboundH: 0,
    unacked: [],
    location: null,
    max: null,
  };
  const h = new Harness({ streamManagement: { resume: true, previous } });
  begin(h);
  // The server says nothing about the resumption inside <success/>, then sends <failed/> on its own.
  h.feed(success(scram(h), 'user@example.org/Quiver.new', `<bound xmlns='urn:xmpp:bind:0'/>`));
  assert.doesNotThrow(() =>
    h.feed(`<failed ${SM}><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`),
  );
  const evs = h.events();
  assert.equal(only(evs, 'error').error.code, 'sm-protocol-violation');
  assert.notEqual(h.machine.state, 'online');
});
