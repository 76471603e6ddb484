/**
 * Negotiation on its own, through a recording NegotiationHost: what it asks of the stream at each
 * step (RFC 6120 §5 STARTTLS, §7 binding), with literal fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'ltx';
import { parseJid } from '../../../app/xmpp/jid.ts';
import {
  StreamNegotiation,
  type NegotiationHost,
  type NegotiationOptions,
} from '../../../app/xmpp/streamNegotiation.ts';

/** Every host call as one line, in order; `unparsed` is what takeUnparsed() hands over. */
function negotiation(options: Partial<NegotiationOptions> = {}, unparsed = '') {
  const calls: string[] = [];
  const host: NegotiationHost = {
    send: (el) => calls.push(`send ${el.toString()}`),
    write: (xml) => calls.push(`write ${xml}`),
    emit: (event) => calls.push(`emit ${event.type}`),
    openStream: (encrypted, now) => calls.push(`openStream ${encrypted} ${now}`),
    takeUnparsed: () => new TextEncoder().encode(unparsed),
    armDeadline: (now) => calls.push(`armDeadline ${now}`),
    clearDeadline: () => calls.push('clearDeadline'),
    fail: (now, error, condition) => calls.push(`fail ${now} ${error.code} ${condition}`),
    resume: () => false,
    bound: (jid) => calls.push(`bound ${jid}`),
    online: (jid, features) => calls.push(`online ${jid} ${features.join(',')}`),
    smPendingResume: () => false,
    smResumeRequest: () => null,
    smEnableRequest: () => null,
    smInline: (el) => calls.push(`smInline ${el.toString()}`),
  };
  let n = 0;
  const neg = new StreamNegotiation(
    {
      goal: 'session',
      account: { ...parseJid('user@example.org')!, resource: '', full: 'user@example.org' },
      password: 'pencil',
      resource: 'quiver',
      tls: false,
      channelBinding: null,
      random: (len) => new Uint8Array(len),
      nextId: () => `id${++n}`,
      sasl2: true,
      userAgent: null,
      carbons: false,
      fast: null,
      requestFastToken: false,
      ...options,
    },
    host,
  );
  return { neg, calls };
}

const FEATURES_STARTTLS = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`;
const PROCEED = `<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`;

test('RFC 6120 §5.4.2.3: after <proceed/> with nothing buffered, the driver is asked for TLS', () => {
  const { neg, calls } = negotiation({}, ' \r\n');
  neg.start(1);
  assert.equal(neg.handleElement(parse(FEATURES_STARTTLS), 2), true);
  assert.equal(neg.step, 'starttls');
  assert.equal(neg.handleElement(parse(PROCEED), 3), true);
  assert.equal(neg.step, 'tls-wait');
  assert.deepEqual(calls, [
    'openStream false 1',
    `write <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`,
    'armDeadline 2',
    'armDeadline 3',
    'emit tls-required',
  ]);
  neg.tlsUp(null, 4);
  assert.equal(neg.step, 'opening');
  assert.equal(calls.at(-1), 'openStream true 4');
});

test('plaintext buffered behind <proceed/> is refused, and TLS is never asked for', () => {
  const { neg, calls } = negotiation({}, `<stream:features/>`);
  neg.start(1);
  neg.handleElement(parse(FEATURES_STARTTLS), 2);
  neg.handleElement(parse(PROCEED), 3);
  assert.equal(neg.step, 'tls-wait');
  assert.equal(calls.at(-1), 'fail 3 plaintext-after-proceed null');
  assert.equal(calls.includes('emit tls-required'), false);
  // Whitespace keep-alives in 'tls-wait' are harmless; anything else is refused.
  neg.refusePlaintextAfterProceed(new TextEncoder().encode('\n'), 4);
  assert.equal(calls.at(-1), 'fail 3 plaintext-after-proceed null');
  neg.refusePlaintextAfterProceed(new TextEncoder().encode('<x/>'), 5);
  assert.equal(calls.at(-1), 'fail 5 plaintext-after-proceed null');
});

test('goal features: the features over TLS are reported and nothing is sent', () => {
  const { neg, calls } = negotiation({ goal: 'features', tls: true });
  neg.start(1);
  neg.handleElement(
    parse(
      `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
    ),
    2,
  );
  assert.equal(neg.step, 'features');
  assert.equal(neg.stepName(), 'the stream features check');
  assert.deepEqual(calls, ['openStream true 1', 'clearDeadline', 'emit features']);
});

test('RFC 6120 §7: while binding, only the answer to our bind request is taken; other stanzas are declined', () => {
  const { neg, calls } = negotiation({ tls: true });
  const SASL = `xmlns='urn:ietf:params:xml:ns:xmpp-sasl'`;
  neg.start(1);
  neg.handleElement(
    parse(
      `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms ${SASL}><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
    ),
    2,
  );
  neg.handleElement(parse(`<success ${SASL}/>`), 3);
  neg.handleElement(
    parse(
      `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>`,
    ),
    4,
  );
  assert.equal(neg.step, 'binding');
  assert.equal(
    calls.at(-2),
    `send <iq type="set" id="id1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>quiver</resource></bind></iq>`,
  );
  const calledBefore = calls.length;
  assert.equal(neg.handleElement(parse(`<message xmlns='jabber:client' from='juliet@example.com'/>`), 5), false);
  assert.equal(neg.handleElement(parse(`<iq xmlns='jabber:client' type='result' id='other'/>`), 5), false);
  assert.equal(neg.handleElement(parse(`<iq xmlns='jabber:client' type='get' id='id1'/>`), 5), false);
  assert.equal(calls.length, calledBefore, 'declined stanzas leave no trace');
  const answer = `<iq xmlns='jabber:client' type='result' id='id1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.org/quiver</jid></bind></iq>`;
  assert.equal(neg.handleElement(parse(answer), 6), true);
  assert.deepEqual(calls.slice(calledBefore), [
    'bound user@example.org/quiver',
    'online user@example.org/quiver urn:ietf:params:xml:ns:xmpp-bind,urn:xmpp:sm:3',
  ]);
  assert.equal(neg.handleElement(parse(answer), 7), false, 'the answer is taken once');
});
