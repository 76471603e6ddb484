/**
 * Once online: roster results and pushes (RFC 6121 §2), presence (§4), messages (§5), IQ handling
 * (RFC 6120 §8.4, XEP-0199), stanza errors, limits, chunking and fuzzing of the whole machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, ID_PREFIX, b64, kinds, seededRandom, serverHeader } from './harness.ts';

const SASL = `xmlns='urn:ietf:params:xml:ns:xmpp-sasl'`;
const BIND = `xmlns='urn:ietf:params:xml:ns:xmpp-bind'`;
const STANZAS = `xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'`;

/** The server's whole side of a PLAIN login on a TLS stream (no SCRAM, so it is cheap to replay). */
const LOGIN =
  `${serverHeader('s1')}<stream:features><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>` +
  `<success ${SASL}/>` +
  `${serverHeader('s2')}<stream:features><bind ${BIND}/></stream:features>` +
  `<iq type='result' id='${ID_PREFIX}1'><bind ${BIND}><jid>user@example.org/quiver</jid></bind></iq>`;

function online(options: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  const h = new Harness(options);
  h.start();
  h.feed(LOGIN);
  assert.deepEqual(kinds(h.events()), ['authenticated', 'online']);
  return h;
}

test('roster push from the account (or no from) is accepted and answered with a result', () => {
  const h = online();
  const out = h.feed(
    `<iq type='set' id='push1'><query xmlns='jabber:iq:roster' ver='v2'><item jid='romeo@example.net' subscription='remove'/></query></iq>`,
  );
  assert.equal(out, '<iq type="result" id="push1"/>');
  assert.deepEqual(h.events(), [
    {
      type: 'roster-push',
      ver: 'v2',
      item: { jid: 'romeo@example.net', name: null, subscription: 'remove', ask: false, groups: [] },
    },
  ]);

  const out2 = h.feed(
    `<iq type='set' id='push2' from='USER@example.org'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' name='Nurse'/></query></iq>`,
  );
  assert.equal(out2, '<iq type="result" id="push2" to="USER@example.org"/>');
  assert.equal(h.events()[0]?.type, 'roster-push');
});

test('RFC 6121 §2.1.6: roster pushes from anyone else are ignored', () => {
  const h = online();
  for (const from of ['mallory@example.org', 'user@example.org/other', 'example.org', 'user@evil.example']) {
    const out = h.feed(
      `<iq type='set' id='x' from='${from}'><query xmlns='jabber:iq:roster'><item jid='mallory@evil.example' subscription='both'/></query></iq>`,
    );
    assert.equal(out, '', from);
    assert.deepEqual(h.events(), [], from);
  }
});

