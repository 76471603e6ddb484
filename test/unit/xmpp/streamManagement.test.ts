/**
 * XEP-0198 stream management through the stream machine's public API, against a scripted server:
 * enabling (§3), acks and the unacknowledged queue (§4), resumption (§5), error handling (§6) and
 * hostile answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import type { SmState, StreamEvent } from '../../../app/xmpp/streamMachine.ts';
import { Harness, ID_PREFIX, kinds, seededRandom, serverHeader } from './harness.ts';

const SASL = `xmlns='urn:ietf:params:xml:ns:xmpp-sasl'`;
const BIND = `xmlns='urn:ietf:params:xml:ns:xmpp-bind'`;
const SM = `xmlns='urn:xmpp:sm:3'`;
const STANZAS = `xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'`;

/** The server's side of a PLAIN login up to the features after authentication. */
function login(features: string): string {
  return (
    `${serverHeader('s1')}<stream:features><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>` +
    `<success ${SASL}/>` +
    `${serverHeader('s2')}<stream:features>${features}</stream:features>`
  );
}

const BIND_RESULT = (jid = 'user@example.org/quiver') =>
  `<iq type='result' id='${ID_PREFIX}1'><bind ${BIND}><jid>${jid}</jid></bind></iq>`;

const ENABLE_RESUME = `<enable ${SM} resume='true'/>`;

/** Logs in against a server that offers <sm/> (or not); returns the harness once online. */
function online(
  options: ConstructorParameters<typeof Harness>[0] = { streamManagement: { resume: true } },
  offerSm = true,
): { h: Harness; afterBind: string } {
  const h = new Harness(options);
  h.start();
  h.feed(login(`<bind ${BIND}/>${offerSm ? `<sm ${SM}/>` : ''}`));
  const afterBind = h.feed(BIND_RESULT());
  assert.deepEqual(kinds(h.events()), ['authenticated', 'online']);
  return { h, afterBind };
}

/** Online with stream management enabled and resumable under 'sm-1'. */
function enabled(): Harness {
  const { h, afterBind } = online();
  assert.equal(afterBind, ENABLE_RESUME);
  assert.equal(h.feed(`<enabled ${SM} id='sm-1' resume='true'/>`), '');
  assert.deepEqual(kinds(h.events()), ['sm-enabled']);
  return h;
}

const msg = (id: string, from = 'juliet@example.com/balcony') =>
  `<message from='${from}' to='user@example.org/quiver' type='chat' id='${id}'><body>hi</body></message>`;

function state(h: Harness): SmState {
  const s = h.machine.streamManagementState();
  assert.ok(s, 'stream management state');
  return s;
}

function errorOf(events: StreamEvent[]): { code: string; message: string } {
  const e = events.find((ev) => ev.type === 'error');
  assert.ok(e && e.type === 'error', `an error event in ${JSON.stringify(kinds(events))}`);
  return { code: e.error.code, message: e.error.message };
}

test('without the option nothing changes: no <enable/>, and an unasked <enabled/> is a stream error', () => {
  const { h, afterBind } = online({}, true);
  assert.equal(afterBind, '', 'XEP-0198 is off by default');
  assert.equal(h.machine.requestAck(), false);
  assert.equal(h.out(), '');
  assert.equal(h.machine.streamManagementState(), null);
  const out = h.feed(`<enabled ${SM} id='x' resume='true'/>`);
  assert.equal(
    out,
    `<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`,
  );
  const err = errorOf(h.events());
  assert.equal(err.code, 'sm-protocol-violation');
  assert.match(err.message, /did not ask to enable/);
  assert.equal(h.machine.state, 'closing');
});

test('a server that does not offer <sm/> gets no <enable/>', () => {
  const { h, afterBind } = online(undefined, false);
  assert.equal(afterBind, '');
  assert.equal(h.machine.requestAck(), false);
  assert.equal(h.machine.streamManagementState(), null);
});

