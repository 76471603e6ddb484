/**
 * The online session on its own, through a recording StreamOutput: inbound routing (RFC 6120 §8,
 * RFC 6121) and the pending IQs it matches, with literal stanza fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, type Element } from 'ltx';
import { OnlineSession } from '../../../app/xmpp/onlineSession.ts';
import type { StreamEvent } from '../../../app/xmpp/streamEvent.ts';
import type { StreamOutput } from '../../../app/xmpp/streamOutput.ts';

/** Records what the session sends and reports; ids are 'id1', 'id2', ... */
function session(): { session: OnlineSession; sent: string[]; events: StreamEvent[] } {
  const sent: string[] = [];
  const events: StreamEvent[] = [];
  const out: StreamOutput = {
    send: (el) => sent.push(el.toString()),
    write: (xml) => sent.push(xml),
    emit: (event) => events.push(event),
  };
  let n = 0;
  return { session: new OnlineSession('user@example.org', out, () => `id${++n}`), sent, events };
}

/** A stanza as the framer hands it over: in the stream's content namespace, jabber:client. */
const stanza = (xml: string): Element => parse(xml.replace(/^<(\w+)/, `<$1 xmlns='jabber:client'`));

test('RFC 6120 §8.4: an IQ get in an unknown namespace is answered with service-unavailable', () => {
  const s = session();
  s.session.handleStanza(
    stanza(`<iq type='get' id='v1' from='romeo@example.net/orchard'><query xmlns='jabber:iq:version'/></iq>`),
  );
  assert.deepEqual(s.sent, [
    '<iq type="error" id="v1" to="romeo@example.net/orchard"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>',
  ]);
  assert.deepEqual(s.events, []);
});

test('elements outside jabber:client and IQs of an unknown type are ignored', () => {
  const s = session();
  s.session.handleStanza(parse(`<r xmlns='urn:xmpp:sm:3'/>`));
  s.session.handleStanza(stanza(`<iq type='bogus' id='b1'><query xmlns='jabber:iq:version'/></iq>`));
  assert.deepEqual(s.sent, []);
  assert.deepEqual(s.events, []);
});

test('a roster result is matched to our request once; the same id again is not ours', () => {
  const s = session();
  s.session.online([]);
  const id = s.session.requestRoster('v1');
  // Without roster versioning advertised, the version is not sent (RFC 6121 §2.6).
  assert.deepEqual(s.sent, [`<iq type="get" id="${id}"><query xmlns="jabber:iq:roster"/></iq>`]);
  const result = `<iq type='result' id='${id}'><query xmlns='jabber:iq:roster' ver='v2'><item jid='juliet@example.com' subscription='both'/></query></iq>`;
  s.session.handleStanza(stanza(result));
  assert.deepEqual(s.events, [
    {
      type: 'roster',
      items: [{ jid: 'juliet@example.com', name: null, subscription: 'both', ask: false, groups: [] }],
      ver: 'v2',
      unchanged: false,
    },
  ]);
  s.session.handleStanza(stanza(result));
  assert.equal(s.events.length, 1, 'a second answer to the same id is ignored');
});

test('RFC 6121 §2.6.3: with roster versioning, an empty result means unchanged', () => {
  const s = session();
  s.session.online(['urn:xmpp:features:rosterver']);
  const id = s.session.requestRoster('v7');
  assert.deepEqual(s.sent, [`<iq type="get" id="${id}"><query xmlns="jabber:iq:roster" ver="v7"/></iq>`]);
  s.session.handleStanza(stanza(`<iq type='result' id='${id}'/>`));
  assert.deepEqual(s.events, [{ type: 'roster', items: [], ver: null, unchanged: true }]);
});

test('after end() no pending IQ is matched any more', () => {
  const s = session();
  s.session.online([]);
  const id = s.session.requestRoster();
  s.session.end();
  s.session.handleStanza(stanza(`<iq type='result' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`));
  assert.deepEqual(s.events, []);
});

test('once bound, a message without "to" is addressed to the bound JID', () => {
  const s = session();
  s.session.handleStanza(stanza(`<message from='juliet@example.com/balcony' id='m1'><body>hi</body></message>`));
  s.session.bound('user@example.org/quiver');
  s.session.handleStanza(stanza(`<message from='juliet@example.com/balcony' id='m2'><body>hi</body></message>`));
  assert.deepEqual(
    s.events.map((e) => (e.type === 'message' ? e.to : e.type)),
    ['user@example.org', 'user@example.org/quiver'],
  );
});

