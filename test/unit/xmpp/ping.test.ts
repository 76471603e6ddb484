/**
 * XEP-0199 client-to-server ping (`sendPing`), used after a network change to ask whether a stream
 * is still alive: the IQ it sends (§4.2), and which answers count as a 'pong'.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, type Element } from 'ltx';
import { OnlineSession } from '../../../app/xmpp/onlineSession.ts';
import type { StreamEvent } from '../../../app/xmpp/streamEvent.ts';
import type { StreamOutput } from '../../../app/xmpp/streamOutput.ts';
import { Harness, ID_PREFIX, kinds, serverHeader } from './harness.ts';

function session(account = 'user@example.org'): { session: OnlineSession; sent: Element[]; events: StreamEvent[] } {
  const sent: Element[] = [];
  const events: StreamEvent[] = [];
  const out: StreamOutput = {
    send: (el) => sent.push(el),
    write: (xml) => sent.push(parse(xml)),
    emit: (event) => events.push(event),
  };
  let n = 0;
  return { session: new OnlineSession(account, out, () => `id${++n}`), sent, events };
}

const stanza = (xml: string): Element => parse(xml.replace(/^<(\w+)/, `<$1 xmlns='jabber:client'`));

test("XEP-0199 §4.2: the ping is an IQ get to the account's domain carrying <ping xmlns='urn:xmpp:ping'/>", () => {
  for (const account of ['user@example.org', 'user@example.org/quiver']) {
    const s = session(account);
    s.session.online([]);
    const id = s.session.sendPing();
    assert.equal(s.sent.length, 1);
    const iq = s.sent[0]!;
    assert.equal(iq.getName(), 'iq');
    assert.deepEqual({ type: iq.attrs.type, id: iq.attrs.id, to: iq.attrs.to }, { type: 'get', id, to: 'example.org' });
    assert.equal(iq.children.length, 1);
    const ping = iq.getChild('ping', 'urn:xmpp:ping');
    assert.ok(ping, iq.toString());
    assert.equal(ping.children.length, 0);
  }
});

test('a result to the ping is a pong, once', () => {
  const s = session();
  s.session.online([]);
  const id = s.session.sendPing();
  s.session.handleStanza(stanza(`<iq type='result' id='${id}' from='example.org'/>`));
  assert.deepEqual(s.events, [{ type: 'pong', id }]);
  s.session.handleStanza(stanza(`<iq type='result' id='${id}' from='example.org'/>`));
  assert.equal(s.events.length, 1, 'a second answer to the same id is not a pong again');
});

test('XEP-0199 §4.2: a service-unavailable error to the ping is a pong too (the stream is alive)', () => {
  const s = session();
  s.session.online([]);
  const id = s.session.sendPing();
  s.session.handleStanza(
    stanza(
      `<iq type='error' id='${id}' from='example.org'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
    ),
  );
  assert.deepEqual(s.events, [{ type: 'pong', id }]);
});

test('an unrelated IQ result (another id, a roster answer) is not a pong', () => {
  const s = session();
  s.session.online([]);
  const ping = s.session.sendPing();
  const roster = s.session.requestRoster();
  s.session.handleStanza(stanza(`<iq type='result' id='not-ours' from='example.org'/>`));
  s.session.handleStanza(stanza(`<iq type='result' id='${roster}'/>`));
  assert.deepEqual(
    s.events.map((e) => e.type),
    ['roster'],
  );
  s.session.handleStanza(stanza(`<iq type='result' id='${ping}' from='example.org'/>`));
  assert.deepEqual(s.events.at(-1), { type: 'pong', id: ping });
});

test('after end() a late answer to the ping is not a pong', () => {
  const s = session();
  s.session.online([]);
  const id = s.session.sendPing();
  s.session.end();
  s.session.handleStanza(stanza(`<iq type='result' id='${id}' from='example.org'/>`));
  assert.deepEqual(s.events, []);
});

const SASL = `xmlns='urn:ietf:params:xml:ns:xmpp-sasl'`;
const BIND = `xmlns='urn:ietf:params:xml:ns:xmpp-bind'`;
const LOGIN =
  `${serverHeader('s1')}<stream:features><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>` +
  `<success ${SASL}/>` +
  `${serverHeader('s2')}<stream:features><bind ${BIND}/></stream:features>` +
  `<iq type='result' id='${ID_PREFIX}1'><bind ${BIND}><jid>user@example.org/quiver</jid></bind></iq>`;

test('the stream machine: sendPing only once online; the ping goes out and its result is a pong event', () => {
  const h = new Harness();
  h.start();
  assert.throws(() => h.machine.sendPing());
  h.feed(LOGIN);
  assert.deepEqual(kinds(h.events()), ['authenticated', 'online']);
  const id = h.machine.sendPing();
  const out = parse(h.out());
  assert.deepEqual([out.getName(), out.attrs.type, out.attrs.id, out.attrs.to], ['iq', 'get', id, 'example.org']);
  assert.ok(out.getChild('ping', 'urn:xmpp:ping'));
  h.feed(`<iq type='result' id='other'/>`);
  assert.deepEqual(h.events(), []);
  h.feed(`<iq type='result' id='${id}' from='example.org'/>`);
  assert.deepEqual(h.events(), [{ type: 'pong', id }]);
});

test('RFC 6120 §8.2.3: an answer with the right id from someone else is not the answer', () => {
  const s = session();
  s.session.handleStanza(stanza(`<iq type='result' id='x' from='example.org'/>`));
  const id = s.session.sendPing();
  s.session.handleStanza(stanza(`<iq type='result' id='${id}' from='mallory@evil.example/x'/>`));
  assert.deepEqual(
    s.events.filter((e) => e.type === 'pong'),
    [],
    'a stranger guessing the id does not prove the stream alive',
  );
  s.session.handleStanza(stanza(`<iq type='result' id='${id}' from='example.org'/>`));
  assert.deepEqual(
    s.events.filter((e) => e.type === 'pong'),
    [{ type: 'pong', id }],
  );
});