test('XEP-0198 §3: <enable resume=true/> right after binding; <enabled/> reports id, resume, max, location', () => {
  const { h, afterBind } = online();
  assert.equal(afterBind, ENABLE_RESUME, 'sent before the online event, so it precedes every stanza');
  h.feed(
    `<enabled ${SM} id='some-long-sm-id' resume='1' max='300' location='[2001:41D0:1:A49b::1]:9222' x-unknown='y'/>`,
  );
  assert.deepEqual(h.events(), [
    { type: 'sm-enabled', id: 'some-long-sm-id', resume: true, max: 300, location: '[2001:41D0:1:A49b::1]:9222' },
  ]);
  assert.deepEqual(state(h), {
    id: 'some-long-sm-id',
    jid: 'user@example.org/quiver',
    inboundH: 0,
    outboundH: 0,
    unacked: [],
    location: '[2001:41D0:1:A49b::1]:9222',
    max: 300,
  });
});

test('§3: without resume asked, <enable/> has no attribute; <enabled/> without id is not resumable', () => {
  const { h, afterBind } = online({ streamManagement: { resume: false } });
  assert.equal(afterBind, `<enable ${SM}/>`);
  h.feed(`<enabled ${SM} resume='true' max='many'/>`);
  assert.deepEqual(h.events(), [{ type: 'sm-enabled', id: null, resume: false, max: null, location: null }]);
  assert.equal(state(h).id, null);
});

test('§4: <r/> is answered with the count of stanzas handled since <enabled/>; nonzas are not counted', () => {
  const { h } = online();
  // Before <enabled/> the inbound counter has not started (§4 note).
  h.feed(msg('early'));
  h.feed(`<enabled ${SM} id='sm-1' resume='true'/>`);
  h.events();
  assert.equal(h.feed(`<r ${SM}/>`), `<a ${SM} h='0'/>`);
  h.feed(msg('m1'));
  h.feed(`<presence from='juliet@example.com/balcony'/>`);
  // An IQ request is counted and answered; its answer is one of our stanzas.
  const iqAnswer = h.feed(`<iq type='get' id='ping1' from='example.org'><ping xmlns='urn:xmpp:ping'/></iq>`);
  assert.equal(iqAnswer, '<iq type="result" id="ping1" to="example.org"/>');
  h.feed(`<unknown xmlns='urn:example:nonza'/>`);
  assert.equal(h.feed(`<r ${SM}/>`), `<a ${SM} h='3'/>`);
  assert.equal(state(h).inboundH, 3);
  assert.deepEqual(
    state(h).unacked.map((u) => u.id),
    ['ping1'],
  );
});

/** Feeds `xml` to the machine alone: nothing is written or handed out until the test polls. */
function read(h: Harness, xml: string): void {
  h.machine.handleBytes(new TextEncoder().encode(xml), h.now);
}

function written(h: Harness): string {
  const d = h.machine.pollTransmit();
  return d ? new TextDecoder().decode(d) : '';
}

test('§4: a stanza counts as handled once its events were handed out: neither <a h/> nor the state to resume from gets ahead of them', () => {
  // The fault test's kill -9: one read held the server's <a/> for our message, then messages for
  // us and an <r/>. The state saved on 'sm-acked' counted the messages not yet stored, so the
  // resumed session left them out of its queue (only the archive had them, out of order).
  const h = enabled();
  h.machine.sendMessage({ to: 'juliet@example.com', body: 'ours', id: 'm-1' });
  h.out();
  read(h, `<a ${SM} h='1'/>${msg('in-1')}${msg('in-2')}<r ${SM}/>`);
  assert.equal(written(h), '', 'no <a/> before the messages were handed out');
  assert.equal(h.machine.pollEvent()?.type, 'sm-acked');
  assert.equal(state(h).inboundH, 0, 'saved on sm-acked: counts neither message yet');
  const first = h.machine.pollEvent();
  assert.ok(first?.type === 'message' && first.id === 'in-1');
  assert.equal(state(h).inboundH, 0, 'in-1 is being handled: not counted yet');
  assert.equal(written(h), '');
  const second = h.machine.pollEvent();
  assert.ok(second?.type === 'message' && second.id === 'in-2');
  assert.equal(state(h).inboundH, 1);
  assert.deepEqual(h.machine.pollEvent(), { type: 'sm-ack-sent', h: 2 }, 'said before it is written: save first');
  assert.equal(state(h).inboundH, 2);
  assert.equal(h.machine.pollEvent(), undefined);
  assert.equal(written(h), `<a ${SM} h='2'/>`, 'the <r/> is answered once both were handled');
});

