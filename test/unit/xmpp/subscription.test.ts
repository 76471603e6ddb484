/**
 * RFC 6121 §3 subscription presences: what an inbound one means (hostile senders included) and the
 * presences that answer; and the own presence built from the person's choice (RFC 6121 §4.7).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'ltx';
import { classifySubscription, subscriptionPresence, MAX_REQUEST_MESSAGE } from '../../../app/xmpp/subscription.ts';
import { parsePresence, presenceStanza } from '../../../app/xmpp/stanzas.ts';
import { ownPresence } from '../../../app/xmpp/ownPresence.ts';

const ACCOUNT = 'juliet@example.com';

function inbound(xml: string) {
  const el = parse(xml);
  const p = parsePresence(el)!;
  return classifySubscription({ from: el.attrs.from as string, ...p, stanza: el }, ACCOUNT);
}

test('§3.1.2: a subscribe from a bare JID is a request, with its XEP-0172 nickname before its status', () => {
  assert.deepEqual(
    inbound(`<presence from='Romeo@Example.net' type='subscribe'><status>it is me</status></presence>`),
    { kind: 'request', jid: 'romeo@example.net', message: 'it is me' },
  );
  assert.deepEqual(
    inbound(
      `<presence from='romeo@example.net' type='subscribe'><status>hi</status><nick xmlns='http://jabber.org/protocol/nick'>Romeo</nick></presence>`,
    ),
    { kind: 'request', jid: 'romeo@example.net', message: 'Romeo' },
  );
  assert.deepEqual(inbound(`<presence from='romeo@example.net' type='subscribe'/>`), {
    kind: 'request',
    jid: 'romeo@example.net',
    message: null,
  });
});

test('a long request message is cut', () => {
  const r = inbound(
    `<presence from='romeo@example.net' type='subscribe'><status>${'x'.repeat(5000)}</status></presence>`,
  );
  assert.equal(r?.kind === 'request' && r.message?.length, MAX_REQUEST_MESSAGE);
});

test('hostile: a subscribe from a full JID, from the account itself or from garbage is ignored', () => {
  assert.equal(inbound(`<presence from='romeo@example.net/orchard' type='subscribe'/>`)?.kind, 'ignored');
  assert.equal(inbound(`<presence from='Juliet@example.com' type='subscribe'/>`)?.kind, 'ignored');
  assert.equal(inbound(`<presence from='@' type='subscribe'/>`)?.kind, 'ignored');
});

test('§3.3: unsubscribe withdraws their request; §3.2: unsubscribed is about our subscription to them; subscribed approves; other types are not subscriptions', () => {
  assert.deepEqual(inbound(`<presence from='romeo@example.net' type='unsubscribe'/>`), {
    kind: 'withdrawn',
    jid: 'romeo@example.net',
  });
  // Their 'unsubscribed' refuses or cancels OUR subscription to their presence: a request of
  // theirs waiting for the person's answer stays.
  assert.deepEqual(inbound(`<presence from='romeo@example.net' type='unsubscribed'/>`), {
    kind: 'refused',
    jid: 'romeo@example.net',
  });
  assert.deepEqual(inbound(`<presence from='romeo@example.net' type='subscribed'/>`), {
    kind: 'approved',
    jid: 'romeo@example.net',
  });
  assert.equal(inbound(`<presence from='romeo@example.net/orchard'/>`), null);
  assert.equal(inbound(`<presence from='romeo@example.net/orchard' type='unavailable'/>`), null);
});

test('answers go to the bare JID; a full JID is refused', () => {
  assert.equal(
    presenceStanza(subscriptionPresence('subscribed', 'romeo@example.net')).toString(),
    '<presence type="subscribed" to="romeo@example.net"/>',
  );
  assert.equal(
    presenceStanza(subscriptionPresence('unsubscribed', 'romeo@example.net')).toString(),
    '<presence type="unsubscribed" to="romeo@example.net"/>',
  );
  assert.throws(() => subscriptionPresence('subscribe', 'romeo@example.net/orchard'));
});

test('RFC 6121 §4.7.2: own presence: available has no <show/>, away and dnd do; a blank status is left out', () => {
  assert.equal(presenceStanza(ownPresence({ show: 'available', status: null })).toString(), '<presence/>');
  assert.equal(
    presenceStanza(ownPresence({ show: 'away', status: 'lunch' })).toString(),
    '<presence><show>away</show><status>lunch</status></presence>',
  );
  assert.equal(
    presenceStanza(ownPresence({ show: 'dnd', status: '  ' })).toString(),
    '<presence><show>dnd</show></presence>',
  );
});
