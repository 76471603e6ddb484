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