test('§4: an <r/> followed by more stanzas in the same read: sm-ack-sent comes before them, so the state is saved before the <a/> is written', () => {
  const h = enabled();
  read(h, `${msg('in-1')}<r ${SM}/>${msg('in-2')}`);
  const first = h.machine.pollEvent();
  assert.ok(first?.type === 'message' && first.id === 'in-1');
  // A driver writes what is queued before it hands out the next event: the next one must say so.
  assert.deepEqual(h.machine.pollEvent(), { type: 'sm-ack-sent', h: 1 }, 'not after in-2: the <a/> is queued now');
  assert.equal(written(h), `<a ${SM} h='1'/>`);
  const second = h.machine.pollEvent();
  assert.ok(second?.type === 'message' && second.id === 'in-2');
  assert.equal(h.machine.pollEvent(), undefined);
  assert.equal(state(h).inboundH, 2);
});

test('§4 note: a stanza read before <enabled/> in the same read is not counted, even when handed out after it', () => {
  const { h } = online();
  read(h, `${msg('early')}<enabled ${SM} id='sm-1' resume='true'/>${msg('m1')}<r ${SM}/>`);
  assert.deepEqual(kinds(h.events()), ['message', 'sm-enabled', 'message', 'sm-ack-sent']);
  assert.equal(h.out(), `<a ${SM} h='1'/>`);
  assert.equal(state(h).inboundH, 1);
});

test('§4: sent stanzas stay queued (exact bytes, ids) until <a h/> acknowledges them; sm-acked names the ids', () => {
  const h = enabled();
  const sent: string[] = [];
  for (const id of ['m-1', 'm-2', 'm-3']) {
    h.machine.sendMessage({ to: 'juliet@example.com', body: `text ${id} <&>`, id });
    sent.push(h.out());
  }
  h.machine.sendStanza(new Element('active', { xmlns: 'urn:xmpp:csi:0' }));
  assert.equal(h.out(), `<active xmlns="urn:xmpp:csi:0"/>`, 'a nonza is written but not counted');
  assert.deepEqual(
    state(h).unacked,
    sent.map((xml, i) => ({ id: `m-${i + 1}`, xml })),
  );
  assert.equal(h.machine.requestAck(), true);
  assert.equal(h.out(), `<r ${SM}/>`);

  assert.equal(h.feed(`<a ${SM} h='2'/>`), '');
  assert.deepEqual(h.events(), [{ type: 'sm-acked', ids: ['m-1', 'm-2'], count: 2 }]);
  assert.deepEqual(state(h).unacked, [{ id: 'm-3', xml: sent[2] }]);
  assert.equal(state(h).outboundH, 2);

  h.feed(`<a ${SM} h='2'/>`);
  assert.deepEqual(h.events(), [], 'the same h acknowledges nothing new');
  h.feed(`<a ${SM} h='3'/>`);
  assert.deepEqual(h.events(), [{ type: 'sm-acked', ids: ['m-3'], count: 1 }]);
  assert.deepEqual(state(h).unacked, []);
});

test('§6: an <a h/> above the number of stanzas sent closes with undefined-condition and <handled-count-too-high/>', () => {
  const h = enabled();
  h.machine.sendMessage({ to: 'juliet@example.com', body: 'one', id: 'm-1' });
  h.out();
  const out = h.feed(`<a ${SM} h='10'/>`);
  assert.equal(
    out,
    `<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>` +
      `<handled-count-too-high xmlns='urn:xmpp:sm:3' h='10' send-count='1'/>` +
      `<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>You acknowledged 10 stanzas, but I only sent you 1 so far.</text>` +
      `</stream:error></stream:stream>`,
  );
  const err = errorOf(h.events());
  assert.equal(err.code, 'handled-count-too-high');
  assert.match(err.message, /acknowledged 10 stanzas but Quiver sent 1/);
  h.feed('</stream:stream>');
  assert.deepEqual(kinds(h.events()), ['closed']);
  assert.deepEqual(
    state(h).unacked.map((u) => u.id),
    ['m-1'],
    'nothing is lost: the message is still unacknowledged',
  );
});