/** The message events' ids, as [id, originId, serverId]. */
function ids(events: StreamEvent[]): [string | null, string | null, string | null][] {
  return events.map((e) => {
    assert.ok(e.type === 'message');
    return [e.id, e.originId, e.serverId];
  });
}

const SID = `xmlns='urn:xmpp:sid:0'`;

test("XEP-0359: a stanza-id is trusted only when 'by' is the account's own bare JID", () => {
  const s = session();
  const from = `from='juliet@example.com/balcony'`;
  // Stamped by our own server (the account's bare JID, in any case the JID allows).
  s.session.handleStanza(
    stanza(`<message ${from} id='1'><body>a</body><stanza-id ${SID} id='srv-1' by='User@example.org'/></message>`),
  );
  // Forged by the sender: 'by' is someone else, or the server's domain, or a full JID of ours.
  for (const by of ['juliet@example.com', 'example.org', 'user@example.org/quiver', 'other@example.org', '']) {
    s.session.handleStanza(
      stanza(`<message ${from} id='1'><body>b</body><stanza-id ${SID} id='forged' by='${by}'/></message>`),
    );
  }
  // Another service's stanza-id beside ours (a MUC, an archive elsewhere) does not hide ours.
  s.session.handleStanza(
    stanza(
      `<message ${from}><body>c</body><stanza-id ${SID} id='muc-1' by='room@muc.example.com'/><stanza-id ${SID} id='srv-2' by='user@example.org'/></message>`,
    ),
  );
  // XEP-0359 §3: at most one stanza-id per 'by'; two claiming to be ours are both untrusted.
  s.session.handleStanza(
    stanza(
      `<message ${from}><body>d</body><stanza-id ${SID} id='srv-3' by='user@example.org'/><stanza-id ${SID} id='srv-4' by='user@example.org'/></message>`,
    ),
  );
  // In another namespace, or without an id, it is no stanza-id.
  s.session.handleStanza(
    stanza(
      `<message ${from}><body>e</body><stanza-id xmlns='urn:example' id='x' by='user@example.org'/><stanza-id ${SID} by='user@example.org'/></message>`,
    ),
  );
  assert.deepEqual(ids(s.events), [
    ['1', null, 'srv-1'],
    ['1', null, null],
    ['1', null, null],
    ['1', null, null],
    ['1', null, null],
    ['1', null, null],
    [null, null, 'srv-2'],
    [null, null, null],
    [null, null, null],
  ]);
});

test('XEP-0359: the origin-id is reported; empty ids are no ids', () => {
  const s = session();
  s.session.handleStanza(
    stanza(`<message from='juliet@example.com/balcony' id='m1'><body>a</body><origin-id ${SID} id='o-1'/></message>`),
  );
  s.session.handleStanza(
    stanza(
      `<message from='juliet@example.com/balcony' id=''><body>b</body><origin-id ${SID} id=''/><stanza-id ${SID} id='' by='user@example.org'/></message>`,
    ),
  );
  assert.deepEqual(ids(s.events), [
    ['m1', 'o-1', null],
    [null, null, null],
  ]);
});

test('XEP-0359 §2.2: an outgoing message carries an origin-id equal to its id', () => {
  const s = session();
  s.session.online([]);
  assert.equal(s.session.sendMessage({ to: 'juliet@example.com', body: 'hi', id: 'u-1' }), 'u-1');
  const generated = s.session.sendMessage({ to: 'juliet@example.com', body: 'hi', id: '' });
  assert.notEqual(generated, '', 'an empty id is replaced by a generated one');
  assert.deepEqual(s.sent, [
    '<message to="juliet@example.com" id="u-1" type="chat"><body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="u-1"/><request xmlns="urn:xmpp:receipts"/></message>',
    `<message to="juliet@example.com" id="${generated}" type="chat"><body>hi</body><origin-id xmlns="urn:xmpp:sid:0" id="${generated}"/><request xmlns="urn:xmpp:receipts"/></message>`,
  ]);
});
