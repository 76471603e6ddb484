/**
 * The message extensions in the online session, with literal stanza fixtures: XEP-0184 receipts,
 * XEP-0280 carbons, XEP-0203 delay, XEP-0085 chat states, XEP-0352 CSI and XEP-0313 archive queries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, type Element } from 'ltx';
import { OnlineSession } from '../../../app/xmpp/onlineSession.ts';
import type { StreamEvent } from '../../../app/xmpp/streamEvent.ts';
import type { StreamOutput } from '../../../app/xmpp/streamOutput.ts';

const ACCOUNT = 'user@example.org';
const FWD = `xmlns='urn:xmpp:forward:0'`;
const CLIENT = `xmlns='jabber:client'`;

function session(features: string[] = []): { session: OnlineSession; sent: string[]; events: StreamEvent[] } {
  const sent: string[] = [];
  const events: StreamEvent[] = [];
  const out: StreamOutput = {
    send: (el) => sent.push(el.toString()),
    write: (xml) => sent.push(xml),
    emit: (event) => events.push(event),
  };
  let n = 0;
  const s = new OnlineSession(ACCOUNT, out, () => `id${++n}`);
  s.bound(`${ACCOUNT}/quiver`);
  s.online(features);
  return { session: s, sent, events };
}

const stanza = (xml: string): Element => parse(xml.replace(/^<(\w+)/, `<$1 ${CLIENT}`));

type MessageEvent = Extract<StreamEvent, { type: 'message' }>;
function only(events: StreamEvent[]): Omit<MessageEvent, 'stanza'> {
  assert.equal(
    events.length,
    1,
    JSON.stringify(events, (k, v) => (k === 'stanza' ? undefined : v)),
  );
  const e = events[0]!;
  assert.equal(e.type, 'message');
  const { stanza: _s, ...rest } = e as MessageEvent;
  void _s;
  return rest;
}

test('XEP-0184: chat messages ask for a receipt (not when told not to, not normal ones)', () => {
  const s = session();
  s.session.sendMessage({ to: 'juliet@example.com', body: 'hi', id: 'u-1' });
  s.session.sendMessage({
    to: 'juliet@example.com',
    body: 'hi',
    id: 'u-2',
    requestReceipt: false,
    chatState: 'active',
  });
  s.session.sendMessage({ to: 'juliet@example.com', body: 'hi', id: 'u-3', type: 'normal' });
  assert.deepEqual(s.sent, [
    '<message to="juliet@example.com" id="u-1" type="chat"><body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="u-1"/><request xmlns="urn:xmpp:receipts"/></message>',
    '<message to="juliet@example.com" id="u-2" type="chat"><body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="u-2"/><active xmlns="http://jabber.org/protocol/chatstates"/></message>',
    '<message to="juliet@example.com" id="u-3" type="normal"><body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="u-3"/></message>',
  ]);
});

test('XEP-0184: a request is reported, not answered; sendReceipt acknowledges with a store hint', () => {
  const s = session();
  s.session.handleStanza(
    stanza(
      `<message from='juliet@example.com/balcony' id='m1' type='chat'><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>`,
    ),
  );
  const m = only(s.events);
  assert.equal(m.receiptRequested, true);
  assert.equal(m.receiptFor, null);
  assert.deepEqual(s.sent, [], 'the machine does not answer by itself');
  const id = s.session.sendReceipt('juliet@example.com/balcony', 'm1');
  assert.deepEqual(s.sent, [
    `<message to="juliet@example.com/balcony" id="${id}" type="chat"><received xmlns="urn:xmpp:receipts" id="m1"/><store xmlns="urn:xmpp:hints"/></message>`,
  ]);
});

test('XEP-0184: no receipt is asked for without an id, without a body, or with a <received/> (loops)', () => {
  const s = session();
  for (const xml of [
    `<message from='j@example.com/b' type='chat'><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>`,
    `<message from='j@example.com/b' id='m2' type='chat'><request xmlns='urn:xmpp:receipts'/></message>`,
    `<message from='j@example.com/b' id='m3' type='chat'><received xmlns='urn:xmpp:receipts' id='u-1'/><request xmlns='urn:xmpp:receipts'/></message>`,
  ])
    s.session.handleStanza(stanza(xml));
  assert.deepEqual(
    s.events.map((e) => e.type === 'message' && [e.receiptRequested, e.receiptFor, e.body]),
    [
      [false, null, 'hi'],
      [false, null, null],
      [false, 'u-1', null],
    ],
  );
});

test('a plain message reports every extension field as absent', () => {
  const s = session();
  s.session.handleStanza(stanza(`<message from='j@example.com/b' id='m1' type='chat'><body>hi</body></message>`));
  assert.deepEqual(only(s.events), {
    type: 'message',
    from: 'j@example.com/b',
    to: `${ACCOUNT}/quiver`,
    id: 'm1',
    originId: null,
    serverId: null,
    messageType: 'chat',
    body: 'hi',
    delay: null,
    receiptRequested: false,
    receiptFor: null,
    chatState: null,
    carbon: null,
    archive: null,
  });
});

test('XEP-0203: an offline message carries the time it was sent', () => {
  const s = session();
  s.session.handleStanza(
    stanza(
      `<message from='j@example.com/b' id='m1' type='chat'><body>hi</body><delay xmlns='urn:xmpp:delay' from='example.org' stamp='2002-09-10T23:08:25Z'/></message>`,
    ),
  );
  assert.equal(
    only(s.events).delay,
    Date.UTC(2002, 8, 10, 23, 8, 25, 999),
    'a stamp to the second: its last millisecond',
  );
});

test('XEP-0085: chat states in, standalone notifications out with a no-store hint', () => {
  const s = session();
  s.session.handleStanza(
    stanza(
      `<message from='j@example.com/b' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
    ),
  );
  s.session.handleStanza(
    stanza(
      `<message from='j@example.com/b' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/><paused xmlns='http://jabber.org/protocol/chatstates'/></message>`,
    ),
  );
  s.session.handleStanza(
    stanza(
      `<message from='j@example.com/b' type='chat'><typing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
    ),
  );
  assert.deepEqual(
    s.events.map((e) => e.type === 'message' && [e.chatState, e.body]),
    [
      ['composing', null],
      [null, null],
      [null, null],
    ],
  );
  const id = s.session.sendChatState('j@example.com', 'paused');
  assert.deepEqual(s.sent, [
    `<message to="j@example.com" id="${id}" type="chat"><paused xmlns="http://jabber.org/protocol/chatstates"/><no-store xmlns="urn:xmpp:hints"/></message>`,
  ]);
  assert.throws(() => s.session.sendChatState('j@example.com', 'typing' as never), /unknown chat state/);
});

test('XEP-0280: enable carbons, then the result and an error become events', () => {
  const s = session();
  const id = s.session.enableCarbons();
  assert.deepEqual(s.sent, [`<iq type="set" id="${id}"><enable xmlns="urn:xmpp:carbons:2"/></iq>`]);
  s.session.handleStanza(stanza(`<iq type='result' id='${id}'/>`));
  const id2 = s.session.enableCarbons();
  s.session.handleStanza(
    stanza(
      `<iq type='error' id='${id2}'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    ),
  );
  assert.deepEqual(s.events, [
    { type: 'carbons-enabled', id },
    { type: 'carbons-failed', id: id2, condition: 'not-allowed' },
  ]);
});

const receivedCarbon = (from: string): string =>
  `<message from='${from}' to='${ACCOUNT}/quiver' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded ${FWD}><message ${CLIENT} from='juliet@example.com/balcony' to='${ACCOUNT}/phone' id='c1' type='chat'><body>hello phone</body><request xmlns='urn:xmpp:receipts'/></message></forwarded></received></message>`;

test('XEP-0280: a received carbon is reported as the inner message, once', () => {
  const s = session();
  s.session.handleStanza(stanza(receivedCarbon(ACCOUNT)));
  const m = only(s.events);
  assert.equal(m.carbon, 'received');
  assert.equal(m.from, 'juliet@example.com/balcony');
  assert.equal(m.to, `${ACCOUNT}/phone`);
  assert.equal(m.id, 'c1');
  assert.equal(m.body, 'hello phone');
  assert.equal(m.receiptRequested, false, 'the device that received it answers, not us');
});

test('XEP-0280: a sent carbon is ours from another device; its delay counts', () => {
  const s = session();
  s.session.handleStanza(
    stanza(
      `<message from='${ACCOUNT}' to='${ACCOUNT}/quiver' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded ${FWD}><delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/><message ${CLIENT} from='${ACCOUNT}/phone' to='juliet@example.com' id='s1' type='chat'><body>from my phone</body></message></forwarded></sent></message>`,
    ),
  );
  const m = only(s.events);
  assert.equal(m.carbon, 'sent');
  assert.equal(m.from, `${ACCOUNT}/phone`);
  assert.equal(m.to, 'juliet@example.com');
  assert.equal(m.delay, Date.UTC(2020, 0, 1, 0, 0, 0, 999));
});

test('XEP-0280 §11: carbons forged by another JID (or a full JID of ours) are ignored', () => {
  for (const from of ['mallory@evil.example', 'juliet@example.com/balcony', `${ACCOUNT}/other`]) {
    const s = session();
    s.session.handleStanza(stanza(receivedCarbon(from)));
    assert.equal(s.events.length, 1);
    const e = s.events[0]!;
    assert.ok(e.type === 'stanza-ignored', `${from}: ${e.type}`);
    assert.match(e.reason, /XEP-0280 §11/);
    assert.equal(e.from, from);
  }
});

const RESULT = (queryId: string, from = '') =>
  `<message${from ? ` from='${from}'` : ''} id='r1' to='${ACCOUNT}/quiver'><result xmlns='urn:xmpp:mam:2' queryid='${queryId}' id='A-1'><forwarded ${FWD}><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/><message ${CLIENT} to='${ACCOUNT}/balcony' from='romeo@montague.lit/orchard' type='chat' id='o1'><body>Call me but love</body><request xmlns='urn:xmpp:receipts'/></message></forwarded></result></message>`;

test('XEP-0313: the query, its results as messages, the fin as a page', () => {
  const s = session();
  const queryId = s.session.queryArchive({
    after: 'A-0',
    start: Date.UTC(2010, 0, 1),
    max: 50,
    with: 'romeo@montague.lit',
  });
  assert.equal(s.sent.length, 1);
  const iqId = /id="([^"]+)"/.exec(s.sent[0]!)![1]!;
  assert.equal(
    s.sent[0],
    `<iq type="set" id="${iqId}"><query xmlns="urn:xmpp:mam:2" queryid="${queryId}"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field><field var="with"><value>romeo@montague.lit</value></field><field var="start"><value>2010-01-01T00:00:00.000Z</value></field></x><set xmlns="http://jabber.org/protocol/rsm"><max>50</max><after>A-0</after></set></query></iq>`,
  );
  s.session.handleStanza(stanza(RESULT(queryId)));
  s.session.handleStanza(stanza(RESULT(queryId, ACCOUNT)));
  assert.equal(s.events.length, 2);
  const m = only(s.events.slice(0, 1));
  assert.deepEqual(m.archive, { queryId, id: 'A-1' });
  assert.equal(m.serverId, 'A-1');
  assert.equal(m.from, 'romeo@montague.lit/orchard');
  assert.equal(m.carbon, null);
  // A stamp to the second, in an archive result: its first millisecond (the catch-up places it).
  assert.equal(m.delay, Date.UTC(2010, 6, 10, 23, 8, 25, 0));
  assert.equal(m.receiptRequested, false, 'XEP-0184 §5.5: no receipts for archived messages');
  s.session.handleStanza(
    stanza(
      `<iq type='result' id='${iqId}'><fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'><first index='0'>A-1</first><last>A-1</last><count>1</count></set></fin></iq>`,
    ),
  );
  assert.deepEqual(s.events[2], { type: 'archive-page', queryId, complete: true, first: 'A-1', last: 'A-1', count: 1 });
  s.session.handleStanza(stanza(RESULT(queryId)));
  assert.equal(s.events[3]?.type, 'stanza-ignored', 'a result after the fin is no longer solicited');
});

test('XEP-0313 §8.2: results with a wrong queryid or from someone else are ignored', () => {
  const s = session();
  const queryId = s.session.queryArchive({ max: 10 });
  s.session.handleStanza(stanza(RESULT('not-ours')));
  s.session.handleStanza(stanza(RESULT(queryId, 'mallory@evil.example')));
  s.session.handleStanza(stanza(RESULT(queryId, `${ACCOUNT}/phone`)));
  assert.deepEqual(
    s.events.map((e) => e.type),
    ['stanza-ignored', 'stanza-ignored', 'stanza-ignored'],
  );
});

test('XEP-0313: our own archived messages are sent ones; an error ends the query', () => {
  const s = session();
  const queryId = s.session.queryArchive({ max: 10 });
  const iqId = /id="([^"]+)"/.exec(s.sent[0]!)![1]!;
  s.session.handleStanza(
    stanza(
      `<message><result xmlns='urn:xmpp:mam:2' queryid='${queryId}' id='A-2'><forwarded ${FWD}><message ${CLIENT} from='${ACCOUNT}/phone' to='romeo@montague.lit' type='chat'><body>mine</body></message></forwarded></result></message>`,
    ),
  );
  assert.equal(only(s.events).carbon, 'sent');
  s.session.handleStanza(
    stanza(
      `<iq type='error' id='${iqId}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    ),
  );
  assert.deepEqual(s.events[1], { type: 'archive-failed', queryId, condition: 'item-not-found' });
});

test('XEP-0352: CSI only when advertised, and only on a change', () => {
  const without = session();
  assert.equal(without.session.setClientState('inactive'), false);
  assert.deepEqual(without.sent, []);
  const s = session(['urn:xmpp:csi:0']);
  assert.equal(s.session.setClientState('active'), false, 'a stream begins active');
  assert.equal(s.session.setClientState('inactive'), true);
  assert.equal(s.session.setClientState('inactive'), false);
  assert.equal(s.session.setClientState('active'), true);
  assert.deepEqual(s.sent, ['<inactive xmlns="urn:xmpp:csi:0"/>', '<active xmlns="urn:xmpp:csi:0"/>']);
});