test('an <a/> going backwards counts as too high (it would wrap around the 32-bit counter)', () => {
  const h = enabled();
  for (const id of ['m-1', 'm-2']) h.machine.sendMessage({ to: 'juliet@example.com', body: id, id });
  h.out();
  h.feed(`<a ${SM} h='2'/>`);
  h.events();
  assert.match(h.feed(`<a ${SM} h='1'/>`), /handled-count-too-high xmlns='urn:xmpp:sm:3' h='1' send-count='2'/);
  assert.equal(errorOf(h.events()).code, 'handled-count-too-high');
});

test('hostile acks: h missing, not a number, negative, beyond 2^32-1 are stream errors, never a throw', () => {
  for (const attrs of ['', ` h='abc'`, ` h='-1'`, ` h='1.5'`, ` h='4294967296'`, ` h=' 1'`, ` h='99999999999999'`]) {
    const h = enabled();
    const out = h.feed(`<a ${SM}${attrs}/>`);
    assert.match(out, /<undefined-condition/, attrs);
    const err = errorOf(h.events());
    assert.equal(err.code, 'sm-protocol-violation', attrs);
    assert.match(err.message, /is not a number from 0 to 4294967295/, attrs);
  }
});

test('§3: <failed/> to <enable/> reports sm-failed; nothing is counted and acks are refused', () => {
  const { h } = online();
  h.machine.sendMessage({ to: 'juliet@example.com', body: 'x', id: 'm-1' });
  h.out();
  h.feed(`<failed ${SM}><unexpected-request ${STANZAS}/></failed>`);
  assert.deepEqual(h.events(), [{ type: 'sm-failed', condition: 'unexpected-request' }]);
  assert.equal(h.machine.requestAck(), false);
  assert.equal(h.machine.streamManagementState(), null);
  assert.match(h.feed(`<r ${SM}/>`), /undefined-condition/);
  assert.match(errorOf(h.events()).message, /stream management is not enabled/);
});

test('misplaced stream management elements are stream errors: before authentication, an unknown name, a second <enabled/>', () => {
  const early = new Harness({ streamManagement: { resume: true } });
  early.start();
  assert.match(early.feed(`${serverHeader('s1')}<a ${SM} h='0'/>`), /undefined-condition/);
  assert.equal(errorOf(early.events()).code, 'sm-protocol-violation');

  const unknown = enabled();
  assert.match(unknown.feed(`<enable ${SM}/>`), /undefined-condition/);
  assert.match(errorOf(unknown.events()).message, /<enable\/>/);

  const twice = enabled();
  assert.match(twice.feed(`<enabled ${SM} id='sm-2'/>`), /undefined-condition/);
  assert.equal(errorOf(twice.events()).code, 'sm-protocol-violation');

  const resumed = enabled();
  assert.match(resumed.feed(`<resumed ${SM} h='0' previd='sm-1'/>`), /undefined-condition/);
  assert.match(errorOf(resumed.events()).message, /did not ask to resume/);
});

test('§4 / §7: an orderly close sends unavailable presence, then <a h/>, then the closing tag; the stream is no longer resumable', () => {
  const h = enabled();
  h.feed(msg('m1'));
  h.events();
  h.machine.close(h.now);
  assert.equal(h.out(), `<presence type="unavailable"/><a ${SM} h='1'/></stream:stream>`);
  // An ack that arrives before the server's closing tag is still read.
  h.feed(`<a ${SM} h='1'/><r ${SM}/>`);
  assert.equal(h.out(), '', 'nothing is written after the closing tag');
  assert.deepEqual(h.events(), [{ type: 'sm-acked', ids: [], count: 1 }]);
  h.feed('</stream:stream>');
  assert.deepEqual(kinds(h.events()), ['closed']);
  assert.equal(state(h).id, null);
});