test('a roster push with two items is answered with bad-request', () => {
  const h = online();
  const out = h.feed(
    `<iq type='set' id='p'><query xmlns='jabber:iq:roster'><item jid='a@b'/><item jid='c@d'/></query></iq>`,
  );
  assert.equal(
    out,
    `<iq type="error" id="p"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
  );
  assert.deepEqual(h.events(), []);
});

test('roster versioning: ver sent only when advertised; empty result means unchanged', () => {
  const h = online();
  const id = h.machine.requestRoster('v1');
  assert.equal(
    h.out(),
    `<iq type="get" id="${id}"><query xmlns="jabber:iq:roster"/></iq>`,
    'server did not advertise rosterver',
  );
  h.feed(`<iq type='result' id='${id}'/>`);
  assert.deepEqual(h.events(), [{ type: 'roster', items: [], ver: null, unchanged: false }]);
});

test('setRosterItem builds add and remove requests; errors come back as stanza-error', () => {
  const h = online();
  const id = h.machine.setRosterItem({ jid: 'juliet@example.com', name: 'Juliet', groups: ['Friends', 'Lovers'] });
  assert.equal(
    h.out(),
    `<iq type="set" id="${id}"><query xmlns="jabber:iq:roster"><item jid="juliet@example.com" name="Juliet"><group>Friends</group><group>Lovers</group></item></query></iq>`,
  );
  h.feed(`<iq type='result' id='${id}'/>`);
  assert.deepEqual(h.events(), []);
  const rm = h.machine.setRosterItem({ jid: 'juliet@example.com', remove: true });
  assert.equal(
    h.out(),
    `<iq type="set" id="${rm}"><query xmlns="jabber:iq:roster"><item jid="juliet@example.com" subscription="remove"/></query></iq>`,
  );
  h.feed(
    `<iq type='error' id='${rm}'><error type='cancel'><item-not-found ${STANZAS}/><text ${STANZAS}>no such item</text></error></iq>`,
  );
  assert.deepEqual(h.events(), [
    { type: 'stanza-error', id: rm, condition: 'item-not-found', text: 'no such item', stanzaKind: 'iq', from: null },
  ]);
});

test('XEP-0199 ping is answered; other get/set IQs get service-unavailable (RFC 6120 §8.4)', () => {
  const h = online();
  assert.equal(
    h.feed(`<iq type='get' id='ping1' from='example.org'><ping xmlns='urn:xmpp:ping'/></iq>`),
    '<iq type="result" id="ping1" to="example.org"/>',
  );
  assert.equal(
    h.feed(`<iq type='get' id='v1' from='romeo@example.net/orchard'><query xmlns='jabber:iq:version'/></iq>`),
    '<iq type="error" id="v1" to="romeo@example.net/orchard"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>',
  );
  assert.equal(
    h
      .feed(`<iq type='set' id='s1' from='example.org'><unknown xmlns='urn:example'/></iq>`)
      .includes('service-unavailable'),
    true,
  );
  assert.equal(h.feed(`<iq type='result' id='not-ours'/>`), '', 'unknown results are ignored');
  assert.deepEqual(h.events(), []);
});

test('messages: fields, defaults, chat and error messages', () => {
  const h = online();
  h.feed(
    `<message from='juliet@example.com/balcony' to='user@example.org/quiver' type='chat' id='m1'><body>Art thou not Romeo &amp; a Montague? 😀</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
  );
  const [m] = h.events();
  assert.ok(m?.type === 'message');
  assert.deepEqual(
    { ...m, stanza: undefined },
    {
      type: 'message',
      from: 'juliet@example.com/balcony',
      to: 'user@example.org/quiver',
      id: 'm1',
      originId: null,
      serverId: null,
      messageType: 'chat',
      body: 'Art thou not Romeo & a Montague? 😀',
      delay: null,
      receiptRequested: false,
      receiptFor: null,
      chatState: 'active',
      carbon: null,
      archive: null,
      stanza: undefined,
    },
  );
  assert.ok(m.stanza.getChild('active', 'http://jabber.org/protocol/chatstates'), 'raw stanza kept for XEPs');

  h.feed(`<message><x xmlns='urn:example'/></message>`);
  const [n] = h.events();
  assert.ok(n?.type === 'message');
  assert.equal(n.from, 'user@example.org', 'no from: the account itself (RFC 6120 §8.1.2.1)');
  assert.equal(n.to, 'user@example.org/quiver');
  assert.equal(n.messageType, 'normal');
  assert.equal(n.body, null);
  assert.equal(n.id, null);

  h.feed(
    `<message type='error' id='m9' from='nobody@example.com'><error type='cancel'><service-unavailable ${STANZAS}/></error></message>`,
  );
  assert.deepEqual(h.events(), [
    {
      type: 'stanza-error',
      id: 'm9',
      condition: 'service-unavailable',
      text: null,
      stanzaKind: 'message',
      from: 'nobody@example.com',
    },
  ]);
});

test('generated message ids are unique', () => {
  const h = online();
  const ids = new Set<string>();
  for (let i = 0; i < 100; i++) ids.add(h.machine.sendMessage({ to: 'juliet@example.com', body: String(i) }));
  assert.equal(ids.size, 100);
  assert.throws(() => h.machine.sendMessage({ to: '', body: 'x' }), /not a JID/);
});

