/**
 * The message extensions through the whole machine: commands only once online, CSI only when the
 * server's features offered it, carbons and archive results reported as their inner messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, ID_PREFIX, kinds, serverHeader } from './harness.ts';

const SASL = `xmlns='urn:ietf:params:xml:ns:xmpp-sasl'`;
const BIND = `xmlns='urn:ietf:params:xml:ns:xmpp-bind'`;
const FWD = `xmlns='urn:xmpp:forward:0'`;

function online(extraFeatures = ''): Harness {
  const h = new Harness();
  h.start();
  h.feed(
    `${serverHeader('s1')}<stream:features><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>` +
      `<success ${SASL}/>` +
      `${serverHeader('s2')}<stream:features><bind ${BIND}/>${extraFeatures}</stream:features>` +
      `<iq type='result' id='${ID_PREFIX}1'><bind ${BIND}><jid>user@example.org/quiver</jid></bind></iq>`,
  );
  assert.deepEqual(kinds(h.events()), ['authenticated', 'online']);
  return h;
}

test('XEP-0352: setClientState sends only when <csi/> was offered, and only on a change', () => {
  const plain = online();
  assert.equal(plain.machine.setClientState('inactive'), false);
  assert.equal(plain.out(), '');
  const h = online(`<csi xmlns='urn:xmpp:csi:0'/>`);
  assert.equal(h.machine.setClientState('inactive'), true);
  assert.equal(h.machine.setClientState('inactive'), false);
  assert.equal(h.out(), `<inactive xmlns="urn:xmpp:csi:0"/>`);
});

test('XEP-0280 through the machine: enable, then a carbon is one message event, a forged one none', () => {
  const h = online();
  const id = h.machine.enableCarbons();
  assert.equal(h.out(), `<iq type="set" id="${id}"><enable xmlns="urn:xmpp:carbons:2"/></iq>`);
  h.feed(`<iq type='result' id='${id}'/>`);
  assert.deepEqual(h.events(), [{ type: 'carbons-enabled', id }]);
  const carbon = (from: string) =>
    `<message from='${from}' to='user@example.org/quiver'><received xmlns='urn:xmpp:carbons:2'><forwarded ${FWD}><message xmlns='jabber:client' from='juliet@example.com/b' to='user@example.org/phone' type='chat' id='c1'><body>hi</body></message></forwarded></received></message>`;
  h.feed(carbon('user@example.org'));
  const [m, ...rest] = h.events();
  assert.deepEqual(rest, []);
  assert.ok(m?.type === 'message');
  assert.equal(m.carbon, 'received');
  assert.equal(m.body, 'hi');
  h.feed(carbon('juliet@example.com'));
  assert.deepEqual(kinds(h.events()), ['stanza-ignored']);
  assert.equal(h.out(), '', 'nothing is answered');
});

test('XEP-0313 through the machine: a page of results, then archive-page', () => {
  const h = online();
  const queryId = h.machine.queryArchive({ after: null, start: null, max: 50 });
  const iqId = /<iq type="set" id="([^"]+)">/.exec(h.out())![1]!;
  h.feed(
    `<message to='user@example.org/quiver'><result xmlns='urn:xmpp:mam:2' queryid='${queryId}' id='A-9'><forwarded ${FWD}><delay xmlns='urn:xmpp:delay' stamp='2026-12-06T16:00:00Z'/><message xmlns='jabber:client' from='juliet@example.com/b' to='user@example.org' type='chat'><body>old</body></message></forwarded></result></message>` +
      `<iq type='result' id='${iqId}'><fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><first>A-9</first><last>A-9</last></set></fin></iq>`,
  );
  const events = h.events();
  assert.deepEqual(kinds(events), ['message', 'archive-page']);
  const m = events[0]!;
  assert.ok(m.type === 'message');
  assert.deepEqual(m.archive, { queryId, id: 'A-9' });
  assert.equal(m.delay, Date.UTC(2026, 11, 6, 16, 0, 0, 0), 'an archive stamp to the second counts from its start');
  assert.deepEqual(events[1], {
    type: 'archive-page',
    queryId,
    complete: false,
    first: 'A-9',
    last: 'A-9',
    count: null,
  });
});

test('the new commands are refused before the session is online', () => {
  const h = new Harness();
  h.start();
  assert.throws(() => h.machine.enableCarbons(), /only valid once online/);
  assert.throws(() => h.machine.queryArchive({ max: 1 }), /only valid once online/);
  assert.throws(() => h.machine.sendReceipt('a@b', 'x'), /only valid once online/);
  assert.equal(h.machine.setClientState('inactive'), false);
});