/** A former stream: 7 stanzas handled inbound, 3 of ours acknowledged, 3 more unacknowledged. */
function previousState(over: Partial<SmState> = {}): SmState {
  return {
    id: 'sm-old',
    jid: 'user@example.org/quiver-old',
    inboundH: 7,
    outboundH: 3,
    unacked: [
      { id: 'u-4', xml: `<message to="juliet@example.com" id="u-4" type="chat"><body>four</body></message>` },
      { id: null, xml: `<presence><show>away</show></presence>` },
      { id: 'u-6', xml: `<message to="juliet@example.com" id="u-6" type="chat"><body>six</body></message>` },
    ],
    location: null,
    max: 600,
    ...over,
  };
}

function resuming(previous: SmState = previousState(), offerSm = true): Harness {
  const h = new Harness({ streamManagement: { resume: true, previous } });
  h.start();
  const out = h.feed(login(`<bind ${BIND}/>${offerSm ? `<sm ${SM}/>` : ''}`));
  if (offerSm) {
    assert.deepEqual(kinds(h.events()), ['authenticated']);
    assert.match(out, /<resume xmlns="urn:xmpp:sm:3" h="\d+" previd="[^"]*"\/>$/);
    assert.equal(h.machine.state, 'resuming');
    assert.equal(h.machine.pollTimeout(), h.now + 30_000);
  }
  return h;
}

test('§5: resumption replaces binding; <resumed h/> acknowledges, the rest is resent in order, "resumed" replaces "online"', () => {
  const previous = previousState();
  const h = new Harness({ streamManagement: { resume: true, previous } });
  h.start();
  const out = h.feed(login(`<bind ${BIND}/><sm ${SM}/>`));
  assert.ok(out.endsWith(`<resume xmlns="urn:xmpp:sm:3" h="7" previd="sm-old"/>`), out);
  assert.doesNotMatch(out, /bind/, 'no resource binding');
  h.events();

  const resent = h.feed(`<resumed ${SM} h='4' previd='sm-old' unknown='x'/>`);
  assert.equal(resent, previous.unacked[1]!.xml + previous.unacked[2]!.xml);
  assert.deepEqual(h.events(), [
    { type: 'sm-acked', ids: ['u-4'], count: 1 },
    {
      type: 'resumed',
      jid: 'user@example.org/quiver-old',
      previd: 'sm-old',
      features: ['urn:ietf:params:xml:ns:xmpp-bind', 'urn:xmpp:sm:3'],
      h: 4,
    },
  ]);
  assert.equal(h.machine.state, 'online');
  assert.equal(h.machine.pollTimeout(), undefined);

  // The counters carry over (§5): inbound goes on from 7, outbound from 6.
  h.feed(msg('after'));
  assert.equal(h.events()[0]?.type, 'message');
  assert.equal(h.feed(`<r ${SM}/>`), `<a ${SM} h='8'/>`);
  assert.deepEqual(h.events(), [{ type: 'sm-ack-sent', h: 8 }]);
  h.machine.sendMessage({ to: 'juliet@example.com', body: 'seven', id: 'u-7' });
  h.out();
  h.feed(`<a ${SM} h='7'/>`);
  assert.deepEqual(h.events(), [{ type: 'sm-acked', ids: ['u-6', 'u-7'], count: 3 }]);
  assert.deepEqual(state(h), {
    id: 'sm-old',
    jid: 'user@example.org/quiver-old',
    inboundH: 8,
    outboundH: 7,
    unacked: [],
    location: null,
    max: 600,
  });
});

test('§4: both counters wrap from 2^32-1 to zero', () => {
  const top = 2 ** 32 - 1;
  const h = resuming(
    previousState({
      inboundH: top,
      outboundH: top - 1,
      unacked: [{ id: 'w-1', xml: `<message to="a@example.com" id="w-1"><body>x</body></message>` }],
    }),
  );
  assert.equal(h.feed(`<resumed ${SM} h='${top - 1}' previd='sm-old'/>`), state(h).unacked[0]!.xml);
  h.events();
  h.feed(msg('wraps'));
  assert.equal(h.feed(`<r ${SM}/>`), `<a ${SM} h='0'/>`, "§4: 'h' SHALL be reset from 2^32-1 back to zero");
  h.machine.sendMessage({ to: 'juliet@example.com', body: 'y', id: 'w-2' });
  h.out();
  h.feed(`<a ${SM} h='0'/>`);
  assert.deepEqual(h.events().at(-1), { type: 'sm-acked', ids: ['w-1', 'w-2'], count: 2 });
  assert.equal(state(h).outboundH, 0);
});