test('presence parsing: show, status, best-effort priority, types', () => {
  const h = online();
  h.feed(
    `<presence from='juliet@example.com/balcony'><show>dnd</show><status>busy</status><priority>-5</priority></presence>` +
      `<presence from='juliet@example.com/chamber'><priority>999</priority></presence>` +
      `<presence from='juliet@example.com/garden'><show>bogus</show><priority>abc</priority></presence>` +
      `<presence from='juliet@example.com/balcony' type='unavailable'/>` +
      `<presence from='romeo@example.net' type='subscribe'/>` +
      `<presence from='romeo@example.net' type='probe'/>` +
      `<presence from='romeo@example.net' type='error'><error type='cancel'><remote-server-not-found ${STANZAS}/></error></presence>`,
  );
  const evs = h.events().map((e) => (e.type === 'presence' ? { ...e, stanza: undefined } : e));
  const p = (from: string, presenceType: string, show: string | null, status: string | null, priority: number) => ({
    type: 'presence',
    from,
    presenceType,
    show,
    status,
    priority,
    stanza: undefined,
  });
  assert.deepEqual(evs, [
    p('juliet@example.com/balcony', 'available', 'dnd', 'busy', -5),
    p('juliet@example.com/chamber', 'available', 'available', null, 0),
    p('juliet@example.com/garden', 'available', 'available', null, 0),
    p('juliet@example.com/balcony', 'unavailable', null, null, 0),
    p('romeo@example.net', 'subscribe', null, null, 0),
    {
      type: 'stanza-error',
      id: null,
      condition: 'remote-server-not-found',
      text: null,
      stanzaKind: 'presence',
      from: 'romeo@example.net',
    },
    p('romeo@example.net', 'error', null, null, 0),
  ]);
});

test('presence commands', () => {
  const h = online();
  h.machine.sendPresence({ type: 'subscribe', to: 'juliet@example.com' });
  assert.equal(h.out(), '<presence type="subscribe" to="juliet@example.com"/>');
  assert.throws(() => h.machine.sendPresence({ priority: 200 }), RangeError);
});

test('while online: server stream error, transport loss, oversized stanza', () => {
  const a = online();
  a.feed(`<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`);
  assert.deepEqual(kinds(a.events()), ['error:conflict', 'closed']);

  const b = online();
  b.machine.handleTransportClosed(b.now);
  assert.deepEqual(kinds(b.events()), ['error:transport-closed', 'closed']);

  const c = online({ limits: { maxStanzaBytes: 512 } });
  const out = c.feed(`<message><body>${'x'.repeat(600)}</body></message>`);
  assert.equal(
    out,
    `<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`,
  );
  const [err, closed] = c.events();
  assert.ok(err?.type === 'error');
  assert.equal(err.error.code, 'stanza-too-big');
  assert.match(err.error.message, /larger than 512 bytes/);
  assert.deepEqual(closed, { type: 'closed', error: err.error }, 'cannot parse further: closed at once');

  const d = online({ limits: { maxDepth: 4 } });
  d.feed(`<message><a><b><c><d/></c></b></a></message>`);
  assert.deepEqual(kinds(d.events()), ['error:policy-violation', 'closed']);
});

const RESTRICTED_ONLINE = [
  `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>`,
  `<message><body>&a;</body></message>`,
  `<?xml-stylesheet href='x'?>`,
  `<message><!-- c --></message>`,
];
for (const input of RESTRICTED_ONLINE) {
  test(`restricted XML while online: ${input}`, () => {
    const h = online();
    const out = h.feed(input);
    assert.equal(
      out,
      `<stream:error><restricted-xml xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`,
    );
    assert.deepEqual(kinds(h.events()), ['error:restricted-xml', 'closed']);
  });
}

test('garbage gives an error event, never a throw', () => {
  const h = online();
  h.feed('\u0000\u0001garbage<<<');
  assert.deepEqual(kinds(h.events()), ['error:not-well-formed', 'closed']);
  h.feed('more');
  assert.deepEqual(h.events(), []);
});

// A small transcript, split at every byte boundary: same output, same events.
test('chunked input at every byte boundary gives the same transcript', () => {
  const server = new TextEncoder().encode(
    LOGIN +
      `<message from='juliet@example.com/b' id='é1'><body>héllo 😀</body></message>` +
      `<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>` +
      `<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='a@b'/></query></iq>` +
      `</stream:stream>`,
  );
  const run = (chunks: Uint8Array[]) => {
    const h = new Harness();
    let out = h.start();
    for (const c of chunks) out += h.feed(c);
    return { out, events: JSON.stringify(h.events(), (k, v) => (k === 'stanza' ? undefined : v)) };
  };
  const whole = run([server]);
  const evs = JSON.parse(whole.events) as { type: string; error?: { code: string } }[];
  assert.deepEqual(
    evs.map((e) => (e.error ? `${e.type}:${e.error.code}` : e.type)),
    ['authenticated', 'online', 'message', 'roster-push', 'error:peer-closed', 'closed:peer-closed'],
  );
  assert.deepEqual(evs[2], {
    type: 'message',
    from: 'juliet@example.com/b',
    to: 'user@example.org/quiver',
    id: 'é1',
    originId: null,
    serverId: null,
    messageType: 'normal',
    body: 'héllo 😀',
    delay: null,
    receiptRequested: false,
    receiptFor: null,
    chatState: null,
    carbon: null,
    archive: null,
  });
  assert.match(whole.out, /<iq type="result" id="p1"\/><iq type="result" id="r1"\/><\/stream:stream>$/);
  for (let i = 1; i < server.length; i++) {
    assert.deepEqual(run([server.subarray(0, i), server.subarray(i)]), whole, `split at ${i}`);
  }
  assert.deepEqual(run([...server].map((b) => Uint8Array.of(b))), whole, 'one byte at a time');
});