test('§5: <failed h/> to <resume/> reports what was stored and what was not, then binds and enables afresh', () => {
  const h = resuming();
  h.events();
  const out = h.feed(`<failed ${SM} h='5'><item-not-found ${STANZAS}/></failed>`);
  assert.equal(
    out,
    `<iq type="set" id="${ID_PREFIX}1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>quiver</resource></bind></iq>`,
  );
  assert.deepEqual(h.events(), [
    { type: 'sm-acked', ids: ['u-4'], count: 2 },
    { type: 'resume-failed', condition: 'item-not-found', unacked: [previousState().unacked[2]], h: 5 },
  ]);
  assert.equal(h.machine.state, 'binding');
  assert.equal(h.feed(BIND_RESULT('user@example.org/quiver-new')), ENABLE_RESUME);
  assert.deepEqual(kinds(h.events()), ['online']);
  // The caller resends under the same id; it is counted on the new SM session.
  h.feed(`<enabled ${SM} id='sm-new' resume='true'/>`);
  h.machine.sendMessage({ to: 'juliet@example.com', body: 'six', id: 'u-6' });
  h.out();
  assert.deepEqual(
    state(h).unacked.map((u) => u.id),
    ['u-6'],
  );
  assert.equal(state(h).id, 'sm-new');
  assert.equal(state(h).inboundH, 0);
});

test('§5: <failed/> without h hands back every unacknowledged stanza', () => {
  const h = resuming();
  h.events();
  h.feed(`<failed ${SM}><feature-not-implemented ${STANZAS}/></failed>`);
  assert.deepEqual(h.events(), [
    { type: 'resume-failed', condition: 'feature-not-implemented', unacked: previousState().unacked, h: null },
  ]);
  assert.equal(h.machine.state, 'binding');
});

test('a server that no longer offers <sm/> cannot resume: resume-failed, then binding without <enable/>', () => {
  const h = resuming(previousState(), false);
  assert.deepEqual(h.events().slice(1), [
    { type: 'resume-failed', condition: 'feature-not-implemented', unacked: previousState().unacked, h: null },
  ]);
  assert.equal(h.machine.state, 'binding');
  assert.equal(h.feed(BIND_RESULT()), '');
  assert.deepEqual(kinds(h.events()), ['online']);
});

test('hostile resumption answers: another previd, h too high or not a number, a stanza first', () => {
  const other = resuming();
  assert.match(other.feed(`<resumed ${SM} h='3' previd='sm-someone-else'/>`), /undefined-condition/);
  const e1 = errorOf(other.events());
  assert.equal(e1.code, 'sm-protocol-violation');
  assert.match(e1.message, /names the stream "sm-someone-else", not the one Quiver asked to resume/);
  assert.notEqual(other.machine.state, 'online');
  assert.deepEqual(
    { id: state(other).id, unacked: state(other).unacked },
    { id: null, unacked: previousState().unacked },
    'nothing lost; the next attempt logs in afresh rather than resume from a server that misused it',
  );

  const missing = resuming();
  assert.match(missing.feed(`<resumed ${SM} h='3'/>`), /undefined-condition/);
  assert.equal(errorOf(missing.events()).code, 'sm-protocol-violation');

  const tooHigh = resuming();
  assert.match(
    tooHigh.feed(`<resumed ${SM} h='9' previd='sm-old'/>`),
    /<handled-count-too-high xmlns='urn:xmpp:sm:3' h='9' send-count='6'\/>/,
  );
  assert.equal(errorOf(tooHigh.events()).code, 'handled-count-too-high');
  assert.equal(state(tooHigh).unacked.length, 3, 'nothing lost');

  // On a failure the session is gone either way: an unreadable or impossible 'h' is taken as
  // absent, everything is handed back to be sent again, and binding goes on.
  for (const bad of ['x', '9']) {
    const failed = resuming();
    failed.events();
    assert.match(failed.feed(`<failed ${SM} h='${bad}'/>`), /urn:ietf:params:xml:ns:xmpp-bind/);
    assert.deepEqual(failed.events(), [
      { type: 'resume-failed', condition: 'undefined-condition', unacked: previousState().unacked, h: null },
    ]);
  }

  const stanza = resuming();
  assert.match(stanza.feed(msg('m')), /unsupported-stanza-type/);
  assert.equal(errorOf(stanza.events()).code, 'unsupported-stanza-type');
});

test('a resumption that is never answered times out as "stream resumption"', () => {
  const h = resuming();
  h.events();
  h.fireTimeout();
  const err = errorOf(h.events());
  assert.equal(err.code, 'timeout');
  assert.match(err.message, /during stream resumption/);
  assert.deepEqual(state(h), previousState(), 'the former stream can still be resumed next time');
});

test('the state of an ended stream resumes it in the next one', () => {
  const h = enabled();
  h.feed(msg('m1') + msg('m2'));
  h.machine.sendMessage({ to: 'juliet@example.com', body: 'a', id: 'x-1' });
  h.machine.sendMessage({ to: 'juliet@example.com', body: 'b', id: 'x-2' });
  const written = h.out();
  h.feed(`<a ${SM} h='1'/>`);
  h.machine.handleTransportClosed(h.now, 'network changed');
  const saved = state(h);
  assert.equal(saved.id, 'sm-1');
  assert.deepEqual(
    { inboundH: saved.inboundH, outboundH: saved.outboundH, ids: saved.unacked.map((u) => u.id) },
    { inboundH: 2, outboundH: 1, ids: ['x-2'] },
  );
  assert.ok(written.endsWith(saved.unacked[0]!.xml));

  const next = resuming(saved);
  assert.ok(next.out() === '' && next.events().length === 0);
  assert.equal(next.feed(`<resumed ${SM} h='1' previd='sm-1'/>`), saved.unacked[0]!.xml);
  assert.deepEqual(kinds(next.events()), ['resumed']);
});

test('a former state no stream could have produced is a programmer error', () => {
  for (const bad of [
    previousState({ id: null }),
    previousState({ id: '' }),
    previousState({ inboundH: -1 }),
    previousState({ outboundH: 2 ** 32 }),
    previousState({ inboundH: 1.5 }),
  ]) {
    assert.throws(
      () => new Harness({ streamManagement: { resume: true, previous: bad } }),
      /streamManagement\.previous/,
    );
  }
});

test('fuzz: random stream management elements and attributes never throw and end in a clear error or nothing', () => {
  const rnd = seededRandom(198);
  const names = ['a', 'r', 'enabled', 'failed', 'resumed', 'resume', 'enable', 'x'];
  const values = ['0', '1', '4294967295', '4294967296', '-3', 'abc', '', 'sm-1', 'true', '\u00e9'];
  const attr = () => ['h', 'previd', 'id', 'resume', 'max', 'location', 'junk'][Math.floor(rnd() * 7)]!;
  for (let round = 0; round < 200; round++) {
    const h = rnd() < 0.5 ? enabled() : resuming();
    for (let i = 0; i < 5 && h.machine.state !== 'closed' && h.machine.state !== 'closing'; i++) {
      const name = names[Math.floor(rnd() * names.length)]!;
      const attrs = new Map<string, string>();
      for (let k = Math.floor(rnd() * 3); k > 0; k--) attrs.set(attr(), values[Math.floor(rnd() * values.length)]!);
      const xml = `<${name} ${SM}${[...attrs].map(([k, v]) => ` ${k}='${v}'`).join('')}/>`;
      h.feed(xml);
      for (const e of h.events()) {
        if (e.type === 'error') assert.ok(e.error.code.length > 0 && e.error.message.length > 0, xml);
      }
    }
  }
});