test('the SCRAM transcript also survives one-byte chunks', () => {
  const h = new Harness();
  h.start();
  const SERVER_FIRST = 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096';
  const input =
    `${serverHeader('s1')}<stream:features><mechanisms ${SASL}><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>` +
    `<challenge ${SASL}>${b64(SERVER_FIRST)}</challenge><success ${SASL}>${b64('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')}</success>`;
  for (const b of new TextEncoder().encode(input)) h.feed(Uint8Array.of(b));
  assert.deepEqual(kinds(h.events()), ['authenticated']);
});

test('fuzz: random and mutated server bytes never throw out of the machine', () => {
  const rnd = seededRandom(20261122);
  const valid = new TextEncoder().encode(
    LOGIN + `<message from='a@b/c'><body>hi</body></message><presence from='a@b/c'/>`,
  );
  for (let n = 0; n < 300; n++) {
    const h = new Harness({ limits: { maxStanzaBytes: 2048, maxDepth: 8 } });
    h.start();
    let input: Uint8Array;
    if (n % 3 === 0) {
      input = Uint8Array.from({ length: 1 + Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256));
    } else {
      input = Uint8Array.from(valid);
      for (let k = 0; k < 1 + (n % 4); k++) input[Math.floor(rnd() * input.length)] = Math.floor(rnd() * 256);
    }
    let at = 0;
    while (at < input.length) {
      const len = 1 + Math.floor(rnd() * 64);
      h.feed(input.subarray(at, at + len));
      at += len;
      if (rnd() < 0.05) h.machine.handleTimeout(h.now + 60_000);
    }
    h.machine.handleTransportClosed(h.now);
    const evs = h.events();
    assert.equal(evs.filter((e) => e.type === 'closed').length, 1, 'exactly one closed');
    assert.equal(evs.at(-1)?.type, 'closed', 'closed is last');
    assert.ok(evs.filter((e) => e.type === 'error').length <= 1, 'at most one fatal error');
  }
});

test('characters XML cannot carry are replaced, never sent raw', () => {
  const h = online();
  h.machine.sendMessage({ to: 'juliet@example.com', body: 'a\u0000b\u0007c\uD800d😀', id: 'x' });
  assert.equal(
    h.out(),
    '<message to="juliet@example.com" id="x" type="chat"><body>a\uFFFDb\uFFFDc\uFFFDd😀</body><origin-id xmlns="urn:xmpp:sid:0" id="x"/><request xmlns="urn:xmpp:receipts"/></message>',
  );
});

test('roster versioning when the server advertises it (RFC 6121 §2.6)', () => {
  const h = new Harness();
  h.start();
  h.feed(
    `${serverHeader('s1')}<stream:features><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features><success ${SASL}/>` +
      `${serverHeader('s2')}<stream:features><bind ${BIND}/><ver xmlns='urn:xmpp:features:rosterver'/></stream:features>` +
      `<iq type='result' id='${ID_PREFIX}1'><bind ${BIND}><jid>user@example.org/quiver</jid></bind></iq>`,
  );
  h.events();
  const id = h.machine.requestRoster('v7');
  assert.equal(h.out(), `<iq type="get" id="${id}"><query xmlns="jabber:iq:roster" ver="v7"/></iq>`);
  h.feed(`<iq type='result' id='${id}'/>`);
  assert.deepEqual(h.events(), [{ type: 'roster', items: [], ver: null, unchanged: true }]);
  const full = h.machine.requestRoster('');
  assert.match(h.out(), /ver=""/);
  h.feed(`<iq type='result' id='${full}'><query xmlns='jabber:iq:roster' ver='v8'/></iq>`);
  assert.deepEqual(h.events(), [{ type: 'roster', items: [], ver: 'v8', unchanged: false }]);
});