test('§4: the machine asks for an ack itself once 5 stanzas wait, one <r/> at a time, again after the <a/>', () => {
  const h = enabled();
  const send = (id: string): string => {
    h.machine.sendMessage({ to: 'juliet@example.com', body: id, id });
    return h.out();
  };
  for (const id of ['m-1', 'm-2', 'm-3', 'm-4']) assert.doesNotMatch(send(id), /<r /);
  assert.match(send('m-5'), /<r xmlns='urn:xmpp:sm:3'\/>$/, 'the fifth unacknowledged stanza asks');
  assert.doesNotMatch(send('m-6'), /<r /, 'not again while the first request is open');
  h.feed(`<a ${SM} h='6'/>`);
  assert.equal(state(h).unacked.length, 0);
  for (const id of ['m-7', 'm-8', 'm-9', 'm-10']) assert.doesNotMatch(send(id), /<r /);
  assert.match(send('m-11'), /<r xmlns='urn:xmpp:sm:3'\/>$/, 'and again once 5 more wait');
});

test('a server that never acknowledges: after 1000 unacknowledged stanzas the stream ends with a clear error', () => {
  const h = enabled();
  for (let i = 1; i <= 1001; i++) {
    h.machine.sendMessage({ to: 'juliet@example.com', body: 'x', id: `m-${i}` });
    if (h.machine.state !== 'online') break;
  }
  const err = errorOf(h.events());
  assert.equal(err.code, 'sm-protocol-violation');
  assert.match(err.message, /acknowledged none of the last 1000 stanzas/);
  assert.equal(state(h).unacked.length, 1001, 'every unacknowledged message is kept to send again');
});

test('a stream Quiver did not ask to make resumable is not resumable, whatever <enabled/> says', () => {
  const { h, afterBind } = online({ streamManagement: { resume: false } });
  assert.equal(afterBind, `<enable ${SM}/>`);
  h.feed(`<enabled ${SM} id='sm-x' resume='true'/>`);
  const enabledEvent = h.events().find((e) => e.type === 'sm-enabled');
  assert.ok(enabledEvent && enabledEvent.type === 'sm-enabled' && enabledEvent.resume === false);
  assert.equal(state(h).id, null);
});

test('§5: an SM-ID over 4000 bytes is not kept: the stream is not resumable', () => {
  const { h } = online();
  h.feed(`<enabled ${SM} id='${'i'.repeat(4001)}' resume='true'/>`);
  assert.equal(state(h).id, null);
});

test('§5: closing the new stream while it resumes keeps the former session resumable (the server still holds it)', () => {
  const previous = previousState();
  const h = resuming(previous);
  h.machine.close(h.now);
  assert.equal(state(h).id, previous.id, 'the next attempt can still resume it');
});

test('a state restored after a restart: the server h is taken as it is, nothing is resent by the machine, counting goes on from h', () => {
  const restored = previousState({ unacked: [], restored: true });
  const h = resuming(restored);
  h.events();
  // Our stanzas 4..6 were written by the killed process; the server handled up to 5.
  assert.equal(h.feed(`<resumed ${SM} h='5' previd='sm-old'/>`), '', 'nothing resent by the machine');
  assert.deepEqual(h.events(), [
    {
      type: 'resumed',
      jid: 'user@example.org/quiver-old',
      previd: 'sm-old',
      features: ['urn:ietf:params:xml:ns:xmpp-bind', 'urn:xmpp:sm:3'],
      h: 5,
    },
  ]);
  h.machine.sendMessage({ to: 'juliet@example.com', body: 'again', id: 'u-6' });
  h.out();
  assert.deepEqual(h.machine.streamManagementStatus(), { phase: 'on', sent: 6 });
  h.feed(`<a ${SM} h='6'/>`);
  assert.deepEqual(
    h.events().filter((e) => e.type === 'sm-acked'),
    [{ type: 'sm-acked', ids: ['u-6'], count: 1 }],
  );

  // An h behind the stored one cannot be: the server had acknowledged those stanzas already.
  const behind = resuming(previousState({ unacked: [], restored: true }));
  assert.match(behind.feed(`<resumed ${SM} h='2' previd='sm-old'/>`), /undefined-condition/);
  assert.equal(errorOf(behind.events()).code, 'sm-protocol-violation');

  // <failed h/> on a restored state reports the server's count for the caller.
  const failed = resuming(previousState({ unacked: [], restored: true }));
  failed.events();
  failed.feed(`<failed ${SM} h='5'><item-not-found ${STANZAS}/></failed>`);
  assert.deepEqual(failed.events(), [{ type: 'resume-failed', condition: 'item-not-found', unacked: [], h: 5 }]);
});
